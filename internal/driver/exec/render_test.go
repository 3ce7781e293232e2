package exec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"go.yaml.in/yaml/v3"
)

// nasty breaks out of any quoting it is pasted into unescaped.
const nasty = "a\"b\\c'd ${HOME} %{ if x } $(id)`id`\nkey: injected\t\x01"

func TestRenderQuotesForTheFileKind(t *testing.T) {
	t.Parallel()
	params := map[string]any{"s": nasty, "n": float64(3), "b": true}
	t.Run("JSON", func(t *testing.T) {
		got, err := Render(`{"s": {{ s }}, "n": {{ n }}, "b": {{ b }}}`, KindJSON, params)
		var v map[string]any
		if err != nil || json.Unmarshal([]byte(got), &v) != nil || v["s"] != nasty || v["n"] != float64(3) || v["b"] != true {
			t.Fatalf("%s: %v %v", got, err, v)
		}
	})
	t.Run("YAML", func(t *testing.T) {
		got, err := Render("s: {{ s }}\nn: {{ n }}\nb: {{ b }}\n", KindYAML, params)
		var v map[string]any
		if err != nil || yaml.Unmarshal([]byte(got), &v) != nil || v["s"] != nasty || v["n"] != 3 || v["b"] != true || len(v) != 3 {
			t.Fatalf("%s: %v %#v", got, err, v)
		}
	})
	t.Run("HCL", func(t *testing.T) {
		got, err := Render(`s = {{ s }} n = {{ n }}`, KindHCL, params)
		want := `s = "a\"b\\c'd $${HOME} %%{ if x } $(id)` + "`id`" + `\nkey: injected\t\u0001" n = 3`
		if err != nil || got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("Shell", func(t *testing.T) {
		got, err := Render(`printf %s {{ s }}`, KindShell, params)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("/bin/sh", "-c", got).Output()
		if err != nil || string(out) != nasty {
			t.Fatalf("%s printed %q: %v", got, out, err)
		}
	})
	t.Run("Text", func(t *testing.T) {
		if got, _ := Render(`x={{ n }}`, KindText, params); got != "x=3" {
			t.Fatal(got)
		}
	})
}

func TestPrepareTemplateInjection(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	free := purser.Param{Name: "name", Type: purser.ParamString}
	tests := []struct {
		name   string
		params []purser.Param
		config map[string]any
		want   string // the field a 422 names, and a word of its message; "" for success
	}{
		{"ErrShellPlaceholder", []purser.Param{free}, map[string]any{"shell": true, "provision": "echo {{ name }}"},
			"config.provision: with shell: true a command may not contain {{ name }}: use \"$PURSER_PARAM_NAME\""},
		{"ErrShellPlaceholderInDestroy", []purser.Param{free}, map[string]any{"shell": true, "provision": "true", "destroy": "rm -r {{name}}"},
			"config.destroy: with shell: true"},
		{"ArgvPlaceholder", []purser.Param{free}, map[string]any{"provision": []any{"echo", "{{ name }}"}}, ""},
		{"ErrTextFileFreeParam", []purser.Param{free}, map[string]any{"provision": "true",
			"files": []any{map[string]any{"path": "app.ini", "content": "name={{ name }}"}}}, "config.files[0]: {{ name }} would be written unescaped"},
		{"ErrRawFreeParam", []purser.Param{free}, map[string]any{"provision": "true",
			"files": []any{map[string]any{"path": "x.json", "raw": true, "content": "{{ name }}"}}}, "config.files[0]: {{ name }} would be written unescaped into a raw file"},
		{"TextFilePatternParam", []purser.Param{{Name: "name", Pattern: "[a-z]+"}}, map[string]any{"provision": "true",
			"files": []any{map[string]any{"path": "app.ini", "content": "name={{ name }}"}}}, ""},
		{"TextFileEnumParam", []purser.Param{{Name: "name", Type: purser.ParamEnum, Options: []string{"a", "b"}}}, map[string]any{"provision": "true",
			"files": []any{map[string]any{"path": "app.ini", "content": "name={{ name }}"}}}, ""},
		{"DeclaredKind", []purser.Param{free}, map[string]any{"provision": "true",
			"files": []any{map[string]any{"path": "app.conf", "kind": "hcl", "content": "name = {{ name }}"}}}, ""},
		{"ErrUnknownKind", []purser.Param{free}, map[string]any{"provision": "true",
			"files": []any{map[string]any{"path": "app.conf", "kind": "toml", "content": "x"}}}, "config.files[0].kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.PrepareTemplate(context.Background(), &purser.Template{Params: tt.params, Config: tt.config})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *purser.Error
			if !errors.As(err, &pe) || pe.Code != purser.EINVALID || !strings.Contains(fmt.Sprintf("%s: %s", pe.Fields[0].Field, pe.Fields[0].Message), tt.want) {
				t.Fatalf("err %v, want a 422 with %q", err, tt.want)
			}
		})
	}
}

func TestProvisionWritesQuotedValues(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	cfg := prepared(t, d, []purser.Param{{Name: "name"}}, map[string]any{
		"files":     []any{map[string]any{"path": "conf/app.json", "content": `{"name": {{ name }}}`}},
		"provision": []any{"cat", "conf/app.json"}})
	log := &lines{}
	if _, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Params: map[string]any{"name": `x", "admin": true, "y": "`}, Config: cfg, Log: log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.all(), `stdout: {"name": "x\", \"admin\": true, \"y\": \""}`) {
		t.Fatalf("log:\n%s", log.all())
	}
}
