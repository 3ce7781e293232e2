package purser

import (
	"fmt"
	"sort"
	"time"
)

// ResizePlan is what a resize to an absolute Target implies: the hosts
// joining (from the free inventory) or leaving (back to it), the members'
// totals before and after, and how far After lands past Target (a pool
// is never left short, so an overshoot is reported, never an undershoot).
type ResizePlan struct {
	Target    Resources
	Before    Resources
	After     Resources
	Overshoot Resources
	Add       []*Host
	Remove    []*Host
}

// Overshoots reports whether the plan lands past its target.
func (r *ResizePlan) Overshoots() bool { return r.Overshoot.Cores > 0 || r.Overshoot.Memory > 0 }

// PlanResize plans resizing the pool to target (absolute; a zero
// dimension keeps what the members have) against the members' totals.
// Growing takes free hosts by BestFit for the shortfall; shrinking
// releases members, largest first (cores, then memory, then name), each
// only if the rest still cover the target. Both directions at once, and
// no change, are refused (EINVALID, ECONFLICT).
func (p *Pool) PlanResize(target Resources, hosts []*Host) (*ResizePlan, error) {
	members, _ := PoolHosts(p.Name, hosts)
	before := Total(members)
	if target.Cores == 0 {
		target.Cores = before.Cores
	}
	if target.Memory == 0 {
		target.Memory = before.Memory
	}
	plan := &ResizePlan{Target: target, Before: before}
	up := target.Cores > plan.Before.Cores || target.Memory > plan.Before.Memory
	down := target.Cores < plan.Before.Cores || target.Memory < plan.Before.Memory
	switch {
	case up && (target.Cores < plan.Before.Cores || target.Memory < plan.Before.Memory):
		return nil, Invalid(FieldError{"cores", "direction", fmt.Sprintf("grows one resource and shrinks the other (the pool has %s): resize in two steps", plan.Before)})
	case up:
		add, err := BestFit(candidates(hosts, p.Selector), Resources{max(target.Cores-plan.Before.Cores, 0), max(target.Memory-plan.Before.Memory, 0)})
		if err != nil {
			return nil, Errorf(ECONFLICT, "pool %s cannot grow to %s: the shortfall %s", p.Name, target, err.Error())
		}
		if p.MaxHosts > 0 && len(members)+len(add) > p.MaxHosts {
			return nil, Errorf(ECONFLICT, "pool %s would need %d hosts, above its maximum of %d", p.Name, len(members)+len(add), p.MaxHosts)
		}
		plan.Add = add
	case down:
		plan.Remove = shrink(members, target, max(p.MinHosts, 1))
		if len(plan.Remove) == 0 {
			return nil, Errorf(ECONFLICT, "pool %s cannot shrink to %s: no member can leave without the rest falling short (it has %s on %d hosts, minimum %d)",
				p.Name, target, plan.Before, len(members), max(p.MinHosts, 1))
		}
	default:
		return nil, Errorf(ECONFLICT, "pool %s already has %s: nothing to resize", p.Name, plan.Before)
	}
	plan.After = plan.Before.Add(Total(plan.Add)).Sub(Total(plan.Remove))
	plan.Overshoot = Resources{max(plan.After.Cores-target.Cores, 0), max(plan.After.Memory-target.Memory, 0)}
	return plan, nil
}

// shrink picks the members to release: largest first, each only when the
// rest still cover target and keep minHosts.
func shrink(members []*Host, target Resources, minHosts int) []*Host {
	order := append([]*Host(nil), members...)
	sort.Slice(order, func(i, j int) bool { return biggerFirst(order[i], order[j]) })
	left, n := Total(members), len(members)
	var out []*Host
	for _, h := range order {
		if n > minHosts && left.Sub(h.Size()).Covers(target) {
			out = append(out, h)
			left, n = left.Sub(h.Size()), n-1
		}
	}
	byName(out)
	return out
}

