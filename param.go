package purser

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"
)

// Parameter types a template may declare.
const (
	ParamString   = "string"
	ParamInteger  = "integer"
	ParamNumber   = "number"
	ParamBoolean  = "boolean"
	ParamEnum     = "enum"
	ParamDuration = "duration"
)

// Param declares one parameter of a template.
type Param struct {
	Name        string
	Type        string
	Description string
	Default     any
	Required    bool
	Min, Max    *float64
	Pattern     string
	Options     []string
	Secret      bool
}

// Regexp compiles the parameter's pattern exactly as values are matched
// against it: anchored at both ends. It returns nil, nil without a pattern.
// Validate and ValidateParams both go through it, so a pattern that passes
// validation is the pattern that runs.
func (p Param) Regexp() (*regexp.Regexp, error) {
	if p.Pattern == "" {
		return nil, nil
	}
	return regexp.Compile("^(?:" + p.Pattern + ")$")
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// DurationFromHours converts a number of hours given in field to a
// duration: it must be finite, positive and within what a time.Duration
// holds (about 292 years). Without the check, a huge number wraps around
// and an expiry lands centuries in the past.
func DurationFromHours(h float64, field string) (time.Duration, error) {
	if !finite(h) || h <= 0 || h > float64(math.MaxInt64/int64(time.Hour)) {
		return 0, Invalid(FieldError{field, "range", "must be a positive number of hours, at most 2562047"})
	}
	return time.Duration(h * float64(time.Hour)), nil
}

// ValidateParams checks values against the template's parameters and
// returns them with defaults filled in and types normalised. Every
// unknown, missing, mistyped or out-of-range parameter is named.
func (t *Template) ValidateParams(values map[string]any) (map[string]any, error) {
	out := map[string]any{}
	var fe []FieldError
	declared := map[string]bool{}
	for _, p := range t.Params {
		declared[p.Name] = true
		f := "resource_parameters." + p.Name
		v, ok := values[p.Name]
		if !ok || v == nil {
			if p.Default != nil {
				v, _ = p.coerce(p.Default)
				out[p.Name] = v
			} else if p.Required {
				fe = append(fe, FieldError{f, "required", "is required"})
			}
			continue
		}
		cv, err := p.coerce(v)
		if err != nil {
			fe = append(fe, FieldError{f, "type", err.Error()})
			continue
		}
		if rule, err := p.check(cv); err != nil {
			fe = append(fe, FieldError{f, rule, err.Error()})
			continue
		}
		out[p.Name] = cv
	}
	for name := range values {
		if !declared[name] {
			fe = append(fe, FieldError{"resource_parameters." + name, "unknown", "is not a parameter of template " + t.ID})
		}
	}
	if len(fe) > 0 {
		sortFields(fe)
		return nil, Invalid(fe...)
	}
	return out, nil
}

// SecretMask stands for a secret parameter's value wherever a request is
// shown: API answers, audit events, notifications. Only the driver sees
// the value.
const SecretMask = "********"

// SplitSecrets separates the values of the parameters declared secret
// from the others. public holds every value, with SecretMask in place of
// the secret ones; secret holds the secret values alone (nil when none).
func (t *Template) SplitSecrets(values map[string]any) (public, secret map[string]any) {
	public = make(map[string]any, len(values))
	for k, v := range values {
		public[k] = v
	}
	for _, p := range t.Params {
		v, ok := values[p.Name]
		if !p.Secret || !ok || v == SecretMask {
			continue
		}
		if secret == nil {
			secret = map[string]any{}
		}
		secret[p.Name] = v
		public[p.Name] = SecretMask
	}
	return public, secret
}

// coerce converts v to the parameter's Go type: string, int64, float64,
// bool or (for durations) a string that time.ParseDuration accepts.
func (p Param) coerce(v any) (any, error) {
	switch p.Type {
	case ParamString, ParamEnum:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64:
			// The seed declares parameters by name only (strings) and then
			// sends desired_capacity: 2: a number is taken as its text.
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
		return nil, fmt.Errorf("must be a string")
	case ParamInteger:
		switch n := v.(type) {
		case float64:
			if n == float64(int64(n)) {
				return int64(n), nil
			}
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case string:
			if i, err := strconv.ParseInt(n, 10, 64); err == nil {
				return i, nil
			}
		}
		return nil, fmt.Errorf("must be an integer")
	case ParamNumber:
		switch n := v.(type) {
		case float64:
			if finite(n) {
				return n, nil
			}
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		case string:
			// ParseFloat accepts "NaN" and "Inf", which compare false with
			// every bound: refuse them.
			if f, err := strconv.ParseFloat(n, 64); err == nil && finite(f) {
				return f, nil
			}
		}
		return nil, fmt.Errorf("must be a finite number")
	case ParamBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if pb, err := strconv.ParseBool(b); err == nil {
				return pb, nil
			}
		}
		return nil, fmt.Errorf("must be true or false")
	case ParamDuration:
		if s, ok := v.(string); ok {
			if _, err := time.ParseDuration(s); err == nil {
				return s, nil
			}
		}
		return nil, fmt.Errorf("must be a duration such as 90m or 2h")
	}
	return nil, fmt.Errorf("has an unknown type")
}

// check returns the rule v breaks (enum, pattern, length, minimum,
// maximum) with a message, or nil.
func (p Param) check(v any) (string, error) {
	var n *float64
	switch x := v.(type) {
	case int64:
		f := float64(x)
		n = &f
	case float64:
		n = &x
	case string:
		if p.Type == ParamEnum {
			for _, o := range p.Options {
				if o == x {
					return "", nil
				}
			}
			return "enum", fmt.Errorf("must be one of %v", p.Options)
		}
		if re, err := p.Regexp(); err != nil {
			return "pattern", fmt.Errorf("cannot be checked: the template's pattern is invalid")
		} else if re != nil && !re.MatchString(x) {
			return "pattern", fmt.Errorf("must match %s", p.Pattern)
		}
		if p.Type == ParamDuration {
			d, _ := time.ParseDuration(x)
			h := d.Hours()
			n = &h
		} else {
			l := float64(len(x))
			if p.Min != nil && l < *p.Min || p.Max != nil && l > *p.Max {
				return "length", fmt.Errorf("must be %v to %v characters long", fmtBound(p.Min), fmtBound(p.Max))
			}
			return "", nil
		}
	}
	if n != nil {
		if p.Min != nil && *n < *p.Min {
			return "minimum", fmt.Errorf("must be at least %v", *p.Min)
		}
		if p.Max != nil && *n > *p.Max {
			return "maximum", fmt.Errorf("must be at most %v", *p.Max)
		}
	}
	return "", nil
}

func fmtBound(b *float64) string {
	if b == nil {
		return "any"
	}
	return strconv.FormatFloat(*b, 'f', -1, 64)
}
