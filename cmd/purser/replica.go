package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/worker"
)

// replica is this server's heartbeat and rescuer.
type replica struct {
	heartbeat *worker.Heartbeat
	rescuer   *worker.Rescuer
}

// openReplica takes this server's lease under its queue's identity (the
// River client ID its jobs record in attempted_by) and starts rescuing the
// jobs of replicas that stopped heartbeating. With SQLite this process is
// the database's only server: whatever a previous run left running is
// rescued now, without waiting for that run's lease to lapse. Call it
// before the queue starts; close it after the queue stopped.
func openReplica(ctx context.Context, cfg Config, st *store, logger *slog.Logger) (*replica, error) {
	logger = logger.With("component", "replica")
	id := st.queue.ID()
	r := &replica{
		heartbeat: &worker.Heartbeat{Leases: st.db, Replica: id, Every: cfg.Workers.HeartbeatEvery,
			TTL: cfg.Workers.LeaseTTL(), Logger: logger},
	}
	r.rescuer = &worker.Rescuer{Leases: st.db, Requests: sqldb.NewRequestService(st.db), Every: cfg.Workers.HeartbeatEvery, Logger: logger}
	if cfg.IsPostgres() {
		// Other replicas' leases are trusted as lapsed only once this one
		// has reached the database for a whole lease without a break.
		r.rescuer.Heartbeat, r.rescuer.Grace = r.heartbeat, cfg.Workers.LeaseTTL()
	}
	if err := r.heartbeat.Open(); err != nil {
		return nil, fmt.Errorf("replica lease: %w", err)
	}
	if !cfg.IsPostgres() {
		n, err := st.db.RescueJobsExcept(ctx, id, time.Now()) // SQLite: this process's clock
		if err != nil {
			return nil, errors.Join(err, r.heartbeat.Close())
		}
		if n > 0 {
			logger.InfoContext(ctx, "rescued jobs a previous run left running", "count", n)
		}
		last, err := st.db.LastAttemptsExcept(ctx, id)
		if err == nil {
			err = r.rescuer.FinishLastAttempts(ctx, last, time.Now())
		}
		if err != nil {
			return nil, errors.Join(err, r.heartbeat.Close())
		}
	}
	if err := r.rescuer.Open(); err != nil {
		return nil, errors.Join(fmt.Errorf("job rescuer: %w", err), r.heartbeat.Close())
	}
	return r, nil
}

// Close stops rescuing and gives the lease up.
func (r *replica) Close() error {
	return errors.Join(r.rescuer.Close(), r.heartbeat.Close())
}
