// Command bench measures Purser's API against bare baselines run in the
// same process, on SQLite and (with -postgres URL) on PostgreSQL:
//
//	(a) a filtered, sorted page of 50 out of 10 000 users through the full
//	    stack (authentication, huma, the service, squirrel) against the same
//	    SQL served by a bare net/http handler; target: at least 70 % of the
//	    baseline's requests per second;
//	(b) creating users through the API against bare INSERTs;
//	(c) provisioning (bench/provision.go): approval -> DEPLOYED in a burst
//	    of approvals through the API, read from the requests' audit
//	    events, and -environments sim environments approved through the
//	    API to DEPLOYED, against River's own rate for as many no-op jobs
//	    with the same settings.
//
//	(d) the request list at page 1, 200 and the last of -requests (100 000
//	    by default), by number and by cursor.
//
//	(e) stack-k8s (bench/stack_k8s.go, not run by default: it needs the
//	    test control plane's binaries): -stacks single-service stacks
//	    reconciled on a real kube-apiserver with kwok nodes, against Flux's
//	    published 1 000 Kustomizations in 4 min 15 s.
//
//	(f) heartbeat (bench/heartbeat.go, not run by default: a minute):
//	    -agents hosts registered with a server process on SQLite, each
//	    heartbeating over its own connection; heartbeat p50 / p99 and the
//	    server's CPU.
//
//	(g) ui (bench/ui.go): each web page a developer and a DevOps user
//	    open, signed in, with -ui-requests requests in the store; target
//	    100 ms.
//
// -run picks some of them (list, create, provision, depth, size, stack,
// stack-k8s, heartbeat, ui); bench/README.md
// states the targets and the last figures.
//
// Run it with `make bench`. Every load goes to 127.0.0.1 and stops after
// -duration.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/api"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
)

