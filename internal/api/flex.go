package api

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

// exprValue is a footprint value: a number, or an expression over the
// template's parameters ("desired_capacity * 2").
type exprValue string

func (e *exprValue) UnmarshalJSON(b []byte) error {
	var f float64
	if json.Unmarshal(b, &f) == nil {
		*e = exprValue(strconv.FormatFloat(f, 'f', -1, 64))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a number or an expression string")
	}
	*e = exprValue(s)
	return nil
}

// MarshalJSON writes a plain number as a number.
func (e exprValue) MarshalJSON() ([]byte, error) {
	if f, err := strconv.ParseFloat(string(e), 64); err == nil {
		return json.Marshal(f)
	}
	return json.Marshal(string(e))
}

// Schema documents the two forms.
func (exprValue) Schema(r huma.Registry) *huma.Schema {
	return &huma.Schema{OneOf: []*huma.Schema{{Type: "number"}, {Type: "string"}},
		Description: "A number, or an expression over the parameters such as `desired_capacity * 2`."}
}

// paramSpec declares a template parameter.
type paramSpec struct {
	Name        string   `json:"name"`
	Type        string   `json:"type,omitempty" enum:"string,integer,number,boolean,enum,duration" doc:"Default string."`
	Description string   `json:"description,omitempty"`
	Default     any      `json:"default,omitempty"`
	Required    *bool    `json:"required,omitempty" doc:"Default true unless a default is given."`
	Min         *float64 `json:"min,omitempty" doc:"Minimum value (numbers), length (strings) or hours (durations)."`
	Max         *float64 `json:"max,omitempty"`
	Pattern     string   `json:"pattern,omitempty" doc:"A regular expression the whole value must match."`
	Options     []string `json:"options,omitempty" doc:"The values of an enum."`
	Secret      bool     `json:"secret,omitempty" doc:"Sealed at rest and shown as ******** to everyone, the requester included; only the driver sees the value, and redacts it from its logs."`
}

// paramList accepts the seed's plain list of names (each a required
// string) as well as full declarations.
type paramList []paramSpec

func (p *paramList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("must be a list of parameter names or declarations")
	}
	out := make(paramList, len(raw))
	for i, r := range raw {
		var name string
		if json.Unmarshal(r, &name) == nil {
			out[i] = paramSpec{Name: name, Type: purser.ParamString}
			continue
		}
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return fmt.Errorf("params[%d]: %v", i, err)
		}
	}
	*p = out
	return nil
}

// Schema documents the two forms.
func (paramList) Schema(r huma.Registry) *huma.Schema {
	return &huma.Schema{Type: "array", Items: &huma.Schema{OneOf: []*huma.Schema{
		{Type: "string", Description: "A parameter name: a required string."},
		r.Schema(reflectType[paramSpec](), true, "ParamSpec"),
	}}}
}

func (p paramList) domain() []purser.Param {
	out := make([]purser.Param, len(p))
	for i, s := range p {
		typ := s.Type
		if typ == "" {
			typ = purser.ParamString
		}
		req := s.Default == nil
		if s.Required != nil {
			req = *s.Required
		}
		out[i] = purser.Param{Name: s.Name, Type: typ, Description: s.Description, Default: s.Default, Required: req,
			Min: s.Min, Max: s.Max, Pattern: s.Pattern, Options: s.Options, Secret: s.Secret}
	}
	return out
}

func paramsDoc(ps []purser.Param) paramList {
	out := make(paramList, len(ps))
	for i, p := range ps {
		req := p.Required
		out[i] = paramSpec{Name: p.Name, Type: p.Type, Description: p.Description, Default: p.Default, Required: &req,
			Min: p.Min, Max: p.Max, Pattern: p.Pattern, Options: p.Options, Secret: p.Secret}
	}
	return out
}

// timeValue is a date in a request body: RFC 3339 or the seed's RFC 1123.
type timeValue string

// Schema documents the accepted forms.
func (timeValue) Schema(r huma.Registry) *huma.Schema {
	return &huma.Schema{Type: "string", Description: "RFC 3339 (2026-11-22T10:00:00Z) or RFC 1123 (Sun, 22 Nov 2026 10:00:00 GMT)."}
}

// parse returns the time, or a field error naming field.
func (v timeValue) parse(field string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := purser.ParseTime(string(v))
	if err != nil {
		return nil, purser.Invalid(purser.FieldError{Field: field, Rule: "format", Message: err.Error()})
	}
	return &t, nil
}

func reflectType[T any]() reflect.Type { return reflect.TypeOf((*T)(nil)).Elem() }

func parseWholeNumber(s string) (int, error) {
	f, err := strconv.ParseFloat(s, 64)
	// Bound f before converting it: a float beyond int's range converts to
	// an unspecified int, which may compare equal to f.
	if err != nil || math.IsNaN(f) || math.Abs(f) > 1<<31 || f != math.Trunc(f) {
		return 0, fmt.Errorf("must be a whole number of hours")
	}
	return int(f), nil
}
