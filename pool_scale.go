package purser

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// PoolUsage is what a pool's Kubernetes API reports: pods that cannot be
// scheduled, the pods' requests against the nodes' allocatable resources,
// and how many evictable pods each member runs.
type PoolUsage struct {
	Pending     int
	Requested   Resources
	Allocatable Resources
	Pods        map[string]int
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
// above 80 % (HighWater) or with pending pods, down below 50 % (LowWater)
// held for 10 min (DownAfter), no scale-down within 10 min of a scale-up
// (Cooldown).
type ScalePolicy struct {
	HighWater, LowWater float64
	DownAfter, Cooldown time.Duration
}

// WithDefaults fills the zero fields.
func (s ScalePolicy) WithDefaults() ScalePolicy {
	if s.HighWater == 0 {
		s.HighWater = 0.8
	}
	if s.LowWater == 0 {
		s.LowWater = 0.5
	}
	if s.DownAfter == 0 {
		s.DownAfter = DefaultScaleDownAfter
	}
	if s.Cooldown == 0 {
		s.Cooldown = DefaultScaleUpCooldown
	}
	return s
}

// Autoscale decides the pool's size at now from its usage, between its
// minimum and maximum hosts, only from and back to the free inventory: one
// host joins when pods are pending or utilisation is above the high-water
// mark; one member leaves when utilisation stayed below the low-water mark
// for DownAfter, not within Cooldown of a scale-up, an empty member at
// once, a busy one by draining, and only one draining at a time. The
// pool's ScaleStatus says why not.
func (p *Pool) Autoscale(hosts []*Host, u PoolUsage, now time.Time, pol ScalePolicy) Change {
	if p.State != PoolActive {
		return Change{}
	}
	pol = pol.WithDefaults()
	members, _ := PoolHosts(p.Name, hosts)
	after := *p
	var ch Change
	util := u.Utilisation()
	switch {
	case u.Pending > 0 || util > pol.HighWater:
		after.LowSince = nil
		why := fmt.Sprintf("utilisation %s above %s", pct(util), pct(pol.HighWater))
		if u.Pending > 0 {
			why = fmt.Sprintf("%d pod(s) pending", u.Pending)
		}
		ch, after.ScaleStatus = p.scaleUp(&after, members, hosts, why, now)
	case util < pol.LowWater:
		if after.LowSince == nil {
			after.LowSince = &now
		}
		ch, after.ScaleStatus = p.scaleDown(&after, members, u, util, now, pol)
	default:
		after.LowSince, after.ScaleStatus = nil, ""
	}
	if after.ScaleStatus != p.ScaleStatus || !sameTime(after.LowSince, p.LowSince) || !sameTime(after.LastScaleUp, p.LastScaleUp) {
		after.Updated = now
		ch.Rows = append(ch.Rows, &after)
	}
	return ch
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func pct(f float64) string { return fmt.Sprintf("%.0f %%", f*100) }

func (p *Pool) scaleUp(after *Pool, members, hosts []*Host, why string, now time.Time) (Change, string) {
	if p.MaxHosts > 0 && len(members) >= p.MaxHosts {
		return Change{}, fmt.Sprintf("no scale-up (%s): at its maximum of %d hosts", why, p.MaxHosts)
	}
	free := candidates(hosts, p.Selector)
	pick := bestSingle(free, largest(members))
	if pick == nil {
		if i := largestShareIndex(free, Resources{1, 1}); i >= 0 {
			pick = free[i]
		}
	}
	if pick == nil {
		return Change{}, fmt.Sprintf("no scale-up (%s): no free host matches the selector", why)
	}
	after.LastScaleUp = &now
	_, ch := pick.join(p, false, "scale-up: "+why)
	ch.Events = append(ch.Events, AuditEvent{Action: "pool.scale_up", TargetType: "pool", TargetID: p.Name, After: map[string]any{"host": pick.Name, "reason": why}})
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
	var ready []*Host
	for _, h := range members {
		if h.State == HostDraining {
			return Change{}, fmt.Sprintf("no scale-down (%s): host %s is still draining (one at a time)", low, h.Name)
		}
		if h.State == HostAssigned {
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
		return Change{}, fmt.Sprintf("no scale-down (%s): no member is ASSIGNED", low)
	}
	h := ready[0]
	if rest := u.Allocatable.Sub(h.Size()); !rest.Covers(u.Requested) {
		return Change{}, fmt.Sprintf("no scale-down (%s): pods with nowhere to go (%s requested, %s left without %s)", low, u.Requested, rest, h.Name)
	}
	after.LowSince = nil
	ev := AuditEvent{Action: "pool.scale_down", TargetType: "pool", TargetID: p.Name, After: map[string]any{"host": h.Name, "reason": low, "pods": u.Pods[h.Name]}}
	if u.Pods[h.Name] == 0 {
		ch := h.FinishDrain(p, "scale-down: "+low)
		ch.Events = append(ch.Events, ev)
		return ch, ""
	}
	_, ch := h.transition(HostDraining, "host.drain", "scale-down: "+low)
	ch.Events = append(ch.Events, ev)
	return ch, ""
}
