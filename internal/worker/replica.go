package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/purserhq/purser"
)

// Leases is what the heartbeat and the rescuer need of the store: a lease
// per replica, and the rescue of jobs whose replica's lease lapsed.
type Leases interface {
	// RenewLease records that replica is alive until now+ttl.
	RenewLease(ctx context.Context, replica string, now time.Time, ttl time.Duration) error
	// DeleteLease ends replica's lease: its running jobs become rescuable.
	DeleteLease(ctx context.Context, replica string) error
	// RescueAbandonedJobs makes the running jobs of replicas with no lease
	// alive at now retryable at once and returns how many it rescued.
	RescueAbandonedJobs(ctx context.Context, now time.Time) (int, error)
	// DatabaseTime is the clock leases are measured by, shared by every
	// replica of a database.
	DatabaseTime(ctx context.Context) (time.Time, error)
	// AbandonedLastAttempts returns the running jobs on their last attempt
	// whose replica has no lease alive at now: RescueAbandonedJobs leaves
	// them, since nothing would retry them.
	AbandonedLastAttempts(ctx context.Context, now time.Time) ([]purser.AbandonedJob, error)
	// DiscardJob finishes such a job, discarded, once its request knows.
	DiscardJob(ctx context.Context, job purser.AbandonedJob, now time.Time) error
}

// Finisher records that a request's provision or purge failed for good:
// what a job's last attempt reports, here on behalf of a replica that
// stopped while running it.
type Finisher interface {
	// FinishProvision records a provision job's result; superseded is true
	// when the request had moved on.
	FinishProvision(ctx context.Context, res purser.ProvisionResult) (superseded bool, err error)
	// FinishPurge records a purge job's result.
	FinishPurge(ctx context.Context, res purser.PurgeResult) error
}

// Heartbeat keeps a replica's lease alive while it runs: renewed at Open
// and every Every, for TTL each time, and deleted at Close. Open it before
// the queue starts, so that no job runs under an identity without a lease,
// and close it after the queue stopped.
type Heartbeat struct {
	Leases  Leases
	Replica string        // the River client ID of the replica's queue
	Every   time.Duration // how often the lease is renewed
	TTL     time.Duration // how long a renewal keeps the replica alive
	Logger  *slog.Logger
	// NowFunc, when set (by tests), replaces the database's clock.
	NowFunc func() time.Time

	loop loop
	mu   sync.Mutex
	// since is when the current run of successful renewals began (this
	// process's clock); zero after a failed one.
	since time.Time
}

// Steady reports whether every renewal for at least d succeeded: this
// replica has reached the database without a break for that long.
func (h *Heartbeat) Steady(d time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.since.IsZero() && time.Since(h.since) >= d
}

// Open renews the lease once (failing if it cannot) and then keeps it
// renewed in the background. Opening an open Heartbeat does nothing.
func (h *Heartbeat) Open() error {
	return h.loop.open(h.Every, h.runOnce, h.Logger, "lease renewal failed; other replicas will rescue this one's jobs once it lapses")
}

// Close stops renewing and deletes the lease. Closing a closed Heartbeat
// does nothing.
func (h *Heartbeat) Close() error {
	if !h.loop.close() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.Leases.DeleteLease(ctx, h.Replica)
}

func (h *Heartbeat) runOnce(ctx context.Context) error {
	now, err := clock(ctx, h.Leases, h.NowFunc)
	if err == nil {
		err = h.Leases.RenewLease(ctx, h.Replica, now, h.TTL)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		h.since = time.Time{}
	case h.since.IsZero():
		h.since = time.Now()
	}
	return err
}

// Rescuer rescues, every Every, the running jobs of replicas whose lease
// lapsed. Every replica runs one; they may overlap.
type Rescuer struct {
	Leases Leases
	// Requests are told of provisions and purges whose last attempt was
	// abandoned, so that they end FAILED or PURGE_FAILED (DevOps told)
	// instead of waiting for ever.
	Requests Finisher
	Every    time.Duration
	Logger   *slog.Logger
	// Heartbeat, when set, is this replica's own: it rescues nothing until
	// its own renewals have succeeded without a break for Grace. After the
	// database came back from an outage every live replica's lease looks
	// lapsed; by then each has renewed its own, so none takes over the jobs
	// of a replica that is alive (their work would run twice).
	Heartbeat *Heartbeat
	Grace     time.Duration
	// NowFunc, when set (by tests), replaces the database's clock.
	NowFunc func() time.Time

	loop loop
}