// Resize decides applying plan: the pool's request becomes the target,
// the hosts join or leave. An overshoot needs confirm (ECONFLICT saying
// by how much otherwise).
func (p *Pool) Resize(by *Actor, plan *ResizePlan, confirm bool, now time.Time) (Change, error) {
	if err := by.Authorize(ActionPoolWrite, ""); err != nil {
		return Change{}, err
	}
	if plan.Overshoots() && !confirm {
		return Change{}, Errorf(ECONFLICT, "resizing pool %s to %s lands on %s, %s over: confirm (--yes) to go ahead", p.Name, plan.Target, plan.After, plan.Overshoot)
	}
	after := *p
	after.Cores, after.Memory, after.Updated = plan.Target.Cores, plan.Target.Memory, now
	ch := Change{Events: []AuditEvent{{Action: "pool.resize", TargetType: "pool", TargetID: p.Name, Before: p.doc(), After: after.doc()}}}
	*p = after
	ch.Rows = append(ch.Rows, p)
	for _, h := range plan.Add {
		_, c := h.join(p, false, "joined pool "+p.Name+" to grow it")
		ch.add(c)
	}
	for _, h := range plan.Remove {
		_, c := h.leave(p, "left pool "+p.Name+" to shrink it")
		ch.add(c)
	}
	return ch, nil
}

// AddNode decides adding host h to the pool: a free host matching the
// selector, or one of the pool's own spares, becomes a member.
func (p *Pool) AddNode(by *Actor, h *Host, members int) (Change, error) {
	if err := by.Authorize(ActionPoolWrite, ""); err != nil {
		return Change{}, err
	}
	own := h.Pool == p.Name && h.Spare && h.State == HostReady
	switch {
	case h.Member(p.Name):
		return Change{}, Errorf(ECONFLICT, "host %s is in pool %s already", h.Name, p.Name)
	case !own && !h.Free():
		return Change{}, Errorf(ECONFLICT, "host %s is not free: %s%s", h.Name, h.State, inPool(h))
	case !h.Matches(p.Selector):
		return Change{}, Errorf(ECONFLICT, "host %s lacks the labels pool %s selects (%v)", h.Name, p.Name, p.Selector)
	case p.MaxHosts > 0 && members >= p.MaxHosts:
		return Change{}, Errorf(ECONFLICT, "pool %s has its maximum of %d hosts", p.Name, p.MaxHosts)
	}
	_, ch := h.join(p, false, "added to pool "+p.Name)
	return ch, nil
}

func inPool(h *Host) string {
	if h.Pool == "" {
		return ""
	}
	return " in pool " + h.Pool
}

// RemoveNode decides releasing host h from the pool to the free
// inventory (a host that does not answer leaves the pool in its state).
// A member may not take the pool below its minimum.
func (p *Pool) RemoveNode(by *Actor, h *Host, members int) (Change, error) {
	if err := by.Authorize(ActionPoolWrite, ""); err != nil {
		return Change{}, err
	}
	if h.Pool != p.Name {
		return Change{}, Errorf(ENOTFOUND, "host %s is not in pool %s", h.Name, p.Name)
	}
	if h.Member(p.Name) && members <= p.MinHosts {
		return Change{}, Errorf(ECONFLICT, "pool %s has its minimum of %d hosts", p.Name, p.MinHosts)
	}
	_, ch := h.leave(p, "removed from pool "+p.Name)
	return ch, nil
}

// Drain decides draining member h before it leaves, by deadline: the
// host becomes DRAINING (nothing new lands on it); when the drain ends the
// host is released (FinishDrain).
func (p *Pool) Drain(by *Actor, h *Host, deadline time.Time) (Change, error) {
	if err := by.Authorize(ActionPoolWrite, ""); err != nil {
		return Change{}, err
	}
	if !h.Member(p.Name) {
		return Change{}, Errorf(ENOTFOUND, "host %s is not a member of pool %s", h.Name, p.Name)
	}
	if h.State != HostAssigned {
		return Change{}, Errorf(ECONFLICT, "host %s is %s: only an ASSIGNED member drains", h.Name, h.State)
	}
	return h.startDrain(p.Name, "host.drain", deadline), nil
}

// startDrain returns h DRAINING out of pool until deadline, and its event.
func (h *Host) startDrain(pool, action string, deadline time.Time) Change {
	after, ch := h.transition(HostDraining, action, drainReason(pool, deadline, ""))
	after.DrainDeadline, after.DrainWait = &deadline, ""
	return ch
}

// FinishDrain releases a drained host of pool p to the free inventory
// (running p's leave hook).
func (h *Host) FinishDrain(p *Pool, reason string) Change {
	_, ch := h.leave(p, reason)
	return ch
}
