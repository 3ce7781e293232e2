package purser

import (
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"
)

// PoolState is where a pool stands.
type PoolState string

// Pool states. A pool is ACTIVE from its creation; a destroy that cannot
// release every host (one does not answer) leaves it DESTROY_FAILED,
// naming the host, until a later destroy succeeds.
const (
	PoolActive        PoolState = "ACTIVE"
	PoolDestroyFailed PoolState = "DESTROY_FAILED"
)

// Pool is a set of hosts forming one cluster, sized in cores and memory
// (bytes), with spares held in reserve to replace failed members.
type Pool struct {
	Meta
	Name     string
	Cores    int   // requested
	Memory   int64 // requested, bytes
	Spares   int
	Selector map[string]string
	MinHosts int
	MaxHosts int // 0: no maximum
	State    PoolState
	// Status answers "why not": why no remediation, scale-down or destroy
	// (empty when nothing is held back).
	Status string
	// ScaleStatus answers "why not" for autoscaling: why no scale-up or
	// scale-down (cooldown, minimum size, pods with nowhere to go).
	ScaleStatus string
	// Halted is set while remediation is halted (too many unhealthy).
	Halted bool
	// LastScaleUp and LowSince drive autoscaling: the cooldown after a
	// scale-up, and since when utilisation stays low.
	LastScaleUp *time.Time
	LowSince    *time.Time
}

// PoolFields are the fields of pools that where and sort may name.
var PoolFields = Fields{"_id": KindString, "name": KindString, "state": KindString, "cores": KindInt, "memory": KindInt, "_created": KindTime}

// MaxSpares bounds a pool's spares.
const MaxSpares = 16

// Validate checks the pool's own fields.
func (p *Pool) Validate() error {
	var fe []FieldError
	if !clusterNameRE.MatchString(p.Name) {
		fe = append(fe, FieldError{"name", "pattern", "must be a DNS label: lower-case letters, digits and '-', at most 63"})
	}
	if p.Cores < 0 || p.Memory < 0 || (p.Cores == 0 && p.Memory == 0) {
		fe = append(fe, FieldError{"cores", "minimum", "give cores, memory or both, above 0"})
	}
	if p.Spares < 0 || p.Spares > MaxSpares {
		fe = append(fe, FieldError{"spares", "range", fmt.Sprintf("must be between 0 and %d", MaxSpares)})
	}
	if p.MinHosts < 0 {
		fe = append(fe, FieldError{"min_hosts", "minimum", "must be at least 0"})
	}
	if p.MaxHosts != 0 && p.MaxHosts < max(p.MinHosts, 1) {
		fe = append(fe, FieldError{"max_hosts", "minimum", "must be at least min_hosts and 1 (0: no maximum)"})
	}
	fe = append(fe, validateLabels("selector", p.Selector)...)
	return invalidOrNil(fe)
}

// Size is what the pool asks for.
func (p *Pool) Size() Resources { return Resources{p.Cores, p.Memory} }

func (p *Pool) doc() map[string]any {
	return map[string]any{"name": p.Name, "cores": p.Cores, "memory": p.Memory, "spares": p.Spares, "selector": maps.Clone(p.Selector),
		"min_hosts": p.MinHosts, "max_hosts": p.MaxHosts, "state": string(p.State), "status": p.Status, "halted": p.Halted, "scale_status": p.ScaleStatus}
}

// DeletedPool is the Row of a destroyed pool's removal.
type DeletedPool struct{ Name string }

func (*Pool) isRow()       {}
func (DeletedPool) isRow() {}

// PoolHosts splits hosts into the pool's members and spares, each sorted by name.
func PoolHosts(pool string, hosts []*Host) (members, spares []*Host) {
	for _, h := range hosts {
		switch {
		case h.Pool != pool:
		case h.Spare:
			spares = append(spares, h)
		default:
			members = append(members, h)
		}
	}
	byName(members)
	byName(spares)
	return members, spares
}

func byName(hs []*Host) { sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name }) }

// Total sums the hosts' resources.
func Total(hosts []*Host) Resources {
	var r Resources
	for _, h := range hosts {
		r = r.Add(h.Size())
	}
	return r
}

