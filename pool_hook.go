package purser

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// HookKind names when a pool's hook runs on a host.
type HookKind string

// Hook kinds: join when a host becomes a member (created, resized up,
// added, or a spare replacing a failed member), leave when a joined member
// leaves (removed, resized down, drained, replaced, the pool destroyed),
// reboot when an operator asks.
const (
	HookJoin   HookKind = "join"
	HookLeave  HookKind = "leave"
	HookReboot HookKind = "reboot"
)

// PoolHooks are the commands a pool's agents run on their hosts, each an
// argv list (no shell unless the command is one) whose arguments may hold
// the placeholders of HookParams, replaced as plain text: a value is
// always one argument, whatever it holds.
type PoolHooks struct {
	Join   []string
	Leave  []string
	Reboot []string
}

// HookParams are the placeholders a hook's arguments may hold:
// {{ pool }}, {{ cluster }} (the pool's Purser cluster), {{ server }}
// (that cluster's API server URL), {{ host }} and {{ address }} (the
// host's, as its agent registered them).
var HookParams = []string{"pool", "cluster", "server", "host", "address"}

// Hook limits.
const (
	MaxHookArgs   = 64
	MaxHookArgLen = 4096
)

var hookPlaceholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// Argv returns the hook of kind (nil when the pool has none).
func (h PoolHooks) Argv(kind HookKind) []string {
	switch kind {
	case HookJoin:
		return h.Join
	case HookLeave:
		return h.Leave
	case HookReboot:
		return h.Reboot
	}
	return nil
}

// Validate checks every hook: at most MaxHookArgs arguments of at most
// MaxHookArgLen bytes, a command (the first) fixed by the admin, with no
// placeholder, and only known placeholders in the arguments.
func (h PoolHooks) Validate() []FieldError {
	var fe []FieldError
	for _, kind := range []HookKind{HookJoin, HookLeave, HookReboot} {
		argv, field := h.Argv(kind), "hooks."+string(kind)
		switch {
		case len(argv) == 0:
			continue
		case len(argv) > MaxHookArgs:
			fe = append(fe, FieldError{field, "max_items", fmt.Sprintf("at most %d arguments", MaxHookArgs)})
			continue
		case strings.TrimSpace(argv[0]) == "" || hookPlaceholder.MatchString(argv[0]):
			fe = append(fe, FieldError{field + "[0]", "pattern", "the command must be given, with no placeholder"})
		}
		for i, a := range argv {
			if len(a) > MaxHookArgLen || strings.ContainsRune(a, 0) {
				fe = append(fe, FieldError{fmt.Sprintf("%s[%d]", field, i), "max_length", fmt.Sprintf("at most %d bytes, no NUL", MaxHookArgLen)})
			}
			for _, m := range hookPlaceholder.FindAllStringSubmatch(a, -1) {
				if !slices.Contains(HookParams, m[1]) {
					fe = append(fe, FieldError{fmt.Sprintf("%s[%d]", field, i), "placeholder",
						fmt.Sprintf("unknown placeholder {{ %s }}: use %s", m[1], strings.Join(HookParams, ", "))})
				}
			}
		}
	}
	return fe
}

// RenderHook replaces every {{ name }} of argv with params[name], as
// plain text inside the argument: no quoting is needed, since no shell
// reads it (a value is always one argument), and no template language is
// run. A placeholder with no value becomes empty.
func RenderHook(argv []string, params map[string]string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = hookPlaceholder.ReplaceAllStringFunc(a, func(m string) string {
			return params[hookPlaceholder.FindStringSubmatch(m)[1]]
		})
	}
	return out
}

// HookRunState is where a hook run stands.
type HookRunState string

// Hook run states: PENDING until the host's agent claims it, RUNNING
// until the agent reports its exit, then SUCCEEDED or FAILED (a non-zero
// exit, or no report within the pool's hook timeout).
const (
	HookPending   HookRunState = "PENDING"
	HookRunning   HookRunState = "RUNNING"
	HookSucceeded HookRunState = "SUCCEEDED"
	HookFailed    HookRunState = "FAILED"
)

