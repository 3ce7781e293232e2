package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
)

// TokenRetention is how long revoked and expired tokens stay listed.
const TokenRetention = 30 * 24 * time.Hour

// TokenCleanupArgs deletes tokens revoked or expired over TokenRetention ago.
type TokenCleanupArgs struct{}

// Kind names the job.
func (TokenCleanupArgs) Kind() string { return "token_cleanup" }

// TokenCleanupWorker works TokenCleanupArgs.
type TokenCleanupWorker struct {
	river.WorkerDefaults[TokenCleanupArgs]
	Tokens purser.TokenSweeper
	Now    func() time.Time
	Logger *slog.Logger
}

// Work deletes stale tokens; running it twice is harmless.
func (w *TokenCleanupWorker) Work(ctx context.Context, job *river.Job[TokenCleanupArgs]) error {
	n, err := w.Tokens.DeleteStaleTokens(ctx, w.Now().Add(-TokenRetention))
	if err != nil {
		return err
	}
	w.Logger.InfoContext(ctx, "deleted stale tokens", "count", n)
	return nil
}

// JobCollector exports River's jobs by kind and state as the gauge
// purser_jobs, read from the database at scrape time.
type JobCollector struct {
	DB   purser.JobCounter
	desc *prometheus.Desc
}

// NewJobCollector returns a collector over db's jobs.
func NewJobCollector(db purser.JobCounter) *JobCollector {
	return &JobCollector{DB: db, desc: prometheus.NewDesc("purser_jobs", "Jobs in the queue by kind and state.", []string{"kind", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *JobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *JobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.DB.JobCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, jc := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(jc.Count), jc.Kind, jc.State)
	}
}
