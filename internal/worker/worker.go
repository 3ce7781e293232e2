// Package worker holds Purser's job handlers and the River configuration
// they run under. Handlers are idempotent and respect ctx; cmd/purser
// registers them explicitly through Config.
package worker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/logging"
	"github.com/purserhq/purser/internal/notify"
)

// Options tune the queue. Zero values take DESIGN.md's defaults.
type Options struct {
	// MaxWorkers is how many jobs of the provision queue (provision, purge,
	// expiry) run at once; default 10.
	MaxWorkers int
	// NotifyWorkers is how many notifications are delivered at once;
	// default 5.
	NotifyWorkers int
	// DefaultWorkers is how many other jobs (analyses, refreshes,
	// maintenance) run at once; default 5.
	DefaultWorkers int
	// StackWorkers is how many clusters' stacks roll out at once; default 5.
	StackWorkers int
	// FetchCooldown is the least time between two fetches of a queue;
	// default 5 ms. River's own default, 100 ms, caps each queue at
	// MaxWorkers jobs per 100 ms whatever the machine could do.
	FetchCooldown time.Duration
	// FetchPollInterval is how often a queue looks for jobs without being
	// notified of one; default 100 ms. Inserts notify (LISTEN/NOTIFY on
	// PostgreSQL, River's polled river_notification table on SQLite), so
	// this only bounds a job whose notification was coalesced or lost.
	FetchPollInterval time.Duration
	MaxAttempts       int           // default 5
	JobTimeout        time.Duration // default 10 min
	// RescueAfter is when River takes a job still "running" for stuck and
	// retries it; it must exceed JobTimeout. A crashed replica's jobs are
	// rescued sooner, when its lease lapses (Heartbeat, Rescuer).
	RescueAfter time.Duration
	// RetryBase is the first retry's delay; each next one doubles it.
	RetryBase time.Duration
	// ExpireEvery is how often expiry and reminders run (on the leader).
	ExpireEvery time.Duration
	// PoolSweepEvery is how often hosts' health is swept and pools healed
	// (on the leader); default 10 s. Health sets when a host turns
	// SUSPECT and UNHEALTHY.
	PoolSweepEvery time.Duration
	Health         purser.HealthPolicy
	// JoinTimeout bounds pools' hook runs (default 10 min).
	JoinTimeout time.Duration
	// Scale tunes autoscaling (zero fields take the domain's defaults).
	Scale purser.ScalePolicy
}

func (o *Options) defaults() {
	if o.MaxWorkers == 0 {
		o.MaxWorkers = 10
	}
	if o.NotifyWorkers == 0 {
		o.NotifyWorkers = 5
	}
	if o.DefaultWorkers == 0 {
		o.DefaultWorkers = 5
	}
	if o.StackWorkers == 0 {
		o.StackWorkers = 5
	}
	if o.FetchCooldown == 0 {
		o.FetchCooldown = 5 * time.Millisecond
	}
	if o.FetchPollInterval == 0 {
		o.FetchPollInterval = 100 * time.Millisecond
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 5
	}
	if o.JobTimeout == 0 {
		o.JobTimeout = 10 * time.Minute
	}
	if o.RescueAfter <= o.JobTimeout {
		o.RescueAfter = o.JobTimeout + 5*time.Minute
	}
	if o.RetryBase == 0 {
		o.RetryBase = 10 * time.Second
	}
	if o.ExpireEvery == 0 {
		o.ExpireEvery = time.Minute
	}
	if o.PoolSweepEvery == 0 {
		o.PoolSweepEvery = purser.DefaultHeartbeat
	}
}

// Requests is what the workers need of the request store.
type Requests interface {
	purser.ProvisionStore
	purser.RefreshStore
	purser.Analyser
	purser.ExpirySweeper
}

// Stacks is what the stack workers need of the store.
type Stacks interface {
	purser.StackReconcileStore
	purser.StackExportStore
	purser.StackDriftStore
}

// Deps are what the handlers work with: domain interfaces the store
// implements, the drivers and the notification channels.
type Deps struct {
	Requests   Requests
	Logs       purser.JobLogs
	Deliveries purser.DeliveryStore
	Tokens     purser.TokenSweeper
	Now        func() time.Time
	Drivers    map[string]purser.Driver
	Sender     *notify.Sender
	Logger     *slog.Logger
	// Stacks is the store of clusters' stacks: StackTargets (by cluster
	// kind: sim, kubernetes, ecs) reconcile them, and Exporter
	// writes out each applied revision.
	Stacks       Stacks
	StackTargets map[string]purser.StackTarget
	Exporter     purser.StackExporter
	// RolloutObserver, when set, hears of each rollout's steps (the Slack app).
	RolloutObserver purser.RolloutObserver
	// Pools is the store of hosts and pools the health sweep works on;
	// nil: no sweep.
	Pools purser.PoolHealthStore
	// PoolKube resolves pools' Kubernetes APIs for drains and
	// autoscaling; nil: drains end at the next sweep, nothing autoscales.
	PoolKube PoolKube
	// Backups, when set, makes scheduled backups on BackupSchedule.
	Backups *BackupWorker
	// BackupSchedule is when backups run (on the leader); nil: never.
	BackupSchedule river.PeriodicSchedule
}

