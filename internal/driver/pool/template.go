package pool

import (
	"context"
	"fmt"
	"sort"

	"github.com/purserhq/purser"
)

// configKeys are the keys a pool template's config may hold.
var configKeys = map[string]bool{"cores": true, "memory_gib": true, "spares": true, "min_hosts": true, "max_hosts": true, "selector": true}

// sizeParams are the parameters the driver reads as numbers, and the
// types they may be declared with.
var sizeParams = map[string][]string{
	"cores":      {purser.ParamInteger},
	"memory_gib": {purser.ParamInteger, purser.ParamNumber},
	"spares":     {purser.ParamInteger},
}

// PrepareTemplate implements purser.TemplatePreparer: it checks that the
// template sizes its pool (cores or memory_gib, as a parameter or in the
// config), that the parameters the driver reads have the types it reads
// and its config only keys it knows; and it fills a footprint left out
// with the pool's size, so that every request counts it against the
// quota (Provision refuses a footprint that counts less).
func (d *Driver) PrepareTemplate(_ context.Context, t *purser.Template) error {
	var fe []purser.FieldError
	declared := map[string]bool{}
	for i, p := range t.Params {
		declared[p.Name] = true
		field := fmt.Sprintf("params[%d].type", i)
		if types, ok := sizeParams[p.Name]; ok && !oneOf(p.Type, types) {
			fe = append(fe, purser.FieldError{Field: field, Rule: "pool", Message: fmt.Sprintf("parameter %s sizes the pool: declare it %v", p.Name, types)})
		}
		if p.Name == "selector" && p.Type != purser.ParamString && p.Type != purser.ParamEnum {
			fe = append(fe, purser.FieldError{Field: field, Rule: "pool", Message: `parameter selector holds labels "k=v,k=v": declare it string or enum`})
		}
	}
	keys := make([]string, 0, len(t.Config))
	for k := range t.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := t.Config[k]
		switch {
		case !configKeys[k]:
			fe = append(fe, purser.FieldError{Field: "config." + k, Rule: "unknown", Message: "the pool driver reads cores, memory_gib, spares, min_hosts, max_hosts and selector"})
		case k == "selector":
			if _, err := configSelector(t.Config); err != nil {
				fe = append(fe, purser.FieldError{Field: "config.selector", Rule: "type", Message: "must be a map of labels to strings"})
			}
		default:
			if f, ok := number(v); !ok || f < 0 {
				fe = append(fe, purser.FieldError{Field: "config." + k, Rule: "type", Message: "must be a number of at least 0"})
			}
		}
	}
	has := func(name string) bool { _, ok := t.Config[name]; return declared[name] || ok }
	if !has("cores") && !has("memory_gib") {
		fe = append(fe, purser.FieldError{Field: "params", Rule: "pool", Message: "a pool template sizes its pool: declare a parameter cores or memory_gib, or set it in config"})
	}
	if len(fe) > 0 {
		return purser.Invalid(fe...)
	}
	if t.Footprint.Cores == "" {
		t.Footprint.Cores = sizeExpr(t, "cores", declared)
	}
	if t.Footprint.Memory == "" {
		t.Footprint.Memory = sizeExpr(t, "memory_gib", declared)
	}
	return nil
}

// sizeExpr is the footprint expression of a size: the parameter, else the
// config's number, else nothing.
func sizeExpr(t *purser.Template, name string, declared map[string]bool) string {
	if declared[name] {
		return name
	}
	if f, ok := number(t.Config[name]); ok {
		return purser.Num(f)
	}
	return ""
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}
