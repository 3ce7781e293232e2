package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

func (s *sweepStore) PoolsToSweep(context.Context) ([]*purser.Pool, []*purser.Host, error) {
	s.steps = append(s.steps, "pools")
	later := time.Now().Add(time.Hour)
	return []*purser.Pool{{Name: "web", MaxHosts: 3}, {Name: "bare", MaxHosts: 3}}, []*purser.Host{
		{Name: "a", Pool: "web", State: purser.HostAssigned, Joined: true}, {Name: "j", Pool: "web", State: purser.HostAssigned}, {Name: "b", Pool: "web", State: purser.HostDraining, DrainDeadline: &later},
		{Name: "c", Pool: "bare", State: purser.HostDraining}}, nil
}

func (s *sweepStore) RecordDrain(_ context.Context, host string, step purser.DrainStep) (bool, error) {
	s.steps = append(s.steps, fmt.Sprintf("drain %s left %d %q", host, step.Left, step.Wait))
	return true, nil
}

func (s *sweepStore) AutoscalePool(_ context.Context, pool string, u *purser.PoolUsage, why string, _ purser.ScalePolicy) (bool, error) {
	if u == nil {
		s.steps = append(s.steps, fmt.Sprintf("scale %s off %q", pool, why))
	} else {
		s.steps = append(s.steps, fmt.Sprintf("scale %s pending %d", pool, u.Pending))
	}
	return true, nil
}

// kube is a fake PoolKube: web has an API, bare has none. It stands in
// for the test control plane, which the sweep meets in cmd/purser's
// end-to-end test; here it checks the order of the sweep's steps.
type kube struct{ calls []string }

func (k *kube) Client(_ context.Context, p *purser.Pool) (purser.PoolCluster, error) {
	if p.Name != "web" {
		return nil, purser.Errorf(purser.ENOTFOUND, "pool %s has no Kubernetes control plane", p.Name)
	}
	return k, nil
}

func (k *kube) Usage(_ context.Context, members []string) (purser.PoolUsage, error) {
	k.calls = append(k.calls, "usage "+strings.Join(members, ","))
	return purser.PoolUsage{Pending: 2, Cordoned: []string{"a"}}, nil
}

func (k *kube) Drain(_ context.Context, node string, force bool) (purser.DrainStep, error) {
	k.calls = append(k.calls, fmt.Sprintf("drain %s force %v", node, force))
	return purser.DrainStep{Left: 1, Wait: "disruption budget web-pdb refused eviction of default/web-1"}, nil
}

func (k *kube) Uncordon(_ context.Context, node string) error {
	k.calls = append(k.calls, "uncordon "+node)
	return nil
}

// TestPoolSweepKube: with pools' APIs, each drain takes a step through its
// pool's API (a pool without one releases its host at once), then each
// pool is autoscaled from its usage (a pool without an API says why not)
// from the nodes of the members that joined (j, whose join hook runs, is
// not counted), and the nodes of members Purser cordoned are uncordoned;
// healing last.
func TestPoolSweepKube(t *testing.T) {
	s, k := &sweepStore{}, &kube{}
	w := &PoolSweepWorker{Store: s, Kube: k, Logger: slog.New(slog.DiscardHandler), NowFunc: time.Now}
	if err := w.runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"health", "hooks", "pools", `drain b left 1 "disruption budget web-pdb refused eviction of default/web-1"`, `drain c left 0 ""`,
		"pools", "scale web pending 2", `scale bare off "no Kubernetes control plane to read usage from"`, "heal"}
	if diff := cmp.Diff(want, s.steps); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	if got := strings.Join(k.calls, "; "); got != "drain b force false; usage a; uncordon a" {
		t.Fatalf("API calls: %s", got)
	}
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