// HookRun is one run of a pool's hook on a host, queued by a decision and
// run by the host's agent. Argv is the hook as the pool had it when the
// run was queued; Params the values known then (the server's URL is read
// from the cluster when the agent claims the run, and the argv rendered).
type HookRun struct {
	Meta
	Host     string
	Pool     string
	Kind     HookKind
	Argv     []string
	Params   map[string]string
	State    HookRunState
	ExitCode int
	Error    string
	Started  *time.Time
	Finished *time.Time
}

// HookRunFields are the fields of hook runs that where and sort may name.
var HookRunFields = Fields{"_id": KindString, "host": KindString, "pool": KindString, "kind": KindString, "state": KindString, "_created": KindTime}

func (*HookRun) isRow() {}

// Open reports whether the run has not finished.
func (r *HookRun) Open() bool { return r.State == HookPending || r.State == HookRunning }

func (r *HookRun) doc() map[string]any {
	return map[string]any{"id": r.ID, "host": r.Host, "pool": r.Pool, "kind": string(r.Kind), "state": string(r.State),
		"exit_code": r.ExitCode, "error": r.Error}
}

// hookRun returns the run of the pool's hook of kind on h, or nil when
// the pool has none.
func (p *Pool) hookRun(kind HookKind, h *Host) *HookRun {
	if p == nil || len(p.Hooks.Argv(kind)) == 0 {
		return nil
	}
	argv := p.Hooks.Argv(kind)
	return &HookRun{Meta: Meta{ID: NewID()}, Host: h.Name, Pool: p.Name, Kind: kind, Argv: slices.Clone(argv), State: HookPending,
		Params: map[string]string{"pool": p.Name, "cluster": p.Cluster, "host": h.Name, "address": h.Address}}
}

// queue adds run to ch with its event (nothing for a nil run).
func (ch *Change) queue(run *HookRun, reason string) {
	if run == nil {
		return
	}
	after := run.doc()
	after["reason"] = reason
	ch.Rows = append(ch.Rows, run)
	ch.Events = append(ch.Events, AuditEvent{Action: "hook.queue", TargetType: "host", TargetID: run.Host, After: after})
}

// SetHooks decides changing the pool's hooks. Runs already queued keep
// the hooks they were queued with.
func (p *Pool) SetHooks(by *Actor, hooks PoolHooks, now time.Time) (Change, error) {
	if err := by.Authorize(ActionPoolHooks, ""); err != nil {
		return Change{}, err
	}
	if err := invalidOrNil(hooks.Validate()); err != nil {
		return Change{}, err
	}
	after := *p
	after.Selector = maps.Clone(p.Selector)
	after.Hooks, after.Updated = hooks, now
	return Change{Rows: []Row{&after}, Events: []AuditEvent{{Action: "pool.hooks", TargetType: "pool", TargetID: p.Name,
		Before: p.Hooks.doc(), After: hooks.doc()}}}, nil
}

// empty reports whether no hook is set.
func (h PoolHooks) empty() bool { return len(h.Join)+len(h.Leave)+len(h.Reboot) == 0 }

func (h PoolHooks) doc() map[string]any {
	return map[string]any{"join": h.Join, "leave": h.Leave, "reboot": h.Reboot}
}

// Reboot decides asking host h's agent to run its pool's reboot hook.
// ECONFLICT when the host is in no pool, or its pool has no reboot hook.
func (p *Pool) Reboot(by *Actor, h *Host) (Change, error) {
	if err := by.Authorize(ActionHostWrite, ""); err != nil {
		return Change{}, err
	}
	if h.Pool == "" || h.Pool != p.Name {
		return Change{}, Errorf(ECONFLICT, "host %s is in no pool: only a pool's host has a reboot hook", h.Name)
	}
	run := p.hookRun(HookReboot, h)
	if run == nil {
		return Change{}, Errorf(ECONFLICT, "pool %s has no reboot hook: set one with purser pools hooks %s --reboot-hook ...", p.Name, p.Name)
	}
	var ch Change
	ch.queue(run, "reboot asked")
	return ch, nil
}
