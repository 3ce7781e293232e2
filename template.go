package purser

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// Footprint is what an environment takes: cores, memory in GiB and cost in
// currency units per hour. In a template each is an expression over the
// parameters (a plain number is an expression too).
type Footprint struct {
	Cores       float64
	Memory      float64
	CostPerHour float64
}

// FootprintExprs are a template's footprint expressions.
type FootprintExprs struct {
	Cores       string
	Memory      string
	CostPerHour string
}

// Approval policies.
const (
	ApprovalManual = "manual"
	ApprovalAuto   = "auto"
)

// ApprovalPolicy says how a template's requests are approved. With "auto",
// a request whose footprint is within AutoMax (and within quota) is approved
// by Purser itself; others wait for a reviewer.
type ApprovalPolicy struct {
	Mode      string
	Approvers int
	AutoMax   Footprint
}

// Template is a catalog entry.
type Template struct {
	Meta
	Name         string
	Description  string
	Driver       string
	ResourceType string
	Params       []Param
	Footprint    FootprintExprs
	TTLDefault   time.Duration
	TTLMax       time.Duration
	ExtensionMax time.Duration
	Approval     ApprovalPolicy
	// Config is given to the driver as is (e.g. the sim driver's delay).
	Config map[string]any
	// URL and Type are the seed's fields: where the template file came
	// from and its kind (EKSCTL).
	URL      string
	Type     string
	IsActive bool
	// Revision numbers the template's immutable revisions: 1 at creation,
	// one more at each change. Requests pin the revision they were made with.
	Revision int
}

// DriverExec is the driver that runs a template's commands on the server.
const DriverExec = "exec"

// TemplateWriteActions returns the actions that changing a template from
// before (nil on creation) to after needs: templates:write always, and
// templates:exec when either side runs commands on the server, so that
// turning a template into an exec one, out of one, or editing one's
// commands is reserved to those trusted with the server.
func TemplateWriteActions(before, after *Template) []Action {
	out := []Action{ActionTemplateWrite}
	if (before != nil && before.Driver == DriverExec) || (after != nil && after.Driver == DriverExec) {
		out = append(out, ActionTemplateExec)
	}
	return out
}

// ApplyDefaults fills what a template may leave out: the TTLs and
// maximum extension below, manual approval by one approver, no parameters,
// and the first of types (the resource types its driver makes).
func (t *Template) ApplyDefaults(types []string) {
	if t.TTLDefault == 0 {
		t.TTLDefault = DefaultTTL
	}
	if t.TTLMax == 0 {
		t.TTLMax = max(DefaultTTLMax, t.TTLDefault)
	}
	if t.ExtensionMax == 0 {
		t.ExtensionMax = DefaultExtensionMax
	}
	if t.Approval.Mode == "" {
		t.Approval.Mode = ApprovalManual
	}
	if t.Approval.Approvers == 0 {
		t.Approval.Approvers = 1
	}
	if t.ResourceType == "" && len(types) > 0 {
		t.ResourceType = types[0]
	}
	if t.Params == nil {
		t.Params = []Param{}
	}
}

// Template defaults and limits.
const (
	DefaultTTL          = 48 * time.Hour
	DefaultTTLMax       = 30 * 24 * time.Hour
	MaxExtension        = 720 * time.Hour
	DefaultExtensionMax = MaxExtension
)

