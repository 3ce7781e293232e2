package purser

import (
	"fmt"
	"strings"
	"time"
)

// ClaimHookRuns decides handing host h's pending runs to its agent, in
// the order they were queued: each is rendered with its parameters and
// server (the URL of the pool's cluster, "" when it has none) and becomes
// RUNNING. A join run whose host left the pool meanwhile is not run: it
// fails, saying so. Only h's own agent may claim (EFORBIDDEN otherwise).
func ClaimHookRuns(by *Actor, h *Host, runs []*HookRun, server func(cluster string) string, now time.Time) ([]*HookRun, Change, error) {
	if err := by.AuthorizeAgent(h.Name); err != nil {
		return nil, Change{}, err
	}
	var out []*HookRun
	var ch Change
	for _, r := range runs {
		if r.Host != h.Name || r.State != HookPending {
			continue
		}
		after := *r
		if r.Kind == HookJoin && !h.Member(r.Pool) {
			after.State, after.Finished, after.Error = HookFailed, &now, "not run: the host left pool "+r.Pool+" before joining"
			ch.Rows = append(ch.Rows, &after)
			ch.Events = append(ch.Events, AuditEvent{Action: "hook.cancel", TargetType: "host", TargetID: h.Name, Before: r.doc(), After: after.doc()})
			continue
		}
		params := make(map[string]string, len(r.Params)+1)
		for k, v := range r.Params {
			params[k] = v
		}
		params["server"] = server(r.Params["cluster"])
		after.Argv, after.State, after.Started = RenderHook(r.Argv, params), HookRunning, &now
		ch.Rows = append(ch.Rows, &after)
		ch.Events = append(ch.Events, AuditEvent{Action: "hook.start", TargetType: "host", TargetID: h.Name, Before: r.doc(), After: after.doc()})
		out = append(out, &after)
	}
	return out, ch, nil
}

// HookFacts are what deciding a run's end needs: the run's host and pool
// (nil when the pool is gone), the whole inventory (a failed join places
// another host) and the pool's other open runs (a destroy ends with its
// last leave).
type HookFacts struct {
	Host  *Host
	Pool  *Pool
	Hosts []*Host
	Open  []*HookRun
}

// FinishHookRun decides the end the agent reports for run r: exit 0
// succeeds, anything else (or a failure to start, in errMsg) fails.
// Only the host's agent reports (EFORBIDDEN); a run not RUNNING answers
// ECONFLICT (a report after its timeout failed it).
func FinishHookRun(by *Actor, r *HookRun, exit int, errMsg string, f HookFacts, now time.Time) (Change, error) {
	if err := by.AuthorizeAgent(r.Host); err != nil {
		return Change{}, err
	}
	if r.State != HookRunning {
		return Change{}, Errorf(ECONFLICT, "hook run %s is %s, not RUNNING: %s", r.ID, r.State, r.Error)
	}
	if exit == 0 && errMsg == "" {
		return r.succeed(f, now), nil
	}
	why := fmt.Sprintf("%s hook exited %d", r.Kind, exit)
	if errMsg != "" {
		why = fmt.Sprintf("%s hook failed: %s", r.Kind, errMsg)
	}
	return r.fail(exit, why, f, now), nil
}

// ExpireHookRun decides the end of a run still open timeout after it was
// queued: it fails as a non-zero exit would, saying why; nil Change when
// it has time left.
func ExpireHookRun(r *HookRun, timeout time.Duration, f HookFacts, now time.Time) Change {
	if !r.Open() || now.Sub(r.Created) < timeout {
		return Change{}
	}
	why := fmt.Sprintf("%s hook did not finish within %s (pools.join_timeout)", r.Kind, timeout)
	if r.State == HookPending {
		why = fmt.Sprintf("%s hook not started within %s (pools.join_timeout): the agent did not claim it", r.Kind, timeout)
	}
	return r.fail(-1, why, f, now)
}

// ReasonAgentRestarted is why a run RUNNING when its host's agent
// registered again fails: the agent that took it is gone.
const ReasonAgentRestarted = "the agent restarted while it ran"

// AgentRestarted decides the end of run r when its host's agent registers
// again (a restart): a run the old agent had taken (RUNNING) will never be
// reported, so it fails at once, as a non-zero exit would (a join fails
// and the pool places another host), rather than at pools.join_timeout.
// A PENDING run is left for the new agent to claim. Nil Change otherwise.
func AgentRestarted(r *HookRun, f HookFacts, now time.Time) Change {
	if r.State != HookRunning {
		return Change{}
	}
	return r.fail(-1, ReasonAgentRestarted, f, now)
}

func (r *HookRun) end(state HookRunState, exit int, why string, now time.Time) (*HookRun, Change) {
	after := *r
	after.State, after.ExitCode, after.Error, after.Finished = state, exit, why, &now
	action := "hook.succeed"
	if state == HookFailed {
		action = "hook.fail"
	}
	return &after, Change{Rows: []Row{&after}, Events: []AuditEvent{{Action: action, TargetType: "host", TargetID: r.Host, Before: r.doc(), After: after.doc()}}}
}

