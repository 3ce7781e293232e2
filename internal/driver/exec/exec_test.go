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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
	if !l.wait(want, time.Minute) {
		t.Fatalf("no line %q in a minute:\n%s", want, l.all())
	}
}

// wait reports whether a line holds want within timeout.
func (l *lines) wait(want string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		changed, has := l.changed, strings.Contains(strings.Join(l.l, "\n"), want)
		l.mu.Unlock()
		if has {
			return true
		}
		select {
		case <-changed:
		case <-deadline:
			return false
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

// A failure quotes what the command wrote, not the command (a shell
// script can be longer than the whole error a request keeps), and the end
// of it when it wrote much; a silent failure says it wrote nothing.
func TestFailureQuotesOutputNotTheScript(t *testing.T) {
	d := newDriver(t)
	script := "set -eu\n" + strings.Repeat("# a long comment that fills the script\n", 60) +
		"echo 'creating bucket'\necho \"mkdir: cannot create directory: Permission denied\" >&2\nexit 1\n"
	var log lines
	cfg := prepared(t, d, nil, map[string]any{"provision": script, "shell": true})
	_, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Config: cfg, Log: &log})
	// stdout and stderr are two pipes: their lines may come in either order.
	head := "/bin/sh failed (exit status 1); last output:\n"
	if err == nil || !strings.HasPrefix(err.Error(), head) || strings.Contains(err.Error(), "a long comment") {
		t.Fatalf("failure:\n%v\nwant %q, then what the command wrote", err, head)
	}
	got := strings.Split(strings.TrimPrefix(err.Error(), head), "\n")
	slices.Sort(got)
	if want := []string{"creating bucket", "mkdir: cannot create directory: Permission denied"}; !slices.Equal(got, want) {
		t.Fatalf("failure quotes %q, want %q in any order", got, want)
	}
	if !strings.Contains(log.all(), "a long comment") {
		t.Fatalf("the log lacks the command run:\n%s", log.all())
	}

	cfg = prepared(t, d, nil, map[string]any{"provision": `printf '%0500d\n' 0; printf 'x%.0s' $(seq 1 3000); echo; echo the reason; exit 2`, "shell": true})
	_, err = d.Provision(context.Background(), purser.Environment{RequestID: "r2", Config: cfg})
	if err == nil || !strings.HasSuffix(err.Error(), "xxx\nthe reason") || len(err.Error()) > maxTailBytes+100 || strings.Contains(err.Error(), "00000") {
		t.Fatalf("long output: %d bytes: %.300v", len(fmt.Sprint(err)), err)
	}

	cfg = prepared(t, d, nil, map[string]any{"provision": "exit 4", "shell": true})
	_, err = d.Provision(context.Background(), purser.Environment{RequestID: "r3", Config: cfg})
	if err == nil || err.Error() != "/bin/sh failed (exit status 4) with no output" {
		t.Fatalf("silent failure: %v", err)
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

func TestCommandsGetACleanEnvironment(t *testing.T) {
	// Not parallel: it sets the server's environment.
	t.Setenv("PURSER_SECRET_KEY", "fake-secret-key-of-the-server")
	t.Setenv("PURSER_BOOTSTRAP_TOKEN", "pst_fakebootstraptokenoftheserver")
	c := testConfig(t)
	c.Env = map[string]string{"AWS_PROFILE": "sandbox"}
	d := New(c)
	cfg := prepared(t, d, []purser.Param{{Name: "name"}}, map[string]any{"provision": []any{"env"}})
	log := &lines{}
	env := purser.Environment{RequestID: "r", Owner: "dev", Params: map[string]any{"name": "web"}, Config: cfg, Log: log}
	if _, err := d.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(c.WorkDir, "r")
	want := map[string]string{"PATH": DefaultPath, "HOME": dir, "PURSER_WORKDIR": dir, "PURSER_OUTPUTS": filepath.Join(dir, "outputs.json"),
		"PURSER_REQUEST_ID": "r", "PURSER_OWNER": "dev", "PURSER_PARAM_NAME": "web", "AWS_PROFILE": "sandbox",
		"PWD": dir} // PWD: set by the wrapper shell
	got := map[string]string{}
	for _, l := range log.l {
		if kv, ok := strings.CutPrefix(l, "stdout: "); ok {
			k, v, _ := strings.Cut(kv, "=")
			got[k] = v
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the command's environment (-want +got):\n%s", diff)
	}
	if !filepath.IsAbs(dir) {
		t.Fatalf("work directory %s is relative", dir)
	}
}

func TestCommandsRunAsTheRunAsUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("running commands as another user needs root")
	}
	d := newDriver(t)
	u, _ := user.Lookup(testRunAs(t))
	cfg := prepared(t, d, []purser.Param{{Name: "name"}}, map[string]any{"shell": true,
		"files":     []any{map[string]any{"path": "conf/app.json", "content": `{"name": {{ name }}}`}},
		"provision": `echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"; echo made > made`})
	log := &lines{}
	if _, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Params: map[string]any{"name": "web"}, Config: cfg, Log: log}); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("stdout: uid=%s gid=%s groups=%s", u.Uid, u.Gid, u.Gid); !strings.Contains(log.all(), want) {
		t.Fatalf("want %q in:\n%s", want, log.all())
	}
	dir := filepath.Join(d.WorkDir, "r")
	for path, mode := range map[string]os.FileMode{d.WorkDir: 0o711, dir: 0o700, dir + "/conf": 0o700, dir + "/conf/app.json": 0o600,
		dir + "/params.json": 0o600, dir + "/made": 0} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		owner := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid))
		if path == d.WorkDir {
			if owner != "0" || fi.Mode().Perm() != mode {
				t.Errorf("%s: owner %s mode %o, want root's, %o", path, owner, fi.Mode().Perm(), mode)
			}
			continue
		}
		if owner != u.Uid || mode != 0 && fi.Mode().Perm() != mode {
			t.Errorf("%s: owner %s mode %o, want %s, %o", path, owner, fi.Mode().Perm(), u.Uid, mode)
		}
	}
}

