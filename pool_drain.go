package purser

import (
	"fmt"
	"strings"
	"time"
)

// DrainStep is what one pass of a drain over the pool's Kubernetes API
// found: the node cordoned, an eviction asked for each pod still on it.
type DrainStep struct {
	// Left counts the evictable pods still on the node (DaemonSets' and
	// mirror pods are not counted: they go with the node).
	Left int
	// Wait says why they are still there: the first refusal of this pass
	// ("disruption budget web-pdb refused eviction of default/web-1"); ""
	// when they are only on their way out.
	Wait string
	// Forced counts the pods deleted by force (the deadline had passed).
	Forced int
}

// DrainDue reports whether h drains and its deadline has passed at now:
// the pods left are then deleted by force. A drain without a deadline
// (started before drains had one) is due at once.
func (h *Host) DrainDue(now time.Time) bool {
	return h.State == HostDraining && (h.DrainDeadline == nil || !now.Before(*h.DrainDeadline))
}

// drainReason is a DRAINING host's Reason: where it drains out of, by
// when, and what holds it.
func drainReason(pool string, deadline time.Time, wait string) string {
	r := "draining out of pool " + pool + " until " + deadline.UTC().Format(time.RFC3339)
	if wait != "" {
		r += ": " + wait
	}
	return r
}

// Drained decides on one pass of h's drain in its pool p: with no pod
// left, h leaves p for the free inventory (p's leave hook queued); otherwise it keeps draining, and its
// DrainWait (and Reason) say why, an event recording each new reason. An
// empty Change means nothing changed.
func (h *Host) Drained(p *Pool, s DrainStep) Change {
	if h.State != HostDraining {
		return Change{}
	}
	if s.Left == 0 {
		reason := "drained out of pool " + h.Pool
		if s.Forced > 0 {
			reason = fmt.Sprintf("drained out of pool %s: the drain deadline passed, %d pod(s) deleted by force", h.Pool, s.Forced)
		}
		return h.FinishDrain(p, reason)
	}
	wait := s.Wait
	if wait == "" {
		wait = fmt.Sprintf("%d pod(s) on their way out", s.Left)
	}
	if wait == h.DrainWait {
		return Change{}
	}
	deadline := time.Time{}
	if h.DrainDeadline != nil {
		deadline = *h.DrainDeadline
	}
	after, ch := h.transition(HostDraining, "host.drain_wait", drainReason(h.Pool, deadline, wait))
	after.DrainWait = wait
	return ch
}

// drainStatus is the part of a pool's Status that says why its drains
// wait: "drain of a waits: disruption budget web-pdb refused eviction of
// default/web-1".
func drainStatus(members []*Host) string {
	var out []string
	for _, h := range members {
		if h.State == HostDraining && h.DrainWait != "" {
			out = append(out, "drain of "+h.Name+" waits: "+h.DrainWait)
		}
	}
	return strings.Join(out, "; ")
}

// joinStatus joins the non-empty parts of a status.
func joinStatus(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
