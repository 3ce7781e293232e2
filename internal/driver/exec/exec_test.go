package exec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/purserhq/purser"
)

var update = flag.Bool("update", false, "rewrite golden files")

// lines is a LogWriter for tests.
type lines struct {
	mu      sync.Mutex
	l       []string
	changed chan struct{} // closed and replaced on every line
}

func (l *lines) WriteLine(stream, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, stream+": "+line)
	if l.changed != nil {
		close(l.changed)
	}
	l.changed = make(chan struct{})
}

// waitFor waits until a line holds want, failing the test after a minute.
func (l *lines) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		l.mu.Lock()
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		changed, has := l.changed, strings.Contains(strings.Join(l.l, "\n"), want)
		l.mu.Unlock()
		if has {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no line %q in a minute:\n%s", want, l.all())
		}
	}
}

func (l *lines) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

// testRunAs is the user tests run commands as: purser-exec when the tests
// run as root (tools/test-user.sh makes it), the tests' own user otherwise.
func testRunAs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return ""
	}
	if _, err := user.Lookup("purser-exec"); err != nil {
		t.Fatal("the tests run as root, so commands run as the user purser-exec, which does not exist: run tools/test-user.sh")
	}
	return "purser-exec"
}

// reachableTempDir is a t.TempDir that another user may traverse (the
// testing package makes it and its parent 0700).
func reachableTempDir(t *testing.T) string {
	dir := t.TempDir()
	for _, p := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testConfig(t *testing.T) Config {
	return Config{WorkDir: filepath.Join(reachableTempDir(t), "exec"), TemplatesDir: t.TempDir(), Concurrency: 2, RunAs: testRunAs(t)}
}

func newDriver(t *testing.T) *Driver {
	t.Helper()
	d := New(testConfig(t))
	if err := d.Disabled(); err != nil {
		t.Fatal(err)
	}
	return d
}

func prepared(t *testing.T, d *Driver, params []purser.Param, cfg map[string]any) map[string]any {
	t.Helper()
	tpl := &purser.Template{Meta: purser.Meta{ID: "t"}, Params: params, Config: cfg}
	if err := d.PrepareTemplate(context.Background(), tpl); err != nil {
		t.Fatal(err)
	}
	return tpl.Config
}

func TestSeedEksctlRendersAsGolden(t *testing.T) {
	src, err := os.ReadFile("testdata/basic-eks-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The seed README's sample parameters.
	got, err := Render(string(src), KindYAML, map[string]any{"cluster_name": "dev-cluster-2", "region": "us-west-1",
		"instance_type": "t2.micro", "desired_capacity": 2, "volume_size": 30})
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/basic-eks-cluster.golden.yaml"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("render differs from %s:\n%s", golden, got)
	}
	if _, err := Render("{{ cluster_name }} {{region}}", KindText, map[string]any{"cluster_name": "x"}); err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("a missing value: %v", err)
	}
}

func TestProvisionWithOutputsThenDestroy(t *testing.T) {
	d := newDriver(t)
	cfg := prepared(t, d, []purser.Param{{Name: "name", Pattern: "[a-z]+"}, {Name: "token", Secret: true}}, map[string]any{
		"files": []any{map[string]any{"path": "conf/app.ini", "content": "name = {{ name }}\n"}},
		"provision": []any{`echo "creating $PURSER_PARAM_NAME with token $PURSER_PARAM_TOKEN"; cat conf/app.ini; ` +
			`printf '{"endpoint":"https://%s.example","size":3}' "$PURSER_PARAM_NAME" > "$PURSER_OUTPUTS"; echo oops >&2`},
		"destroy": []any{`echo "deleting $(jq -r .name params.json 2>/dev/null || grep -o '"name": *"[^"]*"' params.json)"`},
		"shell":   true,
	})
	log := &lines{}
	env := purser.Environment{RequestID: "r1", Params: map[string]any{"name": "web", "token": "hunter2"}, Secrets: []string{"hunter2"}, Config: cfg, Log: log}
	out, err := d.Provision(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if out["endpoint"] != "https://web.example" || out["size"] != "3" {
		t.Fatalf("outputs %v", out)
	}
	got := log.all()
	for _, want := range []string{"stdout: creating web with token [redacted]", "stdout: name = web", "stderr: oops"} {
		if !strings.Contains(got, want) {
			t.Fatalf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "hunter2") {
		t.Fatalf("a secret reached the log:\n%s", got)
	}
	if err := d.Destroy(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.WorkDir, "r1")); !os.IsNotExist(err) {
		t.Fatalf("work directory left after destroy: %v", err)
	}
}

func TestFailureQuotesLastLines(t *testing.T) {
	d := newDriver(t)
	cfg := prepared(t, d, nil, map[string]any{"provision": []any{"sh", "-c", "for i in $(seq 1 50); do echo line $i; done; exit 3"}})
	_, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "line 50") || strings.Contains(err.Error(), "line 20\n") {
		t.Fatalf("failure: %v", err)
	}
}

