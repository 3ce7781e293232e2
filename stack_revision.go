package purser

import (
	"fmt"
	"slices"
	"time"
)

// RevisionStatus is where a stack revision stands.
type RevisionStatus string

// Revision statuses:
//
//	pending --> applying --> applied | failed
//	applied | failed --> applying           (deployed again: POST deploy)
//	pending | applying --> superseded       (a newer revision came first)
//	failed --> rolled_back                  (the last applied one was restored;
//	                                         blocked by the revision restoring it)
//	any but blocked --> blocked             (a rollback replaced it)
//	blocked --unblock--> superseded
//
// A blocked revision is never applied, by anyone, until it is unblocked.
const (
	RevisionPending    RevisionStatus = "pending"
	RevisionApplying   RevisionStatus = "applying"
	RevisionApplied    RevisionStatus = "applied"
	RevisionFailed     RevisionStatus = "failed"
	RevisionSuperseded RevisionStatus = "superseded"
	RevisionRolledBack RevisionStatus = "rolled_back"
	RevisionBlocked    RevisionStatus = "blocked"
)

// DefaultRevisionsKept is how many applied revisions a stack keeps.
const DefaultRevisionsKept = 10

// StackRevision is one immutable, numbered version of a cluster's stack.
// Only its Status (and Blocked fields) ever change.
type StackRevision struct {
	Cluster    string
	Number     int // 1, 2, ...; the highest is the current revision
	Author     string
	Message    string
	Created    time.Time
	Source     string     // the stackfile as given (YAML or JSON text)
	Stackfile  *Stackfile // as given, parsed
	Normalized *Stackfile
	Status     RevisionStatus
	// RollbackOf is the revision this one restores, 0 if none.
	RollbackOf int
	// BlockedBy is the revision whose rollback blocked this one.
	BlockedBy int
	// Reason says why the revision failed, in words a user can act on.
	Reason string
}

func (*StackRevision) isRow() {}

// revisionMoves are the status changes a decision may make.
var revisionMoves = map[RevisionStatus][]RevisionStatus{
	RevisionPending:    {RevisionApplying, RevisionSuperseded, RevisionBlocked},
	RevisionApplying:   {RevisionApplied, RevisionFailed, RevisionSuperseded, RevisionBlocked},
	RevisionApplied:    {RevisionApplying, RevisionBlocked},
	RevisionFailed:     {RevisionApplying, RevisionRolledBack, RevisionBlocked},
	RevisionSuperseded: {RevisionBlocked},
	RevisionRolledBack: {RevisionBlocked, RevisionSuperseded},
	RevisionBlocked:    {RevisionSuperseded},
}

// Move changes r's status to to, or returns ECONFLICT when the status
// machine does not allow it (a blocked revision never starts applying).
func (r *StackRevision) Move(to RevisionStatus) error {
	if !slices.Contains(revisionMoves[r.Status], to) {
		return Errorf(ECONFLICT, "revision %d is %s: it cannot become %s", r.Number, r.Status, to)
	}
	r.Status = to
	return nil
}

// CheckApplicable refuses to apply a blocked revision, or one rolled back
// automatically (blocked by the revision that restored the one before),
// with the way out.
func (r *StackRevision) CheckApplicable() error {
	if r.Status == RevisionBlocked || (r.Status == RevisionRolledBack && r.BlockedBy > 0) {
		return Errorf(ECONFLICT, "revision %d is blocked (revision %d rolled it back); unblock it before applying it", r.Number, r.BlockedBy)
	}
	return nil
}

// StackHistory is what the stack decisions need to know of a cluster:
// its revisions (the store loads them all, or at least the current one and
// the one a decision names).
type StackHistory struct {
	Cluster   string
	Revisions []*StackRevision
}

// Current returns the highest-numbered revision, or nil.
func (h StackHistory) Current() *StackRevision {
	var cur *StackRevision
	for _, r := range h.Revisions {
		if cur == nil || r.Number > cur.Number {
			cur = r
		}
	}
	return cur
}