// Open rescues once, then every Every in the background. Opening an open
// Rescuer does nothing.
func (r *Rescuer) Open() error {
	return r.loop.open(r.Every, r.runOnce, r.Logger, "rescue of abandoned jobs failed")
}

// Close stops the rescuer. Closing a closed Rescuer does nothing.
func (r *Rescuer) Close() error {
	r.loop.close()
	return nil
}

func (r *Rescuer) runOnce(ctx context.Context) error {
	if r.Heartbeat != nil && !r.Heartbeat.Steady(r.Grace) {
		return nil
	}
	now, err := clock(ctx, r.Leases, r.NowFunc)
	if err != nil {
		return err
	}
	n, err := r.Leases.RescueAbandonedJobs(ctx, now)
	if n > 0 && r.Logger != nil {
		r.Logger.InfoContext(ctx, "rescued jobs of replicas that stopped heartbeating", "count", n)
	}
	if err != nil {
		return err
	}
	last, err := r.Leases.AbandonedLastAttempts(ctx, now)
	if err != nil {
		return err
	}
	return r.FinishLastAttempts(ctx, last, now)
}

// FinishLastAttempts ends jobs abandoned on their last attempt: a
// provision or purge fails for good on its request (which tells its owner
// and DevOps), then the job is discarded. Both steps are idempotent, so a
// rescuer that dies between them, or two that race, do no harm.
func (r *Rescuer) FinishLastAttempts(ctx context.Context, jobs []purser.AbandonedJob, now time.Time) error {
	var errs []error
	for _, j := range jobs {
		cause := fmt.Errorf("the server running its last attempt (replica %s) stopped", j.Replica)
		var err error
		switch {
		case r.Requests == nil || j.RequestID == "":
		case j.Kind == purser.ProvisionArgs{}.Kind():
			_, err = r.Requests.FinishProvision(ctx, purser.ProvisionResult{RequestID: j.RequestID, Err: cause, Final: true})
		case j.Kind == purser.PurgeArgs{}.Kind():
			err = r.Requests.FinishPurge(ctx, purser.PurgeResult{RequestID: j.RequestID, Err: cause, Final: true})
		}
		if err == nil {
			err = r.Leases.DiscardJob(ctx, j, now)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("job %d (%s): %w", j.ID, j.Kind, err))
		} else if r.Logger != nil {
			r.Logger.WarnContext(ctx, "job abandoned on its last attempt", "job_id", j.ID, "kind", j.Kind, "request_id", j.RequestID, "replica", j.Replica)
		}
	}
	return errors.Join(errs...)
}

// clock returns f's time when f is set, else the database's.
func clock(ctx context.Context, l Leases, f func() time.Time) (time.Time, error) {
	if f != nil {
		return f(), nil
	}
	return l.DatabaseTime(ctx)
}

// loop runs a function on a ticker in its own goroutine, from open to
// close; both are idempotent.
type loop struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// open runs fn once, returning its error (the loop then does not start),
// and then every every, logging its errors with msg.
func (l *loop) open(every time.Duration, fn func(context.Context) error, logger *slog.Logger, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil {
		return nil
	}
	if every <= 0 {
		return errors.New("worker: a loop's interval must be positive")
	}
	first, cancelFirst := context.WithTimeout(context.Background(), every)
	err := fn(first)
	cancelFirst()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(ctx, every)
			if err := fn(rctx); err != nil && ctx.Err() == nil && logger != nil {
				logger.Warn(msg, "error", err)
			}
			rcancel()
		}
	}(l.done)
	return nil
}

// close stops the loop and waits for it; it reports whether it was running.
func (l *loop) close() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel == nil {
		return false
	}
	l.cancel()
	<-l.done
	l.cancel, l.done = nil, nil
	return true
}
