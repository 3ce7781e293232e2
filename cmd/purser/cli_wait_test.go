package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The CLI's --wait, run through Main against a real server (issue 10,
// item 7).

// startOn is startMain listening on addr, so that a restart can keep the
// address a waiting client uses.
func startOn(t *testing.T, dir, addr string, args ...string) (out *syncBuffer, stop func()) {
	t.Helper()
	_, out, stop = startMainOn(t, dir, addr, args...)
	return out, stop
}

func demoTokens(t *testing.T, out string) map[string]string {
	t.Helper()
	tokens := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(\w+)\s+.*?(pst_\S+)$`).FindAllStringSubmatch(out, -1) {
		tokens[m[1]] = m[2]
	}
	if tokens["bbb"] == "" || tokens["jjj"] == "" {
		t.Fatalf("demo printed no tokens:\n%s", out)
	}
	return tokens
}

// asUser runs the CLI with an explicit server and token (no saved login,
// so that commands may run concurrently).
func asUser(t *testing.T, url, token string, args ...string) (int, string, string) {
	t.Helper()
	return cli(t, append(args, "--server", url, "--token", token)...)
}

// mustAs is asUser for a command that must succeed: it returns its output.
func mustAs(t *testing.T, url, token string, args ...string) string {
	t.Helper()
	code, out, errOut := asUser(t, url, token, args...)
	if code != 0 {
		t.Fatalf("purser %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func writeTemplate(t *testing.T, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const twoApproversTemplate = `_id: two-step
name: Two-step namespace (simulated)
driver: sim
resource_type: KUBERNETES
ttl_default_hours: 8
footprint:
  cost_per_hour: 0.01
approval:
  mode: manual
  approvers: 2
`

const flakyTemplate = `_id: flaky
name: Flaky namespace (simulated)
driver: sim
resource_type: KUBERNETES
ttl_default_hours: 8
footprint:
  cost_per_hour: 0.01
approval:
  mode: auto
  auto_max:
    cores: 4
    memory: 8
    cost_per_hour: 1
config:
  failure_rate: 1
`

// TestWaitSaysWhatItWaitsFor: --wait names the review it waits for and
// each failed attempt, and --timeout ends with its own exit code.
func TestWaitSaysWhatItWaitsFor(t *testing.T) {
	t.Setenv("PURSER_WORKERS_RETRY_BASE", "200ms")
	t.Setenv("PURSER_WORKERS_MAX_ATTEMPTS", "3")
	t.Setenv("PURSER_CLI_CONFIG", filepath.Join(t.TempDir(), "cli.yaml"))
	url, tok := demoServer(t)
	for _, doc := range []string{twoApproversTemplate, flakyTemplate} {
		if code, out, errOut := asUser(t, url, tok["jjj"], "templates", "create", "-f", writeTemplate(t, doc)); code != 0 {
			t.Fatalf("templates create: %d %s%s", code, out, errOut)
		}
	}

	start := time.Now()
	code, _, errOut := asUser(t, url, tok["bbb"], "requests", "create", "--template", "two-step", "--wait", "--timeout", "2s")
	if code != 8 {
		t.Fatalf("--wait --timeout 2s on a request waiting for review: exit %d, want 8: %s", code, errOut)
	}
	for _, want := range []string{"waiting for review by DevOps", "2 approvers needed", "gave up waiting after 2s; the request goes on"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("--wait said nothing like %q:\n%s", want, errOut)
		}
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("--timeout 2s returned after %s", d)
	}

	code, _, errOut = asUser(t, url, tok["bbb"], "requests", "create", "--template", "flaky", "--wait", "--timeout", "2m")
	if code != 1 {
		t.Fatalf("--wait on a request failing every attempt: exit %d, want 1: %s", code, errOut)
	}
	for _, want := range []string{"attempt 1 of 3 failed: ", "attempt 2 of 3 failed: ", "attempt 3 of 3 failed: ", "ended FAILED"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("--wait did not report %q:\n%s", want, errOut)
		}
	}
}

// TestWaitSurvivesRestart: a --wait started before the server stops
// reconnects once it is back and follows the request to DEPLOYED.
func TestWaitSurvivesRestart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	t.Setenv("PURSER_CLI_CONFIG", filepath.Join(t.TempDir(), "cli.yaml"))
	out, stop := startOn(t, dir, addr, "server", "--demo")
	tok := demoTokens(t, out.String())
	url := "http://" + addr

	type result struct {
		code        int
		out, errOut string
	}
	waited := make(chan result, 1)
	errBuf := &syncBuffer{}
	go func() {
		var o bytes.Buffer
		code := Main(context.Background(), []string{"requests", "create", "--template", "basic-eks-cluster", "--param", "cluster_name=restart",
			"--wait", "--timeout", "2m", "--server", url, "--token", tok["bbb"]}, strings.NewReader(""), &o, errBuf)
		waited <- result{code, o.String(), errBuf.String()}
	}()
	waitFor(t, errBuf, "waiting for review by DevOps")
	stop()
	waitFor(t, errBuf, "lost the server")
	startOn(t, dir, addr, "server")
	id := regexp.MustCompile(`Request (\w+) submitted`).FindStringSubmatch(errBuf.String())
	if id == nil {
		t.Fatalf("--wait did not name the request:\n%s", errBuf.String())
	}
	if code, o, e := asUser(t, url, tok["jjj"], "requests", "approve", id[1]); code != 0 {
		t.Fatalf("approve after restart: %d %s%s", code, o, e)
	}
	select {
	case r := <-waited:
		if r.code != 0 || !strings.Contains(r.out, "is DEPLOYED") || !strings.Contains(r.errOut, "reconnected") {
			t.Fatalf("--wait across a restart: exit %d\n%s\n%s", r.code, r.out, r.errOut)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("--wait never ended:\n%s", errBuf.String())
	}
}

// waitFor waits until b holds s.
func waitFor(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(b.String(), s) {
		select {
		case <-b.written():
		case <-deadline:
			t.Fatalf("never saw %q:\n%s", s, b.String())
		}
	}
}
