package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCLIStacks walks `purser stacks` against a real server on a sim
// cluster: the seed's stackfile applied verbatim, read back, planned, a
// change and its diff, the history, a rollback that blocks, a refusal
// that names the faulty path, and a developer kept to reading.
func TestCLIStacks(t *testing.T) { eachStore(t, testCLIStacks) }

func testCLIStacks(t *testing.T, env ...string) {
	url, admin := server(t, append(env, "PURSER_SIM_ROLLOUT_TIME", "100ms")...)
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
	plan := must("stacks", "plan", "staging", "-f", write("seed.yaml", string(seed)))
	for _, want := range []string{"routing-service  create", "user-service     create", "email-worker     create"} {
		if !strings.Contains(plan, want) {
			t.Fatalf("stacks plan lacks %q:\n%s", want, plan)
		}
	}
	out := must("stacks", "apply", "staging", "-f", write("seed.yaml", string(seed)), "--message", "the seed", "--wait")
	for _, want := range []string{"Revision 1 of staging is pending", "revision 1: applying", "user-service", "in_sync", "Revision 1 of staging is applied"} {
		if !strings.Contains(out, want) {
			t.Fatalf("stacks apply --wait lacks %q:\n%s", want, out)
		}
	}
	got := must("stacks", "get", "staging")
	for _, want := range []string{"routing-service:", "user-service:", "email-worker:", "80:80", "service_discovery:"} {
		if !strings.Contains(got, want) {
			t.Fatalf("stacks get lacks %q:\n%s", want, got)
		}
	}
	if plan := must("stacks", "plan", "staging"); strings.Contains(plan, "create") || !strings.Contains(plan, "unchanged") {
		t.Fatalf("the plan of the applied revision is not a no-op:\n%s", plan)
	}
	svc := must("stacks", "services", "staging")
	for _, want := range []string{"routing-service", "in_sync", "latest", "1/1"} {
		if !strings.Contains(svc, want) {
			t.Fatalf("stacks services lacks %q:\n%s", want, svc)
		}
	}
	if strings.Contains(svc, "progressing") {
		t.Fatalf("an applied stack still progresses:\n%s", svc)
	}

	changed := strings.Replace(got, "email-worker:xxx", "email-worker:v2", 1)
	if changed == got {
		t.Fatalf("the seed's email-worker tag is not where the test expects it:\n%s", got)
	}
	code, _, errOut := run("stacks", "apply", "staging", "-f", write("stale.yaml", changed), "--if-match", "0")
	if code != 5 || !strings.Contains(errOut, "412") {
		t.Fatalf("a stale --if-match: exit %d, %s; want 5 and the 412", code, errOut)
	}
	must("stacks", "apply", "staging", "-f", write("v2.yaml", changed), "--if-match", "1", "--message", "email worker v2", "--wait")
	if diff := must("stacks", "diff", "staging"); !strings.Contains(diff, "-") || !strings.Contains(diff, "+") || !strings.Contains(diff, "email-worker:v2") {
		t.Fatalf("stacks diff:\n%s", diff)
	}

	// A tag that fails on sim: the revision fails, says why, and is
	// rolled back to revision 2 by a revision Purser makes.
	code, out, errOut = run("stacks", "set-image", "staging", "user-service", "fail-1", "--wait")
	if code != 1 || !strings.Contains(errOut, "revision 3 of staging failed: service user-service: 0 of") ||
		!strings.Contains(errOut, "revision 4 rolls it back to revision 2") {
		t.Fatalf("a failing rollout: exit %d\n%s%s", code, out, errOut)
	}
	waitStatus(t, url, admin, "staging", 4, "applied")
	if got := must("stacks", "get", "staging"); !strings.Contains(got, "email-worker:v2") || strings.Contains(got, "fail-1") {
		t.Fatalf("the automatic rollback did not restore revision 2:\n%s", got)
	}

	if out := must("stacks", "rollback", "staging", "1", "--wait"); !strings.Contains(out, "Revision 5 of staging restores revision 1.") ||
		!strings.Contains(out, "Revision 5 of staging is applied") {
		t.Fatalf("stacks rollback --wait:\n%s", out)
	}
	hist := must("stacks", "history", "staging")
	for _, want := range []string{"restores 1", "blocked by 5", "rolled_back", "0 of 1 tasks became healthy", "email worker v2", "the seed", "admin", "purser"} {
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

	if out := must("stacks", "set-image", "staging", "user-service", "v7", "--no-deploy"); !strings.Contains(out, "Revision 6 of staging is pending: deploy it with `purser stacks deploy staging`") &&
		!strings.Contains(out, "Revision 6 of staging: set user-service image tag to v7.") {
		t.Fatalf("stacks set-image --no-deploy:\n%s", out)
	}
	if st := revisionStatus(t, url, admin, "staging", 6); st != "pending" {
		t.Fatalf("a held revision is %s", st)
	}
	if out := must("stacks", "deploy", "staging", "--wait"); !strings.Contains(out, "Revision 6 of staging is applied") {
		t.Fatalf("stacks deploy --wait:\n%s", out)
	}
	must("stacks", "scale", "staging", "user-service", "0", "--wait")
	must("stacks", "rm", "staging", "email-worker", "--wait")
	if got := must("stacks", "get", "staging"); !strings.Contains(got, "user-service:v7") || !strings.Contains(got, "desired_count: 0") || strings.Contains(got, "email-worker") {
		t.Fatalf("after set-image, scale 0 and rm:\n%s", got)
	}
	svc = must("stacks", "services", "staging")
	if strings.Contains(svc, "email-worker") || !regexp.MustCompile(`user-service\s+in_sync\s+v7\s+v7\s+0/0`).MatchString(svc) {
		t.Fatalf("the target still runs what was removed, or user-service is not at 0:\n%s", svc)
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

// revisionStatus returns the status of revision n of cluster.
func revisionStatus(t *testing.T, url, token, cluster string, n int) string {
	t.Helper()
	out := mustAs(t, url, token, "stacks", "history", cluster, "-o", "json")
	var l struct {
		Items []struct {
			Number int    `json:"number"`
			Status string `json:"status"`
		} `json:"_items"`
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("stacks history -o json: %v\n%s", err, out)
	}
	for _, r := range l.Items {
		if r.Number == n {
			return r.Status
		}
	}
	return ""
}

// waitStatus waits until revision n of cluster has status want.
func waitStatus(t *testing.T, url, token, cluster string, n int, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := revisionStatus(t, url, token, cluster, n)
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d of %s is %q after 30s, want %s", n, cluster, st, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStackNewerRevisionSupersedes (2 s per service, so that revision 1
// is surely still rolling out when revision 2 lands): a revision proposed while the one
// before it rolls out stops that rollout between services; the newer one
// is applied, once, and the target ends as it says.
func TestStackNewerRevisionSupersedes(t *testing.T) { eachStore(t, testStackNewerRevisionSupersedes) }

func testStackNewerRevisionSupersedes(t *testing.T, env ...string) {
	url, admin := server(t, append(env, "PURSER_SIM_ROLLOUT_TIME", "2s")...)
	must := func(args ...string) string { t.Helper(); return mustAs(t, url, admin, args...) }
	seed := filepath.Join("..", "..", "internal", "stackfile", "testdata", "seed.yaml")
	must("clusters", "add", "busy", "--kind", "sim", "--config", seed) // the seed's POST /clusters {name, config}: revision 1, deployed
	waitStatus(t, url, admin, "busy", 1, "applying")
	must("stacks", "set-image", "busy", "user-service", "v2")
	waitStatus(t, url, admin, "busy", 2, "applied")
	if st := revisionStatus(t, url, admin, "busy", 1); st != "superseded" {
		t.Fatalf("revision 1 is %s, want superseded", st)
	}
	svc := must("stacks", "services", "busy")
	if strings.Count(svc, "in_sync") != 3 || !regexp.MustCompile(`user-service\s+in_sync\s+v2\s+v2\s+1/1`).MatchString(svc) {
		t.Fatalf("after the newer revision:\n%s", svc)
	}
	hist := must("stacks", "history", "busy", "-o", "json")
	if strings.Count(hist, `"status": "applied"`)+strings.Count(hist, `"status":"applied"`) != 1 {
		t.Fatalf("one revision applied, want exactly one:\n%s", hist)
	}
}
