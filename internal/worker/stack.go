package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
)

// stackLockTTL is how long a reconciler holds a cluster's stack without
// renewing it: a crashed one's successor waits at most this long.
const stackLockTTL = time.Minute

// StackReconcileWorker makes a cluster's target run a revision: it plans
// against what the target runs and carries the plan out one service at a
// time, as Purser itself. One reconciler works on a cluster at a time
// (others wait their turn); a job whose revision is no longer the current
// one does nothing, since the newer revision's job applies it. A service
// that fails its rollout fails the revision, which is rolled back to the
// last applied one; a passing fault is retried, and the rollout resumes.
type StackReconcileWorker struct {
	river.WorkerDefaults[purser.StackReconcileArgs]
	Stacks  Stacks
	Targets map[string]purser.StackTarget // by cluster kind
	Logger  *slog.Logger
	// Observer, when set, hears of each step of each rollout (the Slack
	// app updates the message that follows it).
	Observer purser.RolloutObserver
}

// observe tells the observer, if any, how r's rollout stands.
func (w *StackReconcileWorker) observe(ctx context.Context, r *purser.StackRevision, p purser.RolloutProgress) {
	if w.Observer != nil && r != nil {
		w.Observer.ObserveRollout(ctx, r, p)
	}
}

// Timeout lets a rollout of a large stack take its time: progress is
// recorded step by step, and the cluster's lease bounds a stuck one.
func (w *StackReconcileWorker) Timeout(*river.Job[purser.StackReconcileArgs]) time.Duration {
	return 2 * time.Hour
}

// Work reconciles the cluster to the job's revision.
func (w *StackReconcileWorker) Work(ctx context.Context, job *river.Job[purser.StackReconcileArgs]) error {
	ctx = purser.SystemContext(ctx)
	a := job.Args
	holder := strconv.FormatInt(job.ID, 10)
	ok, err := w.Stacks.LockStack(ctx, a.Cluster, holder, stackLockTTL)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		return nil // the cluster is gone
	}
	if err != nil {
		return err
	}
	if !ok {
		return river.JobSnooze(time.Second) // another rollout of the cluster runs
	}
	defer func() {
		uctx, cancel := detached(ctx)
		defer cancel()
		if err := w.Stacks.UnlockStack(uctx, a.Cluster, holder); err != nil {
			w.Logger.WarnContext(uctx, "unlock stack", "cluster", a.Cluster, "error", err)
		}
	}()
	r, ok, err := w.due(ctx, a)
	if err != nil || !ok {
		return err
	}
	err = w.rollout(ctx, a, holder, r)
	var re *purser.RolloutError
	if errors.As(err, &re) || (err != nil && final(job.JobRow) && ctx.Err() == nil) {
		return w.fail(ctx, a, err)
	}
	return err
}

// due returns the job's revision when it is still to be applied: the
// current one, not blocked or replaced, and not already applied or failed
// by this very deploy (a job that ran to its end once, then again).
func (w *StackReconcileWorker) due(ctx context.Context, a purser.StackReconcileArgs) (*purser.StackRevision, bool, error) {
	r, err := w.Stacks.CurrentRevision(ctx, a.Cluster)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if r.Number != a.Revision {
		w.Logger.InfoContext(ctx, "revision superseded before it was applied", "cluster", a.Cluster, "revision", a.Revision, "current", r.Number)
		return nil, false, nil
	}
	switch r.Status {
	case purser.RevisionPending, purser.RevisionApplying:
		return r, true, nil
	case purser.RevisionApplied, purser.RevisionFailed:
		// A redeploy (POST deploy) asks again later than the revision was made.
		return r, a.Requested != r.Created.UnixMicro(), nil
	}
	return nil, false, nil
}