func TestLogsRedactTheServersSecrets(t *testing.T) {
	t.Parallel()
	c := testConfig(t)
	c.Redact = []string{"the-bootstrap-token", "s3cr3t-db-password"}
	d := New(c)
	sealed := "v1:" + strings.Repeat("QUJDRA", 8) + "=="
	token := "pst_" + strings.Repeat("a1B2-c_", 6)
	cfg := prepared(t, d, []purser.Param{{Name: "p", Secret: true}}, map[string]any{"shell": true, "provision": fmt.Sprintf(
		`echo "bootstrap the-bootstrap-token db s3cr3t-db-password param $PURSER_PARAM_P"; echo "token %s sealed %s"; exit 1`, token, sealed)})
	log := &lines{}
	_, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Params: map[string]any{"p": "param-secret"},
		Secrets: []string{"param-secret"}, Config: cfg, Log: log})
	if err == nil {
		t.Fatal("exit 1 succeeded")
	}
	for what, text := range map[string]string{"log": log.all(), "failure": err.Error()} {
		for _, secret := range []string{"the-bootstrap-token", "s3cr3t-db-password", "param-secret", token, "pst_a1B2", sealed, "QUJDRA"} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s holds %s:\n%s", what, secret, text)
			}
		}
		if !strings.Contains(text, "bootstrap [redacted] db [redacted] param [redacted]") || !strings.Contains(text, "token [redacted] sealed [redacted]") {
			t.Errorf("the %s lacks the redacted lines:\n%s", what, text)
		}
	}
}

func TestSourceAndURLLimits(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", MaxFileSize-100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) }))
	defer srv.Close()
	d := newDriver(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(d.TemplatesDir, "passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(d.TemplatesDir, "up")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(d.TemplatesDir, "eks"), 0o700)
	os.WriteFile(filepath.Join(d.TemplatesDir, "eks", "basic.yaml"), []byte("kind: x\n"), 0o600)
	os.Symlink("eks/basic.yaml", filepath.Join(d.TemplatesDir, "inside.yaml"))
	urls := func(n int) []any {
		var files []any
		for i := range n {
			files = append(files, map[string]any{"path": fmt.Sprintf("f%d", i), "url": srv.URL})
		}
		return files
	}
	tests := []struct {
		name  string
		files []any
		want  string // a word of the 422; "" for success
	}{
		{"SymlinkInside", []any{map[string]any{"path": "a.yaml", "source": "inside.yaml"}}, ""},
		{"ErrSymlinkToEtcPasswd", []any{map[string]any{"path": "a", "source": "passwd"}}, "leads out of the templates directory"},
		{"ErrSymlinkedDirectoryUp", []any{map[string]any{"path": "a", "source": "up/" + filepath.Base(d.TemplatesDir) + "/passwd"}}, "leads out"},
		{"URLsWithinTheCap", urls(MaxTemplateFiles / MaxFileSize), ""},
		{"ErrURLsOverTheCap", urls(MaxTemplateFiles/MaxFileSize + 1), fmt.Sprintf("may hold %d bytes in all", MaxTemplateFiles)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.PrepareTemplate(context.Background(), &purser.Template{Config: map[string]any{"files": tt.files, "provision": []any{"true"}}})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *purser.Error
			if !errors.As(err, &pe) || pe.Code != purser.EINVALID || !strings.Contains(fmt.Sprint(pe.Fields), tt.want) {
				t.Fatalf("err %v, want a 422 with %q", err, tt.want)
			}
		})
	}
}
