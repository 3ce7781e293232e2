package purser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// StackDriftArgs asks to compare a cluster's target with its last applied
// revision now.
type StackDriftArgs struct {
	Cluster string `json:"cluster"`
	// Requested tells a scan asked for on demand from the periodic ones.
	Requested int64 `json:"requested"`
}

// Kind names the job.
func (StackDriftArgs) Kind() string { return "stack_drift" }

// StackDriftSweepArgs asks to scan every stack for drift (periodic, on
// the leader).
type StackDriftSweepArgs struct{}

// Kind names the job.
func (StackDriftSweepArgs) Kind() string { return "stack_drift_sweep" }

// EventStackDrifted is the notification of a drift, once per drift.
const EventStackDrifted = "stack.drifted"

// DriftScanEvery is the mean time between two drift scans of a stack;
// each is DriftScanJitter early or late at most, so that scans of many
// stacks spread out.
const (
	DriftScanEvery  = 180 * time.Second
	DriftScanJitter = 60 * time.Second
)

// DriftState is what the last drift scan of a cluster's stack found.
type DriftState struct {
	Cluster  string
	Revision int // the applied revision compared with
	Drifted  bool
	// Services are the services that differ, with how (a plan that would
	// correct them).
	Services []ServicePlan
	// Fingerprint identifies this drift: a drift is told once, until it
	// changes or ends.
	Fingerprint string
	Since       *time.Time // when this drift was first seen
	CheckedAt   time.Time
	Error       string // why the scan could not read the target, if so
}

// DriftScan decides what a scan found: the plan that would make the
// target match revision r (the last applied one), and what to do in the
// cluster's mode. warn: the drift is recorded and told to the reviewers
// once (a drift that changes is told again); correct: also a reconcile of
// r is enqueued; ignore: nothing is told or corrected (the state is still
// recorded, so that it shows). prev is the last scan's state (nil: none).
func DriftScan(c *Cluster, r *StackRevision, actual []ActualService, prev *DriftState, now time.Time) (*DriftState, Change) {
	plan := PlanStack(r.Normalized, actual)
	st := &DriftState{Cluster: c.Name, Revision: r.Number, CheckedAt: now}
	for _, s := range plan.Services {
		if s.Action != PlanUnchanged {
			st.Services = append(st.Services, s)
		}
	}
	var ch Change
	if len(st.Services) == 0 {
		if prev != nil && prev.Drifted {
			ch.Events = append(ch.Events, AuditEvent{Action: "stack.drift_ended", TargetType: "cluster", TargetID: c.Name,
				After: map[string]any{"revision": r.Number}})
		}
		return st, ch
	}
	st.Drifted = true
	b, _ := json.Marshal(st.Services)
	sum := sha256.Sum256(b)
	st.Fingerprint = hex.EncodeToString(sum[:8])
	st.Since = &now
	if prev != nil && prev.Drifted && prev.Since != nil {
		st.Since = prev.Since
	}
	if c.Drift() == DriftIgnore {
		return st, ch
	}
	if prev == nil || prev.Fingerprint != st.Fingerprint {
		ch.Events = append(ch.Events, AuditEvent{Action: "stack.drifted", TargetType: "cluster", TargetID: c.Name,
			After: map[string]any{"revision": r.Number, "services": len(st.Services), "mode": c.Drift()}})
		what := "It is shown as drifted; `purser stacks deploy " + c.Name + "` applies the revision again."
		if c.Drift() == DriftCorrect {
			what = "Purser applies the revision again (drift mode correct)."
		}
		ch.ToReviewers = append(ch.ToReviewers, ReviewerMessage{Message: Message{Event: EventStackDrifted,
			Title:       fmt.Sprintf("%s drifted from revision %d", c.Name, r.Number),
			Description: fmt.Sprintf("%d services of %s differ from revision %d, the last applied. %s\n\n%s", len(st.Services), c.Name, r.Number, what, plan.Summary()),
			Link:        fmt.Sprintf("/api/v1/clusters/%s/drift", c.Name)}})
	}
	if c.Drift() == DriftCorrect {
		ch.Jobs = append(ch.Jobs, reconcileJob(r, now))
	}
	return st, ch
}

// StackDriftStore is what drift scans need of the store, as Purser itself.
type StackDriftStore interface {
	// StacksToScan returns the clusters whose current revision is applied.
	StacksToScan(ctx context.Context) ([]string, error)
	// ScanDrift loads the cluster, its current revision (when applied) and
	// its last drift state, lets scan decide, and commits the state and
	// the change it returns; nothing when the current revision is not
	// applied (a rollout is under way, or failed).
	ScanDrift(ctx context.Context, cluster string, scan func(c *Cluster, r *StackRevision, prev *DriftState) (*DriftState, Change, error)) error
	// Drift returns the last drift state of the cluster's stack, or
	// ENOTFOUND when it was never scanned.
	Drift(ctx context.Context, cluster string) (*DriftState, error)
	// DriftStates returns every cluster's last drift state, for metrics.
	DriftStates(ctx context.Context) ([]DriftState, error)
	// ReplaceActualServices records what a real target runs (the services
	// Purser manages there), so that GET services shows it.
	ReplaceActualServices(ctx context.Context, cluster string, actual []ActualService) error
	// ScanStackNow asks for a drift scan of the cluster (stacks:read).
	ScanStackNow(ctx context.Context, cluster string) error
}