func main() {
	pgURL := flag.String("postgres", os.Getenv("PURSER_BENCH_POSTGRES_URL"), "PostgreSQL URL (a scratch database: the benchmark creates and drops a schema)")
	duration := flag.Duration("duration", 5*time.Second, "how long each load runs")
	users := flag.Int("users", 10000, "users to seed for the list benchmark")
	provisions := flag.Int("provisions", 500, "requests approved at once for approval -> DEPLOYED")
	environments := flag.Int("environments", 10000, "sim environments approved through the API to DEPLOYED (and River no-op jobs for its baseline)")
	only := flag.String("run", "list,create,provision,depth,size,stack", "the benchmarks to run, comma-separated")
	clients := flag.Int("clients", 8, "concurrent clients")
	requests := flag.Int("requests", 100000, "provision requests to seed for the list-depth benchmark (0 skips it)")
	stacks := flag.Int("stacks", 1000, "stack-k8s: single-service stacks (one kubernetes cluster each) reconciled on the test control plane")
	stackWorkers := flag.Int("stack-workers", 10, "stack-k8s: the server's workers.stacks_max, stacks rolled out at once")
	uiRequests := flag.Int("ui-requests", 10000, "ui: provision requests in the store while the web pages are timed")
	agents := flag.Int("agents", 1000, "heartbeat: agents registered with one server process on SQLite, each heartbeating every -heartbeat-interval")
	hbInterval := flag.Duration("heartbeat-interval", 10*time.Second, "heartbeat: each agent's interval (purser agent's default is 10s)")
	hbWindow := flag.Duration("heartbeat-window", time.Minute, "heartbeat: how long the agents heartbeat")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	ctx := context.Background()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	selected := map[string]bool{}
	for _, b := range strings.Split(*only, ",") {
		switch b = strings.TrimSpace(b); b {
		case "list", "create", "provision", "depth", "size", "stack", "stack-k8s", "heartbeat", "ui":
			selected[b] = true
		default:
			log.Fatalf("-run: unknown benchmark %q (list, create, provision, depth, size, stack, stack-k8s, heartbeat, ui)", b)
		}
	}

	dir, err := os.MkdirTemp("", "purser-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\tbenchmark\tpurser\tbaseline\tratio\ttarget\t")
	run := func(name string, db *sqldb.DB, newQueue func(*river.Config) (queueClient, error)) {
		if selected["stack"] {
			r := runStackServices(ctx, db, 200, *duration, *clients)
			fmt.Fprintf(tw, "%s\tGET services of a 200-service stack, %d clients (req/s)\t%.0f\t%.0f\t%.0f%%\t-\t\n", name, *clients, r.purser, r.baseline, 100*r.purser/r.baseline)
			fmt.Fprintf(tw, "%s\t  the same, CPU per request\t%s\t%s\t\t\t\n", name, r.purserCPU.Round(time.Microsecond), r.baselineCPU.Round(time.Microsecond))
		}
		if selected["list"] {
			fmt.Fprintf(os.Stderr, "%s: seeding %d users...\n", name, *users)
			if err := seed(ctx, db, *users); err != nil {
				log.Fatal(err)
			}
			r := runList(ctx, db, *duration, *clients)
			fmt.Fprintf(tw, "%s\tlist 50 of %d users, %d clients (req/s)\t%.0f\t%.0f\t%.0f%%\t> 1500/s\t\n", name, *users, *clients, r.purser, r.baseline, 100*r.purser/r.baseline)
			fmt.Fprintf(tw, "%s\t  the same, CPU per request (this process: server and clients; %d cores)\t%s\t%s\t\t\t\n", name, runtime.NumCPU(), r.purserCPU.Round(time.Microsecond), r.baselineCPU.Round(time.Microsecond))
		}
		if selected["create"] {
			c := runCreate(ctx, db, *duration)
			fmt.Fprintf(tw, "%s\tcreate user (per s)\t%.0f\t%.0f\t%.0f%%\t>= 50%%\t\n", name, c.purser, c.baseline, 100*c.purser/c.baseline)
			fmt.Fprintf(tw, "%s\t  the same, CPU per user (this process: server and client)\t%s\t%s\t%.0f%%\t\t\n", name, c.purserCPU.Round(time.Microsecond), c.baselineCPU.Round(time.Microsecond), 100*float64(c.baselineCPU)/float64(c.purserCPU))
		}
		if selected["provision"] {
			fmt.Fprintf(os.Stderr, "%s: provisioning...\n", name)
			p := runProvision(ctx, db, newQueue, *provisions, *environments, *clients, filepath.Join(dir, name+"-sim"))
			target := map[string]string{"sqlite": "< 40 ms / < 60 ms", "postgres": "< 10 ms / < 25 ms"}[name]
			fmt.Fprintf(tw, "%s\tapproval -> DEPLOYED p50 / p99, burst of %d\t%s / %s\t\t\t%s\t\n", name, p.burst,
				p.p50.Round(100*time.Microsecond), p.p99.Round(100*time.Microsecond), target)
			fmt.Fprintf(tw, "%s\t  of which approval -> INITIATED (job picked up)\t%s / %s\t\t\t-\t\n", name,
				p.pickP50.Round(100*time.Microsecond), p.pickP99.Round(100*time.Microsecond))
			fmt.Fprintf(tw, "%s\t%d environments via the API to DEPLOYED\t%.1f s\t\t\t< 40 s\t\n", name, p.envs, p.envElapsed.Seconds())
			fmt.Fprintf(tw, "%s\tprovisions per s (vs River no-op jobs per s)\t%.0f\t%.0f\t%.0f%%\t-\t\n", name, p.provisionsPerSec, p.riverJobsPerSec, 100*p.provisionsPerSec/p.riverJobsPerSec)
		}
		if selected["ui"] {
			fmt.Fprintf(os.Stderr, "%s: seeding %d requests for the web pages...\n", name, *uiRequests)
			pages, err := runUI(ctx, db, *uiRequests, 25)
			if err != nil {
				log.Fatal(err)
			}
			for _, p := range pages {
				fmt.Fprintf(tw, "%s\tweb page %s as %s, %d requests in the store: median / slowest (%d KB)\t%s / %s\t\t\t< 100 ms\t\n", name, p.path, p.who,
					*uiRequests, p.bytes/1000, p.p50.Round(10*time.Microsecond), p.max.Round(10*time.Microsecond))
			}
		}
		if selected["depth"] && *requests > 0 {
			fmt.Fprintf(os.Stderr, "%s: seeding %d requests...\n", name, *requests)
			if err := seedRequests(ctx, db, *requests); err != nil {
				log.Fatal(err)
			}
			for _, d := range runListDepth(ctx, db, []int{1, 200, *requests / 25}, 25) {
				by := "page= / after="
				if d.page == 1 {
					by = "page= / total=false"
				}
				fmt.Fprintf(tw, "%s\trequest list page %d of %d, by %s: median (CPU)\t%s (%s) / %s (%s)\t\t\t<= 2x page 1\t\n", name, d.page, *requests, by,
					d.offset.Round(10*time.Microsecond), d.offsetCPU.Round(10*time.Microsecond), d.cursor.Round(10*time.Microsecond), d.cursorCPU.Round(10*time.Microsecond))
			}
		}
	}

	if selected["stack"] {
		z := runStack(1000, 21)
		fmt.Fprintf(tw, "-\tstack of %d services: parse, check, normalise (vs bare YAML decode)\t%s\t%s\t%.0f%%\t-\t\n", z.n,
			z.read.Round(100*time.Microsecond), z.bareDecode.Round(100*time.Microsecond), 100*float64(z.bareDecode)/float64(z.read))
		fmt.Fprintf(tw, "-\tstack of %d services: plan (%d updates, %d unchanged)\t%s\t\t\t< 100 ms\t\n", z.n, z.updates, z.unchanged,
			z.plan.Round(100*time.Microsecond))
	}
	if selected["stack-k8s"] {
		fmt.Fprintf(os.Stderr, "stack-k8s: the control plane, a server process, then %d stacks...\n", *stacks)
		z := runStackK8s(ctx, dir, *stacks, *stackWorkers, *clients).r
		if z.err != nil {
			log.Fatal(z.err)
		}
		fmt.Fprintf(tw, "sqlite\t%d single-service stacks on kubernetes, first apply -> last applied (%d stack workers)\t%s\t%s\t\tbaseline: Flux, 1 000 Kustomizations\t\n", z.n, *stackWorkers,
			z.total.Round(100*time.Millisecond), FluxKustomizations)
		fmt.Fprintf(tw, "sqlite\t  per stack, apply -> applied, p50 / p99\t%s / %s\t\t\t-\t\n", z.p50.Round(10*time.Millisecond), z.p99.Round(10*time.Millisecond))
		fmt.Fprintf(tw, "sqlite\t  CPU: purser server / whole machine (%d cores), during the run\t%s / %s\t\t\t-\t\n", runtime.NumCPU(),
			z.serverCPU.Round(100*time.Millisecond), z.machineCPU.Round(100*time.Millisecond))
		fmt.Fprintf(tw, "sqlite\t  failed / clusters registered in (not timed)\t%d / %s\t\t\t-\t\n", z.failed, z.register.Round(100*time.Millisecond))
		if z.firstFailure != "" {
			fmt.Fprintf(os.Stderr, "stack-k8s: the first failure: %s\n", z.firstFailure)
		}
	}
	if selected["heartbeat"] {
		fmt.Fprintf(os.Stderr, "heartbeat: building the binary, then %d agents against a server process...\n", *agents)
		h := runHeartbeat(ctx, dir, *agents, *hbInterval, *hbWindow)
		if h.err != nil {
			log.Fatal(h.err)
		}
		fmt.Fprintf(tw, "sqlite\t%d agents heartbeating every %s over HTTP: heartbeat p50 / p99\t%s / %s\t\t\t-\t\n", h.agents, *hbInterval,
			h.p50.Round(10*time.Microsecond), h.p99.Round(10*time.Microsecond))
		fmt.Fprintf(tw, "sqlite\t  heartbeats (failed), server CPU over %s (%d cores)\t%d (%d), %s = %.1f%% of one core\t\t\t-\t\n", h.window.Round(time.Second), runtime.NumCPU(),
			h.beats, h.failed, h.serverCPU.Round(10*time.Millisecond), 100*h.serverCPU.Seconds()/h.window.Seconds())
	}
	if selected["size"] {
		fmt.Fprintf(os.Stderr, "size: building the binary, then %d environments through a server process...\n", *environments)
		z := runSize(ctx, dir, *environments, *clients)
		if z.buildErr != nil {
			log.Fatal(z.buildErr)
		}
		fmt.Fprintf(tw, "-\tbinary, stripped (go build -ldflags '-s -w')\t%.1f MB\t\t\t< 45 MB\t\n", float64(z.binary)/1e6)
		elim := "on"
		if len(z.reflectMethod) > 0 {
			elim = "OFF: " + strings.Join(z.reflectMethod[:min(3, len(z.reflectMethod))], ", ")
		}
		fmt.Fprintf(tw, "-\tlinker's dead-method elimination (bench/README.md)\t%s\t\t\ton\t\n", elim)
		if z.loadErr != nil {
			log.Fatal(z.loadErr)
		}
		fmt.Fprintf(tw, "sqlite\tserver RSS, idle\t%s\t\t\t< 35 MiB\t\n", mib(z.idleRSS))
		fmt.Fprintf(tw, "sqlite\tof which anonymous (RssAnon), idle\t%s\t\t\t-\t\n", mib(z.idleAnon))
		fmt.Fprintf(tw, "sqlite\tserver RSS with %d environments DEPLOYED (peak)\t%s (%s)\t\t\t-\t\n", z.envs, mib(z.loadRSS), mib(z.peakRSS))
	}

	ls, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	run("sqlite", ls.DB, func(c *river.Config) (queueClient, error) { return ls.NewQueue(c) })
	ls.Close()

	if *pgURL != "" {
		u, drop, err := scratchSchema(ctx, *pgURL)
		if err != nil {
			log.Fatal(err)
		}
		defer drop()
		ps, err := postgres.Open(ctx, u, nil)
		if err != nil {
			log.Fatal(err)
		}
		run("postgres", ps.DB, func(c *river.Config) (queueClient, error) { return ps.NewQueue(c) })
		ps.Close()
	} else {
		fmt.Fprintln(os.Stderr, "(no -postgres URL: PostgreSQL skipped)")
	}
	tw.Flush()
}

