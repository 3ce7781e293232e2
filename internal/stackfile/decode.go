package stackfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/purserhq/purser"
	"go.yaml.in/yaml/v3"
)

// Bounds on a document's shape, so that aliases (a "billion laughs") or
// deep nesting cannot make a small text expensive.
const (
	maxNodes = 200_000
	maxDepth = 64
)

// syntaxError is the EINVALID error for text that is not a document.
func syntaxError(format string, args ...any) error {
	return purser.Invalid(purser.FieldError{Field: "stackfile", Rule: "syntax", Message: fmt.Sprintf(format, args...)})
}

// decodeYAML reads YAML into plain values: maps with string keys, slices,
// strings, numbers (int64, uint64 or float64), booleans and nil.
func decodeYAML(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError("is not YAML: %v", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, syntaxError("is empty")
	}
	d := &yamlDecoder{}
	return d.value(doc.Content[0], 0, "", false)
}

type yamlDecoder struct{ nodes int }

// value decodes n, found under key. In text mode (environment values and
// logging options) scalars stay the text written, so that VERSION: 1.10
// is "1.10" and MODE: 0755 is "0755", not the numbers YAML reads.
func (d *yamlDecoder) value(n *yaml.Node, depth int, key string, text bool) (any, error) {
	d.nodes++
	if d.nodes > maxNodes || depth > maxDepth {
		return nil, syntaxError("is too large or too deeply nested (aliases count as copies)")
	}
	switch n.Kind {
	case yaml.AliasNode:
		return d.value(n.Alias, depth+1, key, text)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, syntaxError("line %d: a key must be a plain name", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, syntaxError("line %d: the key %q appears twice in the same map", k.Line, k.Value)
			}
			childText := text || (k.Value == "environment" && v.Kind == yaml.SequenceNode) || (k.Value == "options" && key == "logging")
			x, err := d.value(v, depth+1, k.Value, childText)
			if err != nil {
				return nil, err
			}
			m[k.Value] = x
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			x, err := d.value(c, depth+1, key, text)
			if err != nil {
				return nil, err
			}
			s = append(s, x)
		}
		return s, nil
	case yaml.ScalarNode:
		if text && n.ShortTag() != "!!null" {
			return n.Value, nil
		}
		return scalar(n)
	}
	return nil, syntaxError("line %d: unsupported YAML node", n.Line)
}

// scalar decodes a YAML scalar by its resolved tag; timestamps and other
// tags stay text.
func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, syntaxError("line %d: %v", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return u, nil
		}
		return n.Value, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, syntaxError("line %d: %v", n.Line, err)
		}
		if f != f || f > 1e308 || f < -1e308 {
			return n.Value, nil // NaN and infinities are no JSON numbers: leave them text
		}
		return f, nil
	}
	return n.Value, nil
}

// decodeJSON reads JSON into plain values,
// refusing a key twice in one object, as decodeYAML does.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, syntaxError("holds more than one JSON value")
	}
	return v, nil
}

func jsonValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, syntaxError("is too deeply nested")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError("is not JSON: %v (at byte %d)", err, dec.InputOffset())
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, syntaxError("is not JSON: %v (at byte %d)", err, dec.InputOffset())
				}
				k := kt.(string) // the decoder only yields string keys inside an object
				if _, dup := m[k]; dup {
					return nil, syntaxError("the key %q appears twice in the same object (at byte %d)", k, dec.InputOffset())
				}
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			_, err := dec.Token() // '}'
			if err != nil {
				return nil, syntaxError("is not JSON: %v", err)
			}
			return m, nil
		case '[':
			s := []any{}
			for dec.More() {
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				s = append(s, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, syntaxError("is not JSON: %v", err)
			}
			return s, nil
		}
		return nil, syntaxError("is not JSON: unexpected %q", t)
	case json.Number:
		// As decodeYAML does: integers as int64, others as float64 (which
		// encodes 1.0 as 1, so that an integral float fills an int field).
		if i, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(t.String(), 64)
		if err != nil {
			return nil, syntaxError("the number %s is out of range", t)
		}
		return f, nil
	}
	return tok, nil
}
