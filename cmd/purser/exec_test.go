package main

import (
	"context"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/purserhq/purser/client"
)

// TestExecTemplateEndToEnd drives a template whose commands are shell
// scripts from REQUESTED to DEPLOYED to PURGED through the real server and
// CLI, following its logs live and reading its outputs as the owner.
func TestExecTemplateEndToEnd(t *testing.T) {
	buckets := t.TempDir()
	// The run-as user writes the buckets.
	if err := os.Chmod(filepath.Dir(buckets), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(buckets, 0o777); err != nil {
		t.Fatal(err)
	}
	// Commands see only the environment exec.env gives them, ${VAR}s expanded.
	t.Setenv("PURSER_BUCKET_ROOT", "/the/server/environment/does/not/reach/commands")
	t.Setenv("TEST_BUCKETS", buckets)
	conf := filepath.Join(t.TempDir(), "purser.yaml")
	if err := os.WriteFile(conf, []byte("exec:\n  env:\n    PURSER_BUCKET_ROOT: ${TEST_BUCKETS}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, token := serverWith(t, []string{"server", "--config", conf})
	ctx := context.Background()
	admin := client.New(url, token)
	dev, _ := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	other, _ := admin.CreateUser(ctx, client.UserCreate{Username: "other", Roles: []string{"dev"}})
	otherTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "other", User: other.ID})

	as := func(tok string, args ...string) (int, string, string) { return asUser(t, url, tok, args...) }
	must := func(tok string, args ...string) string { t.Helper(); return mustAs(t, url, tok, args...) }
	must(token, "templates", "create", "-f", filepath.Join("..", "..", "examples", "templates", "local-bucket.yaml"))
	out := must(devTok.Token, "request", "create", "--template", "local-bucket", "--param", "bucket=team-data")
	id := regexp.MustCompile(`\b[0-9a-f]{24}\b`).FindString(out)
	must(token, "request", "approve", id)

	// Follow the logs live while the script runs, until it is DEPLOYED.
	code, logs, errOut := as(devTok.Token, "request", "logs", id, "-f")
	if code != 0 || !strings.Contains(errOut, "request is DEPLOYED") {
		t.Fatalf("logs -f: %d\n%s%s", code, logs, errOut)
	}
	for _, want := range []string{"creating bucket team-data", `"bucket": "team-data"`, "bucket ready", "access key is [redacted]"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("followed logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "local-access-key-do-not-log") {
		t.Fatalf("the secret parameter reached the log:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(buckets, "team-data", ".policy.json")); err != nil {
		t.Fatalf("the script made no bucket: %v", err)
	}
	outs := must(devTok.Token, "request", "get", id, "--outputs")
	if !strings.Contains(outs, "file://"+buckets+"/team-data") || !strings.Contains(outs, "local-access-key-do-not-log") {
		t.Fatalf("outputs for the owner:\n%s", outs)
	}
	if code, _, errOut := as(otherTok.Token, "request", "get", id, "--outputs"); code == 0 || !strings.Contains(errOut, "403") {
		t.Fatalf("another developer read the outputs: %d %s", code, errOut)
	}

	must(devTok.Token, "request", "purge", id, "--yes")
	code, logs, errOut = as(devTok.Token, "request", "logs", id, "-f")
	if code != 0 || !strings.Contains(errOut, "request is PURGED") || !strings.Contains(logs, "bucket deleted") {
		t.Fatalf("purge logs: %d\n%s%s", code, logs, errOut)
	}
	if _, err := os.Stat(filepath.Join(buckets, "team-data")); !os.IsNotExist(err) {
		t.Fatalf("the bucket is still there after the purge: %v", err)
	}
	if os.Geteuid() == 0 {
		// The run-as user passes through the data directory and sees nothing there.
		dataDir := os.Getenv("PURSER_DATA_DIR")
		paths, _ := filepath.Glob(filepath.Join(dataDir, "*"))
		for _, p := range append(paths, dataDir) {
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			want := fs.FileMode(0)
			if p == dataDir || filepath.Base(p) == "exec" {
				want = 0o011
			}
			if fi.Mode().Perm()&0o077 != want {
				t.Errorf("%s is mode %o, want %o for group and others", p, fi.Mode().Perm(), want)
			}
		}
	}
}

func TestExecDisabledAsRootWithoutRunAs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only a server running as root refuses to run commands as itself")
	}
	url, token := server(t, "PURSER_EXEC_RUN_AS", "")
	_, err := client.New(url, token).CreateTemplate(context.Background(), map[string]any{"_id": "x", "name": "X", "driver": "exec",
		"config": map[string]any{"provision": "true"}})
	if err == nil || !strings.Contains(err.Error(), "the exec driver is disabled: the server runs as root and exec.run_as is not set") {
		t.Fatalf("an exec template on a root server without run_as: %v", err)
	}
}

// execRunAs makes a test server running as root run exec commands as
// purser-exec (made by tools/test-user.sh), and lets that user reach its
// work directory in dataDir, whose parent t.TempDir makes 0700.
func execRunAs(t *testing.T, dataDir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	if _, err := user.Lookup("purser-exec"); err != nil {
		t.Fatal("the tests run as root, so exec commands run as the user purser-exec, which does not exist: run tools/test-user.sh")
	}
	if err := os.Chmod(filepath.Dir(dataDir), 0o711); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PURSER_EXEC_RUN_AS", "purser-exec")
}

func TestExecConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	load := func(yaml string, environ ...string) (Config, error) {
		p := filepath.Join(dir, "purser.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(p, environ)
	}
	c, err := load("data_dir: data\nexec:\n  run_as: \"1234:5678\"\n  env:\n    AWS_PROFILE: ${PROFILE}\n    PATH: /opt/bin:/usr/bin\n",
		"PROFILE=sandbox", "PURSER_EXEC_ENV_PATH=/usr/bin")
	if err != nil {
		t.Fatal(err)
	}
	want := ExecConfig{Concurrency: 2, RunAs: "1234:5678", WorkDir: filepath.Join(dir, "data", "exec"),
		Env: map[string]string{"AWS_PROFILE": "sandbox", "PATH": "/usr/bin"}}
	if diff := cmp.Diff(want, c.Exec); diff != "" {
		t.Fatalf("exec config (-want +got):\n%s", diff)
	}
	if r := c.Redacted().Exec.Env; r["AWS_PROFILE"] != "[redacted]" || c.Exec.Env["AWS_PROFILE"] != "sandbox" {
		t.Fatalf("redacted env %v, config's %v", r, c.Exec.Env)
	}
	if c, err = load("exec:\n  work_dir: work\n"); err != nil || c.Exec.WorkDir != filepath.Join(dir, "work") {
		t.Fatalf("a relative work_dir: %q %v", c.Exec.WorkDir, err)
	}
	if _, err = load("exec:\n  env:\n    TOKEN: ${NOT_SET}\n"); err == nil || !strings.Contains(err.Error(), "exec.env.TOKEN refers to unset environment variable NOT_SET") {
		t.Fatalf("an unset variable: %v", err)
	}
}

func TestServerSecretsAreRedacted(t *testing.T) {
	cfg := Config{BootstrapToken: "pst_bootstrap", SecretKey: "a2V5", SecretKeyPrevious: "b2xk, b2xkZXI=",
		Database: "postgres://u:p%40ss@db/purser", SMTP: SMTPConfig{Password: "smtp-pass"}}
	got := strings.Join(serverSecrets(cfg, []byte("key")), " ")
	for _, want := range []string{"pst_bootstrap", "a2V5", "b2xk", "b2xkZXI=", "p@ss", "p%40ss", "smtp-pass", "a2V5"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q is not among the secrets to redact: %s", want, got)
		}
	}
}

