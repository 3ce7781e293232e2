package purser_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/purserhq/purser"
)

// numbers is an Evaluator for plain numeric footprints: enough for
// templates whose footprint the fuzzer does not vary.
type numbers struct{}

func (numbers) Check(expr string, _ []string) error {
	_, err := strconv.ParseFloat(expr, 64)
	return err
}

func (numbers) Eval(expr string, _ map[string]any) (float64, error) {
	return strconv.ParseFloat(expr, 64)
}

var paramTypes = []string{purser.ParamString, purser.ParamInteger, purser.ParamNumber, purser.ParamBoolean,
	purser.ParamEnum, purser.ParamDuration}

// FuzzTemplateParams declares a parameter as a DevOps user might (any type,
// pattern, bounds and default) and submits a developer's value for it. A
// template that validates must then check any value without panicking, and
// what it accepts must obey the declaration: the type, the pattern, the
// bounds, and no NaN or infinity.
func FuzzTemplateParams(f *testing.F) {
	f.Add(uint8(0), `^[a-z][a-z0-9-]*$`, "web-1", "", 1.0, 63.0)
	f.Add(uint8(0), `\Qabc`, "abc", "", 0.0, 0.0)
	f.Add(uint8(0), `a|b)(c`, "a", "", 0.0, 0.0)
	f.Add(uint8(1), "", "3", "2", 1.0, 10.0)
	f.Add(uint8(2), "", "NaN", "", 0.0, 100.0)
	f.Add(uint8(2), "", "+Inf", "1e308", math.Inf(-1), math.Inf(1))
	f.Add(uint8(3), "", "true", "false", 0.0, 0.0)
	f.Add(uint8(4), "", "m5.large", "t3.micro", 0.0, 0.0)
	f.Add(uint8(5), "", "90m", "2h", 1.0, 48.0)
	f.Add(uint8(5), "", "9223372036854775807ns", "", 0.0, 1e300)
	f.Fuzz(func(t *testing.T, typ uint8, pattern, value, def string, lo, hi float64) {
		p := purser.Param{Name: "p", Type: paramTypes[int(typ)%len(paramTypes)], Pattern: pattern, Min: &lo, Max: &hi}
		if p.Type == purser.ParamEnum {
			p.Options = []string{"m5.large", "t3.micro", def}
		}
		if def != "" {
			p.Default = def
		}
		tmpl := &purser.Template{Meta: purser.Meta{ID: "fuzz"}, Name: "Fuzz", Driver: "sim", Params: []purser.Param{p},
			Footprint: purser.FootprintExprs{Cores: "1"}, TTLDefault: time.Hour, TTLMax: 2 * time.Hour,
			ExtensionMax: time.Hour, Approval: purser.ApprovalPolicy{Mode: purser.ApprovalManual, Approvers: 1}}
		if tmpl.Validate(numbers{}, []string{"sim"}) != nil {
			return
		}
		for _, in := range []map[string]any{{"p": value}, {}} {
			out, err := tmpl.ValidateParams(in)
			if err != nil {
				continue
			}
			v, ok := out["p"]
			if !ok {
				continue
			}
			switch x := v.(type) {
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("accepted %v for a %s parameter", x, p.Type)
				}
				if x < lo || x > hi {
					t.Fatalf("accepted %v outside [%v, %v]", x, lo, hi)
				}
			case int64:
				if float64(x) < lo || float64(x) > hi {
					t.Fatalf("accepted %v outside [%v, %v]", x, lo, hi)
				}
			}
		}
	})
}
