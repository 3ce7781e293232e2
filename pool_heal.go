package purser

import (
	"fmt"
	"strings"
	"time"
)

// Remediation halts when more than HaltFraction of a pool's members, or
// more than HaltHosts of them, are unhealthy, whichever is smaller
// (DESIGN.md): so many failures at once say the fault is not the hosts'
// (a switch, a power feed), and replacing them would burn the spares.
const (
	HaltPercent = 40
	HaltHosts   = 3
)

// haltReason says why remediation halts with unhealthy of members, or "".
func haltReason(unhealthy, members int) string {
	switch {
	case unhealthy*100 > HaltPercent*members:
		return fmt.Sprintf("halted: %d of %d unhealthy > %d %%", unhealthy, members, HaltPercent)
	case unhealthy > HaltHosts:
		return fmt.Sprintf("halted: %d of %d unhealthy > %d hosts", unhealthy, members, HaltHosts)
	}
	return ""
}

// Heal decides the pool's remediation at now, from every host of the
// inventory: each UNHEALTHY member is replaced by the best-fitting host at
// least as large, the pool's own spares first, then the free inventory
// matching its selector; the failed host leaves the pool (when it answers
// again it returns to the free inventory). Remediation halts, and the
// admins are paged, when too many members are unhealthy (haltReason). The
// admins are told of every replacement and when no spare fits; the pool's
// Status says why not. An empty Change means nothing to do.
func (p *Pool) Heal(hosts []*Host, now time.Time) Change {
	if p.State != PoolActive {
		return Change{}
	}
	members, spares := PoolHosts(p.Name, hosts)
	var unhealthy []*Host
	for _, h := range members {
		if h.State == HostUnhealthy {
			unhealthy = append(unhealthy, h)
		}
	}
	after := *p
	after.Halted, after.Status = false, ""
	var ch Change
	if halt := haltReason(len(unhealthy), len(members)); halt != "" {
		after.Halted, after.Status = true, halt
		if !p.Halted {
			ch.ToAdmins = append(ch.ToAdmins, p.message("pool.heal_halted", "Pool "+p.Name+": self-healing halted",
				halt+": replacing them could burn every spare on a fault that is not the hosts'; look at the hosts, then remove or repair them."))
		}
		after.Status = joinStatus(halt, drainStatus(members))
		return p.withStatus(&after, ch, now)
	}
	ready := readySpares(spares)
	free := candidates(hosts, p.Selector)
	for _, h := range unhealthy {
		ch.add(p.replace(h, &ready, &free, &after))
	}
	if len(unhealthy) > 0 && p.Spares > 0 && len(ready) == 0 && len(spares) > 0 && after.Status == "" {
		ch.ToAdmins = append(ch.ToAdmins, p.message("pool.spares_exhausted", "Pool "+p.Name+": spares exhausted",
			"pool "+p.Name+" has used its last spare; the next failure is replaced from the free inventory if anything fits."))
	}
	after.Status = joinStatus(after.Status, drainStatus(members))
	return p.withStatus(&after, ch, now)
}

// replace decides one replacement of h, from ready spares then free
// hosts (both consumed), or records in after why none fits.
func (p *Pool) replace(h *Host, ready, free *[]*Host, after *Pool) Change {
	from, pick := "spare", bestSingle(*ready, h.Size())
	if pick == nil {
		from, pick = "free host", bestSingle(*free, h.Size())
	}
	if pick == nil {
		after.Status = noSpareFits(h.Size(), append(append([]*Host(nil), *ready...), *free...))
		var ch Change
		if !strings.HasPrefix(p.Status, after.Status) {
			ch.ToAdmins = append(ch.ToAdmins, p.message("pool.spares_exhausted", "Pool "+p.Name+": cannot replace "+h.Name,
				"host "+h.Name+" is unhealthy ("+h.Reason+") and "+after.Status+"."))
		}
		return ch
	}
	*ready, *free = without(*ready, []*Host{pick}), without(*free, []*Host{pick})
	_, ch := h.leave(p, fmt.Sprintf("replaced by %s in pool %s: %s", pick.Name, p.Name, h.Reason))
	_, c := pick.join(p, false, "replaced unhealthy host "+h.Name)
	ch.add(c)
	ch.Events = append(ch.Events, AuditEvent{Action: "pool.replace", TargetType: "pool", TargetID: p.Name,
		Before: map[string]any{"host": h.Name, "state": string(h.State), "reason": h.Reason}, After: map[string]any{"host": pick.Name, "from": from}})
	ch.ToAdmins = append(ch.ToAdmins, p.message("pool.replace", "Pool "+p.Name+": "+h.Name+" replaced by "+pick.Name,
		fmt.Sprintf("host %s is unhealthy (%s); %s %s (%s) joined pool %s in its place.", h.Name, h.Reason, from, pick.Name, pick.Size(), p.Name)))
	return ch
}

func readySpares(spares []*Host) []*Host {
	var out []*Host
	for _, h := range spares {
		if h.State == HostReady {
			out = append(out, h)
		}
	}
	return out
}

// withStatus adds after to ch when its status or halt changed.
func (p *Pool) withStatus(after *Pool, ch Change, now time.Time) Change {
	if after.Status == p.Status && after.Halted == p.Halted {
		return ch
	}
	after.Updated = now
	ch.Rows = append(ch.Rows, after)
	action := "pool.status"
	switch {
	case after.Halted && !p.Halted:
		action = "pool.heal_halted"
	case !after.Halted && p.Halted:
		action = "pool.heal_resumed"
	}
	ch.Events = append(ch.Events, AuditEvent{Action: action, TargetType: "pool", TargetID: p.Name,
		Before: map[string]any{"status": p.Status, "halted": p.Halted}, After: map[string]any{"status": after.Status, "halted": after.Halted}})
	return ch
}

func (p *Pool) message(event, title, desc string) Message {
	return Message{Event: event, Title: title, Description: desc, Link: "/api/v1/pools/" + p.Name}
}
