package purser

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// PoolUsage is what a pool's Kubernetes API reports: pods that cannot be
// scheduled (and the largest request among them), the pods' requests
// against the members' nodes' allocatable resources, how many evictable
// pods each member runs, and the members without a Ready node.
type PoolUsage struct {
	Pending     int
	PendingNeed Resources // the largest request of a pending pod
	Requested   Resources
	Allocatable Resources
	Pods        map[string]int
	Unready     []string // members whose node is missing or not Ready, by name
	Cordoned    []string // members whose node Purser cordoned (to uncordon)
}

// Utilisation is the larger of the cores and memory fractions requested.
func (u PoolUsage) Utilisation() float64 {
	f := 0.0
	if u.Allocatable.Cores > 0 {
		f = float64(u.Requested.Cores) / float64(u.Allocatable.Cores)
	}
	if u.Allocatable.Memory > 0 {
		f = math.Max(f, float64(u.Requested.Memory)/float64(u.Allocatable.Memory))
	}
	return f
}

// ScalePolicy tunes autoscaling; zero fields take the defaults: scale up
// at once with pending pods, or when utilisation stayed above 80 %
// (HighWater) for 1 min (UpAfter); down below 50 % (LowWater) held for
// 10 min (DownAfter), no scale-down within 10 min of a scale-up
// (Cooldown).
type ScalePolicy struct {
	HighWater, LowWater float64
	UpAfter             time.Duration
	DownAfter, Cooldown time.Duration
	// DrainDeadline bounds the drain of a busy member a scale-down
	// removes (default DefaultDrainDeadline).
	DrainDeadline time.Duration
}

// WithDefaults fills the zero fields.
func (s ScalePolicy) WithDefaults() ScalePolicy {
	if s.HighWater == 0 {
		s.HighWater = DefaultScaleUpAbove
	}
	if s.LowWater == 0 {
		s.LowWater = DefaultScaleDownBelow
	}
	if s.DrainDeadline == 0 {
		s.DrainDeadline = DefaultDrainDeadline
	}
	if s.UpAfter == 0 {
		s.UpAfter = DefaultScaleUpAfter
	}
	if s.DownAfter == 0 {
		s.DownAfter = DefaultScaleDownAfter
	}
	if s.Cooldown == 0 {
		s.Cooldown = DefaultScaleUpCooldown
	}
	return s
}

// UsageMembers names the members whose nodes count in the pool's usage:
// the ASSIGNED members that joined. A member whose join hook has not
// succeeded yet is not counted (its node, if the hook made one already,
// is not the pool's yet), nor a draining one.
func UsageMembers(pool string, hosts []*Host) []string {
	members, _ := PoolHosts(pool, hosts)
	var out []string
	for _, h := range members {
		if h.State == HostAssigned && h.Joined {
			out = append(out, h.Name)
		}
	}
	return out
}

// Autoscale decides the pool's size at now from its usage (read from the
// nodes of UsageMembers), between its minimum and maximum hosts, only from
// and back to the free inventory: one host joins at once when pods are
// pending, or when utilisation stayed above the high-water mark for
// UpAfter, but never while the previous new member has not joined and
// become a Ready node (and the high-utilisation clock starts again once
// it has, so that it counts); one member leaves when utilisation stayed
// below the low-water mark for DownAfter, not within Cooldown of a
// scale-up, an empty member at once, a busy one by draining, and only one
// draining at a time. The pool's ScaleStatus says why not. A pool without
// max_hosts is not autoscaled (Autoscaled).
func (p *Pool) Autoscale(hosts []*Host, u PoolUsage, now time.Time, pol ScalePolicy) Change {
	if p.State != PoolActive {
		return Change{}
	}
	if !p.Autoscaled() {
		return p.AutoscaleOff("", now)
	}
	pol = pol.WithDefaults()
	members, _ := PoolHosts(p.Name, hosts)
	after := *p
	var ch Change
	util := u.Utilisation()
	high := util > pol.HighWater
	if !high {
		after.HighSince = nil
	} else if after.HighSince == nil {
		after.HighSince = &now
	}
	switch {
	case u.Pending > 0 || high:
		after.LowSince = nil
		why := fmt.Sprintf("utilisation %s above %s", pct(util), pct(pol.HighWater))
		if u.Pending > 0 {
			why = fmt.Sprintf("%d pod(s) pending", u.Pending)
		}
		ch, after.ScaleStatus = p.scaleUp(&after, members, hosts, u, why, now, pol)
	case util < pol.LowWater:
		if after.LowSince == nil {
			after.LowSince = &now
		}
		ch, after.ScaleStatus = p.scaleDown(&after, members, u, util, now, pol)
	default:
		after.LowSince, after.ScaleStatus = nil, ""
	}
	return p.withScale(&after, ch, now)
}

