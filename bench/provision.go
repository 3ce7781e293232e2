package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/api"
	"github.com/purserhq/purser/internal/driver/sim"
	"github.com/purserhq/purser/internal/footprint"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/notify"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/worker"
)

// noopArgs is the baseline: a job that does nothing, in the provision
// queue of the same River client, so its rate is River's own capacity on
// this store with the settings the server runs.
type noopArgs struct{}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// queueClient is what the benchmark needs of a River client of either driver.
type queueClient interface {
	// Start starts working jobs.
	Start(context.Context) error
	// Stop waits for the running jobs, then stops.
	Stop(context.Context) error
	// InsertMany enqueues jobs in one statement.
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

type provResult struct {
	burst, envs      int
	p50, p99         time.Duration // approval -> DEPLOYED, in the burst
	pickP50, pickP99 time.Duration // approval -> INITIATED (the job picked up), in the burst
	envElapsed       time.Duration // first approval -> last DEPLOYED, of envs
	provisionsPerSec float64
	riverJobsPerSec  float64
}

// runProvision measures provisioning as a user sees it, on the sim driver
// at zero delay, with the server's queue settings (worker.Config's
// defaults) and one River client for inserting and working, as the server
// runs:
//
//   - River's capacity: envs no-op jobs inserted at once in the provision
//     queue, until River recorded all of them completed;
//   - a burst: burst requests approved through the HTTP API one after
//     another, as fast as the API answers; each one's approval -> DEPLOYED
//     is read from the request's own audit events (request.approve,
//     request.deploy), which are written in the transitions' transactions;
//   - envs requests approved through the API by clients goroutines at
//     once: first approval to last DEPLOYED, again from the events, gives
//     provisions per second.
//
// Requests are created beforehand through the service (not timed).
func runProvision(ctx context.Context, db *sqldb.DB, newQueue func(*river.Config) (queueClient, error), burst, envs, clients int, dir string) provResult {
	key := make([]byte, 32)
	db.Sealer, _ = sqldb.NewSealer(key)
	db.MaxPending = 1 << 30 // one user submits every request of the benchmark
	db.Evaluator = &footprint.Evaluator{}
	simDriver, err := sim.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	db.Drivers = map[string][]string{sim.Name: simDriver.ResourceTypes()}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	cfg := worker.Config(worker.Deps{Requests: sqldb.NewRequestService(db), Logs: db.JobLogs(), Deliveries: db, Tokens: db, Now: db.NowFunc,
		Drivers: map[string]purser.Driver{sim.Name: simDriver}, Sender: &notify.Sender{}, Logger: logger},
		worker.Options{})
	river.AddWorker(cfg.Workers, noopWorker{})
	res := provResult{burst: burst, envs: envs}
	q, err := newQueue(cfg) // from here on the store inserts through q
	if err != nil {
		log.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer q.Stop(context.WithoutCancel(ctx))

	// River's capacity.
	start := time.Now()
	for left := envs; left > 0; {
		b := min(left, 1000)
		params := make([]river.InsertManyParams, b)
		for i := range params {
			params[i] = river.InsertManyParams{Args: noopArgs{}, InsertOpts: &river.InsertOpts{Queue: purser.QueueProvision}}
		}
		if _, err := q.InsertMany(ctx, params); err != nil {
			log.Fatal(err)
		}
		left -= b
	}
	waitCount(ctx, db, "SELECT COUNT(*) FROM river_job WHERE kind = 'bench_noop' AND state = 'completed'", envs, "no-op jobs completed")
	res.riverJobsPerSec = float64(envs) / time.Since(start).Seconds()

	// Purser, through the API.
	sys := purser.SystemContext(ctx)
	tpl := &purser.Template{Meta: purser.Meta{ID: "bench"}, Name: "bench", Driver: sim.Name, IsActive: true}
	if err := sqldb.NewTemplateService(db).CreateTemplate(sys, tpl); err != nil {
		log.Fatal(err)
	}
	users := sqldb.NewUserService(db)
	// A hundred requests per developer: a quota check reads what its
	// user holds, so one developer holding every environment would
	// measure that scan rather than provisioning.
	stamp := time.Now().UnixNano()
	devs := make([]context.Context, (burst+envs+99)/100)
	for i := range devs {
		dev := &purser.User{Username: fmt.Sprintf("bench-dev-%d-%d", stamp, i), Roles: []string{purser.RoleDev}, IsActive: true}
		if err := users.CreateUser(sys, dev); err != nil {
			log.Fatal(err)
		}
		devs[i] = purser.NewContextWithActor(ctx, &purser.Actor{User: dev})
	}
	ops := &purser.User{Username: fmt.Sprintf("bench-ops-%d", stamp), Roles: []string{purser.RoleDevOps}, IsActive: true}
	if err := users.CreateUser(sys, ops); err != nil {
		log.Fatal(err)
	}
	_, token, err := sqldb.NewTokenService(db).CreateToken(sys, ops.ID, "bench", nil)
	if err != nil {
		log.Fatal(err)
	}
	s := &api.Server{Users: users, Roles: sqldb.NewRoleService(db), Tokens: sqldb.NewTokenService(db),
		Templates: &purser.Catalog{TemplateStore: sqldb.NewTemplateService(db)}, Requests: sqldb.NewRequestService(db),
		Extensions: sqldb.NewExtensionService(db), Quotas: sqldb.NewQuotaService(db), Notifications: sqldb.NewNotificationService(db),
		Events: sqldb.NewEventService(db), Logs: sqldb.NewLogService(db)}
	srv := httptest.NewServer((&httpserver.Server{Tokens: s.Tokens, Aliases: map[string]string{api.AliasPath: api.BasePath}}).Handler(s))
	defer srv.Close()

	fmt.Fprintf(os.Stderr, "  creating %d requests...\n", burst+envs)
	ids := createRequests(devs, sqldb.NewRequestService(db), burst+envs, clients)

	fmt.Fprintf(os.Stderr, "  burst: approving %d requests one after another...\n", burst)
	approve(srv.URL, token, ids[:burst], 1)
	waitCount(ctx, db, "SELECT COUNT(*) FROM requests WHERE status = 'DEPLOYED'", burst, "requests DEPLOYED")
	lat, pick, _ := transitions(ctx, db, ids[:burst])
	res.p50, res.p99 = percentiles(lat)
	res.pickP50, res.pickP99 = percentiles(pick)

	fmt.Fprintf(os.Stderr, "  approving %d requests...\n", envs)
	approve(srv.URL, token, ids[burst:], clients)
	waitCount(ctx, db, "SELECT COUNT(*) FROM requests WHERE status = 'DEPLOYED'", burst+envs, "requests DEPLOYED")
	_, _, res.envElapsed = transitions(ctx, db, ids[burst:])
	res.provisionsPerSec = float64(envs) / res.envElapsed.Seconds()
	return res
}

// createRequests makes n requests of the bench template, clients at once,
// in turn as each developer of devs.
func createRequests(devs []context.Context, reqs *sqldb.RequestService, n, clients int) []string {
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				r, err := reqs.CreateRequest(devs[i%len(devs)], purser.RequestInput{ResourceTemplate: "bench"})
				if err != nil {
					log.Fatal(err)
				}
				ids[i] = r.ID
			}
		})
	}
	wg.Wait()
	return ids
}

