package footprint

import (
	"fmt"
	"math"
)

type call struct {
	name string
	fn   func([]float64) float64
	args []node
}

func (c *call) eval(env map[string]any) (any, error) {
	xs := make([]float64, len(c.args))
	for i, a := range c.args {
		v, err := a.eval(env)
		if err != nil {
			return nil, err
		}
		x, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("%s of %s: not a number", c.name, show(v))
		}
		xs[i] = x
	}
	return c.fn(xs), nil
}

// function is a numeric function: min to max arguments (max -1: any).
type function struct {
	min, max int
	fn       func([]float64) float64
}

func (f function) arity() string {
	switch {
	case f.max < 0:
		return fmt.Sprintf("at least %d arguments", f.min)
	case f.min == f.max && f.min == 1:
		return "one argument"
	}
	return fmt.Sprintf("%d arguments", f.min)
}

func one(f func(float64) float64) function {
	return function{1, 1, func(x []float64) float64 { return f(x[0]) }}
}

// functions are expr's numeric builtins.
var functions = map[string]function{
	"abs":   one(math.Abs),
	"ceil":  one(math.Ceil),
	"floor": one(math.Floor),
	"round": one(math.Round),
	"int":   one(math.Trunc),
	"float": one(func(x float64) float64 { return x }),
	"min":   {1, -1, extreme(func(a, b float64) bool { return a < b })},
	"max":   {1, -1, extreme(func(a, b float64) bool { return a > b })},
}

func extreme(better func(a, b float64) bool) func([]float64) float64 {
	return func(xs []float64) float64 {
		m := xs[0]
		for _, x := range xs[1:] {
			if better(x, m) {
				m = x
			}
		}
		return m
	}
}
