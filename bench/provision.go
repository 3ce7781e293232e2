package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/driver/sim"
	"github.com/purserhq/purser/internal/footprint"
	"github.com/purserhq/purser/internal/notify"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/worker"
)

// noopArgs is the baseline: a job that does nothing, through the same
// River client, so its rate is River's own on this store.
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
	// Subscribe returns the events of the kinds, and a function that ends
	// the subscription.
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	// Insert enqueues one job.
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

type provResult struct {
	n                int
	p50, p99         time.Duration
	provisionsPerSec float64
	riverJobsPerSec  float64
	pollInterval     time.Duration
}

// runProvision approves n requests on the sim driver at zero delay and
// measures approval -> DEPLOYED, against River's raw rate for n no-op jobs.
func runProvision(ctx context.Context, db *sqldb.DB, newQueue func(*river.Config) (queueClient, error), n int, dir string, pg bool) provResult {
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
		worker.Options{MaxWorkers: 20})
	river.AddWorker(cfg.Workers, noopWorker{})
	res := provResult{n: n, pollInterval: time.Second}
	if !pg {
		cfg.FetchPollInterval = 250 * time.Millisecond // as the server runs SQLite
		res.pollInterval = cfg.FetchPollInterval
	}
	q, err := newQueue(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer q.Stop(context.WithoutCancel(ctx))
	events, cancel := q.Subscribe(river.EventKindJobCompleted)
	defer cancel()

	// Baseline: n no-op jobs, inserted at once.
	start := time.Now()
	for range n {
		if _, err := q.Insert(ctx, noopArgs{}, nil); err != nil {
			log.Fatal(err)
		}
	}
	for done := 0; done < n; {
		if ev := <-events; ev.Job.Kind == "bench_noop" {
			done++
		}
	}
	res.riverJobsPerSec = float64(n) / time.Since(start).Seconds()

	// Purser: n requests, approved one after another; DEPLOYED when the
	// provision job completes.
	sys := purser.SystemContext(ctx)
	tpl := &purser.Template{Meta: purser.Meta{ID: "bench"}, Name: "bench", Driver: sim.Name, IsActive: true}
	if err := sqldb.NewTemplateService(db).CreateTemplate(sys, tpl); err != nil {
		log.Fatal(err)
	}
	dev := &purser.User{Username: fmt.Sprintf("bench-dev-%d", time.Now().UnixNano()), Roles: []string{purser.RoleDev}, IsActive: true}
	ops := &purser.User{Username: fmt.Sprintf("bench-ops-%d", time.Now().UnixNano()), Roles: []string{purser.RoleDevOps}, IsActive: true}
	users := sqldb.NewUserService(db)
	if err := users.CreateUser(sys, dev); err != nil {
		log.Fatal(err)
	}
	if err := users.CreateUser(sys, ops); err != nil {
		log.Fatal(err)
	}
	devCtx := purser.NewContextWithActor(ctx, &purser.Actor{User: dev})
	opsCtx := purser.NewContextWithActor(ctx, &purser.Actor{User: ops})
	reqs := sqldb.NewRequestService(db)
	ids := make([]string, n)
	for i := range ids {
		r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "bench"})
		if err != nil {
			log.Fatal(err)
		}
		ids[i] = r.ID
	}
	var mu sync.Mutex
	approvedAt := map[string]time.Time{}
	latencies := make([]time.Duration, 0, n)
	doneCh := make(chan struct{})
	go func() {
		for len(latencies) < n {
			ev := <-events
			if ev.Job.Kind != "provision" {
				continue
			}
			var args purser.ProvisionArgs
			_ = json.Unmarshal(ev.Job.EncodedArgs, &args)
			mu.Lock()
			latencies = append(latencies, time.Since(approvedAt[args.RequestID]))
			mu.Unlock()
		}
		close(doneCh)
	}()
	start = time.Now()
	for _, id := range ids {
		mu.Lock()
		approvedAt[id] = time.Now()
		mu.Unlock()
		if _, err := reqs.ActOnRequest(opsCtx, id, purser.ActApprove, purser.Review{}); err != nil {
			log.Fatal(err)
		}
	}
	select {
	case <-doneCh:
	case <-time.After(5 * time.Minute):
		log.Fatalf("only %d of %d provisions finished", len(latencies), n)
	}
	elapsed := time.Since(start)
	var deployed int
	if err := db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM requests WHERE status = ?", purser.StatusDeployed).Scan(&deployed); err != nil || deployed != n {
		log.Fatalf("%d of %d DEPLOYED (%v)", deployed, n, err)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	res.p50, res.p99 = latencies[n/2], latencies[(n*99)/100]
	res.provisionsPerSec = float64(n) / elapsed.Seconds()
	return res
}
