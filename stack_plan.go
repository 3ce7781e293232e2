package purser

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PlanAction is what a reconcile does to one service.
type PlanAction string

// Plan actions.
const (
	PlanCreate    PlanAction = "create"
	PlanUpdate    PlanAction = "update"
	PlanDelete    PlanAction = "delete"
	PlanUnchanged PlanAction = "unchanged"
)

// ActualService is what a target runs for one service Purser manages
// there. Spec is the normalised service as the target last applied it,
// with ${NAME} values as references, never resolved (a target that only
// knows resolved values must map them back, or every plan would show a
// change, as the seed's did); its DesiredCount is the target's desired
// count. RunningCount is how many run now.
type ActualService struct {
	Spec         StackService
	RunningCount int
}

// FieldChange is one field of a service, or of a stackfile's top-level
// sections, going from Old to New. Field is a path such as "image",
// "environment.JAVA_OPTS" or "elb"; Old and New are the values as text
// ("" when absent; structured values as compact JSON).
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// ServicePlan is what a reconcile does to one service, and why.
type ServicePlan struct {
	Service string        `json:"service"`
	Action  PlanAction    `json:"action"`
	Changes []FieldChange `json:"changes,omitempty"`
	// Rollout is true when the update changes what runs (a new task
	// definition); false when it only changes the count (a scale).
	Rollout bool   `json:"rollout"`
	Reason  string `json:"reason"`
}

// Plan is what a reconcile would do, service by service: the desired
// services in dependency order (a service after those it depends on,
// else in stackfile order), then the deletions by name.
type Plan struct {
	Services []ServicePlan `json:"services"`
}

// Count returns how many services the plan gives action.
func (p Plan) Count(action PlanAction) int {
	n := 0
	for _, s := range p.Services {
		if s.Action == action {
			n++
		}
	}
	return n
}

// NoOp reports whether the plan changes nothing.
func (p Plan) NoOp() bool { return p.Count(PlanUnchanged) == len(p.Services) }

// PlanStack compares desired, a normalised stackfile, with what the target
// runs and returns the plan that makes the target match. Services are
// matched by name, ignoring case (as the seed's scheduler did); a service
// the target runs that desired does not name is deleted: actual must list
// only the services Purser manages on the target (those an earlier
// revision declared), and others only when pruning was asked for.
func PlanStack(desired *Stackfile, actual []ActualService) Plan {
	byName := make(map[string]*ActualService, len(actual))
	for i := range actual {
		byName[strings.ToLower(actual[i].Spec.Name)] = &actual[i]
	}
	plan := Plan{Services: make([]ServicePlan, 0, len(desired.Services)+len(actual))}
	wanted := make(map[string]bool, len(desired.Services))
	for _, i := range desired.dependencyOrder() {
		sv := &desired.Services[i]
		key := strings.ToLower(sv.Name)
		wanted[key] = true
		a, ok := byName[key]
		if !ok {
			plan.Services = append(plan.Services, ServicePlan{Service: sv.Name, Action: PlanCreate, Rollout: true,
				Reason: "not running on the target"})
			continue
		}
		plan.Services = append(plan.Services, compareService(&a.Spec, sv))
	}
	var gone []string
	for i := range actual {
		if !wanted[strings.ToLower(actual[i].Spec.Name)] {
			gone = append(gone, actual[i].Spec.Name)
		}
	}
	slices.Sort(gone)
	for _, name := range gone {
		plan.Services = append(plan.Services, ServicePlan{Service: name, Action: PlanDelete, Reason: "not in the desired state"})
	}
	return plan
}

// compareService plans the update of old into sv.
func compareService(old, sv *StackService) ServicePlan {
	ch := ServiceChanges(old, sv)
	p := ServicePlan{Service: sv.Name, Action: PlanUnchanged, Changes: ch, Reason: "matches the desired state"}
	if len(ch) == 0 {
		return p
	}
	p.Action = PlanUpdate
	for _, c := range ch {
		p.Rollout = p.Rollout || c.Field != "desired_count"
	}
	if !p.Rollout {
		p.Reason = "scale from " + ch[0].Old + " to " + ch[0].New
		return p
	}
	fields := make([]string, len(ch))
	for i, c := range ch {
		fields[i] = c.Field
	}
	p.Reason = "changed: " + strings.Join(fields, ", ")
	return p
}

