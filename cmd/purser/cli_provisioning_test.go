package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// demoServer runs `purser server --demo` through Main and returns its URL
// and the demo users' tokens, read from what it printed.
func demoServer(t *testing.T) (string, map[string]string) {
	t.Helper()
	t.Setenv("PURSER_DATA_DIR", t.TempDir())
	t.Setenv("PURSER_LISTEN", "127.0.0.1:0")
	t.Setenv("PURSER_LOG_LEVEL", "warn")
	t.Setenv("PURSER_CLI_CONFIG", t.TempDir()+"/cli.yaml")
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	h := hooks{OnListen: func(u, _ string) { ready <- u }}
	go func() { done <- run(ctx, []string{"server", "--demo"}, nil, &out, &bytes.Buffer{}, h) }()
	var url string
	select {
	case url = <-ready:
	case code := <-done:
		cancel()
		t.Fatalf("demo server exited %d", code)
	}
	t.Cleanup(func() { cancel(); <-done })
	tokens := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(\w+)\s+.*?(pst_\S+)$`).FindAllStringSubmatch(out.String(), -1) {
		tokens[m[1]] = m[2]
	}
	if tokens["bbb"] == "" || tokens["jjj"] == "" {
		t.Fatalf("demo printed no tokens:\n%s", out.String())
	}
	return url, tokens
}

type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{} // something was written (at most one pending)
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.signal() <- struct{}{}:
	default:
	}
	return n, err
}

// signal is the channel Write signals on; s.mu is held.
func (s *syncBuffer) signal() chan struct{} {
	if s.wrote == nil {
		s.wrote = make(chan struct{}, 1)
	}
	return s.wrote
}

// written is signalled after each Write.
func (s *syncBuffer) written() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signal()
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestCLIProvisioningOnTheDemo(t *testing.T) {
	url, tok := demoServer(t)
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := cli(t, args...)
		if code != 0 {
			t.Fatalf("purser %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	must("login", "--server", url, "--token", tok["bbb"])
	if out := must("templates", "list"); !strings.Contains(out, "basic-eks-cluster") || !strings.Contains(out, "(simulated)") {
		t.Fatalf("templates list:\n%s", out)
	}
	if out := must("templates", "revisions", "basic-eks-cluster"); !strings.Contains(out, "REVISION") || !strings.Contains(out, "\n1 ") {
		t.Fatalf("templates revisions:\n%s", out)
	}
	out := must("request", "create", "--template", "dev-namespace", "--param", "cpu=1", "--wait")
	m := regexp.MustCompile(`Environment (\w+) is DEPLOYED`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "password") {
		t.Fatalf("--wait did not end with access:\n%s", out)
	}
	id := m[1]
	if out := must("request", "get", id, "--outputs"); !strings.Contains(out, "endpoint") {
		t.Fatalf("outputs:\n%s", out)
	}
	must("request", "extend", id, "--hours", "24", "--reason", "demo day moved")
	code, _, errOut := cli(t, "request", "create", "--template", "basic-eks-cluster", "--param", "cluster_name=BAD_NAME")
	if code != 6 || !strings.Contains(errOut, "resource_parameters.cluster_name") || !strings.Contains(errOut, "pattern") {
		t.Fatalf("bad parameter: %d %q", code, errOut)
	}
	eks := regexp.MustCompile(`\b([0-9a-f]{24})\b`).FindString(must("request", "create", "--template", "basic-eks-cluster", "--param", "cluster_name=demo"))
	// The demo's namespace runs on sim: its kubeconfig can be tried, and
	// says it is simulated; a request with no environment says why it has none.
	code, kc, errOut := cli(t, "request", "kubeconfig", id)
	if code != 0 || !strings.Contains(kc, "server: https://sim.invalid") || !strings.Contains(kc, "current-context: purser-simulated") ||
		!strings.Contains(errOut, "simulated") {
		t.Fatalf("request kubeconfig: %d\n%s%s", code, kc, errOut)
	}
	if code, _, errOut := cli(t, "request", "kubeconfig", eks); code == 0 || !strings.Contains(errOut, "is REQUESTED") || !strings.Contains(errOut, "not provisioned yet") {
		t.Fatalf("kubeconfig of a pending request: %d %s", code, errOut)
	}
	if out := must("inbox"); !strings.Contains(out, "Environment ready") {
		t.Fatalf("inbox:\n%s", out)
	}

	must("login", "--server", url, "--token", tok["jjj"])
	if out := must("request", "list", "--where", `{"status":"REQUESTED"}`); !strings.Contains(out, eks) {
		t.Fatalf("pending list lacks %s:\n%s", eks, out)
	}
	if out := must("request", "get", eks); !strings.Contains(out, "QUOTA") || !strings.Contains(out, "cores") {
		t.Fatalf("a pending request does not show the quota fit:\n%s", out)
	}
	must("request", "approve", eks, "--comment", "ok")
	ext := regexp.MustCompile(`\b([0-9a-f]{24})\b`).FindString(must("request", "extensions", "list", "--where", `{"status":"REQUESTED"}`))
	if out := must("request", "extensions", "approve", ext); !strings.Contains(out, "APPROVED") {
		t.Fatalf("extension approve: %s", out)
	}
	if out := must("quotas", "usage"); !strings.Contains(out, "bbb") || !strings.Contains(out, "[") {
		t.Fatalf("usage:\n%s", out)
	}
	must("quotas", "list")
	if out := must("events"); !strings.Contains(out, "request.approve") {
		t.Fatalf("events:\n%s", out)
	}
	if out := must("request", "history", id); !strings.Contains(out, "REQUESTED -> APPROVED") {
		t.Fatalf("history:\n%s", out)
	}
	if out := must("request", "purge", id, "--yes"); !strings.Contains(out, "PURGE_INITIATED") {
		t.Fatalf("purge:\n%s", out)
	}
}
