package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"golang.org/x/net/netutil"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/api"
	"github.com/purserhq/purser/internal/driver/ecs"
	"github.com/purserhq/purser/internal/driver/exec"
	"github.com/purserhq/purser/internal/driver/kubernetes"
	"github.com/purserhq/purser/internal/driver/pool"
	"github.com/purserhq/purser/internal/driver/sim"
	"github.com/purserhq/purser/internal/footprint"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/notify"
	"github.com/purserhq/purser/internal/outbound"
	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/slackbot"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/ui"
	"github.com/purserhq/purser/internal/worker"
)

// hooks are what a test may set on one run of the server; the binary sets
// none. They are passed down, not kept in package variables, so that tests
// running servers side by side do not share them.
type hooks struct {
	// NowFunc, when set, is the server's clock for expiry, reminders and
	// quotas.
	NowFunc func() time.Time
	// OnListen, when set, is called with the server's URL and the
	// bootstrap token (if one was made) once it accepts connections.
	OnListen func(url, token string)
}

// queue is what cmd needs of a River client, whatever its driver.
type queue interface {
	// Start starts working jobs; ctx must outlive the queue (Stop ends it).
	Start(ctx context.Context) error
	// Stop stops fetching jobs and waits, until ctx is done, for the
	// running ones to finish.
	Stop(ctx context.Context) error
	// StopAndCancel cancels the running jobs' contexts, then stops.
	StopAndCancel(ctx context.Context) error
	// Stopped is closed once the queue has stopped.
	Stopped() <-chan struct{}
	// ID is the client's id, which the replica lease records.
	ID() string
}

// store is an open database of either engine, with its queue and drivers.
type store struct {
	db      *sqldb.DB
	queue   queue
	drivers map[string]purser.Driver
	policy  *outbound.Policy // every call to a URL a user chose
	slack   *slackbot.Bot    // nil unless slack.signing_secret is set
	close   func() error
}

// isTerminal reports whether w is a terminal: a person reads it, not a
// log collector.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newLogger logs at cfg.Level to w, as JSON or text; with no format set,
// text on a terminal and JSON otherwise.
func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.Format == "text" || cfg.Format == "" && isTerminal(w) {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(httpserver.LogHandler(h))
}

