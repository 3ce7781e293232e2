package purser

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// StackReconcileArgs asks to make a cluster's target run revision
// Revision. Requested tells two deploys of one revision apart (the
// revision's creation, or a later POST deploy), so that a redeploy is
// never taken for the job that already ran.
type StackReconcileArgs struct {
	Cluster   string `json:"cluster"`
	Revision  int    `json:"revision"`
	Requested int64  `json:"requested"` // Unix microseconds
}

// Kind names the job.
func (StackReconcileArgs) Kind() string { return "stack_reconcile" }

// QueueStacks holds reconciles: a rollout may take minutes, and must
// neither hold up provisioning nor wait behind it.
const QueueStacks = "stacks"

// Stack notification events.
const (
	EventDeployStarted    = "stack.deploy_started"
	EventDeployFinished   = "stack.deploy_finished"
	EventDeployFailed     = "stack.deploy_failed"
	EventDeployRolledBack = "stack.rolled_back"
)

// StackTarget is where a cluster's services run: the built-in sim today,
// Kubernetes and ECS next. The reconciler reads Actual, plans against it
// (PlanStack) and carries out the plan one service at a time with Apply.
type StackTarget interface {
	// Actual returns what the target runs of the services Purser manages
	// on the cluster (and only those: what Purser labelled or named), with
	// ${NAME} values as references, and with what the target fills in
	// itself left out, so that an unchanged service plans as unchanged.
	Actual(ctx context.Context, c *Cluster) ([]ActualService, error)
	// Apply carries out one service's step of a plan: create or update it
	// to in.Service, or delete it (in.Service nil), and waits until it is
	// healthy (or gone). A service not healthy within in.Healthy, or one
	// the target refuses, is a *RolloutError whose reason says which
	// service, which pods or tasks, and their last events; any other error
	// is a passing fault, tried again.
	Apply(ctx context.Context, c *Cluster, step ServicePlan, in ApplyInput) error
}

// IgnoredField is a field of a stackfile a target does not carry out,
// and why (an AWS-only field on Kubernetes, say).
type IgnoredField struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// FieldNoter is a target that ignores some fields of a stackfile: plans
// show which, and why.
type FieldNoter interface {
	IgnoredFields(stack *Stackfile, svc *StackService) []IgnoredField
}

// ApplyInput is what a target needs to apply one service.
type ApplyInput struct {
	// Stack is the normalised stackfile: its stack-wide sections (vpc,
	// service_discovery, logging) for the service's load balancer,
	// discovery and logs.
	Stack *Stackfile
	// Service is the desired service, normalised; nil to delete.
	Service *StackService
	// Secrets hold the values of the ${NAME} references Service makes.
	Secrets map[string]string
	// Healthy is how long the service may take to become healthy.
	Healthy time.Duration
}

// DefaultHealthyDeadline is how long a service may take to become healthy
// in a rollout, unless its cluster says otherwise.
const DefaultHealthyDeadline = 5 * time.Minute

// DefaultStackNamespace is the Kubernetes namespace a cluster's stack is
// applied into, unless the cluster names another.
const DefaultStackNamespace = "stacks"

// RolloutMark is how a rollout of a revision stands, as the reconciler
// records it: the status reached, why (a failure's cause) and the plan
// carried out, which notifications show.
type RolloutMark struct {
	Revision int
	Status   RevisionStatus // applying, applied or failed
	Reason   string
	Plan     *Plan
}

// StackReconcileStore is what the reconciler needs of the store, as Purser
// itself (stacks:apply).
type StackReconcileStore interface {
	// Cluster returns the cluster with its credentials, for the target.
	ClusterWithCredentials(ctx context.Context, name string) (*Cluster, error)
	// StackRevision returns revision n of the cluster.
	StackRevision(ctx context.Context, cluster string, n int) (*StackRevision, error)
	// CurrentRevision returns the cluster's current revision, or ENOTFOUND.
	CurrentRevision(ctx context.Context, cluster string) (*StackRevision, error)
	// RecordRollout records a rollout's progress (StackHistory.Mark).
	RecordRollout(ctx context.Context, cluster string, m RolloutMark) (*StackRevision, error)
	// RollBackFailed is StackHistory.RollBackFailed.
	RollBackFailed(ctx context.Context, cluster string) (*StackRevision, error)
	// ResolveSecrets returns the values of the named cluster secrets.
	ResolveSecrets(ctx context.Context, cluster string, names []string) (map[string]string, error)
	// LockStack makes holder the only reconciler of the cluster for ttl,
	// or renews its hold; false when another holds it.
	LockStack(ctx context.Context, cluster, holder string, ttl time.Duration) (bool, error)
	// UnlockStack ends holder's hold, if it has it.
	UnlockStack(ctx context.Context, cluster, holder string) error
}

