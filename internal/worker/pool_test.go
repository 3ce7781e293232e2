package worker

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser"
)

// sweepStore is a fake PoolHealthStore that records the steps the sweep
// asks for (the store's own steps are tested on both engines in
// internal/storetest and end to end in cmd/purser).
type sweepStore struct {
	steps  []string
	policy purser.HealthPolicy
	fail   string
}

func (s *sweepStore) step(name string) (int, error) {
	s.steps = append(s.steps, name)
	if name == s.fail {
		return 0, errors.New(name + " failed")
	}
	return 1, nil
}

func (s *sweepStore) CheckHostHealth(ctx context.Context, p purser.HealthPolicy) (int, error) {
	s.policy = p
	return s.step("health")
}
func (s *sweepStore) HealPools(context.Context) (int, error)    { return s.step("heal") }
func (s *sweepStore) FinishDrains(context.Context) (int, error) { return s.step("drains") }
func (s *sweepStore) ExpireHookRuns(context.Context, time.Duration) (int, error) {
	return s.step("hooks")
}

// TestPoolSweep: health first (so that a host that just failed is healed
// in the same sweep), then hook runs past their timeout, then drains, then healing, with the configured
// policy; a failing step stops the sweep (River retries it).
func TestPoolSweep(t *testing.T) {
	policy := purser.HealthPolicy{Suspect: 1, Unhealthy: 2}
	s := &sweepStore{}
	w := &PoolSweepWorker{Store: s, Policy: policy, Logger: slog.New(slog.DiscardHandler)}
	if err := w.runOnce(context.Background()); err != nil || strings.Join(s.steps, ",") != "health,hooks,drains,heal" || s.policy != policy {
		t.Fatalf("steps %v policy %v: %v", s.steps, s.policy, err)
	}
	s = &sweepStore{fail: "drains"}
	w.Store = s
	if err := w.runOnce(context.Background()); err == nil || strings.Join(s.steps, ",") != "health,hooks,drains" {
		t.Fatalf("a failing step: %v %v", s.steps, err)
	}
	if cfg := Config(Deps{Logger: slog.New(slog.DiscardHandler), Pools: s}, Options{}); len(cfg.PeriodicJobs) != 4 {
		t.Fatalf("with a pool store, %d periodic jobs; want the sweep beside the other three", len(cfg.PeriodicJobs))
	}
}
