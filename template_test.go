package purser

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// fixedEvaluator evaluates every expression to v: a stand-in for the real
// evaluator (internal/footprint), which the domain may not import.
type fixedEvaluator struct{ v float64 }

func (fixedEvaluator) Check(string, []string) error                   { return nil }
func (e fixedEvaluator) Eval(string, map[string]any) (float64, error) { return e.v, nil }

func validTemplate(params ...Param) *Template {
	return &Template{Meta: Meta{ID: "t"}, Name: "T", Driver: "sim", Params: params,
		TTLDefault: time.Hour, TTLMax: 2 * time.Hour, ExtensionMax: time.Hour,
		Approval: ApprovalPolicy{Mode: ApprovalManual, Approvers: 1}}
}

func fieldsOf(err error) string {
	e, ok := err.(*Error)
	if !ok {
		return ""
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return strings.Join(out, ",")
}

func TestTemplateValidate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	zero, one := 0.0, 1.0
	tests := []struct {
		name  string
		param Param
		field string // "" when valid
	}{
		{"OK", Param{Name: "p", Type: ParamString, Pattern: "[a-z]+"}, ""},
		// \Q starts a quoted run that the anchored form "^(?:\Qabc)$"
		// swallows its closing parenthesis into: it must be refused, not
		// panic at request time.
		{"ErrPatternOnlyValidUnanchored", Param{Name: "p", Type: ParamString, Pattern: `\Qabc`}, "params[0].pattern"},
		{"ErrPatternInvalid", Param{Name: "p", Type: ParamString, Pattern: "("}, "params[0].pattern"},
		{"ErrMinNaN", Param{Name: "p", Type: ParamNumber, Min: &nan}, "params[0].min"},
		{"ErrMaxInf", Param{Name: "p", Type: ParamNumber, Max: &inf}, "params[0].max"},
		{"ErrDefaultNaN", Param{Name: "p", Type: ParamNumber, Default: nan}, "params[0].default"},
		{"ErrDefaultInfString", Param{Name: "p", Type: ParamNumber, Default: "Inf"}, "params[0].default"},
		// Found by FuzzTemplateParams: a default is checked against the
		// parameter's own rules, as a value sent by a developer is.
		{"ErrDefaultAboveMax", Param{Name: "p", Type: ParamInteger, Default: "9", Min: &zero, Max: &one}, "params[0].default"},
		{"ErrDefaultNotAnOption", Param{Name: "p", Type: ParamEnum, Options: []string{"a", "b"}, Default: "c"}, "params[0].default"},
		{"ErrDefaultBreaksPattern", Param{Name: "p", Type: ParamString, Pattern: "[a-z]+", Default: "ABC"}, "params[0].default"},
		{"OKDefaultWithinRules", Param{Name: "p", Type: ParamInteger, Default: 1.0, Min: &zero, Max: &one}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validTemplate(tt.param).Validate(fixedEvaluator{}, []string{"sim"})
			if got := fieldsOf(err); got != tt.field {
				t.Fatalf("fields %q (%v), want %q", got, err, tt.field)
			}
		})
	}
	t.Run("ErrAutoMaxNaN", func(t *testing.T) {
		tpl := validTemplate()
		tpl.Approval.AutoMax.Cores = nan
		if got := fieldsOf(tpl.Validate(fixedEvaluator{}, []string{"sim"})); got != "approval.auto_max.cores" {
			t.Fatalf("fields %q", got)
		}
	})
}

func TestValidateParams(t *testing.T) {
	tpl := validTemplate(Param{Name: "n", Type: ParamNumber}, Param{Name: "s", Type: ParamString, Pattern: "[a-z]+"})
	tests := []struct {
		name   string
		values map[string]any
		field  string
	}{
		{"OK", map[string]any{"n": "1.5", "s": "abc"}, ""},
		{"ErrNaNString", map[string]any{"n": "NaN", "s": "abc"}, "resource_parameters.n"},
		{"ErrInfString", map[string]any{"n": "-Inf", "s": "abc"}, "resource_parameters.n"},
		{"ErrNaNFloat", map[string]any{"n": math.NaN(), "s": "abc"}, "resource_parameters.n"},
		{"ErrPattern", map[string]any{"n": 1.0, "s": "ABC"}, "resource_parameters.s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tpl.ValidateParams(tt.values)
			if got := fieldsOf(err); got != tt.field {
				t.Fatalf("fields %q (%v), want %q", got, err, tt.field)
			}
		})
	}
	t.Run("InvalidPatternDoesNotPanic", func(t *testing.T) {
		bad := validTemplate(Param{Name: "s", Type: ParamString, Pattern: `\Qabc`})
		if _, err := bad.ValidateParams(map[string]any{"s": "abc"}); fieldsOf(err) != "resource_parameters.s" {
			t.Fatalf("a stored bad pattern: %v", err)
		}
	})
}