type result struct {
	purser, baseline       float64
	purserCPU, baselineCPU time.Duration // per operation, for -cpu figures
}

// newAPI returns a test server for the full stack and an admin token.
func newAPI(ctx context.Context, db *sqldb.DB) (*httptest.Server, string) {
	sys := purser.SystemContext(ctx)
	admin := &purser.User{Username: fmt.Sprintf("bench-admin-%d", time.Now().UnixNano()), Roles: []string{purser.RoleAdmin}, IsActive: true}
	if err := sqldb.NewUserService(db).CreateUser(sys, admin); err != nil {
		log.Fatal(err)
	}
	_, secret, err := sqldb.NewTokenService(db).CreateToken(sys, admin.ID, "bench", nil)
	if err != nil {
		log.Fatal(err)
	}
	s := &api.Server{Users: sqldb.NewUserService(db), Roles: sqldb.NewRoleService(db), Tokens: sqldb.NewTokenService(db),
		Templates: sqldb.NewTemplateService(db), Requests: sqldb.NewRequestService(db), Stacks: sqldb.NewStackService(db)}
	hs := &httpserver.Server{Tokens: s.Tokens, Aliases: map[string]string{api.AliasPath: api.BasePath}}
	return httptest.NewServer(hs.Handler(s)), secret
}