// reconcileJob is the job that deploys r.
func reconcileJob(r *StackRevision, requested time.Time) StackReconcileArgs {
	return StackReconcileArgs{Cluster: r.Cluster, Revision: r.Number, Requested: requested.UnixMicro()}
}

// Deploy asks to apply the current revision again (the seed's POST
// deploy): a held (pending) revision starts, an applied one is re-applied,
// which corrects drift, and a failed one is tried again. A blocked or
// rolled-back current revision is refused, with the way out.
func (h StackHistory) Deploy(now time.Time) (*StackRevision, Change, error) {
	cur := h.Current()
	if cur == nil {
		return nil, Change{}, Errorf(ENOTFOUND, "cluster %s has no stackfile yet: PUT its config first", h.Cluster)
	}
	if err := cur.CheckApplicable(); err != nil {
		return nil, Change{}, err
	}
	if cur.Status == RevisionRolledBack || cur.Status == RevisionSuperseded {
		return nil, Change{}, Errorf(ECONFLICT, "revision %d is %s; roll back to it to apply it again", cur.Number, cur.Status)
	}
	return cur, Change{Jobs: []JobArgs{reconcileJob(cur, now)},
		Events: []AuditEvent{{Action: "stack.deploy", TargetType: "cluster", TargetID: h.Cluster,
			After: map[string]any{"revision": cur.Number, "status": cur.Status}}}}, nil
}

// Mark records a rollout's progress on revision m.Revision: applying when
// it starts (also again, after a crash or for a redeploy), then applied or
// failed, with the reason. Each step is audited and told to the revision's
// author (for an automatic revision, the author of the one it replaced):
// started with the plan, finished, or failed with the reason. Marking a
// revision applied prunes the history; the numbers to delete are returned.
func (h StackHistory) Mark(m RolloutMark) (*StackRevision, Change, []int, error) {
	r, err := h.Revision(m.Revision)
	if err != nil {
		return nil, Change{}, nil, err
	}
	if err := r.CheckApplicable(); err != nil {
		return nil, Change{}, nil, err
	}
	before := r.Status
	if !(before == RevisionApplying && m.Status == RevisionApplying) {
		if err := r.Move(m.Status); err != nil {
			return nil, Change{}, nil, err
		}
	}
	if m.Status == RevisionFailed {
		r.Reason = m.Reason
	} else {
		r.Reason = ""
	}
	c := Change{Rows: []Row{r}, Events: []AuditEvent{{Action: "stack.mark", TargetType: "cluster", TargetID: h.Cluster,
		Before: map[string]any{"revision": r.Number, "status": before},
		After:  map[string]any{"revision": r.Number, "status": m.Status, "reason": m.Reason}}}}
	if to := h.notifyWhom(r); to != "" {
		c.Messages = append(c.Messages, rolloutMessage(to, r, m))
	}
	var pruned []int
	if m.Status == RevisionApplied {
		c.Jobs = append(c.Jobs, StackExportArgs{Cluster: h.Cluster, Revision: r.Number}) // written out by the export worker
		if pruned = h.Prune(DefaultRevisionsKept); len(pruned) > 0 {
			c.Events = append(c.Events, AuditEvent{Action: "stack.prune", TargetType: "cluster", TargetID: h.Cluster,
				After: map[string]any{"revisions": pruned, "kept_applied": DefaultRevisionsKept}})
		}
	}
	return r, c, pruned, nil
}

// notifyWhom names the user told about r's rollout: its author, or for a
// revision Purser made (an automatic rollback) the author of the revision
// it replaced; "" when that is Purser too.
func (h StackHistory) notifyWhom(r *StackRevision) string {
	for cur := r; cur != nil; {
		if cur.Author != "" && cur.Author != "purser" {
			return cur.Author
		}
		prev, err := h.Revision(cur.Number - 1)
		if err != nil {
			return ""
		}
		cur = prev
	}
	return ""
}