// approve approves every request through the HTTP API, clients at once.
func approve(base, token string, ids []string, clients int) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(ids); i = int(next.Add(1)) - 1 {
				req, _ := http.NewRequest("POST", base+api.BasePath+"/provisionRequests/"+ids[i]+"/approve", bytes.NewBufferString("{}"))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					log.Fatalf("approve: %v", err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					log.Fatalf("approve: %s: %s", resp.Status, body)
				}
			}
		})
	}
	wg.Wait()
}

// waitCount polls query until it counts want, for at most 10 minutes; it
// fails the benchmark at once when a request FAILED.
func waitCount(ctx context.Context, db *sqldb.DB, query string, want int, what string) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var n, failed int
		if err := db.Read.QueryRow(ctx, query).Scan(&n); err != nil {
			log.Fatal(err)
		}
		if n >= want {
			return
		}
		if err := db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM requests WHERE status = 'FAILED'").Scan(&failed); err != nil || failed > 0 {
			log.Fatalf("%d requests FAILED (%v)", failed, err)
		}
		if time.Now().After(deadline) {
			log.Fatalf("only %d of %d %s after 10 minutes", n, want, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// percentiles returns the p50 and p99 of d (which it sorts).
func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(d)
	return d[len(d)/2], d[(len(d)*99)/100]
}

// transitions reads the audit log, the API's own record of each request's
// transitions, and returns every request's approval -> DEPLOYED and
// approval -> INITIATED (its provision job started), and the time from the
// first approval to the last DEPLOYED.
func transitions(ctx context.Context, db *sqldb.DB, ids []string) (deploy, pick []time.Duration, elapsed time.Duration) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	rows, err := db.Read.Query(ctx, "SELECT target_id, action, created_at FROM events WHERE target_type = 'provisionRequest' AND action IN ('request.approve', 'request.start', 'request.deploy')")
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	approved, started, deployed := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for rows.Next() {
		var id, action string
		var at int64
		if err := rows.Scan(&id, &action, &at); err != nil {
			log.Fatal(err)
		}
		if !want[id] {
			continue
		}
		switch action {
		case "request.approve":
			approved[id] = at
		case "request.start":
			started[id] = at
		default:
			deployed[id] = at
		}
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	first, last := int64(1<<62), int64(0)
	for _, id := range ids {
		a, okA := approved[id]
		st, okS := started[id]
		d, okD := deployed[id]
		if !okA || !okS || !okD {
			log.Fatalf("request %s lacks an approve, start or deploy event", id)
		}
		deploy = append(deploy, time.Duration(d-a)*time.Microsecond)
		pick = append(pick, time.Duration(st-a)*time.Microsecond)
		first, last = min(first, a), max(last, d)
	}
	return deploy, pick, time.Duration(last-first) * time.Microsecond
}