// ServiceChanges compares two normalised services field by field, in a
// fixed order, and returns the fields that differ.
func ServiceChanges(old, sv *StackService) []FieldChange {
	var out []FieldChange
	cmp := func(field, a, b string) {
		if a != b {
			out = append(out, FieldChange{field, a, b})
		}
	}
	cmp("image", old.Image, sv.Image)
	cmp("type", old.Type, sv.Type)
	cmp("memory", strconv.Itoa(old.Memory), strconv.Itoa(sv.Memory))
	cmp("desired_count", strconv.Itoa(old.Count()), strconv.Itoa(sv.Count()))
	cmp("privileged", strconv.FormatBool(old.Privileged), strconv.FormatBool(sv.Privileged))
	out = append(out, envChanges("environment", old.Environment, sv.Environment)...)
	cmp("ports", strings.Join(old.Ports, ","), strings.Join(sv.Ports, ","))
	cmp("volumes", strings.Join(old.Volumes, ","), strings.Join(sv.Volumes, ","))
	cmp("placement_strategy", old.PlacementStrategy, sv.PlacementStrategy)
	cmp("logging", jsonText(old.Logging), jsonText(sv.Logging))
	cmp("elb", jsonText(old.ELB), jsonText(sv.ELB))
	cmp("dns_discovery", jsonText(old.DNSDiscovery), jsonText(sv.DNSDiscovery))
	cmp("deployment_configuration", jsonText(old.DeploymentConfiguration), jsonText(sv.DeploymentConfiguration))
	cmp("healthcheck", jsonText(old.Healthcheck), jsonText(sv.Healthcheck))
	cmp("depends_on", strings.Join(old.DependsOn, ","), strings.Join(sv.DependsOn, ","))
	return out
}

// envChanges compares two environments by name: each variable added,
// removed or changed is one change, in name order.
func envChanges(path string, old, env []EnvVar) []FieldChange {
	o := make(map[string]string, len(old))
	for _, e := range old {
		o[e.Name] = e.Value
	}
	n := make(map[string]string, len(env))
	for _, e := range env {
		n[e.Name] = e.Value
	}
	names := make(map[string]bool, len(o)+len(n))
	for k := range o {
		names[k] = true
	}
	for k := range n {
		names[k] = true
	}
	var out []FieldChange
	for _, k := range sortedKeys(names) {
		if ov, nv := o[k], n[k]; ov != nv {
			out = append(out, FieldChange{path + "." + k, ov, nv})
		}
	}
	return out
}

// jsonText is v as compact JSON, "" for nil.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return ""
	}
	return string(b)
}

// dependencyOrder returns the services' indexes with every service after
// those it depends on, else in stackfile order. Unknown names and cycles
// (which Validate refuses) are ignored.
func (s *Stackfile) dependencyOrder() []int {
	idx := make(map[string]int, len(s.Services))
	for i, sv := range s.Services {
		idx[sv.Name] = i
	}
	order := make([]int, 0, len(s.Services))
	state := make([]uint8, len(s.Services)) // 0 new, 1 visiting, 2 done
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		for _, d := range s.Services[i].DependsOn {
			if j, ok := idx[d]; ok {
				visit(j)
			}
		}
		state[i] = 2
		order = append(order, i)
	}
	for i := range s.Services {
		visit(i)
	}
	return order
}

// StackDiff is what changed between two revisions' normalised stackfiles:
// the top-level sections, then the services added (create), changed
// (update) or removed (delete), as a plan would list them.
type StackDiff struct {
	Sections []FieldChange `json:"sections,omitempty"`
	Services []ServicePlan `json:"services,omitempty"`
}

// DiffStacks compares two normalised stackfiles.
func DiffStacks(from, to *Stackfile) StackDiff {
	var d StackDiff
	cmp := func(field, a, b string) {
		if a != b {
			d.Sections = append(d.Sections, FieldChange{field, a, b})
		}
	}
	cmp("vpc", jsonText(from.VPC), jsonText(to.VPC))
	cmp("logging", jsonText(from.Logging), jsonText(to.Logging))
	cmp("service_discovery", jsonText(from.ServiceDiscovery), jsonText(to.ServiceDiscovery))
	cmp("defaults.memory", strconv.Itoa(from.Defaults.Memory), strconv.Itoa(to.Defaults.Memory))
	d.Sections = append(d.Sections, envChanges("defaults.environment", from.Defaults.Environment, to.Defaults.Environment)...)
	actual := make([]ActualService, len(from.Services))
	for i, sv := range from.Services {
		actual[i] = ActualService{Spec: sv}
	}
	for _, sp := range PlanStack(to, actual).Services {
		if sp.Action == PlanUnchanged {
			continue
		}
		if sp.Action == PlanCreate {
			sp.Reason = "added"
		} else if sp.Action == PlanDelete {
			sp.Reason = "removed"
		}
		d.Services = append(d.Services, sp)
	}
	return d
}

// CanonicalJSON is the stackfile as indented JSON, keys in a fixed order:
// the text UnifiedDiff compares when no YAML rendering is at hand.
func (s *Stackfile) CanonicalJSON() []byte {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("stackfile does not encode: %v", err)) // only plain types: cannot happen
	}
	return append(b, '\n')
}
