package sim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/purserhq/purser"
)

// StackStore is where the sim target keeps what it runs: the store's
// table of actual services, so that a restart loses nothing.
type StackStore interface {
	ActualServices(ctx context.Context, cluster string) ([]purser.ActualService, error)
	SetActualService(ctx context.Context, cluster, service string, actual *purser.ActualService) error
}

// FailTagPrefix makes a rollout fail on sim: an image tag that starts with
// it never becomes healthy, so failures and automatic rollbacks can be
// shown with nothing installed.
const FailTagPrefix = "fail-"

// DefaultRolloutTime is how long a sim service takes to roll out.
const DefaultRolloutTime = 2 * time.Second

// StackTarget runs the services of sim clusters, in the store: nothing
// real runs. A rollout takes RolloutTime, during which the running count
// converges to the desired one in four steps, as tasks would start and
// stop; an image tagged fail-* fails its rollout halfway and leaves the
// service as it was, as a deployment that never became healthy would.
type StackTarget struct {
	Store       StackStore
	RolloutTime time.Duration // default DefaultRolloutTime; negative: at once
}

var _ purser.StackTarget = (*StackTarget)(nil)

const rolloutSteps = 4

// Actual returns what the sim cluster runs.
func (t *StackTarget) Actual(ctx context.Context, c *purser.Cluster) ([]purser.ActualService, error) {
	return t.Store.ActualServices(ctx, c.Name)
}

// Apply carries out one service's step of a plan.
func (t *StackTarget) Apply(ctx context.Context, c *purser.Cluster, step purser.ServicePlan, in purser.ApplyInput) error {
	desired, secrets := in.Service, in.Secrets
	var cur *purser.ActualService
	actual, err := t.Store.ActualServices(ctx, c.Name)
	if err != nil {
		return err
	}
	for i := range actual {
		if strings.EqualFold(actual[i].Spec.Name, step.Service) {
			cur = &actual[i]
		}
	}
	switch step.Action {
	case purser.PlanUnchanged:
		return nil
	case purser.PlanDelete:
		if cur == nil {
			return nil
		}
		if err := t.converge(ctx, c.Name, cur, 0); err != nil {
			return err
		}
		return t.Store.SetActualService(ctx, c.Name, cur.Spec.Name, nil)
	}
	if desired == nil {
		return fmt.Errorf("sim: no desired state for %s", step.Service)
	}
	for _, ref := range desired.SecretRefs() {
		if _, ok := secrets[ref]; !ok {
			return &purser.RolloutError{Service: desired.Name, Reason: "the secret ${" + ref + "} has no value"}
		}
	}
	if _, tag := purser.SplitImage(desired.Image); strings.HasPrefix(tag, FailTagPrefix) {
		if err := t.wait(ctx, rolloutSteps/2); err != nil {
			return err
		}
		return &purser.RolloutError{Service: desired.Name, Reason: fmt.Sprintf(
			"0 of %d tasks became healthy: the containers of %s exited with code 1 (sim fails every image tagged %s*)",
			desired.Count(), desired.Image, FailTagPrefix)}
	}
	next := purser.ActualService{Spec: *desired}
	if cur != nil {
		next.RunningCount = cur.RunningCount
	}
	if err := t.Store.SetActualService(ctx, c.Name, desired.Name, &next); err != nil {
		return err
	}
	return t.converge(ctx, c.Name, &next, desired.Count())
}

// converge moves a's running count to want in rolloutSteps steps,
// recording each.
func (t *StackTarget) converge(ctx context.Context, cluster string, a *purser.ActualService, want int) error {
	from := a.RunningCount
	for i := 1; i <= rolloutSteps; i++ {
		if err := t.wait(ctx, 1); err != nil {
			return err
		}
		n := from + (want-from)*i/rolloutSteps
		if n == a.RunningCount && i < rolloutSteps {
			continue
		}
		a.RunningCount = n
		if err := t.Store.SetActualService(ctx, cluster, a.Spec.Name, a); err != nil {
			return err
		}
	}
	return nil
}

// wait sleeps for steps of the rollout time, or until ctx ends.
func (t *StackTarget) wait(ctx context.Context, steps int) error {
	d := t.RolloutTime
	if d == 0 {
		d = DefaultRolloutTime
	}
	if d < 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d * time.Duration(steps) / rolloutSteps)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