// TestExecExampleOnTheDefaultDataDir runs the README's exec example on a
// server started, as the README starts it, with the relative default data
// directory: the bucket is made; and a bucket that cannot be made shows,
// in `request get`, the last lines the script wrote, not the script.
func TestExecExampleOnTheDefaultDataDir(t *testing.T) {
	example, err := filepath.Abs(filepath.Join("..", "..", "examples", "templates", "local-bucket.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	for _, p := range []string{filepath.Dir(cwd), cwd} {
		if err := os.Chmod(p, 0o711); err != nil { // the run-as user passes through
			t.Fatal(err)
		}
	}
	t.Chdir(cwd)
	buckets := filepath.Join(cwd, "buckets")
	if err := os.Mkdir(buckets, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(buckets, 0o777); err != nil { // whatever the umask
		t.Fatal(err)
	}
	// A file where the bucket's directory should go: mkdir fails.
	if err := os.WriteFile(filepath.Join(buckets, "taken"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("purser.yaml", []byte("exec:\n  env:\n    PURSER_BUCKET_ROOT: "+buckets+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, token := serverWith(t, []string{"server", "--config", "purser.yaml"}, "PURSER_DATA_DIR", "./purser-data") // the default, as given
	if _, err := os.Stat(filepath.Join(cwd, "purser-data", "purser.db")); err != nil {
		t.Fatalf("the server did not use the default ./purser-data: %v", err)
	}
	ctx := context.Background()
	admin := client.New(url, token)
	dev, _ := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	as := func(tok string, args ...string) (int, string, string) { return asUser(t, url, tok, args...) }
	must := func(tok string, args ...string) string { t.Helper(); return mustAs(t, url, tok, args...) }
	must(token, "templates", "create", "-f", example)
	ok := regexp.MustCompile(`\b[0-9a-f]{24}\b`).FindString(must(devTok.Token, "request", "create", "--template", "local-bucket", "--param", "bucket=team-data"))
	bad := regexp.MustCompile(`\b[0-9a-f]{24}\b`).FindString(must(devTok.Token, "request", "create", "--template", "local-bucket", "--param", "bucket=taken"))
	must(token, "request", "approve", ok)
	must(token, "request", "approve", bad)
	if code, _, errOut := as(devTok.Token, "request", "logs", ok, "-f"); code != 0 || !strings.Contains(errOut, "request is DEPLOYED") {
		t.Fatalf("the README's example did not deploy on ./purser-data: %d %s", code, errOut)
	}

	dc := client.New(url, devTok.Token)
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := dc.GetRequest(ctx, bad)
		if err != nil {
			t.Fatal(err)
		}
		if r.LastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no last_error after a minute: %+v", r)
		}
		<-time.After(50 * time.Millisecond) // polling the API, as a user would
	}
	out := must(devTok.Token, "request", "get", bad)
	// The script's stdout and stderr lines may come in either order.
	want := "LAST ERROR:      /bin/sh failed (exit status 1); last output:\n"
	if !strings.Contains(out, want) || !strings.Contains(out, "\ncreating bucket taken in "+buckets+"\n") ||
		!strings.Contains(out, "\nmkdir: cannot create directory '"+buckets+"/taken': File exists\n") || strings.Contains(out, "set -eu") {
		t.Fatalf("request get does not show the script's last lines:\n%s\nwant %q, then its two lines", out, want)
	}
	if logs := must(devTok.Token, "request", "logs", bad); !strings.Contains(logs, "provision failed: /bin/sh failed (exit status 1); last output above") {
		t.Fatalf("the job log's failure line:\n%s", logs)
	}
}
