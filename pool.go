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

// Pool states. A pool is ACTIVE from its creation; a destroy whose hosts
// run a leave hook leaves it DESTROYING until every leave succeeded; a
// destroy that cannot release every host (one does not answer, or its
// leave hook fails) leaves it DESTROY_FAILED, naming the host, until a
// later destroy succeeds.
const (
	PoolActive        PoolState = "ACTIVE"
	PoolDestroying    PoolState = "DESTROYING"
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
	// Cluster names the Purser cluster (kind kubernetes) that is the
	// pool's control plane: stacks and environments target the pool
	// through it, and its server is the hooks' {{ server }}.
	Cluster string
	// Hooks are the commands agents run on their hosts as they join and
	// leave the pool, or reboot.
	Hooks PoolHooks
	State PoolState
	// Status answers "why not": why no remediation, scale-down or destroy
	// (empty when nothing is held back).
	Status string
	// ScaleStatus answers "why not" for autoscaling: why no scale-up or
	// scale-down (cooldown, minimum size, pods with nowhere to go).
	ScaleStatus string
	// Halted is set while remediation is halted (too many unhealthy).
	Halted bool
	// LastScaleUp, LowSince and HighSince drive autoscaling: the cooldown
	// after a scale-up, and since when utilisation stays low, or high.
	LastScaleUp *time.Time
	LowSince    *time.Time
	HighSince   *time.Time
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
	if p.Cluster != "" && !clusterNameRE.MatchString(p.Cluster) {
		fe = append(fe, FieldError{"cluster", "pattern", "must name a registered cluster"})
	}
	fe = append(fe, p.Hooks.Validate()...)
	return invalidOrNil(fe)
}

// CheckCluster checks the pool's cluster as the store found it (c nil:
// none by that name): it must exist and be of kind kubernetes, since the
// pool's hosts become its nodes.
func (p *Pool) CheckCluster(c *Cluster) error {
	switch {
	case p.Cluster == "":
		return nil
	case c == nil:
		return Invalid(FieldError{"cluster", "exists", fmt.Sprintf("no cluster %s is registered (purser clusters add)", p.Cluster)})
	case c.Kind != ClusterKubernetes:
		return Invalid(FieldError{"cluster", "kind", fmt.Sprintf("cluster %s is of kind %s: a pool's cluster must be of kind kubernetes", c.Name, c.Kind)})
	}
	return nil
}

// Size is what the pool asks for.
func (p *Pool) Size() Resources { return Resources{p.Cores, p.Memory} }