// Revision returns revision n, or ENOTFOUND.
func (h StackHistory) Revision(n int) (*StackRevision, error) {
	for _, r := range h.Revisions {
		if r.Number == n {
			return r, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "cluster %s has no revision %d", h.Cluster, n)
}

// Propose makes next the cluster's new current revision, pending: it gets
// the next number, and a previous revision still pending or applying is
// superseded (the reconciler applies the newest only). Unless hold is set
// (the seed's deploy: false), a reconcile of next is enqueued. next must
// hold a validated stackfile and its normalised form.
func (h StackHistory) Propose(next *StackRevision, hold bool, now time.Time) (Change, error) {
	if next.Stackfile == nil || next.Normalized == nil {
		return Change{}, Errorf(EINTERNAL, "revision without its stackfile")
	}
	var c Change
	cur := h.Current()
	next.Cluster, next.Number, next.Created, next.Status = h.Cluster, 1, now, RevisionPending
	if cur != nil {
		next.Number = cur.Number + 1
		if cur.Status == RevisionPending || cur.Status == RevisionApplying {
			_ = cur.Move(RevisionSuperseded)
			c.Rows = append(c.Rows, cur)
		}
	}
	c.Rows = append(c.Rows, next)
	c.Events = append(c.Events, AuditEvent{Action: "stack.revise", TargetType: "cluster", TargetID: h.Cluster,
		After: map[string]any{"revision": next.Number, "message": next.Message, "deploy": !hold}})
	if !hold {
		c.Jobs = append(c.Jobs, reconcileJob(next, now))
	}
	return c, nil
}

// Rollback makes a new current revision equal to revision to and blocks
// the current one, which it replaces, so that nothing re-applies it until
// someone unblocks it. Rolling back to a blocked revision, or to the
// current one, is refused.
func (h StackHistory) Rollback(to int, author string, now time.Time) (*StackRevision, Change, error) {
	target, err := h.Revision(to)
	if err != nil {
		return nil, Change{}, err
	}
	cur := h.Current()
	if target == cur {
		return nil, Change{}, Errorf(ECONFLICT, "revision %d is already the current one", to)
	}
	if err := target.CheckApplicable(); err != nil {
		return nil, Change{}, err
	}
	next := &StackRevision{Author: author, Message: fmt.Sprintf("rollback to revision %d", to),
		Source: target.Source, Stackfile: target.Stackfile, Normalized: target.Normalized, RollbackOf: to}
	blocked := cur.Number
	if cur.Status != RevisionBlocked {
		if err := cur.Move(RevisionBlocked); err != nil {
			return nil, Change{}, err
		}
	}
	cur.BlockedBy = cur.Number + 1
	c, err := h.Propose(next, false, now)
	if err != nil {
		return nil, Change{}, err
	}
	c.Rows = append([]Row{cur}, c.Rows...)
	c.Events = append(c.Events, AuditEvent{Action: "stack.rollback", TargetType: "cluster", TargetID: h.Cluster,
		Before: map[string]any{"revision": blocked}, After: map[string]any{"revision": next.Number, "restores": to, "blocked": blocked}})
	return next, c, nil
}

// RollBackFailed is the reconciler's automatic rollback (on by default):
// the current revision, failed, becomes rolled_back, and a new revision
// equal to the newest applied one before it is proposed; the rolled-back
// revision is not re-applied unless someone rolls back to it. ECONFLICT
// when the current revision has not failed or none was applied before it.
func (h StackHistory) RollBackFailed(now time.Time) (*StackRevision, Change, error) {
	cur := h.Current()
	if cur == nil || cur.Status != RevisionFailed {
		return nil, Change{}, Errorf(ECONFLICT, "the current revision of %s has not failed", h.Cluster)
	}
	var good *StackRevision
	for _, r := range h.Revisions {
		if r.Status == RevisionApplied && r.Number < cur.Number && (good == nil || r.Number > good.Number) {
			good = r
		}
	}
	if good == nil {
		return nil, Change{}, Errorf(ECONFLICT, "revision %d failed and no revision of %s was applied before it", cur.Number, h.Cluster)
	}
	_ = cur.Move(RevisionRolledBack)
	cur.BlockedBy = cur.Number + 1 // the revision proposed below: nothing re-applies cur until it is unblocked
	next := &StackRevision{Author: "purser", Message: fmt.Sprintf("automatic rollback: revision %d failed", cur.Number),
		Source: good.Source, Stackfile: good.Stackfile, Normalized: good.Normalized, RollbackOf: good.Number}
	c, err := h.Propose(next, false, now)
	if err != nil {
		return nil, Change{}, err
	}
	c.Rows = append([]Row{cur}, c.Rows...)
	if to := h.notifyWhom(cur); to != "" {
		c.Messages = append(c.Messages, RollbackMessage(to, cur, next))
	}
	c.Events = append(c.Events, AuditEvent{Action: "stack.auto_rollback", TargetType: "cluster", TargetID: h.Cluster,
		Before: map[string]any{"revision": cur.Number}, After: map[string]any{"revision": next.Number, "restores": good.Number}})
	return next, c, nil
}

// Unblock lets revision n be applied again (by a rollback to it); it
// becomes superseded.
func (h StackHistory) Unblock(n int) (Change, error) {
	r, err := h.Revision(n)
	if err != nil {
		return Change{}, err
	}
	if r.Status != RevisionBlocked && (r.Status != RevisionRolledBack || r.BlockedBy == 0) {
		return Change{}, Errorf(ECONFLICT, "revision %d is %s, not blocked", n, r.Status)
	}
	_ = r.Move(RevisionSuperseded)
	r.BlockedBy = 0
	return Change{Rows: []Row{r}, Events: []AuditEvent{{Action: "stack.unblock", TargetType: "cluster", TargetID: h.Cluster,
		After: map[string]any{"revision": n}}}}, nil
}

// Prune returns the numbers of the revisions to delete, ascending, so that
// the last keep applied revisions remain, with every revision newer than
// the oldest of them; never the current revision, a blocked one (it
// records a decision) or one pending or applying. With fewer than keep
// applied revisions, nothing is pruned.
func (h StackHistory) Prune(keep int) []int {
	revs := slices.Clone(h.Revisions)
	slices.SortFunc(revs, func(a, b *StackRevision) int { return b.Number - a.Number })
	applied, floor := 0, 0
	for _, r := range revs {
		if r.Status == RevisionApplied {
			applied++
			if applied == keep {
				floor = r.Number
				break
			}
		}
	}
	if floor == 0 {
		return nil
	}
	cur := h.Current()
	var out []int
	for _, r := range revs {
		if r.Number >= floor || r == cur {
			continue
		}
		switch r.Status {
		case RevisionBlocked, RevisionPending, RevisionApplying:
			continue
		}
		out = append(out, r.Number)
	}
	slices.Sort(out)
	return out
}
