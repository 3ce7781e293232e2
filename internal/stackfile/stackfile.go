// Package stackfile reads stackfiles: YAML or JSON text in, a validated
// purser.Stackfile out. It checks the text against the stackfile's JSON
// Schema (2020-12, embedded, served by the API as stackfile.json), then
// the domain's own rules (purser.Stackfile.Validate), and reports every
// fault as one purser.Error of code EINVALID whose fields name the path
// (services[1].user-service.ports[0]) and the rule.
package stackfile

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/purserhq/purser"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed stackfile.schema.json
var schemaJSON []byte

// SchemaURL is the schema's $id, where the API serves it.
const SchemaURL = "https://purser.dev/api/v1/schemas/stackfile.json"

// MaxSize bounds a stackfile's text.
const MaxSize = 1 << 20

// Schema returns the stackfile's JSON Schema document.
func Schema() []byte { return bytes.Clone(schemaJSON) }

var compiled = sync.OnceValues(func() (*compiledSchema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaURL, doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile(SchemaURL)
	if err != nil {
		return nil, err
	}
	return &compiledSchema{sch, doc}, nil
})

type compiledSchema struct {
	schema *jsonschema.Schema
	doc    any // the schema as a tree, to list an object's known keys
}

// Parse reads a stackfile written in YAML or JSON (text starting with '{'
// is read as JSON) and validates it: by the JSON Schema, then by the
// domain's rules. It returns the stackfile as written (Normalize it for
// use), or an EINVALID purser.Error naming every faulty path and rule
// (ETOOLARGE past MaxSize).
func Parse(data []byte) (*purser.Stackfile, error) {
	if len(data) > MaxSize {
		return nil, purser.Errorf(purser.ETOOLARGE, "a stackfile is at most %d bytes", MaxSize)
	}
	var tree any
	var err error
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		tree, err = decodeJSON(data)
	} else {
		tree, err = decodeYAML(data)
	}
	if err != nil {
		return nil, err
	}
	return FromTree(tree)
}

// FromTree validates a stackfile already decoded into plain values (maps
// with string keys, slices, strings, numbers, booleans, nil), as a JSON
// request body is, and returns it as the domain's type.
func FromTree(tree any) (*purser.Stackfile, error) {
	cs, err := compiled()
	if err != nil {
		return nil, fmt.Errorf("stackfile schema: %w", err) // the embedded schema is tested: cannot happen
	}
	fields := cs.validate(tree)
	stringifyScalars(tree)
	body, err := json.Marshal(tree)
	if err != nil {
		return nil, purser.Invalid(purser.FieldError{Field: "stackfile", Rule: "type", Message: "holds a value JSON cannot carry: " + err.Error()})
	}
	var sf purser.Stackfile
	if uerr := json.Unmarshal(body, &sf); uerr != nil {
		if len(fields) == 0 {
			fields = append(fields, purser.FieldError{Field: "stackfile", Rule: "type", Message: uerr.Error()})
		}
		return nil, purser.Invalid(fields...)
	}
	if verr := sf.Validate(); verr != nil {
		fields = mergeFields(fields, verr.(*purser.Error).Fields)
	}
	if len(fields) > 0 {
		return nil, purser.Invalid(fields...)
	}
	return &sf, nil
}

// mergeFields appends the domain's faults to the schema's, but not one on
// or under a path the schema already faulted: the two would say the same
// thing, or the domain's would follow from the schema's.
func mergeFields(schema, domain []purser.FieldError) []purser.FieldError {
	out := schema
	for _, f := range domain {
		covered := false
		for _, s := range schema {
			covered = covered || f.Field == s.Field || strings.HasPrefix(f.Field, s.Field+".") || strings.HasPrefix(f.Field, s.Field+"[")
		}
		if !covered {
			out = append(out, f)
		}
	}
	return out
}

// stringifyScalars turns the numbers and booleans of environment values and
// logging options into text, as the seed's str() did, so that the domain's
// string fields take them.
func stringifyScalars(tree any) {
	root, ok := tree.(map[string]any)
	if !ok {
		return
	}
	env := func(v any) {
		list, _ := v.([]any)
		for _, item := range list {
			if m, ok := item.(map[string]any); ok {
				for k, x := range m {
					m[k] = scalarString(x)
				}
			}
		}
	}
	logging := func(v any) {
		l, _ := v.(map[string]any)
		if opts, ok := l["options"].(map[string]any); ok {
			for k, x := range opts {
				opts[k] = scalarString(x)
			}
		}
	}
	logging(root["logging"])
	if d, ok := root["defaults"].(map[string]any); ok {
		env(d["environment"])
	}
	services, _ := root["services"].([]any)
	for _, item := range services {
		m, _ := item.(map[string]any)
		for _, body := range m {
			if svc, ok := body.(map[string]any); ok {
				env(svc["environment"])
				logging(svc["logging"])
			}
		}
	}
}

func scalarString(v any) any {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x)
	}
	return v
}

// knownKeys lists the properties of the schema object at pointer (a URL
// fragment such as "/$defs/service"), sorted.
func (cs *compiledSchema) knownKeys(pointer string) []string {
	node := cs.doc
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[tok]
	}
	m, _ := node.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