func TestMegabytesOfOutput(t *testing.T) {
	d := newDriver(t)
	cfg := prepared(t, d, nil, map[string]any{"provision": []any{`i=0; while [ $i -lt 100000 ]; do echo "line $i of some output to fill the pipe"; i=$((i+1)); done`}, "shell": true})
	var n countLines
	if _, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Config: cfg, Log: &n}); err != nil {
		t.Fatal(err)
	}
	if n.n != 100001 { // the lines and the command note
		t.Fatalf("%d lines logged, want 100001", n.n)
	}
}

type countLines struct {
	mu sync.Mutex
	n  int
}

func (c *countLines) WriteLine(string, string) { c.mu.Lock(); c.n++; c.mu.Unlock() }

func TestPrepareTemplate(t *testing.T) {
	body := "bucket: {{ bucket }}\n"
	sum := sha256.Sum256([]byte(body))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(make([]byte, MaxFileSize+10))
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	d := newDriver(t)
	os.WriteFile(filepath.Join(d.TemplatesDir, "main.tf"), []byte(`name = "{{ bucket }}"`), 0o600)
	params := []purser.Param{{Name: "bucket"}}
	tests := []struct {
		name  string
		files []any
		want  string // a field the 422 names; "" for success
	}{
		{"URLPinned", []any{map[string]any{"path": "b.yaml", "url": srv.URL + "/b", "sha256": hex.EncodeToString(sum[:])}}, ""},
		{"Source", []any{map[string]any{"path": "main.tf", "source": "main.tf"}}, ""},
		{"ErrPinMismatch", []any{map[string]any{"path": "b.yaml", "url": srv.URL + "/b", "sha256": strings.Repeat("0", 64)}}, "config.files[0]"},
		{"ErrTooLarge", []any{map[string]any{"path": "b.yaml", "url": srv.URL + "/big"}}, "config.files[0]"},
		{"ErrUnknownPlaceholder", []any{map[string]any{"path": "x", "content": "{{ nodes }}"}}, "config.files[0]"},
		{"ErrEscapes", []any{map[string]any{"path": "../x", "content": "x"}}, "config.files[0].path"},
		{"ErrTwoSources", []any{map[string]any{"path": "x", "content": "x", "url": srv.URL}}, "config.files[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := &purser.Template{Params: params, Config: map[string]any{"files": tt.files, "provision": []any{"true"}}}
			err := d.PrepareTemplate(context.Background(), tpl)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				files := tpl.Config["files"].([]any)
				if c := files[0].(map[string]any)["content"]; c == "" || c == nil {
					t.Fatalf("the file was not stored in the template: %v", tpl.Config)
				}
				return
			}
			var pe *purser.Error
			if !errors.As(err, &pe) || pe.Code != purser.EINVALID || !strings.Contains(fmt.Sprint(pe.Fields), tt.want) {
				t.Fatalf("err %v, want a 422 naming %s", err, tt.want)
			}
		})
	}
	if err := d.PrepareTemplate(context.Background(), &purser.Template{Config: map[string]any{"provisions": []any{"x"}}}); err == nil {
		t.Fatal("an unknown config key passed")
	}
}

// alive reports whether a process runs: it exists and is not a zombie
// (killed children re-parented to a PID 1 that does not reap them linger
// as zombies, which run nothing).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