// withScale adds after to ch when its autoscaling fields changed.
func (p *Pool) withScale(after *Pool, ch Change, now time.Time) Change {
	if after.ScaleStatus != p.ScaleStatus || !sameTime(after.LowSince, p.LowSince) || !sameTime(after.HighSince, p.HighSince) || !sameTime(after.LastScaleUp, p.LastScaleUp) {
		after.Updated = now
		ch.Rows = append(ch.Rows, after)
	}
	return ch
}

// Autoscaled reports whether the pool is autoscaled: it names its
// maximum of hosts (its minimum defaults to 1).
func (p *Pool) Autoscaled() bool { return p.MaxHosts > 0 }

// AutoscaleOff decides the pool's ScaleStatus when its usage cannot be
// read (why: "no Kubernetes control plane to read usage from"): nothing
// scales, and the low-utilisation clock stops. A pool that is not
// autoscaled says nothing.
func (p *Pool) AutoscaleOff(why string, now time.Time) Change {
	after := *p
	after.LowSince, after.HighSince, after.ScaleStatus = nil, nil, ""
	if p.Autoscaled() && why != "" {
		after.ScaleStatus = "no autoscaling: " + why
	}
	return p.withScale(&after, Change{}, now)
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func pct(f float64) string { return fmt.Sprintf("%.0f %%", f*100) }

// scaleUp decides one free host joining: among those that fit the largest
// pending pod, the best fit for the pool's largest member, else the one
// covering the most of it. None joins while a member has not joined, or
// its node is not Ready yet (it may be the capacity the pods wait for):
// the high-utilisation clock then starts again. Without pending pods,
// utilisation must have stayed high for UpAfter.
func (p *Pool) scaleUp(after *Pool, members, hosts []*Host, u PoolUsage, why string, now time.Time, pol ScalePolicy) (Change, string) {
	if p.MaxHosts > 0 && len(members) >= p.MaxHosts {
		return Change{}, fmt.Sprintf("no scale-up (%s): at its maximum of %d hosts", why, p.MaxHosts)
	}
	for _, h := range members {
		if h.State == HostAssigned && !h.Joined {
			after.HighSince = nil
			return Change{}, fmt.Sprintf("no scale-up (%s): waiting for host %s to join (its join hook runs)", why, h.Name)
		}
	}
	if len(u.Unready) > 0 {
		after.HighSince = nil
		return Change{}, fmt.Sprintf("no scale-up (%s): waiting for host %s to become a Ready node", why, u.Unready[0])
	}
	if u.Pending == 0 && after.HighSince != nil {
		if held := now.Sub(*after.HighSince); held < pol.UpAfter {
			return Change{}, fmt.Sprintf("no scale-up (%s): high for %s of %s", why, held.Truncate(time.Second), pol.UpAfter)
		}
	}
	free := candidates(hosts, p.Selector)
	var fit []*Host
	for _, h := range free {
		if h.Size().Covers(u.PendingNeed) {
			fit = append(fit, h)
		}
	}
	pick := bestSingle(fit, largest(members))
	if pick == nil {
		if i := largestShareIndex(fit, Resources{1, 1}); i >= 0 {
			pick = fit[i]
		}
	}
	switch {
	case pick == nil && len(free) == 0:
		return Change{}, fmt.Sprintf("no scale-up (%s): no free host matches the selector", why)
	case pick == nil:
		big := largest(free)
		return Change{}, fmt.Sprintf("no scale-up (%s): no free host fits: needs %s, largest free %d and %s", why, u.PendingNeed, big.Cores, gib(big.Memory))
	}
	after.LastScaleUp, after.HighSince = &now, nil
	_, ch := pick.join(p, false, "scale-up: "+why)
	ch.Events = append(ch.Events, AuditEvent{Action: "pool.scale_up", TargetType: "pool", TargetID: p.Name, After: map[string]any{"host": pick.Name, "reason": why}})
	ch.ToAdmins = append(ch.ToAdmins, p.message("pool.scale_up", "Pool "+p.Name+" scaled up: "+pick.Name+" joined",
		fmt.Sprintf("host %s (%s) joined pool %s: %s.", pick.Name, pick.Size(), p.Name, why)))
	return ch, ""
}

func (p *Pool) scaleDown(after *Pool, members []*Host, u PoolUsage, util float64, now time.Time, pol ScalePolicy) (Change, string) {
	low := fmt.Sprintf("utilisation %s below %s", pct(util), pct(pol.LowWater))
	if held := now.Sub(*after.LowSince); held < pol.DownAfter {
		return Change{}, fmt.Sprintf("no scale-down (%s): low for %s of %s", low, held.Truncate(time.Second), pol.DownAfter)
	}
	if p.LastScaleUp != nil && now.Sub(*p.LastScaleUp) < pol.Cooldown {
		return Change{}, fmt.Sprintf("no scale-down (%s): cooldown after the scale-up at %s, until %s", low,
			p.LastScaleUp.UTC().Format(time.RFC3339), p.LastScaleUp.Add(pol.Cooldown).UTC().Format(time.RFC3339))
	}
	if len(members) <= max(p.MinHosts, 1) {
		return Change{}, fmt.Sprintf("no scale-down (%s): at its minimum of %d hosts", low, max(p.MinHosts, 1))
	}
	h, why := scaleDownPick(members, u)
	if h == nil {
		return Change{}, fmt.Sprintf("no scale-down (%s): %s", low, why)
	}
	if rest := u.Allocatable.Sub(h.Size()); !rest.Covers(u.Requested) {
		return Change{}, fmt.Sprintf("no scale-down (%s): pods with nowhere to go (%s requested, %s left without %s)", low, u.Requested, rest, h.Name)
	}
	held := now.Sub(*after.LowSince).Truncate(time.Second)
	after.LowSince = nil
	ev := AuditEvent{Action: "pool.scale_down", TargetType: "pool", TargetID: p.Name, After: map[string]any{"host": h.Name, "reason": low, "pods": u.Pods[h.Name]}}
	if u.Pods[h.Name] == 0 {
		ch := h.FinishDrain(p, "scale-down: "+low)
		ch.Events = append(ch.Events, ev)
		ch.ToAdmins = append(ch.ToAdmins, p.message("pool.scale_down", "Pool "+p.Name+" scaled down: "+h.Name+" left",
			fmt.Sprintf("host %s, running no pod, left pool %s for the free inventory: %s for %s.", h.Name, p.Name, low, held)))
		return ch, ""
	}
	ch := h.startDrain(p.Name, "host.drain", now.Add(pol.DrainDeadline))
	ch.Events = append(ch.Events, ev)
	ch.ToAdmins = append(ch.ToAdmins, p.message("pool.scale_down", "Pool "+p.Name+" scaling down: "+h.Name+" drains",
		fmt.Sprintf("host %s drains out of pool %s (%d pod(s) to evict, by %s): %s for %s.", h.Name, p.Name, u.Pods[h.Name],
			now.Add(pol.DrainDeadline).UTC().Format(time.RFC3339), low, held)))
	return ch, ""
}

// scaleDownPick chooses the member a scale-down removes: the ASSIGNED one
// that joined running the fewest pods, ties to the smallest (one still
// joining is not picked: its join hook runs, and its node is not counted
// in the usage); none while one drains (one at a time), and why.
func scaleDownPick(members []*Host, u PoolUsage) (*Host, string) {
	var ready []*Host
	for _, h := range members {
		if h.State == HostDraining {
			return nil, fmt.Sprintf("host %s is still draining (one at a time)", h.Name)
		}
		if h.State == HostAssigned && h.Joined {
			ready = append(ready, h)
		}
	}
	sort.Slice(ready, func(i, j int) bool {
		a, b := ready[i], ready[j]
		if u.Pods[a.Name] != u.Pods[b.Name] {
			return u.Pods[a.Name] < u.Pods[b.Name]
		}
		return biggerFirst(b, a)
	})
	if len(ready) == 0 {
		return nil, "no member is ASSIGNED and joined"
	}
	return ready[0], ""
}