// rolloutMessage is the notification of a rollout's step.
func rolloutMessage(to string, r *StackRevision, m RolloutMark) Message {
	link := fmt.Sprintf("/api/v1/clusters/%s/revisions/%d", r.Cluster, r.Number)
	msg := Message{Username: to, Link: link}
	what := fmt.Sprintf("revision %d of %s", r.Number, r.Cluster)
	if r.Message != "" {
		what += " (" + r.Message + ")"
	}
	switch m.Status {
	case RevisionApplying:
		msg.Event, msg.Title = EventDeployStarted, fmt.Sprintf("Deploying %s revision %d", r.Cluster, r.Number)
		msg.Description = "Deploying " + what + "."
	case RevisionApplied:
		msg.Event, msg.Title = EventDeployFinished, fmt.Sprintf("Deployed %s revision %d", r.Cluster, r.Number)
		msg.Description = "Every service of " + what + " runs as desired."
	default:
		msg.Event, msg.Title = EventDeployFailed, fmt.Sprintf("Deploy of %s revision %d failed", r.Cluster, r.Number)
		msg.Description = what + " failed: " + m.Reason
	}
	if m.Plan != nil && m.Status == RevisionApplying {
		msg.Description += "\n\n" + m.Plan.Summary()
	}
	return msg
}

// RollbackMessage tells the user that a failed revision was rolled back
// to the newest applied one.
func RollbackMessage(to string, failed, next *StackRevision) Message {
	return Message{Username: to, Event: EventDeployRolledBack,
		Title: fmt.Sprintf("Rolled %s back to revision %d", failed.Cluster, next.RollbackOf),
		Description: fmt.Sprintf("Revision %d of %s failed (%s); revision %d restores revision %d, the last that was applied. "+
			"Revision %d is not applied again unless someone rolls back to it.", failed.Number, failed.Cluster, failed.Reason,
			next.Number, next.RollbackOf, failed.Number),
		Link: fmt.Sprintf("/api/v1/clusters/%s/revisions/%d", next.Cluster, next.Number)}
}

// Summary is the plan as a short Markdown list: one line per service that
// changes, with its changed fields, then how many are unchanged.
func (p Plan) Summary() string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("Plan: %d to create, %d to update, %d to delete, %d unchanged.",
		p.Count(PlanCreate), p.Count(PlanUpdate), p.Count(PlanDelete), p.Count(PlanUnchanged)))
	shown := 0
	for _, s := range p.Services {
		if s.Action == PlanUnchanged {
			continue
		}
		if shown == 20 {
			b.WriteString(fmt.Sprintf("\n• … and %d more", len(p.Services)-p.Count(PlanUnchanged)-shown))
			break
		}
		shown++
		b.WriteString("\n• " + string(s.Action) + " `" + s.Service + "`")
		var fields []string
		for _, ch := range s.Changes {
			if len(fields) == 4 {
				fields = append(fields, "…")
				break
			}
			fields = append(fields, fmt.Sprintf("%s: %s → %s", ch.Field, clipText(ch.Old, 40), clipText(ch.New, 40)))
		}
		if len(fields) > 0 {
			b.WriteString(" (" + strings.Join(fields, "; ") + ")")
		}
	}
	return b.String()
}

// clipText shortens s to at most n runes, marking the cut.
func clipText(s string, n int) string {
	if s == "" {
		return "∅"
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// SecretRefs returns the names of the cluster secrets the service's
// environment refers to, sorted, each once (a normalised service holds
// the defaults' environment too).
func (s *StackService) SecretRefs() []string {
	set := map[string]bool{}
	for _, e := range s.Environment {
		if name, ok := SecretRef(e.Value); ok {
			set[name] = true
		}
	}
	return sortedKeys(set)
}

// RolloutError is a rollout that failed on the target for a reason a user
// can act on (a service that never became healthy, a secret without a
// value): the revision fails, and is rolled back. Any other error from a
// target is taken for a passing fault, and the reconcile is tried again.
type RolloutError struct {
	Service string
	Reason  string
}

func (e *RolloutError) Error() string {
	if e.Service == "" {
		return e.Reason
	}
	return "service " + e.Service + ": " + e.Reason
}