func TestEvalFootprintRefusesNonFinite(t *testing.T) {
	tpl := validTemplate()
	tpl.Footprint = FootprintExprs{Cores: "x"}
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		if _, err := tpl.EvalFootprint(fixedEvaluator{v}, nil); fieldsOf(err) != "footprint.cores" {
			t.Fatalf("%v: %v", v, err)
		}
	}
	if fp, err := tpl.EvalFootprint(fixedEvaluator{2}, nil); err != nil || fp.Cores != 2 {
		t.Fatalf("2: %v %v", fp, err)
	}
}

func TestDurationFromHours(t *testing.T) {
	tests := []struct {
		name string
		h    float64
		want time.Duration
		err  bool
	}{
		{"OK", 1.5, 90 * time.Minute, false},
		{"ErrOverflow", 1e300, 0, true}, // once an expiry in 1734
		{"ErrJustBeyond", 2562048, 0, true},
		{"ErrNaN", math.NaN(), 0, true},
		{"ErrInf", math.Inf(1), 0, true},
		{"ErrNegative", -1, 0, true},
		{"ErrZero", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DurationFromHours(tt.h, "ttl_hours")
			if tt.err {
				if fieldsOf(err) != "ttl_hours" {
					t.Fatalf("err %v, want one naming ttl_hours", err)
				}
				return
			}
			if err != nil || d != tt.want {
				t.Fatalf("%v %v, want %v", d, err, tt.want)
			}
		})
	}
}

func TestSplitSecrets(t *testing.T) {
	tpl := validTemplate(Param{Name: "user", Type: ParamString}, Param{Name: "password", Type: ParamString, Secret: true},
		Param{Name: "pin", Type: ParamInteger, Secret: true})
	tests := []struct {
		name           string
		values         map[string]any
		public, secret string
	}{
		{"Both", map[string]any{"user": "u", "password": "hunter2", "pin": int64(1234)},
			"map[password:******** pin:******** user:u]", "map[password:hunter2 pin:1234]"},
		{"NoSecretGiven", map[string]any{"user": "u"}, "map[user:u]", "map[]"},
		{"AlreadyMasked", map[string]any{"password": SecretMask}, "map[password:********]", "map[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			public, secret := tpl.SplitSecrets(tt.values)
			if got := fmt.Sprint(public); got != tt.public {
				t.Errorf("public %s, want %s", got, tt.public)
			}
			if got := fmt.Sprint(secret); got != tt.secret {
				t.Errorf("secret %s, want %s", got, tt.secret)
			}
			if tt.values["password"] == "hunter2" && public["password"] == "hunter2" {
				t.Fatal("the input map was masked, or the public one was not")
			}
		})
	}
}

func TestTemplateDefaults(t *testing.T) {
	t.Parallel()
	var tpl Template
	tpl.ApplyDefaults([]string{"KUBERNETES", "EKS"})
	if tpl.TTLDefault != 48*time.Hour || tpl.TTLMax != 30*24*time.Hour || tpl.ExtensionMax != 720*time.Hour ||
		tpl.Approval.Mode != ApprovalManual || tpl.Approval.Approvers != 1 || tpl.ResourceType != "KUBERNETES" || tpl.Params == nil {
		t.Fatalf("defaults %+v", tpl)
	}
	long := Template{TTLDefault: 40 * 24 * time.Hour, ExtensionMax: time.Hour, ResourceType: "EKS", Approval: ApprovalPolicy{Mode: ApprovalAuto, Approvers: 2}}
	long.ApplyDefaults([]string{"KUBERNETES"})
	if long.TTLMax != 40*24*time.Hour || long.ExtensionMax != time.Hour || long.ResourceType != "EKS" || long.Approval.Approvers != 2 {
		t.Fatalf("a template's own values must stand: %+v", long)
	}
}

func TestTemplateDelete(t *testing.T) {
	tp := validTemplate()
	c, err := tp.Delete(nil)
	if err != nil || len(c.Rows) != 1 || c.Rows[0] != Row(DeletedTemplate{"t"}) || len(c.Events) != 1 || c.Events[0].Action != "template.delete" {
		t.Fatalf("an unused template: change %+v, error %v", c, err)
	}
	c, err = tp.Delete([]string{"r1", "r2"})
	if ErrorCode(err) != ECONFLICT || len(c.Rows) != 0 {
		t.Fatalf("a used template: change %+v, error %v", c, err)
	}
	for _, s := range []string{"2 provision request(s)", "r1, r2", "is_active=false"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not say %q", err, s)
		}
	}
}
