package purser

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"
)

// HostState is where a host stands in the inventory.
type HostState string

// Host states. A free host is READY with no pool; a pool's member is
// ASSIGNED; a pool's reserved spare is READY with the pool named.
// SUSPECT and UNHEALTHY follow from the age of the last heartbeat (see
// HealthPolicy); MAINTENANCE and RETIRED are set by an operator.
const (
	HostReady       HostState = "READY"
	HostAssigned    HostState = "ASSIGNED"
	HostDraining    HostState = "DRAINING"
	HostSuspect     HostState = "SUSPECT"
	HostUnhealthy   HostState = "UNHEALTHY"
	HostMaintenance HostState = "MAINTENANCE"
	HostRetired     HostState = "RETIRED"
)

// HostStates lists every host state, for validation and documentation.
var HostStates = []HostState{HostReady, HostAssigned, HostDraining, HostSuspect, HostUnhealthy, HostMaintenance, HostRetired}

// Host is an in-house machine an agent registered. Memory is in bytes.
type Host struct {
	Meta
	Name    string
	Address string
	Cores   int
	Memory  int64
	Labels  map[string]string
	State   HostState
	// Pool names the pool the host belongs to ("" when free); Spare marks
	// a host the pool holds in reserve to replace a failed member.
	Pool  string
	Spare bool
	// Joined is set once the pool's join hook succeeded on a member (at
	// once when the pool has none); a member not joined yet is joining.
	Joined bool
	// LastHeartbeat is when the agent last reported; Reason says why the
	// host is in its state (the last transition's cause).
	LastHeartbeat *time.Time
	Reason        string
	// DrainDeadline is when a DRAINING host's remaining pods are deleted
	// by force; DrainWait says why its drain waits ("disruption budget
	// web-pdb refused eviction of default/web-1"), "" when nothing holds
	// it. Both are cleared when the host leaves.
	DrainDeadline *time.Time
	DrainWait     string
}

// Resources are an amount of cores and memory (bytes).
type Resources struct {
	Cores  int
	Memory int64
}

// Size returns what the host offers.
func (h *Host) Size() Resources { return Resources{h.Cores, h.Memory} }

// Covers reports whether r is at least o in both dimensions.
func (r Resources) Covers(o Resources) bool { return r.Cores >= o.Cores && r.Memory >= o.Memory }

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{r.Cores + o.Cores, r.Memory + o.Memory}
}

// Sub returns r - o.
func (r Resources) Sub(o Resources) Resources {
	return Resources{r.Cores - o.Cores, r.Memory - o.Memory}
}

// String formats r as "8 cores and 32 GiB".
func (r Resources) String() string {
	return fmt.Sprintf("%d cores and %s", r.Cores, FormatBytes(r.Memory))
}

// Free reports whether the host is in the free inventory: ready, in no pool.
func (h *Host) Free() bool { return h.State == HostReady && h.Pool == "" }

// Member reports whether the host serves in pool (not as a spare).
func (h *Host) Member(pool string) bool { return h.Pool == pool && !h.Spare }

// Matches reports whether the host's labels carry every pair of selector.
func (h *Host) Matches(selector map[string]string) bool {
	for k, v := range selector {
		if h.Labels[k] != v {
			return false
		}
	}
	return true
}

var hostNameRE = boundedPattern(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`, 1, 253)
var labelKeyRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$`)

// Validate checks the host's own fields, as an agent reports them.
func (h *Host) Validate() error {
	var fe []FieldError
	if !hostNameRE.MatchString(h.Name) {
		fe = append(fe, FieldError{"name", "pattern", "must be a DNS name: lower-case letters, digits, '.' and '-'"})
	}
	if h.Cores < 1 {
		fe = append(fe, FieldError{"cores", "minimum", "must be at least 1"})
	}
	if h.Memory < 1<<20 {
		fe = append(fe, FieldError{"memory", "minimum", "must be at least 1 MiB"})
	}
	fe = append(fe, validateLabels("labels", h.Labels)...)
	return invalidOrNil(fe)
}

func validateLabels(field string, labels map[string]string) []FieldError {
	var fe []FieldError
	for _, k := range sortedKeys(labels) {
		if !labelKeyRE.MatchString(k) || len(labels[k]) > 63 {
			fe = append(fe, FieldError{field + "." + k, "pattern", "keys are letters, digits, '.', '_', '/' and '-'; values at most 63 characters"})
		}
	}
	return fe
}

// HostFields are the fields of hosts that where and sort may name.
var HostFields = Fields{
	"_id": KindString, "name": KindString, "state": KindString, "pool": KindString, "cores": KindInt,
	"memory": KindInt, "spare": KindBool, "_created": KindTime, "last_heartbeat": KindTime,
}

// HealthPolicy says when a silent host becomes SUSPECT and UNHEALTHY.
type HealthPolicy struct {
	Suspect   time.Duration // default 50 s
	Unhealthy time.Duration // default 5 min
}

// Health defaults (DESIGN.md).
const (
	DefaultHeartbeat       = 10 * time.Second
	DefaultSuspectAfter    = 50 * time.Second
	DefaultUnhealthyAfter  = 5 * time.Minute
	DefaultJoinTimeout     = 10 * time.Minute
	DefaultDrainDeadline   = time.Hour
	DefaultScaleDownAfter  = 10 * time.Minute
	DefaultScaleUpCooldown = 10 * time.Minute
	DefaultScaleUpAfter    = time.Minute
	DefaultScaleUpAbove    = 0.8
	DefaultScaleDownBelow  = 0.5
)

