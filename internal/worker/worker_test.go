package worker

import (
	"log/slog"
	"testing"
	"time"

	"github.com/purserhq/purser"
)

// TestConfigQueues: every job kind waits in a queue the client works, the
// provision queue holds what creates and destroys environments and
// nothing else, and the fetch timers are the tuned ones, not River's.
func TestConfigQueues(t *testing.T) {
	cfg := Config(Deps{Logger: slog.New(slog.DiscardHandler)}, Options{NotifyWorkers: 3})
	kinds := []string{purser.AnalyseArgs{}.Kind(), purser.ProvisionArgs{}.Kind(), purser.PurgeArgs{}.Kind(),
		purser.NotifyArgs{}.Kind(), purser.RefreshArgs{}.Kind(), purser.ExpireArgs{}.Kind(), TokenCleanupArgs{}.Kind(),
		purser.StackExportArgs{}.Kind()}
	provision := map[string]bool{"provision": true, "purge": true, "expire": true}
	for _, k := range kinds {
		q := purser.JobQueue(k)
		if qc, ok := cfg.Queues[q]; !ok || qc.MaxWorkers < 1 {
			t.Errorf("%s jobs wait in queue %q, which is not worked (%v)", k, q, cfg.Queues)
		}
		if (q == purser.QueueProvision) != provision[k] {
			t.Errorf("%s jobs wait in queue %q", k, q)
		}
	}
	if got := purser.JobQueue(purser.NotifyArgs{}.Kind()); got != purser.QueueNotify || cfg.Queues[got].MaxWorkers != 3 {
		t.Errorf("notify jobs wait in %q with %d workers, want notify with 3", got, cfg.Queues[got].MaxWorkers)
	}
	// Jobs enqueued before the queues were split are in River's default queue.
	if _, ok := cfg.Queues["default"]; !ok {
		t.Error("the default queue is not worked: jobs enqueued by an older server would never run")
	}
	if cfg.FetchCooldown != 5*time.Millisecond || cfg.FetchPollInterval != 100*time.Millisecond {
		t.Errorf("fetch cooldown %s, poll %s; want 5ms, 100ms", cfg.FetchCooldown, cfg.FetchPollInterval)
	}
}