var (
	slugRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	paramNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Evaluator compiles and evaluates footprint expressions.
type Evaluator interface {
	// Check reports whether expr is valid over the named parameters.
	Check(expr string, params []string) error
	// Eval evaluates expr with the parameter values to a number.
	Eval(expr string, values map[string]any) (float64, error)
}

// Validate checks the template's fields and its expressions.
func (t *Template) Validate(ev Evaluator, drivers []string) error {
	var fe []FieldError
	add := func(field, rule, msg string) { fe = append(fe, FieldError{field, rule, msg}) }
	if !slugRE.MatchString(t.ID) || len(t.ID) > 100 {
		add("_id", "pattern", "must match ^[a-z0-9][a-z0-9-]*$ (at most 100 characters)")
	}
	if t.Name == "" {
		add("name", "required", "is required")
	}
	known := false
	for _, d := range drivers {
		known = known || d == t.Driver
	}
	if !known {
		add("driver", "enum", fmt.Sprintf("must be one of %v", drivers))
	}
	names := map[string]bool{}
	var paramNames []string
	for i, p := range t.Params {
		f := fieldIndex("params", i)
		if !paramNameRE.MatchString(p.Name) {
			add(f+".name", "pattern", "must be an identifier (letters, digits, _)")
		}
		if names[p.Name] {
			add(f+".name", "unique", "names parameter "+p.Name+" twice")
		}
		names[p.Name] = true
		paramNames = append(paramNames, p.Name)
		switch p.Type {
		case ParamString, ParamInteger, ParamNumber, ParamBoolean, ParamDuration:
		case ParamEnum:
			if len(p.Options) == 0 {
				add(f+".options", "required", "an enum needs options")
			}
		default:
			add(f+".type", "enum", "must be string, integer, number, boolean, enum or duration")
		}
		if _, err := p.Regexp(); err != nil {
			add(f+".pattern", "format", "is not a regular expression: "+err.Error())
		}
		for _, b := range []struct {
			name string
			v    *float64
		}{{"min", p.Min}, {"max", p.Max}} {
			if b.v != nil && !finite(*b.v) {
				add(f+"."+b.name, "finite", "must be a finite number")
			}
		}
		if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
			add(f+".min", "range", "is greater than max")
		}
		if p.Default != nil {
			// A default is what a request gets without asking: it obeys the
			// parameter's own rules like any value a developer sends.
			if cv, err := p.coerce(p.Default); err != nil {
				add(f+".default", "type", err.Error())
			} else if _, rerr := p.Regexp(); rerr == nil {
				if rule, err := p.check(cv); err != nil {
					add(f+".default", rule, err.Error())
				}
			}
		}
	}
	for field, expr := range map[string]string{"footprint.cores": t.Footprint.Cores, "footprint.memory": t.Footprint.Memory, "footprint.cost_per_hour": t.Footprint.CostPerHour} {
		if expr == "" {
			continue
		}
		if err := ev.Check(expr, paramNames); err != nil {
			add(field, "expression", err.Error())
		}
	}
	if t.TTLDefault <= 0 || t.TTLMax <= 0 || t.TTLDefault > t.TTLMax {
		add("ttl_default_hours", "range", "must be positive and at most ttl_max_hours")
	}
	if t.ExtensionMax < time.Hour || t.ExtensionMax > MaxExtension {
		add("extension_max_hours", "range", "must be between 1 and 720")
	}
	switch t.Approval.Mode {
	case ApprovalManual, ApprovalAuto:
	default:
		add("approval.mode", "enum", "must be manual or auto")
	}
	if t.Approval.Approvers < 1 || t.Approval.Approvers > 5 {
		add("approval.approvers", "range", "must be between 1 and 5")
	}
	for field, v := range map[string]float64{"approval.auto_max.cores": t.Approval.AutoMax.Cores,
		"approval.auto_max.memory": t.Approval.AutoMax.Memory, "approval.auto_max.cost_per_hour": t.Approval.AutoMax.CostPerHour} {
		if !finite(v) {
			add(field, "finite", "must be a finite number")
		}
	}
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}

// EvalFootprint evaluates the template's footprint for the parameters.
// An empty expression counts as 0.
func (t *Template) EvalFootprint(ev Evaluator, params map[string]any) (Footprint, error) {
	var fp Footprint
	var fe []FieldError
	for _, x := range []struct {
		field, expr string
		dst         *float64
	}{{"cores", t.Footprint.Cores, &fp.Cores}, {"memory", t.Footprint.Memory, &fp.Memory}, {"cost_per_hour", t.Footprint.CostPerHour, &fp.CostPerHour}} {
		if x.expr == "" {
			continue
		}
		v, err := ev.Eval(x.expr, params)
		if err != nil || v < 0 || !finite(v) {
			msg := "evaluates to a negative number"
			switch {
			case err != nil:
				msg = err.Error()
			case !finite(v):
				msg = "evaluates to a number that is not finite (NaN or infinity)"
			}
			fe = append(fe, FieldError{"footprint." + x.field, "expression", msg})
			continue
		}
		*x.dst = v
	}
	if len(fe) > 0 {
		return fp, Invalid(fe...)
	}
	return fp, nil
}

// TemplateFields are the fields of templates that where and sort may name.
var TemplateFields = Fields{
	"_id": KindString, "_created": KindTime, "_updated": KindTime, "name": KindString,
	"driver": KindString, "resource_type": KindString, "is_active": KindBool,
}

// TemplateUpdate is a partial update of a template.
type TemplateUpdate struct {
	Name, Description, ResourceType *string
	Params                          *[]Param
	Footprint                       *FootprintExprs
	TTLDefault, TTLMax              *time.Duration
	ExtensionMax                    *time.Duration
	Approval                        *ApprovalPolicy
	Config                          *map[string]any
	IsActive                        *bool
}

// Apply changes t by the fields upd sets.
func (t *Template) Apply(upd TemplateUpdate) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&t.Name, upd.Name)
	set(&t.Description, upd.Description)
	set(&t.ResourceType, upd.ResourceType)
	if upd.Params != nil {
		t.Params = *upd.Params
	}
	if upd.Footprint != nil {
		t.Footprint = *upd.Footprint
	}
	for _, x := range []struct {
		dst *time.Duration
		src *time.Duration
	}{{&t.TTLDefault, upd.TTLDefault}, {&t.TTLMax, upd.TTLMax}, {&t.ExtensionMax, upd.ExtensionMax}} {
		if x.src != nil {
			*x.dst = *x.src
		}
	}
	if upd.Approval != nil {
		t.Approval = *upd.Approval
	}
	if upd.Config != nil {
		t.Config = *upd.Config
	}
	if upd.IsActive != nil {
		t.IsActive = *upd.IsActive
	}
}

