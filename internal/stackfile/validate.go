package stackfile

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/purserhq/purser"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

// validate checks tree against the schema and returns one FieldError per
// fault.
func (cs *compiledSchema) validate(tree any) []purser.FieldError {
	err := cs.schema.Validate(tree)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []purser.FieldError
	seen := map[purser.FieldError]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if _, ok := e.ErrorKind.(*kind.PropertyNames); ok {
			// A service's or a variable's name: the domain's rules report
			// it, naming the entry; the schema states it for editors.
			return
		}
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		for _, f := range cs.fields(tree, e) {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	walk(ve)
	return out
}

// fields turns one leaf fault into FieldErrors.
func (cs *compiledSchema) fields(tree any, e *jsonschema.ValidationError) []purser.FieldError {
	path := pathString(tree, e.InstanceLocation)
	at := func(p, key string) string {
		if p == "" {
			return key
		}
		return p + "." + key
	}
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		known := cs.knownKeys(fragment(e.SchemaURL))
		out := make([]purser.FieldError, 0, len(k.Properties))
		for _, p := range k.Properties {
			msg := "is not a known key"
			if len(known) > 0 {
				msg += "; known keys here: " + strings.Join(known, ", ")
			}
			out = append(out, purser.FieldError{Field: at(path, p), Rule: "unknown_key", Message: msg})
		}
		return out
	case *kind.Required:
		out := make([]purser.FieldError, 0, len(k.Missing))
		for _, m := range k.Missing {
			out = append(out, purser.FieldError{Field: at(path, m), Rule: "required", Message: "is required"})
		}
		return out
	case *kind.MinProperties, *kind.MaxProperties:
		return []purser.FieldError{{Field: or(path, "stackfile"), Rule: "single_key",
			Message: "must be a map with exactly one key (- name: ...)"}}
	case *kind.Type:
		return []purser.FieldError{{Field: or(path, "stackfile"), Rule: "type",
			Message: fmt.Sprintf("must be %s, not %s", strings.Join(typeNames(k.Want), " or "), typeName(k.Got))}}
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return []purser.FieldError{{Field: path, Rule: "enum", Message: "must be one of: " + strings.Join(want, ", ")}}
	case *kind.Minimum:
		return []purser.FieldError{{Field: path, Rule: "minimum", Message: "must be at least " + k.Want.RatString()}}
	case *kind.Maximum:
		return []purser.FieldError{{Field: path, Rule: "maximum", Message: "must be at most " + k.Want.RatString()}}
	case *kind.MinLength:
		return []purser.FieldError{{Field: path, Rule: "min_length", Message: "must not be empty"}}
	case *kind.Pattern:
		return []purser.FieldError{{Field: path, Rule: "pattern", Message: patternMessage(path, k)}}
	}
	rule := "schema"
	if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
		rule = kp[len(kp)-1]
	}
	return []purser.FieldError{{Field: or(path, "stackfile"), Rule: rule, Message: e.ErrorKind.LocalizedString(printer)}}
}

// patternMessage explains the patterns the schema uses.
func patternMessage(path string, k *kind.Pattern) string {
	switch {
	case strings.Contains(path, ".ports["):
		return fmt.Sprintf("%q must be HOST:CONTAINER, two port numbers", k.Got)
	case strings.Contains(path, ".volumes["):
		return fmt.Sprintf("%q must be name:/host/path:/container/path", k.Got)
	}
	return fmt.Sprintf("%q must match %s", k.Got, k.Want)
}

// pathString writes an instance location as errors name it:
// services[1].user-service.ports[0]. The tree says which tokens index
// lists.
func pathString(tree any, loc []string) string {
	var sb strings.Builder
	node := tree
	for _, tok := range loc {
		switch n := node.(type) {
		case []any:
			i, _ := strconv.Atoi(tok)
			sb.WriteString("[" + tok + "]")
			if i >= 0 && i < len(n) {
				node = n[i]
			} else {
				node = nil
			}
		case map[string]any:
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(tok)
			node = n[tok]
		default:
			sb.WriteString("." + tok)
			node = nil
		}
	}
	return sb.String()
}

// fragment returns the JSON pointer in a schema URL.
func fragment(u string) string {
	_, f, _ := strings.Cut(u, "#")
	if s, err := url.PathUnescape(f); err == nil {
		return s
	}
	return f
}

func typeNames(want []string) []string {
	out := slices.Clone(want)
	for i, w := range out {
		out[i] = typeName(w)
	}
	return out
}

func typeName(t string) string {
	switch t {
	case "object":
		return "a map"
	case "array":
		return "a list"
	case "null":
		return "empty"
	case "integer":
		return "an integer"
	}
	return "a " + t
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
