package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/purserhq/purser/client"
)

// hookScript is a pool's hooks as a shell script: join makes the file
// nodes/HOST, leave removes it, reboot makes rebooted-HOST; a file
// fail-join-HOST or fail-leave-HOST makes that hook exit 3, and a file
// hang-join-HOST makes it sleep (until its agent kills it). It prints its
// arguments and its environment, for the run's log.
const hookScript = `#!/bin/sh
dir=$(dirname "$0")
kind=$1 host=$2 pool=$3 server=$4
echo "$kind $host in $pool at $server"
echo "env: $(env | sort | tr '\n' ' ')"
if [ -e "$dir/fail-$kind-$host" ]; then echo "told to fail" >&2; exit 3; fi
if [ -e "$dir/hang-$kind-$host" ]; then sleep 60; fi
case $kind in
join) touch "$dir/nodes/$host" ;;
leave) rm -f "$dir/nodes/$host" ;;
reboot) touch "$dir/rebooted-$host" ;;
esac
`

// hookDir is a directory the hooks' user (purser-exec when the tests run
// as root) may write, holding hookScript as hook.sh.
func hookDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_ = os.Chmod(filepath.Dir(dir), 0o711)
	if err := os.MkdirAll(filepath.Join(dir, "nodes"), 0o777); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Join(dir, "nodes")} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(script, []byte(hookScript), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(script, 0o755); err != nil { // the server's umask is 077
		t.Fatal(err)
	}
	return dir
}

