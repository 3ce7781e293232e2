package worker

import (
	"context"
	"time"

	"github.com/purserhq/purser"
)

// sweepPools goes on with every drain through its pool's API, then
// autoscales every pool from the usage its API reports, each pool's API
// read between the store's calls, outside any transaction. A pool whose
// API cannot be reached says so in its statuses; the others go on.
func (w *PoolSweepWorker) sweepPools(ctx context.Context) (drained, scaled int, err error) {
	pools, hosts, err := w.Store.PoolsToSweep(ctx)
	if err != nil {
		return 0, 0, err
	}
	apis := make(map[string]purser.PoolCluster, len(pools))
	whyNot := make(map[string]string, len(pools))
	for _, p := range pools {
		api, err := w.Kube.Client(ctx, p)
		if err != nil {
			api = nil
		}
		switch {
		case purser.ErrorCode(err) == purser.ENOTFOUND:
			whyNot[p.Name] = "no Kubernetes control plane to read usage from"
		case err != nil:
			whyNot[p.Name] = "cannot reach its Kubernetes API: " + purser.ErrorMessage(err)
			w.Logger.WarnContext(ctx, "pool api", "pool", p.Name, "error", err)
		default:
			apis[p.Name] = api
		}
		n, err := w.drainPool(ctx, p, hosts, api, whyNot[p.Name])
		if err != nil {
			return drained, scaled, err
		}
		drained += n
	}
	// Drains may have released hosts: scale on the inventory as it is now.
	if drained > 0 {
		if pools, hosts, err = w.Store.PoolsToSweep(ctx); err != nil {
			return drained, scaled, err
		}
	}
	for _, p := range pools {
		n, err := w.scalePool(ctx, p, hosts, apis[p.Name], whyNot[p.Name])
		if err != nil {
			return drained, scaled, err
		}
		if n {
			scaled++
		}
	}
	return drained, scaled, nil
}

// drainPool takes one step of each of the pool's drains. Without a
// control plane there is nothing to evict from: the drain ends. With one
// that cannot be reached, the drain waits, saying so, until its deadline.
func (w *PoolSweepWorker) drainPool(ctx context.Context, p *purser.Pool, hosts []*purser.Host, api purser.PoolCluster, why string) (int, error) {
	members, _ := purser.PoolHosts(p.Name, hosts)
	n := 0
	for _, h := range members {
		if h.State != purser.HostDraining {
			continue
		}
		var step purser.DrainStep
		due := h.DrainDue(w.now())
		switch {
		case api != nil:
			var err error
			if step, err = api.Drain(ctx, h.Name, due); err != nil {
				w.Logger.WarnContext(ctx, "pool drain", "pool", p.Name, "host", h.Name, "error", err)
				step = purser.DrainStep{Left: 1, Wait: "cannot drain its node: " + purser.ErrorMessage(err)}
			}
		case noControlPlane(why): // nothing to evict from: it ends now
		case !due:
			step = purser.DrainStep{Left: 1, Wait: why}
		}
		if due {
			step.Left = 0 // at the deadline the host leaves, whatever is left
		}
		changed, err := w.Store.RecordDrain(ctx, h.Name, step)
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	return n, nil
}

func noControlPlane(why string) bool { return why == "no Kubernetes control plane to read usage from" }

// scalePool reads the pool's usage (the nodes of the members that
// joined: purser.UsageMembers), makes schedulable again the nodes of
// members Purser had cordoned, and has the store decide the pool's size.
func (w *PoolSweepWorker) scalePool(ctx context.Context, p *purser.Pool, hosts []*purser.Host, api purser.PoolCluster, why string) (bool, error) {
	if api == nil {
		return w.Store.AutoscalePool(ctx, p.Name, nil, why, w.Scale)
	}
	u, err := api.Usage(ctx, purser.UsageMembers(p.Name, hosts))
	if err != nil {
		w.Logger.WarnContext(ctx, "pool usage", "pool", p.Name, "error", err)
		return w.Store.AutoscalePool(ctx, p.Name, nil, "cannot read its usage: "+purser.ErrorMessage(err), w.Scale)
	}
	for _, node := range u.Cordoned {
		if err := api.Uncordon(ctx, node); err != nil {
			w.Logger.WarnContext(ctx, "pool uncordon", "pool", p.Name, "node", node, "error", err)
		}
	}
	return w.Store.AutoscalePool(ctx, p.Name, &u, "", w.Scale)
}

func (w *PoolSweepWorker) now() time.Time {
	if w.NowFunc != nil {
		return w.NowFunc()
	}
	return time.Now()
}