// WithDefaults fills the zero durations.
func (p HealthPolicy) WithDefaults() HealthPolicy {
	if p.Suspect == 0 {
		p.Suspect = DefaultSuspectAfter
	}
	if p.Unhealthy == 0 {
		p.Unhealthy = DefaultUnhealthyAfter
	}
	return p
}

// doc is the host as audit events keep it.
func (h *Host) doc() map[string]any {
	return map[string]any{"name": h.Name, "state": string(h.State), "pool": h.Pool, "spare": h.Spare, "joined": h.Joined, "reason": h.Reason,
		"cores": h.Cores, "memory": h.Memory, "labels": maps.Clone(h.Labels)}
}

// transition returns a copy of h in state with the reason, and the event
// recording it.
func (h *Host) transition(state HostState, action, reason string) (*Host, Change) {
	after := *h
	after.State, after.Reason = state, reason
	return &after, Change{Rows: []Row{&after}, Events: []AuditEvent{{Action: action, TargetType: "host", TargetID: h.Name,
		Before: h.doc(), After: after.doc()}}}
}

// settled is the state a host that answers returns to: a member is
// ASSIGNED, a spare or a free host READY.
func (h *Host) settled() HostState {
	if h.Pool != "" && !h.Spare {
		return HostAssigned
	}
	return HostReady
}

// watched reports whether heartbeats decide the host's state: not under
// maintenance, not retired.
func (h *Host) watched() bool { return h.State != HostMaintenance && h.State != HostRetired }

// Health decides the host's state from the age of its last heartbeat at
// now: SUSPECT after p.Suspect, UNHEALTHY after p.Unhealthy. It returns
// nil and an empty Change when nothing changes. A host that never sent
// one counts from its registration.
func (h *Host) Health(now time.Time, p HealthPolicy) (*Host, Change) {
	if !h.watched() {
		return nil, Change{}
	}
	p = p.WithDefaults()
	last := h.Created
	if h.LastHeartbeat != nil {
		last = *h.LastHeartbeat
	}
	age := now.Sub(last).Truncate(time.Second)
	switch {
	case age >= p.Unhealthy && h.State != HostUnhealthy:
		return h.transition(HostUnhealthy, "host.unhealthy", fmt.Sprintf("no heartbeat for %s (unhealthy after %s)", age, p.Unhealthy))
	case age >= p.Suspect && age < p.Unhealthy && h.State != HostSuspect && h.State != HostUnhealthy:
		return h.transition(HostSuspect, "host.suspect", fmt.Sprintf("no heartbeat for %s (suspect after %s)", age, p.Suspect))
	}
	return nil, Change{}
}

// Heartbeat records that the agent reported at now. A SUSPECT or
// UNHEALTHY host recovers: a member is ASSIGNED again, and a host that was
// replaced meanwhile (no longer in a pool) returns to the free inventory.
// Only a recovery is an event: heartbeats themselves are not audited.
func (h *Host) Heartbeat(now time.Time) (*Host, Change) {
	if h.State == HostSuspect || h.State == HostUnhealthy {
		after, ch := h.transition(h.settled(), "host.recover", "heartbeat received after "+strings.ToLower(string(h.State)))
		after.LastHeartbeat = &now
		return after, ch
	}
	after := *h
	after.LastHeartbeat = &now
	return &after, Change{Rows: []Row{HostHeartbeat{Host: h.Name, At: now}}}
}

// HostHeartbeat is the Row of a heartbeat that changes nothing else: only
// the time is written, and the host's version stays, so that a pool
// decided meanwhile over the inventory is not refused for it.
type HostHeartbeat struct {
	Host string
	At   time.Time
}

// Maintenance puts a free host under maintenance (on) or back in service:
// heartbeats no longer decide its state, and nothing places work on it.
// A pool's member must leave its pool first (ECONFLICT).
func (h *Host) Maintenance(on bool) (*Host, Change, error) {
	switch {
	case h.State == HostRetired:
		return nil, Change{}, Errorf(ECONFLICT, "host %s is retired", h.Name)
	case on && h.State == HostMaintenance, !on && h.State != HostMaintenance:
		return h, Change{}, nil
	case on && h.Pool != "":
		return nil, Change{}, Errorf(ECONFLICT, "host %s is in pool %s: remove it from the pool first", h.Name, h.Pool)
	case on:
		after, ch := h.transition(HostMaintenance, "host.maintenance", "put under maintenance")
		return after, ch, nil
	}
	after, ch := h.transition(HostReady, "host.maintenance_end", "back from maintenance")
	return after, ch, nil
}

// Retire takes a host out of the inventory for good; its agent's
// credential stops working. A pool's member or spare must leave first.
func (h *Host) Retire() (*Host, Change, error) {
	if h.Pool != "" {
		return nil, Change{}, Errorf(ECONFLICT, "host %s is in pool %s: remove it from the pool first", h.Name, h.Pool)
	}
	if h.State == HostRetired {
		return h, Change{}, nil
	}
	after, ch := h.transition(HostRetired, "host.retire", "retired")
	return after, ch, nil
}

// Relabel sets (or, with an empty value, removes) labels.
func (h *Host) Relabel(set map[string]string) (*Host, Change, error) {
	after := *h
	after.Labels = maps.Clone(h.Labels)
	if after.Labels == nil {
		after.Labels = map[string]string{}
	}
	for k, v := range set {
		if v == "" {
			delete(after.Labels, k)
		} else {
			after.Labels[k] = v
		}
	}
	if err := invalidOrNil(validateLabels("labels", after.Labels)); err != nil {
		return nil, Change{}, err
	}
	return &after, Change{Rows: []Row{&after}, Events: []AuditEvent{{Action: "host.label", TargetType: "host", TargetID: h.Name,
		Before: h.doc(), After: after.doc()}}}, nil
}
