// Package footprint evaluates templates' footprint expressions
// ("desired_capacity * 2") with github.com/expr-lang/expr: a maintained,
// sandboxed expression language (no I/O, bounded by construction).
package footprint

import (
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/purserhq/purser"
)

// Evaluator implements purser.Evaluator, caching compiled programs.
type Evaluator struct {
	programs sync.Map // source -> *vm.Program
}

var _ purser.Evaluator = (*Evaluator)(nil)

// Check compiles expr with the parameters as its only variables.
func (e *Evaluator) Check(src string, params []string) error {
	prog, err := expr.Compile(src, expr.AllowUndefinedVariables())
	if err != nil {
		return fmt.Errorf("invalid expression %q: %v", src, err)
	}
	known := map[string]bool{}
	for _, p := range params {
		known[p] = true
	}
	v := &identifiers{}
	node := prog.Node()
	ast.Walk(&node, v)
	for _, name := range v.names {
		if !known[name] {
			return fmt.Errorf("%q names %s, which is not a parameter", src, name)
		}
	}
	return nil
}

// identifiers collects the variables an expression reads.
type identifiers struct{ names []string }

func (v *identifiers) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		v.names = append(v.names, id.Value)
	}
}

// Eval runs expr over the values and returns a number.
func (e *Evaluator) Eval(src string, values map[string]any) (float64, error) {
	p, ok := e.programs.Load(src)
	if !ok {
		prog, err := expr.Compile(src, expr.AllowUndefinedVariables())
		if err != nil {
			return 0, fmt.Errorf("invalid expression %q: %v", src, err)
		}
		p, _ = e.programs.LoadOrStore(src, prog)
	}
	env := make(map[string]any, len(values))
	for k, v := range values {
		switch x := v.(type) {
		case int64:
			v = int(x)
		case string:
			// Parameters the seed declared by name only are strings: let
			// "2" count as the number it spells, but not "NaN" or "Inf",
			// which ParseFloat also accepts and which no bound can hold.
			if f, err := strconv.ParseFloat(x, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1<<53 {
				v = f
				if f == float64(int(f)) {
					v = int(f)
				}
			}
		}
		env[k] = v
	}
	out, err := expr.Run(p.(*vm.Program), env)
	if err != nil {
		return 0, fmt.Errorf("evaluate %q: %v", src, err)
	}
	switch n := out.(type) {
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case float64:
		return n, nil
	case nil:
		return 0, fmt.Errorf("%q names a parameter that has no value", src)
	}
	return 0, fmt.Errorf("%q gives %T, not a number", src, out)
}
