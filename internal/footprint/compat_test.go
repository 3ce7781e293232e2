package footprint

import (
	"math"
	"testing"

	"github.com/expr-lang/expr"
)

// TestSameAsExpr: on expressions templates write, the evaluator gives
// what github.com/expr-lang/expr (which evaluated footprints before) gave,
// and fails where it failed.
func TestSameAsExpr(t *testing.T) {
	env := map[string]any{"n": 3, "cap": 2.5, "big": 1 << 40, "t": "t2.micro", "on": true, "off": false, "s": "2"}
	for _, src := range []string{
		"4", "n * 2", "n * 0.0116", "cap * n + 1", "n / 2", "7 % n", "n ** 2", "n ^ 2", "-n ** 2", "2 ** -1",
		"(n + 1) * (cap - 0.5)", "n - -n", "+n", "1_000 * n", ".5 * n", "1e3 / n", "big * 4",
		`t == "t2.micro" ? 1 : 4`, `t != 't2.micro' ? 1 : 4`, "on ? n : 0", "off ? n : 0", "!on ? 1 : 2",
		"not on ? 1 : 2", "on && n > 2 ? 1 : 0", "off || n >= 3 ? 1 : 0", "on and off ? 1 : 0", "on or off ? 1 : 0",
		"n < 3 ? 1 : n <= 3 ? 2 : 3", "n > 2 == true ? 1 : 0", "max(n, 5, 1)", "min(n, cap)", "abs(-n)",
		"ceil(cap)", "floor(cap)", "round(cap)", "int(cap) * 2", "float(n) / 2", "n ? 1 : 2", "t * 2",
		"missing * 2", "missing", "missing == nil ? 1 : 2", "1 / 0", "n * (", "n n", "on + 1", "-t", `"a" + "b"`,
		`"a" < "b" ? 1 : 0`, "s * 2", "on", "n > 1",
	} {
		want, wantErr := viaExpr(src, env)
		var e Evaluator
		got, err := e.Eval(src, env)
		if (err != nil) != (wantErr != nil) || err == nil && got != want && !(math.IsInf(got, 0) && got == want) {
			t.Errorf("%s: got %v (%v), expr gives %v (%v)", src, got, err, want, wantErr)
		}
	}
}

func viaExpr(src string, values map[string]any) (float64, error) {
	var e Evaluator
	env := map[string]any{}
	for k, v := range values {
		if x, ok := value(v).(float64); ok && k != "big" {
			v = x
			if x == math.Trunc(x) {
				v = int(x)
			}
		}
		env[k] = v
	}
	prog, err := expr.Compile(src, expr.AllowUndefinedVariables())
	if err != nil {
		return 0, err
	}
	out, err := expr.Run(prog, env)
	if err != nil {
		return 0, err
	}
	switch n := out.(type) {
	case int:
		return float64(n), nil
	case float64:
		return n, nil
	}
	_, err = e.Eval("nil", nil)
	return 0, err
}
