package worker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
)

// StackDriftSweepWorker enqueues a drift scan of every stack whose
// current revision is applied (on the leader, every DriftScanEvery ±
// DriftScanJitter).
type StackDriftSweepWorker struct {
	river.WorkerDefaults[purser.StackDriftSweepArgs]
	Stacks purser.StackDriftStore
}

// Work enqueues the scans.
func (w *StackDriftSweepWorker) Work(ctx context.Context, _ *river.Job[purser.StackDriftSweepArgs]) error {
	ctx = purser.SystemContext(ctx)
	clusters, err := w.Stacks.StacksToScan(ctx)
	if err != nil {
		return err
	}
	for _, c := range clusters {
		if err := w.Stacks.ScanStackNow(ctx, c); err != nil && purser.ErrorCode(err) != purser.ENOTFOUND {
			return err
		}
	}
	return nil
}

// StackDriftWorker compares a cluster's target with its last applied
// revision and records what it found; the domain (purser.DriftScan)
// decides what to tell and whether to correct it.
type StackDriftWorker struct {
	river.WorkerDefaults[purser.StackDriftArgs]
	Stacks  Stacks
	Targets map[string]purser.StackTarget
	Logger  *slog.Logger
}

// Work scans the cluster.
func (w *StackDriftWorker) Work(ctx context.Context, job *river.Job[purser.StackDriftArgs]) error {
	ctx = purser.SystemContext(ctx)
	cluster := job.Args.Cluster
	c, err := w.Stacks.ClusterWithCredentials(ctx, cluster)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	target := w.Targets[c.Kind]
	if target == nil {
		return nil
	}
	actual, err := target.Actual(ctx, c)
	if err != nil {
		return err
	}
	if c.Kind != purser.ClusterSim {
		if err := w.Stacks.ReplaceActualServices(ctx, cluster, actual); err != nil {
			return err
		}
	}
	return w.Stacks.ScanDrift(ctx, cluster, func(_ *purser.Cluster, r *purser.StackRevision, prev *purser.DriftState) (*purser.DriftState, purser.Change, error) {
		st, ch := purser.DriftScan(c, r, actual, prev, time.Now())
		if st.Drifted && (prev == nil || prev.Fingerprint != st.Fingerprint) {
			w.Logger.WarnContext(ctx, "stack drifted", "cluster", cluster, "revision", r.Number, "services", len(st.Services), "mode", c.Drift())
		}
		return st, ch, nil
	})
}

// driftSchedule runs the drift sweep every DriftScanEvery, each time up to
// DriftScanJitter early or late.
type driftSchedule struct{}

// Next implements river.PeriodicSchedule.
func (driftSchedule) Next(t time.Time) time.Time {
	j := time.Duration(rand.Int64N(int64(2*purser.DriftScanJitter))) - purser.DriftScanJitter
	return t.Add(purser.DriftScanEvery + j)
}

// DriftCollector exports purser_stack_drift{cluster}: 1 while the last
// scan of the cluster's stack found drift, else 0. It reads the store, so
// every replica reports the same.
type DriftCollector struct {
	Stacks purser.StackDriftStore
	desc   *prometheus.Desc
}

// NewDriftCollector returns the collector over stacks.
func NewDriftCollector(stacks purser.StackDriftStore) *DriftCollector {
	return &DriftCollector{Stacks: stacks, desc: prometheus.NewDesc("purser_stack_drift",
		"1 while the last drift scan of the cluster's stack found it differing from its last applied revision.", []string{"cluster"}, nil)}
}

// Describe implements prometheus.Collector.
func (d *DriftCollector) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

// Collect implements prometheus.Collector.
func (d *DriftCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(purser.SystemContext(context.Background()), 5*time.Second)
	defer cancel()
	states, err := d.Stacks.DriftStates(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(d.desc, err)
		return
	}
	for _, st := range states {
		v := 0.0
		if st.Drifted {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, v, st.Cluster)
	}
}