// nodeFiles lists the hosts whose join hook made their file, and whose
// leave hook did not remove it.
func nodeFiles(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, "nodes"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func hookArg(dir, kind string) string {
	b, _ := json.Marshal([]string{"/bin/sh", filepath.Join(dir, "hook.sh"), kind, "{{ host }}", "{{ pool }}", "{{ server }}"})
	return string(b)
}

// TestPoolHooks: the agents run their pool's hooks as hosts join and
// leave, under the exec rules, with their output as the run's log; a
// member is joined only once its join hook succeeded; a failed join
// makes the pool place another host by best fit and queues the leave hook
// on the failed host to clean up; a join never claimed fails at
// pools.join_timeout; a join whose agent restarts while it runs fails at
// once; a failed leave leaves a destroyed pool
// DESTROY_FAILED naming the host, under maintenance.
func TestPoolHooks(t *testing.T) { eachStore(t, testPoolHooks) }

func testPoolHooks(t *testing.T, env ...string) {
	t.Setenv("PURSER_TEST_AGENT_SECRET", "must-not-leak")
	url, admin := server(t, append(env, "PURSER_POOLS_SUSPECT_AFTER", "2s", "PURSER_POOLS_UNHEALTHY_AFTER", "60s",
		"PURSER_POOLS_SWEEP_EVERY", "200ms", "PURSER_POOLS_JOIN_TIMEOUT", "4s")...)
	ctx := context.Background()
	c := client.New(url, admin)
	must := func(args ...string) string { t.Helper(); return mustAs(t, url, admin, args...) }
	dir := hookDir(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n" +
		"users: [{name: k, user: {token: t}}]\ncontexts: [{name: k, context: {cluster: k, user: k}}]\ncurrent-context: k\n"
	if err := os.WriteFile(kc, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	must("clusters", "add", "k", "--kubeconfig", kc)
	must("clusters", "create", "s", "--kind", "sim")

	var tok client.NewJoinToken
	if err := json.Unmarshal([]byte(must("join-tokens", "create", "--reusable", "-o", "json")), &tok); err != nil {
		t.Fatal(err)
	}
	agents := map[string]*agent{}
	for _, n := range []string{"n1", "n2", "n3", "n4", "n5"} {
		agents[n] = startAgent(t, url, tok.Token, n, "--cores", "8", "--memory", "32GiB")
	}
	eventually(t, "five hosts registered", func() bool {
		l, err := c.ListHosts(ctx, client.ListOptions{Where: `{"state":"READY"}`})
		return err == nil && len(l.Items) == 5
	})
	host := func(name string) *client.Host {
		h, err := c.GetHost(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	// The cluster must exist and be of kind kubernetes.
	for cl, want := range map[string]string{"nope": "cluster: no cluster nope is registered", "s": "cluster: cluster s is of kind sim"} {
		code, out, errOut := asUser(t, url, admin, "pools", "create", "web", "--cores", "16", "--cluster", cl)
		if code == 0 || !strings.Contains(out+errOut, want) {
			t.Fatalf("--cluster %s: %d %s%s", cl, code, out, errOut)
		}
	}
	code, out, errOut := asUser(t, url, admin, "pools", "create", "web", "--cores", "16", "--join-hook", `["/bin/x", "{{ secret }}"]`)
	if code == 0 || !strings.Contains(out+errOut, "hooks.join[1]") {
		t.Fatalf("an unknown placeholder: %d %s%s", code, out, errOut)
	}

	must("pools", "create", "web", "--cores", "16", "--memory", "64GiB", "--spares", "1", "--cluster", "k",
		"--join-hook", hookArg(dir, "join"), "--leave-hook", hookArg(dir, "leave"))
	eventually(t, "n1 and n2 joined", func() bool { return nodeFiles(t, dir) == "n1,n2" && host("n1").Joined && host("n2").Joined })
	if h := host("n3"); !h.Spare || h.Joined {
		t.Fatalf("the spare ran its join hook: %+v", h)
	}
	if out := must("pools", "get", "web"); !strings.Contains(out, "k ") || !regexp.MustCompile(`member\s+n1`).MatchString(out) || !strings.Contains(out, "join hook:") {
		t.Fatalf("pools get:\n%s", out)
	}
	var runs client.List[client.HookRun]
	if err := json.Unmarshal([]byte(must("hosts", "runs", "n1", "-o", "json")), &runs); err != nil || len(runs.Items) != 1 {
		t.Fatalf("runs of n1: %v %+v", err, runs)
	}
	if r := runs.Items[0]; r.Kind != "join" || r.State != "SUCCEEDED" || r.Argv[3] != "n1" || r.Argv[5] != "https://127.0.0.1:1" {
		t.Fatalf("n1's join run: %+v", r)
	}
	log := must("hosts", "run-log", "n1", runs.Items[0].ID)
	if !strings.Contains(log, "stdout join n1 in web at https://127.0.0.1:1") || !strings.Contains(log, "PURSER_HOOK=join") {
		t.Fatalf("the join run's log:\n%s", log)
	}
	if strings.Contains(log, "must-not-leak") || strings.Contains(log, "PURSER_TEST") {
		t.Fatalf("the agent's environment reached the hook:\n%s", log)
	}
	if os.Geteuid() == 0 && !strings.Contains(log, "HOME=") {
		t.Fatalf("no HOME in the hook's environment:\n%s", log)
	}
	// Another host's agent sees nothing of n1's runs.
	spy, err := client.New(url, "").RegisterHost(ctx, client.HostRegistration{JoinToken: tok.Token, Name: "spy", Cores: 1, Memory: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	sc := client.New(url, spy.Credential)
	if _, err := sc.ClaimHookRuns(ctx, "n1"); client.StatusCode(err) != 403 {
		t.Fatalf("another agent claims n1's runs: %v", err)
	}
	if _, err := sc.HookRunLogs(ctx, "n1", runs.Items[0].ID, 0); client.StatusCode(err) != 403 {
		t.Fatalf("another agent reads n1's log: %v", err)
	}
	if _, err := sc.FinishHookRun(ctx, "n1", runs.Items[0].ID, client.HookRunFinish{}); client.StatusCode(err) != 403 {
		t.Fatalf("another agent reports n1's run: %v", err)
	}
	if _, err := c.ClaimHookRuns(ctx, "n1"); client.StatusCode(err) != 403 {
		t.Fatalf("an admin claims n1's runs: %v", err)
	}
	if _, err := c.RetireHost(ctx, "spy"); err != nil {
		t.Fatal(err)
	}

	// Growing: best fit takes n4, whose join fails; n5 is placed instead.
	if err := os.WriteFile(filepath.Join(dir, "fail-join-n4"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	must("pools", "resize", "web", "--cores", "24", "--memory", "96GiB")
	eventually(t, "n5 joined in n4's place", func() bool { return nodeFiles(t, dir) == "n1,n2,n5" && host("n5").Joined })
	if h := host("n4"); h.Pool != "" || h.State != "READY" || !strings.Contains(h.Reason, "join failed: join hook exited 3") {
		t.Fatalf("n4 after its failed join: %+v", h)
	}
	eventually(t, "admins told of the failed join", func() bool {
		l, err := c.Inbox(ctx, false, client.ListOptions{Where: `{"event":"pool.join_failed"}`})
		return err == nil && len(l.Items) == 1 && strings.Contains(l.Items[0].Description, "n5 joins in its place")
	})

	// The failed join may have half joined: n4's agent runs the leave hook.
	hookRuns := func(name string) []client.HookRun {
		var runs client.List[client.HookRun]
		if err := json.Unmarshal([]byte(must("hosts", "runs", name, "-o", "json")), &runs); err != nil {
			t.Fatal(err)
		}
		return runs.Items
	}
	eventually(t, "n4 cleaned up by its leave hook", func() bool {
		runs := hookRuns("n4")
		return len(runs) == 2 && runs[0].Kind == "join" && runs[0].State == "FAILED" && runs[1].Kind == "leave" && runs[1].State == "SUCCEEDED"
	})

	// A join never claimed (the agent is gone) fails at the join timeout;
	// it never started, so no leave is queued.
	agents["n4"].stop()
	must("pools", "add-node", "web", "n4")
	eventually(t, "n4's join timed out", func() bool { h := host("n4"); return h.Pool == "" && strings.Contains(h.Reason, "pools.join_timeout") })
	if runs := hookRuns("n4"); len(runs) != 3 {
		t.Fatalf("n4's runs after a join that never started: %+v", runs)
	}

	// A join running when its agent restarts fails at once, not at the
	// timeout: the new agent runs the cleanup leave.
	if err := os.Remove(filepath.Join(dir, "fail-join-n4")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hang-join-n4"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	agents["n4"] = startAgent(t, url, tok.Token, "n4", "--cores", "8", "--memory", "32GiB")
	eventually(t, "n4 back", func() bool { return host("n4").State == "READY" })
	must("pools", "add-node", "web", "n4")
	var last []client.HookRun
	defer func() {
		if t.Failed() {
			for _, r := range last {
				t.Logf("run %s %s %s %q", r.ID, r.Kind, r.State, r.Error)
			}
		}
	}()
	eventually(t, "n4's join runs", func() bool { last = hookRuns("n4"); return len(last) == 4 && last[3].State == "RUNNING" })
	agents["n4"].stop()
	agents["n4"] = startAgent(t, url, tok.Token, "n4", "--cores", "8", "--memory", "32GiB")
	eventually(t, "n4's join failed as its agent restarted, and it cleaned up", func() bool {
		runs := hookRuns("n4")
		return len(runs) == 5 && runs[3].State == "FAILED" && runs[3].Error == "the agent restarted while it ran" &&
			runs[4].Kind == "leave" && runs[4].State == "SUCCEEDED"
	})
	if h := host("n4"); h.Pool != "" || !strings.Contains(h.Reason, "the agent restarted while it ran") {
		t.Fatalf("n4 after its agent restarted mid-join: %+v", h)
	}
	_ = os.Remove(filepath.Join(dir, "hang-join-n4"))

	// Shrinking runs the leave hook of the member that leaves.
	must("pools", "resize", "web", "--cores", "16", "--memory", "64GiB", "--yes")
	eventually(t, "one member left", func() bool { return strings.Count(nodeFiles(t, dir), ",") == 1 })

	// Hooks change; a reboot runs the new reboot hook.
	must("pools", "hooks", "web", "--join-hook", hookArg(dir, "join"), "--leave-hook", hookArg(dir, "leave"), "--reboot-hook", hookArg(dir, "reboot"))
	member := strings.Split(nodeFiles(t, dir), ",")[0]
	must("hosts", "reboot", member)
	eventually(t, "rebooted", func() bool { _, err := os.Stat(filepath.Join(dir, "rebooted-"+member)); return err == nil })

	// Destroy: one leave fails, the pool is DESTROY_FAILED naming it.
	members := strings.Split(nodeFiles(t, dir), ",")
	if err := os.WriteFile(filepath.Join(dir, "fail-leave-"+members[1]), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = asUser(t, url, admin, "pools", "destroy", "web", "--yes")
	if code != 0 || !strings.Contains(out, "is being destroyed") {
		t.Fatalf("destroy with leave hooks: %d %s%s", code, out, errOut)
	}
	eventually(t, "DESTROY_FAILED naming "+members[1], func() bool {
		p, err := c.GetPool(ctx, "web")
		return err == nil && p.State == "DESTROY_FAILED" && strings.Contains(p.Status, members[1]+" did not leave (leave hook exited 3)")
	})
	if h := host(members[1]); h.State != "MAINTENANCE" || h.Pool != "" {
		t.Fatalf("the host that failed to leave: %+v", h)
	}
	eventually(t, "the other member left", func() bool { return nodeFiles(t, dir) == members[1] })
	must("pools", "destroy", "web", "--yes")
	if _, err := c.GetPool(ctx, "web"); client.StatusCode(err) != 404 {
		t.Fatalf("pool after the second destroy: %v", err)
	}
}