func (p *Pool) doc() map[string]any {
	return map[string]any{"name": p.Name, "cores": p.Cores, "memory": p.Memory, "spares": p.Spares, "selector": maps.Clone(p.Selector),
		"min_hosts": p.MinHosts, "max_hosts": p.MaxHosts, "cluster": p.Cluster, "hooks": p.Hooks.doc(), "state": string(p.State), "status": p.Status, "halted": p.Halted, "scale_status": p.ScaleStatus}
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

// join returns the host joining pool p (as a spare or a member) and its
// event. A member is not joined until the pool's join hook succeeded on
// it: the run is queued for its agent (with no join hook it is joined at
// once). A spare runs nothing until it replaces a member.
func (h *Host) join(p *Pool, spare bool, reason string) (*Host, Change) {
	state, action := HostAssigned, "host.join"
	if spare {
		state, action = HostReady, "host.reserve"
	}
	after := h.copy()
	after.Pool, after.Spare, after.State, after.Reason = p.Name, spare, state, reason
	run := p.hookRun(HookJoin, h)
	after.Joined = !spare && run == nil
	ch := Change{Rows: []Row{after}, Events: []AuditEvent{{Action: action, TargetType: "host", TargetID: h.Name, Before: h.doc(), After: after.doc()}}}
	if !spare {
		ch.queue(run, reason)
	}
	return after, ch
}

// leave returns the host back in the free inventory (or, when it does not
// answer, out of the pool in its state) and its event. A joined member
// runs pool p's leave hook (queued: an agent that does not answer runs it
// when it comes back).
func (h *Host) leave(p *Pool, reason string) (*Host, Change) {
	after := h.copy()
	after.Pool, after.Spare, after.Reason, after.Joined = "", false, reason, false
	after.DrainDeadline, after.DrainWait = nil, ""
	if after.State == HostAssigned || after.State == HostDraining {
		after.State = HostReady
	}
	ch := Change{Rows: []Row{after}, Events: []AuditEvent{{Action: "host.leave", TargetType: "host", TargetID: h.Name, Before: h.doc(), After: after.doc()}}}
	if h.Joined {
		ch.queue(p.hookRun(HookLeave, h), reason)
	}
	return after, ch
}

// CreatePool decides creating p from the hosts of the inventory at now:
// the placement (BestFit for the members, then the spares) and the
// Change. EINVALID for bad fields, ECONFLICT when the free inventory
// cannot hold it (the message says what is free).
func CreatePool(by *Actor, p *Pool, hosts []*Host, now time.Time) (*Placement, Change, error) {
	if err := by.Authorize(ActionPoolWrite, ""); err != nil {
		return nil, Change{}, err
	}
	if !p.Hooks.empty() {
		if err := by.Authorize(ActionPoolHooks, ""); err != nil {
			return nil, Change{}, err
		}
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
		_, c := h.join(p, false, "joined pool "+p.Name+" at creation")
		ch.add(c)
	}
	for _, h := range plan.Spares {
		_, c := h.join(p, true, "spare of pool "+p.Name)
		ch.add(c)
	}
	return plan, ch, nil
}

// Destroy decides destroying the pool: every host leaves for the free
// inventory, each joined member running the pool's leave hook; while
// those runs are open the pool is DESTROYING, and it is removed when the
// last succeeds (FinishHookRun). A host that does not answer (SUSPECT,
// UNHEALTHY) cannot leave: the pool then stays, DESTROY_FAILED, naming it
// in its status, the admins are told, and a later destroy tries again.
// Nothing is lost silently.
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
		_, c := h.leave(p, "pool "+p.Name+" destroyed")
		ch.add(c)
	}
	if len(stuck) == 0 {
		leaving := 0
		for _, r := range ch.Rows {
			if _, ok := r.(*HookRun); ok {
				leaving++
			}
		}
		if leaving == 0 {
			ch.Rows = append(ch.Rows, DeletedPool{p.Name})
			ch.Events = append(ch.Events, AuditEvent{Action: "pool.destroy", TargetType: "pool", TargetID: p.Name, Before: p.doc()})
			return ch, nil
		}
		after := *p
		after.State, after.Updated = PoolDestroying, now
		after.Status = fmt.Sprintf("destroying: waiting for %d leave hooks", leaving)
		ch.Rows = append(ch.Rows, &after)
		ch.Events = append(ch.Events, AuditEvent{Action: "pool.destroying", TargetType: "pool", TargetID: p.Name, Before: p.doc(), After: after.doc()})
		return ch, nil
	}
	sort.Strings(stuck)
	return p.destroyFailed(ch, strings.Join(stuck, ", ")+" did not leave; destroy again once it answers, or remove it", now), nil
}

// destroyFailed adds to ch the pool DESTROY_FAILED with why, and tells the
// admins.
func (p *Pool) destroyFailed(ch Change, why string, now time.Time) Change {
	after := *p
	after.State, after.Updated = PoolDestroyFailed, now
	after.Status = "destroy failed: " + why
	ch.Rows = append(ch.Rows, &after)
	ch.Events = append(ch.Events, AuditEvent{Action: "pool.destroy_failed", TargetType: "pool", TargetID: p.Name, Before: p.doc(), After: after.doc()})
	ch.ToAdmins = append(ch.ToAdmins, Message{Event: "pool.destroy_failed", Title: "Pool " + p.Name + " destroy failed", Description: after.Status,
		Link: "/api/v1/pools/" + p.Name})
	return ch
}