// TemplateService manages the catalog. Every method authorizes the actor
// in ctx: reading needs templates:read (every built-in role), changing
// templates:write (devops and admins), and a template whose driver runs
// commands (exec) needs templates:exec.
type TemplateService interface {
	// FindTemplateByID returns the template's current revision, or
	// ENOTFOUND.
	FindTemplateByID(ctx context.Context, id string) (*Template, error)
	// FindTemplates returns a page of the catalog, and how many match q in
	// all.
	FindTemplates(ctx context.Context, q Query) ([]*Template, PageInfo, error)
	// CreateTemplate validates t, lets its driver prepare it (fetching its
	// files once) and adds it as revision 1; ECONFLICT when the id is
	// taken, EINVALID for a bad template or an unknown driver.
	CreateTemplate(ctx context.Context, t *Template) error
	// UpdateTemplate applies upd when ifMatch is "" or the template's
	// current ETag (EPRECONDITION otherwise) and makes the result the next
	// revision; requests keep the revision they were made with. ENOTFOUND
	// when there is no such template.
	UpdateTemplate(ctx context.Context, id string, upd TemplateUpdate, ifMatch string) (*Template, error)
	// FindTemplateRevision returns revision n of a template as it was made,
	// or ENOTFOUND.
	FindTemplateRevision(ctx context.Context, id string, n int) (*Template, error)
	// FindTemplateRevisions returns every revision of a template, oldest
	// first; ENOTFOUND when there is no such template.
	FindTemplateRevisions(ctx context.Context, id string) ([]*Template, error)
	// DeleteTemplate removes a template and its revisions when no
	// provision request was ever made from it (ECONFLICT otherwise: it is
	// deactivated instead); ENOTFOUND when there is none.
	DeleteTemplate(ctx context.Context, id string) error
}

// DeletedTemplate is the Row of a template's removal, with its revisions.
type DeletedTemplate struct{ ID string }

// Delete decides removing t, given the provision requests ever made from
// it (any status; requests pin a revision, which must stay readable):
// refused (ECONFLICT) while there is one, since a template with a history
// is deactivated instead.
func (t *Template) Delete(requests []string) (Change, error) {
	if n := len(requests); n > 0 {
		return Change{}, Errorf(ECONFLICT, "template %s has %d provision request(s) (%s) that pin its revisions; deactivate it instead: PATCH is_active=false",
			t.ID, n, examples(requests))
	}
	// The event keeps the whole template: its revisions go with it.
	return Change{Rows: []Row{DeletedTemplate{t.ID}}, Events: []AuditEvent{{Action: "template.delete", TargetType: "template", TargetID: t.ID,
		Before: t.AuditDoc()}}}, nil
}

// AuditDoc is the whole template as the audit log keeps it, under the
// API's names (the store's spec keeps Go's).
func (t *Template) AuditDoc() map[string]any {
	params := make([]map[string]any, len(t.Params))
	for i, p := range t.Params {
		m := map[string]any{"name": p.Name, "type": p.Type, "required": p.Required}
		for k, v := range map[string]any{"description": p.Description, "pattern": p.Pattern} {
			if v != "" {
				m[k] = v
			}
		}
		if p.Default != nil {
			m["default"] = p.Default
		}
		if p.Min != nil {
			m["min"] = *p.Min
		}
		if p.Max != nil {
			m["max"] = *p.Max
		}
		if len(p.Options) > 0 {
			m["options"] = p.Options
		}
		if p.Secret {
			m["secret"] = true
		}
		params[i] = m
	}
	a := t.Approval
	spec := map[string]any{"params": params,
		"footprint":         map[string]any{"cores": t.Footprint.Cores, "memory": t.Footprint.Memory, "cost_per_hour": t.Footprint.CostPerHour},
		"ttl_default_hours": t.TTLDefault.Hours(), "ttl_max_hours": t.TTLMax.Hours(), "extension_max_hours": t.ExtensionMax.Hours(),
		"approval": map[string]any{"mode": a.Mode, "approvers": a.Approvers, "auto_max": a.AutoMax.Doc()},
		"config":   t.Config, "url": t.URL, "type": t.Type}
	return map[string]any{"_id": t.ID, "revision": t.Revision, "name": t.Name, "description": t.Description, "driver": t.Driver,
		"resource_type": t.ResourceType, "is_active": t.IsActive, "spec": spec}
}
