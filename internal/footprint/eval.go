package footprint

import (
	"fmt"
	"math"
	"strconv"
)

// Values are nil (a parameter without a value), float64 (every number:
// expr's "/" also gave a float), string or bool.

type lit struct{ v any }

func (l lit) eval(map[string]any) (any, error) { return l.v, nil }

type ident string

func (i ident) eval(env map[string]any) (any, error) { return env[string(i)], nil }

type cond3 struct{ cond, yes, no node }

func (c *cond3) eval(env map[string]any) (any, error) {
	v, err := c.cond.eval(env)
	if err != nil {
		return nil, err
	}
	b, ok := v.(bool)
	if !ok {
		return nil, fmt.Errorf("non-bool %s used as condition", show(v))
	}
	if b {
		return c.yes.eval(env)
	}
	return c.no.eval(env)
}

type unop struct {
	op string
	x  node
}

func (u *unop) eval(env map[string]any) (any, error) {
	v, err := u.x.eval(env)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case float64:
		if u.op == "-" {
			return -x, nil
		}
		if u.op == "+" {
			return x, nil
		}
	case bool:
		if u.op == "!" || u.op == "not" {
			return !x, nil
		}
	}
	return nil, fmt.Errorf("invalid operation: %s %s", u.op, show(v))
}

type binop struct {
	op          string
	left, right node
}

func (b *binop) eval(env map[string]any) (any, error) {
	l, err := b.left.eval(env)
	if err != nil {
		return nil, err
	}
	if lb, ok := l.(bool); ok && (b.op == "&&" || b.op == "and" || b.op == "||" || b.op == "or") {
		if lb == (b.op == "||" || b.op == "or") { // decided by the left side
			return lb, nil
		}
	}
	r, err := b.right.eval(env)
	if err != nil {
		return nil, err
	}
	if v, ok := apply(b.op, l, r); ok {
		return v, nil
	}
	return nil, fmt.Errorf("invalid operation: %s %s %s", show(l), b.op, show(r))
}

// apply is op over two values, false when it does not apply to them.
func apply(op string, l, r any) (any, bool) {
	switch op {
	case "==":
		return l == r, true
	case "!=":
		return l != r, true
	}
	switch x := l.(type) {
	case float64:
		if y, ok := r.(float64); ok {
			return arith(op, x, y)
		}
	case string:
		if y, ok := r.(string); ok {
			return strings2(op, x, y)
		}
	case bool:
		if y, ok := r.(bool); ok && op != "<" && op != ">" && op != "<=" && op != ">=" {
			return y, op == "&&" || op == "and" || op == "||" || op == "or"
		}
	}
	return nil, false
}

func arith(op string, x, y float64) (any, bool) {
	switch op {
	case "+":
		return x + y, true
	case "-":
		return x - y, true
	case "*":
		return x * y, true
	case "/":
		return x / y, true
	case "%":
		return math.Mod(x, y), true
	case "**":
		return math.Pow(x, y), true
	}
	return compare(op, x < y, x == y)
}

func strings2(op string, x, y string) (any, bool) {
	if op == "+" {
		return x + y, true
	}
	return compare(op, x < y, x == y)
}

func compare(op string, less, equal bool) (any, bool) {
	switch op {
	case "<":
		return less, true
	case "<=":
		return less || equal, true
	case ">":
		return !less && !equal, true
	case ">=":
		return !less, true
	}
	return nil, false
}

// show names a value in an error.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil (a parameter without a value)"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}
