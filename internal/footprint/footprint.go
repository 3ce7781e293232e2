// Package footprint evaluates templates' footprint expressions
// ("desired_capacity * 2", `instance_type == "t2.micro" ? 1 : 4`): the
// arithmetic subset of github.com/expr-lang/expr, which evaluated them
// before (numbers, strings, booleans, parameters, + - * / % ** and ^,
// comparisons, && || ! and, or, not, ?:, abs ceil floor round int float min
// max), bounded by construction: no loops, no I/O, no access to Go values.
//
// expr itself is not used: its runtime looks methods up by name through
// reflection, which makes the linker keep every exported method of every
// type in the binary (bench/README.md, Footprint).
package footprint

import (
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/purserhq/purser"
)

// Evaluator implements purser.Evaluator, caching parsed expressions.
type Evaluator struct {
	programs sync.Map // source -> node
}

var _ purser.Evaluator = (*Evaluator)(nil)

// Check parses expr with the parameters as its only variables.
func (e *Evaluator) Check(src string, params []string) error {
	_, names, err := parse(src)
	if err != nil {
		return fmt.Errorf("invalid expression %q: %v", src, err)
	}
	known := map[string]bool{}
	for _, p := range params {
		known[p] = true
	}
	for _, name := range names {
		if !known[name] {
			return fmt.Errorf("%q names %s, which is not a parameter", src, name)
		}
	}
	return nil
}

// Eval runs expr over the values and returns a number.
func (e *Evaluator) Eval(src string, values map[string]any) (float64, error) {
	p, ok := e.programs.Load(src)
	if !ok {
		n, _, err := parse(src)
		if err != nil {
			return 0, fmt.Errorf("invalid expression %q: %v", src, err)
		}
		p, _ = e.programs.LoadOrStore(src, n)
	}
	env := make(map[string]any, len(values))
	for k, v := range values {
		env[k] = value(v)
	}
	out, err := p.(node).eval(env)
	if err != nil {
		return 0, fmt.Errorf("evaluate %q: %v", src, err)
	}
	switch n := out.(type) {
	case float64:
		return n, nil
	case nil:
		return 0, fmt.Errorf("%q names a parameter that has no value", src)
	}
	return 0, fmt.Errorf("%q gives %T, not a number", src, out)
}

// value is a parameter's value as expressions see it: every number a
// float64, and a string that spells a number that number.
func value(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float32:
		return float64(x)
	case string:
		// Parameters the seed declared by name only are strings: let
		// "2" count as the number it spells, but not "NaN" or "Inf",
		// which ParseFloat also accepts and which no bound can hold.
		if f, err := strconv.ParseFloat(x, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1<<53 {
			return f
		}
	}
	return v
}
