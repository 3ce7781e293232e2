package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
)

// PoolKube resolves a pool's Kubernetes API (its control plane): an
// error with code ENOTFOUND when the pool has none.
type PoolKube interface {
	Client(ctx context.Context, p *purser.Pool) (purser.PoolCluster, error)
}

// PoolSweepWorker is the periodic health sweep of hosts and pools: hosts
// whose heartbeats stopped become SUSPECT then UNHEALTHY, drains go on
// (evicting through the pool's Kubernetes API) and end, pools are
// autoscaled from their usage, and each pool's UNHEALTHY members are
// replaced from its spares (or remediation halts). The decisions are the
// domain's (Host.Health, Host.Drained, Pool.Autoscale, Pool.Heal); each
// change is an audit event with its reason, and admins are told of
// replacements, scaling, exhausted spares and halts through the outbox.
type PoolSweepWorker struct {
	river.WorkerDefaults[purser.PoolSweepArgs]
	Store  purser.PoolHealthStore
	Policy purser.HealthPolicy
	// JoinTimeout fails hook runs still open that long after they were
	// queued (pools.join_timeout; 0: purser.DefaultJoinTimeout).
	JoinTimeout time.Duration
	// Kube resolves pools' Kubernetes APIs; nil when no pool has one:
	// drains then end at the next sweep, and nothing is autoscaled.
	Kube  PoolKube
	Scale purser.ScalePolicy
	// NowFunc tells when a drain's deadline passed (default time.Now).
	NowFunc func() time.Time
	Logger  *slog.Logger
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
	var drained, scaled int
	if w.Kube == nil {
		drained, err = w.Store.FinishDrains(ctx)
	} else {
		drained, scaled, err = w.sweepPools(ctx)
	}
	if err != nil {
		return err
	}
	healed, err := w.Store.HealPools(ctx)
	if err != nil {
		return err
	}
	if health+expired+drained+scaled+healed > 0 {
		w.Logger.InfoContext(ctx, "pool sweep", "host_changes", health, "hooks_expired", expired, "drains_changed", drained, "pools_scaled", scaled, "pools_changed", healed)
	}
	return nil
}
