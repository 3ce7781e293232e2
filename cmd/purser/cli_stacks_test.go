package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIStacks walks `purser stacks` against a real server on a sim
// cluster: the seed's stackfile applied verbatim, read back, planned, a
// change and its diff, the history, a rollback that blocks, a refusal
// that names the faulty path, and a developer kept to reading.
func TestCLIStacks(t *testing.T) { eachStore(t, testCLIStacks) }

func testCLIStacks(t *testing.T, env ...string) {
	url, admin := server(t, env...)
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return asUser(t, url, admin, args...)
	}
	must := func(args ...string) string { t.Helper(); return mustAs(t, url, admin, args...) }
	seed, err := os.ReadFile(filepath.Join("..", "..", "internal", "stackfile", "testdata", "seed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	must("clusters", "add", "staging", "--kind", "sim")
	if out := must("stacks", "apply", "staging", "-f", write("seed.yaml", string(seed)), "--message", "the seed"); !strings.Contains(out, "Revision 1 of staging is pending") {
		t.Fatalf("stacks apply:\n%s", out)
	}
	got := must("stacks", "get", "staging")
	for _, want := range []string{"routing-service:", "user-service:", "email-worker:", "80:80", "service_discovery:"} {
		if !strings.Contains(got, want) {
			t.Fatalf("stacks get lacks %q:\n%s", want, got)
		}
	}
	plan := must("stacks", "plan", "staging")
	for _, want := range []string{"routing-service  create", "user-service     create", "email-worker     create"} {
		if !strings.Contains(plan, want) {
			t.Fatalf("stacks plan lacks %q:\n%s", want, plan)
		}
	}

	changed := strings.Replace(got, "email-worker:xxx", "email-worker:v2", 1)
	if changed == got {
		t.Fatalf("the seed's email-worker tag is not where the test expects it:\n%s", got)
	}
	code, _, errOut := run("stacks", "apply", "staging", "-f", write("stale.yaml", changed), "--if-match", "0")
	if code != 5 || !strings.Contains(errOut, "412") {
		t.Fatalf("a stale --if-match: exit %d, %s; want 5 and the 412", code, errOut)
	}
	must("stacks", "apply", "staging", "-f", write("v2.yaml", changed), "--if-match", "1", "--message", "email worker v2")
	if diff := must("stacks", "diff", "staging"); !strings.Contains(diff, "-") || !strings.Contains(diff, "+") || !strings.Contains(diff, "email-worker:v2") {
		t.Fatalf("stacks diff:\n%s", diff)
	}
	if out := must("stacks", "rollback", "staging", "1"); !strings.Contains(out, "Revision 3 of staging restores revision 1.") {
		t.Fatalf("stacks rollback:\n%s", out)
	}
	hist := must("stacks", "history", "staging")
	for _, want := range []string{"restores 1", "blocked by 3", "email worker v2", "the seed", "admin"} {
		if !strings.Contains(hist, want) {
			t.Fatalf("stacks history lacks %q:\n%s", want, hist)
		}
	}

	code, _, errOut = run("stacks", "apply", "staging", "-f", write("bad.yaml", "services:\n  - web:\n      image: nginx\n      ports: [\"http\"]\n"))
	if code != 6 || !strings.Contains(errOut, "services[0].web.ports[0]") {
		t.Fatalf("a bad stackfile: exit %d, %s; want 6 naming services[0].web.ports[0]", code, errOut)
	}
	code, _, errOut = run("stacks", "rollback", "staging", "two")
	if code != 2 || !strings.Contains(errOut, "revision number") {
		t.Fatalf("stacks rollback staging two: exit %d, %s", code, errOut)
	}

	svc := must("stacks", "services", "staging")
	for _, want := range []string{"routing-service", "progressing", "latest", "0/1"} {
		if !strings.Contains(svc, want) {
			t.Fatalf("stacks services lacks %q:\n%s", want, svc)
		}
	}
	if out := must("stacks", "set-image", "staging", "user-service", "v7"); !strings.Contains(out, "Revision 4 of staging: set user-service image tag to v7.") {
		t.Fatalf("stacks set-image:\n%s", out)
	}
	if out := must("stacks", "scale", "staging", "user-service", "0"); !strings.Contains(out, "Revision 5 of staging") {
		t.Fatalf("stacks scale to 0:\n%s", out)
	}
	if out := must("stacks", "rm", "staging", "email-worker"); !strings.Contains(out, "Revision 6 of staging") {
		t.Fatalf("stacks rm:\n%s", out)
	}
	if got := must("stacks", "get", "staging"); !strings.Contains(got, "user-service:v7") || !strings.Contains(got, "desired_count: 0") || strings.Contains(got, "email-worker") {
		t.Fatalf("after set-image, scale 0 and rm:\n%s", got)
	}
	if code, _, errOut := run("stacks", "scale", "staging", "user-service", "-1"); code != 2 {
		t.Fatalf("stacks scale -1: exit %d, %s; want 2", code, errOut)
	}
	if code, _, errOut := run("stacks", "rm", "staging", "nope"); code != 3 {
		t.Fatalf("stacks rm of an unknown service: exit %d, %s; want 3", code, errOut)
	}

	must("users", "create", "dora", "--role", "dev")
	dev := regexp.MustCompile(`pst_\S+`).FindString(must("tokens", "create", "dora's", "--user", "dora"))
	if code, out, errOut := asUser(t, url, dev, "stacks", "get", "staging"); code != 0 || !strings.Contains(out, "routing-service:") {
		t.Fatalf("a developer reads the stack: exit %d %s%s", code, out, errOut)
	}
	if code, _, errOut := asUser(t, url, dev, "stacks", "rollback", "staging", "2"); code != 4 {
		t.Fatalf("a developer rolls back: exit %d, %s; want 4", code, errOut)
	}
}
