package exec_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	pexec "github.com/purserhq/purser/internal/driver/exec"
)

// FuzzRender writes a developer's value into a file of each kind and reads
// the file back as its language's own parser would: the value comes back
// whole, as one string, and nothing else of the file changes. A value that
// could close the quote, start an interpolation or add a key or a command
// fails here.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"web-1", `"; rm -rf / #`, "$(id)", "`id`", "a'b", "x\ny: injected", "${var.secret}",
		"%{ if true }x%{ endif }", `\`, "\\\"", "\u2028", "\x7f\x01", "tab\there", "é ∑ 😀", "- item", "{{ other }}", "&anchor *ref"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return // the API refuses both before a value reaches a driver
		}
		params := map[string]any{"v": v}

		out, err := pexec.Render(`{"v": {{ v }}, "other": 1}`, pexec.KindJSON, params)
		must(t, err)
		var j map[string]any
		if err := json.Unmarshal([]byte(out), &j); err != nil || j["v"] != v || len(j) != 2 {
			t.Fatalf("json %q: %v %v", out, j, err)
		}

		out, err = pexec.Render("v: {{ v }}\nother: 1\n", pexec.KindYAML, params)
		must(t, err)
		var y map[string]any
		if err := yaml.Unmarshal([]byte(out), &y); err != nil || y["v"] != v || len(y) != 2 {
			t.Fatalf("yaml %q: %v %v", out, y, err)
		}

		out, err = pexec.Render(`v = {{ v }}`, pexec.KindHCL, params)
		must(t, err)
		if got, err := hclString(strings.TrimPrefix(out, "v = ")); err != nil || got != v {
			t.Fatalf("hcl %q: %q %v", out, got, err)
		}

		out, err = pexec.Render(`printf %s {{ v }}`, pexec.KindShell, params)
		must(t, err)
		got, err := exec.Command("/bin/sh", "-c", out).Output()
		if err != nil || string(got) != v {
			t.Fatalf("shell %q printed %q (%v)", out, got, err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hclString reads one HCL quoted template string as the HCL native syntax
// specification defines it, refusing an unescaped interpolation or
// directive ("${", "%{") and anything after the closing quote.
func hclString(lit string) (string, error) {
	if len(lit) < 2 || lit[0] != '"' {
		return "", fmt.Errorf("not a quoted string")
	}
	var b strings.Builder
	for i := 1; i < len(lit); i++ {
		c := lit[i]
		switch {
		case c == '"':
			if i != len(lit)-1 {
				return "", fmt.Errorf("text after the closing quote at %d", i)
			}
			return b.String(), nil
		case c == '\n':
			return "", fmt.Errorf("raw newline at %d", i)
		case (c == '$' || c == '%') && i+1 < len(lit) && lit[i+1] == '{':
			return "", fmt.Errorf("unescaped %c{ at %d", c, i)
		case (c == '$' || c == '%') && i+2 < len(lit) && lit[i+1] == c && lit[i+2] == '{':
			b.WriteByte(c)
			b.WriteByte('{')
			i += 2
		case c == '\\' && i+1 < len(lit):
			i++
			switch lit[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\':
				b.WriteByte(lit[i])
			case 'u':
				if i+4 >= len(lit) {
					return "", fmt.Errorf("short \\u escape")
				}
				r, err := strconv.ParseUint(lit[i+1:i+5], 16, 32)
				if err != nil {
					return "", err
				}
				b.WriteRune(rune(r))
				i += 4
			default:
				return "", fmt.Errorf("unknown escape \\%c", lit[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("no closing quote")
}
