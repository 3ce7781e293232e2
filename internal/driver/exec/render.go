package exec

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/purserhq/purser"
)

// Kind says what language a template file is written in, and so how a
// parameter's value is written into it.
type Kind string

// Kinds of file. Each but KindText inserts a value as a literal of its
// language: a string as a quoted, escaped string; a number or a boolean
// as itself. A template therefore writes `name = {{ x }}`, never
// `name = "{{ x }}"`.
const (
	KindJSON  Kind = "json"  // a JSON value (json.Marshal)
	KindYAML  Kind = "yaml"  // a double-quoted YAML scalar
	KindHCL   Kind = "hcl"   // an HCL quoted string: `"`, `\`, `${`, `%{` and control characters escaped
	KindShell Kind = "shell" // a single-quoted word, ' written '\''
	KindText  Kind = "text"  // the value as it is: only for parameters with an enum or a pattern
)

// kindOf returns a file's declared kind, or the one its extension implies.
func kindOf(f File) Kind {
	if f.Kind != "" {
		return f.Kind
	}
	switch strings.ToLower(path.Ext(f.Path)) {
	case ".json":
		return KindJSON
	case ".yaml", ".yml":
		return KindYAML
	case ".tf", ".hcl", ".tfvars":
		return KindHCL
	case ".sh":
		return KindShell
	}
	return KindText
}

// placeholder matches {{ name }}, spaces inside the braces optional.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// placeholders returns the parameter names text refers to.
func placeholders(text string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		names = append(names, m[1])
	}
	return names
}

// Render replaces every {{ name }} in text with the parameter's value,
// written as a literal of kind; a placeholder with no value is an error
// naming it.
func Render(text string, kind Kind, params map[string]any) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		v, ok := params[name]
		if !ok || v == nil {
			missing = append(missing, name)
			return m
		}
		return literal(kind, v)
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// literal writes v as a literal of kind.
func literal(kind Kind, v any) string {
	bare := false
	switch v.(type) {
	case bool, float64, float32, int, int64, int32, uint, uint64, uint32, json.Number:
		bare = true
	}
	switch kind {
	case KindJSON:
		b, err := json.Marshal(v)
		if err != nil {
			b, _ = json.Marshal(fmt.Sprint(v))
		}
		return string(b)
	case KindYAML:
		if bare {
			b, _ := json.Marshal(v)
			return string(b)
		}
		return yamlQuote(fmt.Sprint(v))
	case KindHCL:
		if bare {
			b, _ := json.Marshal(v)
			return string(b)
		}
		return hclQuote(fmt.Sprint(v))
	case KindShell:
		return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", `'\''`) + "'"
	}
	return fmt.Sprint(v)
}

// yamlQuote writes s as a double-quoted YAML scalar: JSON's string escapes
// are a subset of YAML's, and what YAML does not allow in a stream at all
// (DEL, C1 controls but NEL, U+FFFE and U+FFFF) is escaped too, so the
// file still parses.
func yamlQuote(s string) string {
	b, _ := json.Marshal(s)
	var out strings.Builder
	for _, r := range string(b) {
		if r == 0x7f || r >= 0x80 && r <= 0x9f && r != 0x85 || r == 0xfffe || r == 0xffff {
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

func hclQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r) // $${ and %%{ are a literal ${ and %{
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// rawSafe reports whether a parameter's values may go into a file
// unescaped: an enum, a pattern (matched whole), a number or a boolean
// cannot carry a quote or a newline the template did not allow for.
func rawSafe(p purser.Param) bool {
	return p.Type == purser.ParamEnum || len(p.Options) > 0 || p.Pattern != "" ||
		p.Type == purser.ParamNumber || p.Type == purser.ParamBoolean
}
