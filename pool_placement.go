package purser

import "fmt"

// Placement is the plan of a new pool: the members chosen, the spares held
// in reserve, what the members offer in all and by how much it exceeds
// what was asked.
type Placement struct {
	Members   []*Host
	Spares    []*Host
	Need      Resources
	Total     Resources
	Overshoot Resources
}

// PlanPool places p on the free hosts matching its selector: the members
// by BestFit, then each spare as the best fit for the pool's largest
// member (a spare must be able to replace any member). ECONFLICT when the
// inventory cannot hold it; the message says what is free.
func PlanPool(p *Pool, hosts []*Host) (*Placement, error) {
	free := candidates(hosts, p.Selector)
	members, err := BestFit(free, p.Size())
	if err != nil {
		return nil, Errorf(ECONFLICT, "pool %s cannot be placed: %s", p.Name, err.Error())
	}
	plan := &Placement{Members: members, Need: p.Size(), Total: Total(members)}
	plan.Overshoot = plan.Total.Sub(plan.Need)
	free = without(free, members)
	need := largest(members)
	for range p.Spares {
		h := bestSingle(free, need)
		if h == nil {
			return nil, Errorf(ECONFLICT, "pool %s cannot be placed: %s", p.Name, noSpareFits(need, free))
		}
		plan.Spares = append(plan.Spares, h)
		free = without(free, []*Host{h})
	}
	return plan, nil
}

// candidates are the free hosts matching selector, in the order given
// (the choices break every tie by name).
func candidates(hosts []*Host, selector map[string]string) []*Host {
	out := make([]*Host, 0, len(hosts))
	for _, h := range hosts {
		if h.Free() && h.Matches(selector) {
			out = append(out, h)
		}
	}
	return out
}

func without(hosts, drop []*Host) []*Host {
	gone := make(map[*Host]bool, len(drop))
	for _, h := range drop {
		gone[h] = true
	}
	out := make([]*Host, 0, len(hosts))
	for _, h := range hosts {
		if !gone[h] {
			out = append(out, h)
		}
	}
	return out
}

// largest is the size a spare needs to replace any of hosts: the most
// cores and the most memory among them.
func largest(hosts []*Host) Resources {
	var r Resources
	for _, h := range hosts {
		r.Cores, r.Memory = max(r.Cores, h.Cores), max(r.Memory, h.Memory)
	}
	return r
}

// noSpareFits is the why-not of a missing spare: "no spare fits: needs 8
// cores and 32 GiB, largest free 4 and 16".
func noSpareFits(need Resources, free []*Host) string {
	big := largest(free)
	return fmt.Sprintf("no spare fits: needs %s, largest free %d and %s", need, big.Cores, gib(big.Memory))
}

// BestFit chooses hosts among free that together offer at least need, in
// a deterministic order (docs/pools.md):
//
//  1. when one host covers what is still needed, the one leaving the
//     fewest cores over, then the least memory, then the first by name;
//  2. otherwise the host covering the largest share of what is still
//     needed (cores and memory each counted as a fraction of the need),
//     ties to more cores, then more memory, then the first by name; and
//     again from 1 with what remains.
//
// It returns an error saying what the hosts offer in all when they cannot
// cover need. free is not changed.
func BestFit(free []*Host, need Resources) ([]*Host, error) {
	left := append([]*Host(nil), free...) // order is free: every tie is broken by name
	var chosen []*Host
	var got Resources
	for !got.Covers(need) {
		rem := Resources{max(need.Cores-got.Cores, 0), max(need.Memory-got.Memory, 0)}
		i := bestSingleIndex(left, rem)
		if i < 0 {
			i = largestShareIndex(left, rem)
		}
		if i < 0 {
			return nil, fmt.Errorf("needs %s; the free hosts that match offer %s in all", need, Total(free))
		}
		chosen = append(chosen, left[i])
		got = got.Add(left[i].Size())
		left[i] = left[len(left)-1]
		left = left[:len(left)-1]
	}
	byName(chosen)
	return chosen, nil
}

// bestSingle is the host covering need with the fewest cores over, then
// the least memory over, then the first name; nil when none covers it.
func bestSingle(hosts []*Host, need Resources) *Host {
	if i := bestSingleIndex(hosts, need); i >= 0 {
		return hosts[i]
	}
	return nil
}

func bestSingleIndex(hosts []*Host, need Resources) int {
	best := -1
	for i, h := range hosts {
		if !h.Size().Covers(need) {
			continue
		}
		if best < 0 || fitsTighter(h, hosts[best]) {
			best = i
		}
	}
	return best
}

// fitsTighter orders covering hosts: fewer cores, then less memory (so
// fewer left over), then the name.
func fitsTighter(a, b *Host) bool {
	if a.Cores != b.Cores {
		return a.Cores < b.Cores
	}
	if a.Memory != b.Memory {
		return a.Memory < b.Memory
	}
	return a.Name < b.Name
}

func largestShareIndex(hosts []*Host, rem Resources) int {
	best, bestShare := -1, 0.0
	for i, h := range hosts {
		s := share(h.Size(), rem)
		if s == 0 {
			continue
		}
		if best < 0 || s > bestShare || s == bestShare && biggerFirst(h, hosts[best]) {
			best, bestShare = i, s
		}
	}
	return best
}

// share is how much of rem the host's resources cover: each dimension
// still needed counts its covered fraction.
func share(r, rem Resources) float64 {
	s := 0.0
	if rem.Cores > 0 {
		s += float64(min(r.Cores, rem.Cores)) / float64(rem.Cores)
	}
	if rem.Memory > 0 {
		s += float64(min(r.Memory, rem.Memory)) / float64(rem.Memory)
	}
	return s
}

func biggerFirst(a, b *Host) bool {
	if a.Cores != b.Cores {
		return a.Cores > b.Cores
	}
	if a.Memory != b.Memory {
		return a.Memory > b.Memory
	}
	return a.Name < b.Name
}
