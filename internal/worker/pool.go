package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
)

// PoolSweepWorker is the periodic health sweep of hosts and pools: hosts
// whose heartbeats stopped become SUSPECT then UNHEALTHY, drained hosts
// are released, and each pool's UNHEALTHY members are replaced from its
// spares (or remediation halts). The decisions are the domain's
// (Host.Health, Host.FinishDrain, Pool.Heal); each change is an audit
// event with its reason, and admins are told of replacements, exhausted
// spares and halts through the outbox.
type PoolSweepWorker struct {
	river.WorkerDefaults[purser.PoolSweepArgs]
	Store  purser.PoolHealthStore
	Policy purser.HealthPolicy
	// JoinTimeout fails hook runs still open that long after they were
	// queued (pools.join_timeout; 0: purser.DefaultJoinTimeout).
	JoinTimeout time.Duration
	Logger      *slog.Logger
}

// Work runs one sweep as Purser itself.
func (w *PoolSweepWorker) Work(ctx context.Context, _ *river.Job[purser.PoolSweepArgs]) error {
	return w.runOnce(purser.SystemContext(ctx))
}

func (w *PoolSweepWorker) runOnce(ctx context.Context) error {
	health, err := w.Store.CheckHostHealth(ctx, w.Policy)
	if err != nil {
		return err
	}
	timeout := w.JoinTimeout
	if timeout <= 0 {
		timeout = purser.DefaultJoinTimeout
	}
	expired, err := w.Store.ExpireHookRuns(ctx, timeout)
	if err != nil {
		return err
	}
	drained, err := w.Store.FinishDrains(ctx)
	if err != nil {
		return err
	}
	healed, err := w.Store.HealPools(ctx)
	if err != nil {
		return err
	}
	if health+expired+drained+healed > 0 {
		w.Logger.InfoContext(ctx, "pool sweep", "host_changes", health, "hooks_expired", expired, "drained", drained, "pools_changed", healed)
	}
	return nil
}
