package api_test

import (
	"strings"
	"testing"

	"github.com/purserhq/purser"
)

// TestPoolHookRuns: a pool names a kubernetes cluster and hooks; its
// members' agents take their own host's runs (rendered with the cluster's
// server), stream their output and report their exit; nobody else may;
// devops read the runs and logs and ask for reboots.
func TestPoolHookRuns(t *testing.T) { eachStore(t, testPoolHookRuns) }

func testPoolHookRuns(t *testing.T, open store) {
	e := newEnv(t, open)
	gib := float64(purser.GiB)
	tok := e.want(e.do("devops", "POST", "/v1/joinTokens", map[string]any{"reusable": true}), 201)
	for _, n := range []string{"a", "b"} {
		r := e.want(e.do("", "POST", "/v1/hosts", map[string]any{"join_token": tok["token"], "name": n, "address": "10.0.0." + n, "cores": 8, "memory": 32 * gib}), 201)
		e.tokens["agent-"+n] = r["credential"].(string)
	}
	e.want(e.do("admin", "POST", "/v1/clusters", map[string]any{"name": "k", "kind": "kubernetes", "server": "https://k.example:6443", "token": "t"}), 201)
	e.want(e.do("admin", "POST", "/v1/clusters", map[string]any{"name": "s", "kind": "sim"}), 201)
	hooks := map[string]any{"join": []string{"/bin/join", "{{ server }}", "{{ host }}@{{ address }}"}, "leave": []string{"/bin/leave", "{{ host }}"}}
	pool := func(cluster string, h any) map[string]any {
		return map[string]any{"name": "web", "cores": 8, "memory": 32 * gib, "cluster": cluster, "hooks": h}
	}
	for field, bad := range map[string]map[string]any{"body.cluster": pool("nope", hooks), "body.cluster ": pool("s", hooks),
		"body.hooks.join[0]": pool("k", map[string]any{"join": []string{"{{ host }}"}})} {
		p := e.want(e.do("admin", "POST", "/v1/pools", bad), 422)
		if errs := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["location"] != strings.TrimSpace(field) {
			t.Fatalf("422 does not name %s: %v", field, p)
		}
	}
	// Hooks run on every member's machine: setting them is the admins'
	// (pools:hooks), as exec templates are.
	if p := e.want(e.do("devops", "POST", "/v1/pools", pool("k", hooks)), 403); !strings.Contains(p["detail"].(string), "pools:hooks") {
		t.Fatalf("devops set hooks: %v", p)
	}
	p := e.want(e.do("admin", "POST", "/v1/pools", pool("k", hooks)), 201)["pool"].(map[string]any)
	if p["cluster"] != "k" || p["hosts"].([]any)[0].(map[string]any)["joined"] != false {
		t.Fatalf("pool %v", p)
	}
	member := p["hosts"].([]any)[0].(map[string]any)["name"].(string)
	other := map[string]string{"a": "b", "b": "a"}[member]

	e.want(e.do("agent-"+other, "POST", "/v1/hosts/"+member+"/hookRuns/claim", nil), 403)
	e.want(e.do("admin", "POST", "/v1/hosts/"+member+"/hookRuns/claim", nil), 403)
	got := e.want(e.do("agent-"+member, "POST", "/v1/hosts/"+member+"/hookRuns/claim", nil), 200)
	items := got["items"].([]any)
	if len(items) != 1 || got["timeout_seconds"] != 600.0 {
		t.Fatalf("claimed %v", got)
	}
	run := items[0].(map[string]any)
	id := run["_id"].(string)
	if argv := run["argv"].([]any); argv[1] != "https://k.example:6443" || argv[2] != member+"@10.0.0."+member || run["state"] != "RUNNING" {
		t.Fatalf("run %v", run)
	}
	if again := e.want(e.do("agent-"+member, "POST", "/v1/hosts/"+member+"/hookRuns/claim", nil), 200); len(again["items"].([]any)) != 0 {
		t.Fatalf("claimed twice: %v", again)
	}
	logPath := "/v1/hosts/" + member + "/hookRuns/" + id + "/logs"
	lines := map[string]any{"lines": []map[string]string{{"stream": "stdout", "line": "joining"}, {"stream": "stderr", "line": "warning"}}}
	e.want(e.do("agent-"+other, "POST", logPath, lines), 403)
	e.want(e.do("agent-"+member, "POST", logPath, lines), 204)
	e.want(e.do("agent-"+other, "POST", "/v1/hosts/"+member+"/hookRuns/"+id+"/finish", map[string]any{"exit_code": 0}), 403)
	if r := e.want(e.do("agent-"+member, "POST", "/v1/hosts/"+member+"/hookRuns/"+id+"/finish", map[string]any{"exit_code": 0}), 200); r["state"] != "SUCCEEDED" {
		t.Fatalf("finished %v", r)
	}
	e.want(e.do("agent-"+member, "POST", "/v1/hosts/"+member+"/hookRuns/"+id+"/finish", map[string]any{"exit_code": 0}), 409)
	e.want(e.do("agent-"+member, "POST", logPath, lines), 409)
	if h := e.want(e.do("devops", "GET", "/v1/hosts/"+member, nil), 200); h["joined"] != true {
		t.Fatalf("not joined: %v", h)
	}

	if l := e.want(e.do("devops", "GET", logPath, nil), 200); len(l["_items"].([]any)) != 2 || l["_items"].([]any)[1].(map[string]any)["stream"] != "stderr" {
		t.Fatalf("log %v", l)
	}
	e.want(e.do("dev", "GET", logPath, nil), 403)
	e.want(e.do("agent-"+other, "GET", logPath, nil), 403)
	if l := e.want(e.do("devops", "GET", "/v1/hosts/"+member+"/hookRuns"+where(`{"kind":"join"}`), nil), 200); len(l["_items"].([]any)) != 1 {
		t.Fatalf("runs %v", l)
	}
	e.want(e.do("agent-"+other, "GET", "/v1/hosts/"+member+"/hookRuns", nil), 403)

	e.want(e.do("devops", "POST", "/v1/hosts/"+member+"/reboot", nil), 409) // no reboot hook
	e.want(e.do("devops", "POST", "/v1/hosts/"+other+"/reboot", nil), 409)  // in no pool
	e.want(e.do("dev", "PUT", "/v1/pools/web/hooks", map[string]any{"reboot": []string{"/sbin/reboot"}}), 403)
	e.want(e.do("devops", "PUT", "/v1/pools/web/hooks", map[string]any{"reboot": []string{"/sbin/reboot"}}), 403)
	e.want(e.do("admin", "PUT", "/v1/pools/web/hooks", map[string]any{"reboot": []string{"/sbin/reboot", "{{ nope }}"}}), 422)
	if p := e.want(e.do("admin", "PUT", "/v1/pools/web/hooks", map[string]any{"leave": []string{"/bin/leave"}, "reboot": []string{"/sbin/reboot"}}), 200); p["hooks"].(map[string]any)["join"] != nil {
		t.Fatalf("hooks replaced: %v", p)
	}
	e.want(e.do("dev", "POST", "/v1/hosts/"+member+"/reboot", nil), 403)
	if r := e.want(e.do("devops", "POST", "/v1/hosts/"+member+"/reboot", nil), 202); r["kind"] != "reboot" || r["state"] != "PENDING" {
		t.Fatalf("reboot %v", r)
	}

	// Destroy waits for the member's leave hook, then the pool goes.
	if d := e.want(e.do("devops", "DELETE", "/v1/pools/web", nil), 202); d["state"] != "DESTROYING" {
		t.Fatalf("destroy %v", d)
	}
	claimed := e.want(e.do("agent-"+member, "POST", "/v1/hosts/"+member+"/hookRuns/claim", nil), 200)["items"].([]any)
	if len(claimed) != 2 || claimed[1].(map[string]any)["kind"] != "leave" {
		t.Fatalf("after destroy %v", claimed)
	}
	for _, c := range claimed {
		e.want(e.do("agent-"+member, "POST", "/v1/hosts/"+member+"/hookRuns/"+c.(map[string]any)["_id"].(string)+"/finish", map[string]any{"exit_code": 0}), 200)
	}
	e.want(e.do("devops", "GET", "/v1/pools/web", nil), 404)
}