// rollout plans and carries out revision r on the cluster's target.
func (w *StackReconcileWorker) rollout(ctx context.Context, a purser.StackReconcileArgs, holder string, r *purser.StackRevision) error {
	c, err := w.Stacks.ClusterWithCredentials(ctx, a.Cluster)
	if err != nil {
		return err
	}
	target := w.Targets[c.Kind]
	if target == nil {
		return &purser.RolloutError{Reason: fmt.Sprintf("Purser cannot deploy stacks onto %s clusters", c.Kind)}
	}
	secrets, err := w.Stacks.ResolveSecrets(ctx, a.Cluster, r.Normalized.SecretRefs())
	if err != nil {
		return &purser.RolloutError{Reason: purser.ErrorMessage(err)}
	}
	actual, err := target.Actual(ctx, c)
	if err != nil {
		return err
	}
	plan := purser.PlanStack(r.Normalized, actual)
	marked, err := w.Stacks.RecordRollout(ctx, a.Cluster, purser.RolloutMark{Revision: r.Number, Status: purser.RevisionApplying, Plan: &plan})
	if err != nil {
		return err
	}
	done := 0
	w.observe(ctx, marked, purser.RolloutProgress{Status: purser.RevisionApplying, Plan: &plan})
	w.Logger.InfoContext(ctx, "rollout started", "cluster", a.Cluster, "revision", r.Number, "create", plan.Count(purser.PlanCreate),
		"update", plan.Count(purser.PlanUpdate), "delete", plan.Count(purser.PlanDelete))
	for _, step := range plan.Services {
		if step.Action == purser.PlanUnchanged {
			continue
		}
		if ok, err := w.stillDue(ctx, a, holder); err != nil || !ok {
			return err
		}
		in := purser.ApplyInput{Stack: r.Normalized, Service: r.Normalized.Service(step.Service), Secrets: secrets, Healthy: c.HealthyDeadline()}
		err := target.Apply(ctx, c, step, in)
		w.snapshot(ctx, c, target)
		if err != nil {
			return err
		}
		done++
		w.observe(ctx, marked, purser.RolloutProgress{Status: purser.RevisionApplying, Plan: &plan, Done: done})
	}
	marked, err = w.Stacks.RecordRollout(ctx, a.Cluster, purser.RolloutMark{Revision: r.Number, Status: purser.RevisionApplied})
	if err != nil {
		return err
	}
	w.observe(ctx, marked, purser.RolloutProgress{Status: purser.RevisionApplied, Plan: &plan})
	w.Logger.InfoContext(ctx, "rollout finished", "cluster", a.Cluster, "revision", r.Number)
	return nil
}

// stillDue renews the lease and tells whether the job's revision is still
// the one to apply: a newer one stops this rollout between services.
func (w *StackReconcileWorker) stillDue(ctx context.Context, a purser.StackReconcileArgs, holder string) (bool, error) {
	if ok, err := w.Stacks.LockStack(ctx, a.Cluster, holder, stackLockTTL); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("lost the lease on the stack of %s", a.Cluster)
		}
		return false, err
	}
	cur, err := w.Stacks.CurrentRevision(ctx, a.Cluster)
	if err != nil {
		return false, err
	}
	if cur.Number != a.Revision || cur.Status != purser.RevisionApplying {
		w.Logger.InfoContext(ctx, "rollout stopped: a newer revision replaces it", "cluster", a.Cluster, "revision", a.Revision, "current", cur.Number)
		return false, nil
	}
	return true, nil
}

// fail records the revision as failed with the cause, and rolls the stack
// back to the last applied revision, when there is one.
func (w *StackReconcileWorker) fail(ctx context.Context, a purser.StackReconcileArgs, cause error) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	reason := cause.Error()
	failed, err := w.Stacks.RecordRollout(ctx, a.Cluster, purser.RolloutMark{Revision: a.Revision, Status: purser.RevisionFailed, Reason: reason})
	if err != nil {
		if purser.ErrorCode(err) == purser.ECONFLICT {
			return nil // replaced meanwhile: nothing to roll back
		}
		return err
	}
	w.Logger.WarnContext(ctx, "rollout failed", "cluster", a.Cluster, "revision", a.Revision, "reason", reason)
	next, err := w.Stacks.RollBackFailed(ctx, a.Cluster)
	if purser.ErrorCode(err) == purser.ECONFLICT {
		w.observe(ctx, failed, purser.RolloutProgress{Status: purser.RevisionFailed, Reason: reason})
		return nil // nothing was applied before it, or it was replaced
	}
	if err != nil {
		return err
	}
	w.observe(ctx, failed, purser.RolloutProgress{Status: purser.RevisionFailed, Reason: reason, Rollback: next})
	w.Logger.InfoContext(ctx, "rolling back", "cluster", a.Cluster, "failed", a.Revision, "revision", next.Number, "restores", next.RollbackOf)
	return nil
}

// snapshot records what a real target runs, for GET services to show
// (the sim target keeps that table itself).
func (w *StackReconcileWorker) snapshot(ctx context.Context, c *purser.Cluster, target purser.StackTarget) {
	if c.Kind == purser.ClusterSim {
		return
	}
	actual, err := target.Actual(ctx, c)
	if err == nil {
		err = w.Stacks.ReplaceActualServices(ctx, c.Name, actual)
	}
	if err != nil {
		w.Logger.WarnContext(ctx, "record what the target runs", "cluster", c.Name, "error", err)
	}
}