// Config returns the River configuration: the queues, every worker and the
// periodic jobs (which run on the elected leader only). Each job waits in
// purser.JobQueue(kind), and each queue has its own workers, so that
// provisions and purges never wait behind a burst of notifications or
// analyses. The default queue also works any job of another kind left in
// it (jobs enqueued before the queues were split run there).
func Config(d Deps, o Options) *river.Config {
	o.defaults()
	reqs := d.Requests
	workers := river.NewWorkers()
	river.AddWorker(workers, &TokenCleanupWorker{Tokens: d.Tokens, Now: d.Now, Logger: d.Logger})
	river.AddWorker(workers, &AnalyseWorker{Requests: reqs})
	dj := driverJob{Requests: reqs, Logs: d.Logs, Drivers: d.Drivers, Logger: d.Logger}
	river.AddWorker(workers, &ProvisionWorker{driverJob: dj})
	river.AddWorker(workers, &PurgeWorker{driverJob: dj})
	river.AddWorker(workers, &NotifyWorker{Deliveries: d.Deliveries, Sender: d.Sender})
	river.AddWorker(workers, &RefreshWorker{Requests: reqs, Drivers: d.Drivers})
	river.AddWorker(workers, &ExpireWorker{Requests: reqs, Logger: d.Logger})
	river.AddWorker(workers, &StackReconcileWorker{Stacks: d.Stacks, Targets: d.StackTargets, Logger: d.Logger, Observer: d.RolloutObserver})
	river.AddWorker(workers, &StackDriftWorker{Stacks: d.Stacks, Targets: d.StackTargets, Logger: d.Logger})
	river.AddWorker(workers, &StackDriftSweepWorker{Stacks: d.Stacks})
	river.AddWorker(workers, &StackExportWorker{Stacks: d.Stacks, Exporter: d.Exporter, Logger: d.Logger})
	var periodic []*river.PeriodicJob
	if d.Pools != nil {
		river.AddWorker(workers, &PoolSweepWorker{Store: d.Pools, Policy: o.Health, JoinTimeout: o.JoinTimeout, Kube: d.PoolKube, Scale: o.Scale, NowFunc: d.Now, Logger: d.Logger})
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(o.PoolSweepEvery), func() (river.JobArgs, *river.InsertOpts) {
			return purser.PoolSweepArgs{}, &river.InsertOpts{Queue: purser.JobQueue(purser.PoolSweepArgs{}.Kind())}
		}, nil))
	}
	if d.Backups != nil && d.BackupSchedule != nil {
		river.AddWorker(workers, d.Backups)
		periodic = append(periodic, river.NewPeriodicJob(d.BackupSchedule, func() (river.JobArgs, *river.InsertOpts) {
			return purser.BackupArgs{}, &river.InsertOpts{Queue: purser.JobQueue(purser.BackupArgs{}.Kind()), MaxAttempts: 3}
		}, nil))
	}
	return &river.Config{
		Logger: logging.River(d.Logger.With("component", "queue")),
		Queues: map[string]river.QueueConfig{
			purser.QueueProvision: {MaxWorkers: o.MaxWorkers},
			purser.QueueNotify:    {MaxWorkers: o.NotifyWorkers},
			purser.QueueDefault:   {MaxWorkers: o.DefaultWorkers},
			purser.QueueStacks:    {MaxWorkers: o.StackWorkers},
		},
		FetchCooldown:        o.FetchCooldown,
		FetchPollInterval:    max(o.FetchPollInterval, o.FetchCooldown),
		Workers:              workers,
		MaxAttempts:          o.MaxAttempts,
		JobTimeout:           o.JobTimeout,
		RescueStuckJobsAfter: o.RescueAfter,
		RetryPolicy:          &Backoff{Base: o.RetryBase},
		Middleware:           []rivertype.Middleware{&Tracing{}},
		PeriodicJobs: append(periodic,
			river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour), func() (river.JobArgs, *river.InsertOpts) {
				return TokenCleanupArgs{}, &river.InsertOpts{Queue: purser.JobQueue(TokenCleanupArgs{}.Kind())}
			}, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(driftSchedule{}, func() (river.JobArgs, *river.InsertOpts) {
				return purser.StackDriftSweepArgs{}, &river.InsertOpts{Queue: purser.JobQueue(purser.StackDriftSweepArgs{}.Kind())}
			}, nil),
			river.NewPeriodicJob(river.PeriodicInterval(o.ExpireEvery), func() (river.JobArgs, *river.InsertOpts) {
				return purser.ExpireArgs{}, &river.InsertOpts{Queue: purser.JobQueue(purser.ExpireArgs{}.Kind())}
			}, &river.PeriodicJobOpts{RunOnStart: true}),
		),
	}
}

// Backoff retries after Base, 2 Base, 4 Base... with 10 % jitter.
type Backoff struct{ Base time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (b *Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := b.Base << min(max(job.Attempt-1, 0), 20)
	d += time.Duration(float64(d) * 0.1 * rand.Float64())
	return time.Now().Add(d)
}

// final reports whether this attempt is the job's last.
func final(job *rivertype.JobRow) bool { return job.Attempt >= job.MaxAttempts }

// detached keeps the values of ctx but not its cancellation, to record a
// result after the job's own context ended.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}