func openStore(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer, h hooks) (*store, error) {
	if err := checkDataDir(cfg, logger); err != nil {
		return nil, err
	}
	key, err := loadSecretKey(cfg)
	if err != nil {
		return nil, err
	}
	var previous [][]byte
	for _, k := range strings.Split(cfg.SecretKeyPrevious, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("config: secret_key_previous holds a key that is not 32 bytes in base64")
		}
		previous = append(previous, b)
	}
	sealer, err := sqldb.NewSealer(key, previous...)
	if err != nil {
		return nil, err
	}
	simDriver, err := sim.Open(filepath.Join(cfg.DataDir, "sim"))
	if err != nil {
		return nil, fmt.Errorf("sim driver: %w", err)
	}
	simDriver.Delay, simDriver.FailureRate = cfg.Sim.Delay, cfg.Sim.FailureRate
	// Every call to a URL a user chose goes through one policy; clusters
	// do not (DevOps users are trusted with them).
	policy, err := outbound.NewPolicy(cfg.Outbound.Allow)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	exporter, err := openExport(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	xd := execDriver(cfg, key, logger)
	xd.HTTPClient = policy.Client(30 * time.Second)
	k8sDriver := &kubernetes.Driver{}
	poolDriver := &pool.Driver{}
	drivers := map[string]purser.Driver{
		sim.Name:        simDriver,
		exec.Name:       xd,
		kubernetes.Name: k8sDriver,
		pool.Name:       poolDriver,
	}

	st := &store{drivers: drivers, policy: policy}
	var newQueue func(*river.Config) (queue, error)
	var snapshot func(context.Context) (*sqldb.Snapshot, error) // for scheduled backups
	if cfg.IsPostgres() {
		s, err := postgres.Open(ctx, cfg.Database, logger)
		if err != nil {
			return nil, err
		}
		st.db, st.close = s.DB, s.Close
		newQueue = func(c *river.Config) (queue, error) { return s.NewQueue(c) }
		snapshot = s.Snapshot
		reg.MustRegister(postgres.NewPoolCollector(s.Pool))
	} else {
		s, err := sqlite.Open(ctx, cfg.SQLitePath(), logger)
		if err != nil {
			return nil, err
		}
		st.db, st.close = s.DB, s.Close
		newQueue = func(c *river.Config) (queue, error) { return s.NewQueue(c) }
		snapshot = func(ctx context.Context) (*sqldb.Snapshot, error) {
			return s.Snapshot(ctx, filepath.Dir(cfg.SQLitePath()))
		}
		w, r := s.SQLDB()
		reg.MustRegister(collectors.NewDBStatsCollector(w, "sqlite_write"), collectors.NewDBStatsCollector(r, "sqlite_read"))
	}
	st.db.Sealer, st.db.Evaluator = sealer, &footprint.Evaluator{}
	st.db.MaxAttempts = cfg.Workers.MaxAttempts
	st.db.EmailConfigured = cfg.SMTP.Host != ""
	st.db.MaxPending = cfg.Requests.MaxPending
	st.db.ExecTemplateRoles = cfg.Permissions.TemplatesExec
	if h.NowFunc != nil {
		st.db.NowFunc = h.NowFunc
	}
	k8sDriver.Clusters = st.db.ClusterCredentials
	poolDriver.Pools, poolDriver.Hosts = sqldb.NewPoolService(st.db), sqldb.NewHostService(st.db)
	st.db.ValidateCluster = kubernetes.ValidateCluster
	st.db.Drivers = map[string][]string{}
	for name, d := range drivers {
		st.db.Drivers[name] = d.ResourceTypes()
	}
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + cfg.Listen
	}
	sender := &notify.Sender{BaseURL: strings.TrimRight(publicURL, "/"), SMTP: notify.SMTP(cfg.SMTP), HTTPClient: policy.Client(30 * time.Second)}
	st.slack = newSlackBot(cfg.Slack, st.db, logger)
	sender.ReviewButtons = st.slack != nil
	w := cfg.Workers
	stacks := sqldb.NewStackService(st.db)
	backups, backupSchedule, err := scheduledBackups(ctx, cfg, &opened{db: st.db, snapshot: snapshot}, key, logger)
	if err != nil {
		st.close()
		return nil, err
	}
	rc := worker.Config(
		worker.Deps{Requests: sqldb.NewRequestService(st.db), Logs: st.db.JobLogs(), Deliveries: st.db, Tokens: st.db, Now: st.db.NowFunc,
			Drivers: drivers, Sender: sender, Logger: logger, Stacks: stacks, Exporter: exporter, Pools: sqldb.NewHostService(st.db),
			StackTargets: map[string]purser.StackTarget{
				purser.ClusterSim:        &sim.StackTarget{Store: stacks, RolloutTime: cfg.Sim.RolloutTime},
				purser.ClusterKubernetes: kubernetes.NewStackTarget(),
				purser.ClusterECS:        ecs.NewStackTarget(nil),
			},
			RolloutObserver: rolloutObserver(st.slack), PoolKube: poolKube(st), Backups: backups, BackupSchedule: backupSchedule},
		worker.Options{MaxWorkers: w.Max, NotifyWorkers: w.NotifyMax, DefaultWorkers: w.DefaultMax, StackWorkers: w.StacksMax, MaxAttempts: w.MaxAttempts,
			JobTimeout: w.JobTimeout, RescueAfter: w.RescueAfter, RetryBase: w.RetryBase, ExpireEvery: w.ExpireEvery,
			PoolSweepEvery: cfg.Pools.SweepEvery, JoinTimeout: cfg.Pools.JoinTimeout, Health: purser.HealthPolicy{Suspect: cfg.Pools.SuspectAfter, Unhealthy: cfg.Pools.UnhealthyAfter},
			Scale: cfg.Pools.scalePolicy()})
	// The one River client of the process: the store inserts its jobs
	// through it from now on (see NewQueue of either engine).
	st.queue, err = newQueue(rc)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("queue: %w", err)
	}
	return st, nil
}

// loadSecretKey returns the key that seals secrets at rest: the configured
// one, or (SQLite only) one kept in data_dir/secret.key, made on first start.
func loadSecretKey(cfg Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		key, err := base64.StdEncoding.DecodeString(cfg.SecretKey)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("config: secret_key must be 32 bytes in base64 (make one with: head -c32 /dev/urandom | base64)")
		}
		return key, nil
	}
	if cfg.IsPostgres() {
		return nil, fmt.Errorf("config: secret_key is required with PostgreSQL, so that every replica seals and opens secrets alike (make one with: head -c32 /dev/urandom | base64)")
	}
	if err := cfg.ensureDataDir(); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	if data, err := os.ReadFile(path); err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s is not a 32-byte base64 key", path)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