// succeed: a join makes the member joined (or, when the host left the
// pool meanwhile, queues its leave); the last leave of a destroying pool
// removes it.
func (r *HookRun) succeed(f HookFacts, now time.Time) Change {
	_, ch := r.end(HookSucceeded, 0, "", now)
	h, p := f.Host, f.Pool
	switch {
	case r.Kind == HookJoin && h != nil && h.Member(r.Pool) && !h.Joined:
		after, c := h.transition(h.State, "host.joined", "join hook succeeded: joined pool "+r.Pool)
		after.Joined = true
		ch.add(c)
	case r.Kind == HookJoin && h != nil && !h.Member(r.Pool):
		// It left (removed, the pool destroyed) while joining: undo the join.
		ch.queue(p.hookRun(HookLeave, h), "joined pool "+r.Pool+" after leaving it")
	case r.Kind == HookLeave && p != nil && p.State == PoolDestroying && othersOpen(r, f.Open) == 0:
		ch.Rows = append(ch.Rows, DeletedPool{p.Name})
		ch.Events = append(ch.Events, AuditEvent{Action: "pool.destroy", TargetType: "pool", TargetID: p.Name, Before: p.doc()})
	}
	return ch
}

func othersOpen(r *HookRun, open []*HookRun) int {
	n := 0
	for _, o := range open {
		if o.ID != r.ID && o.Pool == r.Pool && o.Kind == HookLeave && o.Open() {
			n++
		}
	}
	return n
}

// fail: a failed join makes the host leave and the pool place another by
// best fit, and, when the join had started (it may have half joined: the
// node registered, a kubelet running), queues the pool's leave hook on
// the host, which its agent runs when it answers; a failed leave puts the host under maintenance (it may still
// be the pool's node: nothing is placed on it until someone looks) and,
// for a destroying pool, leaves it DESTROY_FAILED naming the host; a
// failed reboot is told to the admins.
func (r *HookRun) fail(exit int, why string, f HookFacts, now time.Time) Change {
	_, ch := r.end(HookFailed, exit, why, now)
	h, p := f.Host, f.Pool
	switch r.Kind {
	case HookJoin:
		if h != nil && p != nil && h.Member(p.Name) && !h.Joined {
			ch.add(p.failJoin(h, why, f.Hosts, now))
		}
		if h != nil && r.State == HookRunning && !(h.Member(r.Pool) && h.Joined) {
			ch.queue(p.hookRun(HookLeave, h), "clean up after the failed join to pool "+r.Pool+": "+why)
		}
	case HookLeave:
		// Where the host stands now: under maintenance when it answers and
		// is free; a silent host keeps its state (SUSPECT, UNHEALTHY).
		where := "it is under maintenance until someone checks it"
		if h != nil && h.Pool == "" && (h.State == HostReady || h.State == HostAssigned) {
			_, c := h.transition(HostMaintenance, "host.leave_failed", "leaving pool "+r.Pool+" failed: "+why+"; check the host, then end its maintenance")
			ch.add(c)
		} else if h != nil {
			where = "it stays " + string(h.State) + "; check it before placing anything on it"
		}
		if p != nil && (p.State == PoolDestroying || p.State == PoolDestroyFailed) {
			return p.destroyFailed(ch, fmt.Sprintf("%s did not leave (%s); %s, then destroy again", r.Host, why, where), now)
		}
		ch.ToAdmins = append(ch.ToAdmins, Message{Event: "host.leave_failed", Title: "Host " + r.Host + " failed to leave pool " + r.Pool,
			Description: "host " + r.Host + ": " + why + "; " + where + ".", Link: "/api/v1/hosts/" + r.Host})
	case HookReboot:
		ch.ToAdmins = append(ch.ToAdmins, Message{Event: "host.reboot_failed", Title: "Host " + r.Host + " reboot failed",
			Description: "host " + r.Host + ": " + why + ".", Link: "/api/v1/hosts/" + r.Host})
	}
	return ch
}

// failJoin decides a member that did not join: it leaves the pool (to
// the free inventory, or in its state when it does not answer; no leave
// hook runs, since it never joined), and the pool places other free hosts
// by best fit for what it now lacks, or says in its status why it cannot.
func (p *Pool) failJoin(h *Host, why string, hosts []*Host, now time.Time) Change {
	_, ch := h.leave(p, "join failed: "+why)
	ch.Events[0].Action = "host.join_failed"
	var members []*Host
	for _, o := range hosts {
		if o.Member(p.Name) && o.Name != h.Name {
			members = append(members, o)
		}
	}
	have := Total(members)
	need := Resources{max(p.Cores-have.Cores, 0), max(p.Memory-have.Memory, 0)}
	desc := fmt.Sprintf("host %s did not join pool %s: %s.", h.Name, p.Name, why)
	if need.Cores > 0 || need.Memory > 0 {
		var free []*Host
		for _, o := range candidates(hosts, p.Selector) {
			if o.Name != h.Name {
				free = append(free, o)
			}
		}
		picks, err := BestFit(free, need)
		if err != nil {
			after := *p
			after.Status, after.Updated = fmt.Sprintf("short after %s failed to join: %s", h.Name, err.Error()), now
			ch.Rows = append(ch.Rows, &after)
			ch.Events = append(ch.Events, AuditEvent{Action: "pool.status", TargetType: "pool", TargetID: p.Name,
				Before: map[string]any{"status": p.Status}, After: map[string]any{"status": after.Status}})
			desc += " Nothing free fits in its place: " + err.Error() + "."
		} else {
			var names []string
			for _, o := range picks {
				_, c := o.join(p, false, "placed in pool "+p.Name+" in place of "+h.Name+", which did not join")
				ch.add(c)
				names = append(names, o.Name)
			}
			desc += " " + strings.Join(names, ", ") + " joins in its place."
		}
	}
	ch.ToAdmins = append(ch.ToAdmins, p.message("pool.join_failed", "Pool "+p.Name+": "+h.Name+" did not join", desc))
	return ch
}