// join returns the host joining pool (as a spare or a member) and its event.
func (h *Host) join(pool string, spare bool, reason string) (*Host, Change) {
	state, action := HostAssigned, "host.join"
	if spare {
		state, action = HostReady, "host.reserve"
	}
	after := h.copy()
	after.Pool, after.Spare, after.State, after.Reason = pool, spare, state, reason
	return after, Change{Rows: []Row{after}, Events: []AuditEvent{{Action: action, TargetType: "host", TargetID: h.Name, Before: h.doc(), After: after.doc()}}}
}

// leave returns the host back in the free inventory (or, when it does not
// answer, out of the pool in its state) and its event.
func (h *Host) leave(reason string) (*Host, Change) {
	after := h.copy()
	after.Pool, after.Spare, after.Reason = "", false, reason
	after.DrainDeadline, after.DrainWait = nil, ""
	if after.State == HostAssigned || after.State == HostDraining {
		after.State = HostReady
	}
	return after, Change{Rows: []Row{after}, Events: []AuditEvent{{Action: "host.leave", TargetType: "host", TargetID: h.Name, Before: h.doc(), After: after.doc()}}}
}

// CreatePool decides creating p from the hosts of the inventory at now:
// the placement (BestFit for the members, then the spares) and the
// Change. EINVALID for bad fields, ECONFLICT when the free inventory
// cannot hold it (the message says what is free).
func CreatePool(by *Actor, p *Pool, hosts []*Host, now time.Time) (*Placement, Change, error) {
	if err := by.Authorize(ActionPoolWrite, ""); err != nil {
		return nil, Change{}, err
	}
	if err := p.Validate(); err != nil {
		return nil, Change{}, err
	}
	plan, err := PlanPool(p, hosts)
	if err != nil {
		return nil, Change{}, err
	}
	if p.MaxHosts > 0 && len(plan.Members) > p.MaxHosts {
		return plan, Change{}, Errorf(ECONFLICT, "pool %s would need %d hosts for %s, above its maximum of %d", p.Name, len(plan.Members), p.Size(), p.MaxHosts)
	}
	after := *p
	after.ID, after.Created, after.Updated, after.State, after.Status = NewID(), now, now, PoolActive, ""
	*p = after
	ch := Change{Rows: []Row{p}, Events: []AuditEvent{{Action: "pool.create", TargetType: "pool", TargetID: p.Name, After: after.doc()}}}
	for _, h := range plan.Members {
		_, c := h.join(p.Name, false, "joined pool "+p.Name+" at creation")
		ch.add(c)
	}
	for _, h := range plan.Spares {
		_, c := h.join(p.Name, true, "spare of pool "+p.Name)
		ch.add(c)
	}
	return plan, ch, nil
}

// Destroy decides destroying the pool: every host leaves for the free
// inventory. A host that does not answer (SUSPECT, UNHEALTHY) cannot
// leave: the pool then stays, DESTROY_FAILED, naming it in its status,
// the admins are told, and a later destroy tries again. Nothing is lost
// silently.
func (p *Pool) Destroy(by *Actor, hosts []*Host, now time.Time) (Change, error) {
	if err := by.Authorize(ActionPoolWrite, ""); err != nil {
		return Change{}, err
	}
	var ch Change
	var stuck []string
	for _, h := range hosts {
		if h.Pool != p.Name {
			continue
		}
		if h.State == HostSuspect || h.State == HostUnhealthy {
			stuck = append(stuck, fmt.Sprintf("%s (%s: %s)", h.Name, h.State, h.Reason))
			continue
		}
		_, c := h.leave("pool " + p.Name + " destroyed")
		ch.add(c)
	}
	if len(stuck) == 0 {
		ch.Rows = append(ch.Rows, DeletedPool{p.Name})
		ch.Events = append(ch.Events, AuditEvent{Action: "pool.destroy", TargetType: "pool", TargetID: p.Name, Before: p.doc()})
		return ch, nil
	}
	sort.Strings(stuck)
	after := *p
	after.State, after.Updated = PoolDestroyFailed, now
	after.Status = "destroy failed: " + strings.Join(stuck, ", ") + " did not leave; destroy again once it answers, or remove it"
	ch.Rows = append(ch.Rows, &after)
	ch.Events = append(ch.Events, AuditEvent{Action: "pool.destroy_failed", TargetType: "pool", TargetID: p.Name, Before: p.doc(), After: after.doc()})
	ch.ToAdmins = append(ch.ToAdmins, Message{Event: "pool.destroy_failed", Title: "Pool " + p.Name + " destroy failed", Description: after.Status,
		Link: "/api/v1/pools/" + p.Name})
	return ch, nil
}