// runServer runs the API and the workers until ctx is cancelled, then
// drains in-flight requests and jobs within cfg.ShutdownTimeout.
func runServer(ctx context.Context, cfg Config, demo bool, stdout, stderr io.Writer, h hooks) error {
	logger := newLogger(cfg.Log, stderr)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	shutdownTraces, err := openTelemetry(ctx, cfg.Telemetry, logger)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdownTraces(sctx); err != nil {
			logger.Warn("flush traces", "error", err)
		}
	}()

	// Bind first: a start that cannot listen must fail before it creates a
	// database and an admin whose token it would never get to print.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	defer ln.Close()
	st, err := openStore(ctx, cfg, logger, reg, h)
	if err != nil {
		return err
	}
	defer st.close()
	reg.MustRegister(worker.NewJobCollector(st.db), worker.NewDriftCollector(sqldb.NewStackService(st.db)), worker.NewOpsCollector(st.db))

	if cfg.SecretKeyPrevious != "" {
		n, err := st.db.Reseal(ctx)
		if err != nil {
			return fmt.Errorf("reseal secrets with the new secret_key: %w", err)
		}
		logger.Info("secrets resealed with the current secret_key; secret_key_previous can be removed", "count", n)
	}
	if n, err := st.db.SealSecretParameters(ctx); err != nil {
		return fmt.Errorf("seal secret parameters of older requests: %w", err)
	} else if n > 0 {
		logger.Info("secret parameters of older requests sealed", "count", n)
	}
	secret, err := sqldb.Bootstrap(ctx, st.db, cfg.BootstrapToken)
	if err != nil {
		return err
	}
	caches, err := openCaches(cfg, reg, logger)
	if err != nil {
		return err
	}
	defer caches.Backend.Close()
	// The lease outlives the queue: it is given up (deferred) only after
	// the queue stopped below.
	rep, err := openReplica(ctx, cfg, st, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := rep.Close(); err != nil {
			logger.Warn("give up the replica lease", "error", err)
		}
	}()
	// The queue stops through Stop below, not through ctx: cancelling the
	// context River started with would cut jobs off mid-flight.
	if err := st.queue.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start queue: %w", err)
	}

	srv := &api.Server{
		Users:  sqldb.NewUserService(st.db),
		Roles:  sqldb.NewRoleService(st.db),
		Tokens: sqldb.NewTokenService(st.db),

		Templates: &purser.Catalog{TemplateStore: sqldb.NewTemplateService(st.db), Prepare: func(ctx context.Context, t *purser.Template) error {
			if p, ok := st.drivers[t.Driver].(purser.TemplatePreparer); ok {
				return p.PrepareTemplate(ctx, t)
			}
			return nil
		}, Cache: newCatalogCache(cfg, caches)},
		Requests:      sqldb.NewRequestService(st.db),
		Extensions:    sqldb.NewExtensionService(st.db),
		Quotas:        sqldb.NewQuotaService(st.db),
		Notifications: sqldb.NewNotificationService(st.db),
		Events:        sqldb.NewEventService(st.db),
		Logs:          sqldb.NewLogService(st.db),
		Names:         sqldb.NewNameService(st.db),
		Clusters:      &kubernetes.Clusters{ClusterStore: sqldb.NewClusterService(st.db), Probe: kubernetes.Probe, NowFunc: st.db.NowFunc},
		Stacks:        sqldb.NewStackService(st.db),
		FieldNotes:    map[string]purser.FieldNoter{purser.ClusterKubernetes: kubernetes.NewStackTarget()},
		Tags:          newTagSource(cfg.Stacks, st, caches),
		DefaultDriver: sim.Name,
		Checks: []api.Check{
			{Name: "database", Func: st.db.Ping},
			{Name: "queue", Func: func(ctx context.Context) error {
				select {
				case <-st.queue.Stopped():
					return errors.New("the job queue is stopped")
				default:
				}
				_, err := st.db.JobCounts(ctx)
				return err
			}},
			// Down, the cache costs speed, not service: reads go to the sources.
			{Name: "cache", Func: caches.Check, Optional: true},
		},
		Logger: logger.With("component", "api"),

		Hosts: sqldb.NewHostService(st.db), Pools: sqldb.NewPoolService(st.db), JoinTokens: sqldb.NewJoinTokenService(st.db),
		HookRuns: sqldb.NewHookRunService(st.db, cfg.Pools.JoinTimeout),
	}
	srv.Sessions = sqldb.NewSessionService(st.db)
	web := &ui.Server{Sessions: srv.Sessions, Tokens: srv.Tokens, Templates: srv.Templates, Requests: srv.Requests,
		Quotas: srv.Quotas, Notifications: srv.Notifications, Events: srv.Events, Names: srv.Names, Logger: logger.With("component", "ui"),
		Clusters: srv.Clusters, Stacks: srv.Stacks, StackList: sqldb.NewStackService(st.db), Tags: srv.Tags, Pools: srv.Pools, Hosts: srv.Hosts,
		Limiter: sqldb.NewSignInLimiter(st.db), Users: srv.Users, Roles: srv.Roles, Identities: sqldb.NewSessionService(st.db),
		OIDC: cfg.UI.OIDC.provider(cfg.PublicURL), Insecure: cfg.UI.InsecureCookies, Logs: srv.Logs, Extensions: srv.Extensions}
	srv.HTMLHome = web.Dashboard()
	handler := (&httpserver.Server{
		Tokens:     srv.Tokens,
		Logger:     logger.With("component", "api"),
		Registerer: reg,
		Gatherer:   reg,
		Aliases:    map[string]string{api.AliasPath: api.BasePath},

		AuthFailuresPerMinute: cfg.HTTP.AuthFailuresPerMinute,
		MetricsToken:          cfg.Metrics.Token,
	}).Handler(append([]httpserver.Mount{srv, web}, slackMounts(st.slack, srv.Tags)...)...)
	ln = netutil.LimitListener(ln, cfg.HTTP.MaxConnections)
	hs := &http.Server{Handler: handler, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout, ReadTimeout: cfg.HTTP.ReadTimeout,
		WriteTimeout: cfg.HTTP.WriteTimeout, IdleTimeout: cfg.HTTP.IdleTimeout}
	hs.RegisterOnShutdown(web.Shutdown)
	url := "http://" + ln.Addr().String()
	engine := "SQLite at " + cfg.SQLitePath()
	if cfg.IsPostgres() {
		engine = "PostgreSQL"
	}
	logger.Info("purser started", "url", url, "version", purser.Version, "database", st.db.Name)
	self := selfCommand()
	fmt.Fprintf(stdout, "Purser %s is running at %s (database: %s)\n", purser.Version, url, engine)
	fmt.Fprintf(stdout, "API reference: %s/docs\n", url)
	if secret != "" {
		fmt.Fprintf(stdout, "\nFirst start: created user \"admin\". Its API token, shown only now:\n\n    %s\n\n", secret)
		fmt.Fprintf(stdout, "Log the CLI in with:\n\n    %s login --server %s --token %s\n\n", self, url, secret)
		fmt.Fprintf(stdout, "Then, to sign in to the web UI at %s/, make a one-time link to choose a password:\n\n    %s users signin-link admin\n\n", url, self)
	} else if unused, err := st.db.AdminTokensUnused(ctx); err == nil && unused {
		fmt.Fprintf(stdout, "\nNo admin has signed in yet. If the admin token printed at the first start is lost, issue a new one\n"+
			"on this host with the server's configuration:\n\n    %s admin token\n\n", self)
	}
	if demo {
		tokens, err := seedDemo(ctx, st.db)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		printDemo(stdout, self, url, tokens)
	}
	if h.OnListen != nil {
		h.OnListen(url, secret)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "deadline", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		logger.Warn("http shutdown", "error", err)
	}
	if st.slack != nil {
		st.slack.Wait() // a mention's deploy or a button's review under way
	}
	if err := st.queue.Stop(sctx); err != nil {
		logger.Warn("jobs did not finish in time; cancelling them (they will be retried)", "error", err)
		cctx, cancel2 := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel2()
		_ = st.queue.StopAndCancel(cctx)
	}
	logger.Info("stopped")
	return nil
}

// poolKube resolves a pool's Kubernetes API: the registered cluster that
// is its control plane (Pool.Cluster).
func poolKube(st *store) worker.PoolKube {
	return &kubernetes.PoolClusters{Clusters: st.db.ClusterCredentials}
}
