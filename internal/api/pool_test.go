package api_test

import (
	"strings"
	"testing"

	"github.com/purserhq/purser"
)

// TestHostsAndPools: devops make a join token, agents register with it
// and heartbeat their own host only; a pool is planned, created by best
// fit, resized (an overshoot needs yes), its nodes added, drained and
// removed, and destroyed; hosts are labelled, maintained and retired.
func TestHostsAndPools(t *testing.T) { eachStore(t, testHostsAndPools) }

func testHostsAndPools(t *testing.T, open store) {
	e := newEnv(t, open)
	gib := float64(purser.GiB)
	e.want(e.do("dev", "POST", "/v1/joinTokens", map[string]any{}), 403)
	e.want(e.do("devops", "POST", "/v1/joinTokens", map[string]any{"ttl_hours": 1000}), 422)
	tok := e.want(e.do("devops", "POST", "/v1/joinTokens", map[string]any{"description": "rack 1", "reusable": true, "ttl_hours": 2}), 201)
	secret, _ := tok["token"].(string)
	if !strings.HasPrefix(secret, "psj_") || tok["hint"] != secret[:8] {
		t.Fatalf("join token %v", tok)
	}
	if l := e.want(e.do("admin", "GET", "/v1/joinTokens", nil), 200); l["_meta"].(map[string]any)["total"] != 1.0 {
		t.Fatalf("join tokens %v", l)
	}
	e.want(e.do("admin", "GET", "/v1/joinTokens"+where(`{"nope":1}`), nil), 400)

	reg := func(name string, cores int, gibs float64) map[string]any {
		return map[string]any{"join_token": secret, "name": name, "address": "10.0.0.9", "cores": cores, "memory": gibs * gib, "labels": map[string]string{"rack": "1"}}
	}
	bad := reg("a", 16, 64)
	bad["join_token"] = "psj_wrong"
	e.want(e.do("", "POST", "/v1/hosts", bad), 401)
	e.want(e.do("", "POST", "/v1/hosts", reg("a", 0, 64)), 422)
	for _, h := range []struct {
		name  string
		cores int
		gibs  float64
	}{{"a", 16, 64}, {"b", 8, 32}, {"c", 16, 64}, {"d", 8, 32}, {"e", 8, 32}} {
		r := e.want(e.do("", "POST", "/v1/hosts", reg(h.name, h.cores, h.gibs)), 201)
		cred, _ := r["credential"].(string)
		if !strings.HasPrefix(cred, "psa_") || r["host"].(map[string]any)["state"] != "READY" {
			t.Fatalf("registered %v", r)
		}
		e.tokens["agent-"+h.name] = cred
	}

	t.Run("Agents", func(t *testing.T) {
		if h := e.want(e.do("agent-a", "POST", "/v1/hosts/a/heartbeat", nil), 200); h["last_heartbeat"] == nil {
			t.Fatalf("heartbeat %v", h)
		}
		e.want(e.do("agent-a", "POST", "/v1/hosts/b/heartbeat", nil), 403)
		e.want(e.do("admin", "POST", "/v1/hosts/a/heartbeat", nil), 403)
		e.want(e.do("agent-a", "GET", "/v1/hosts/a", nil), 200)
		e.want(e.do("agent-a", "GET", "/v1/hosts/b", nil), 403)
		e.want(e.do("agent-a", "GET", "/v1/hosts", nil), 403)
		e.want(e.do("agent-a", "GET", "/v1/pools", nil), 403)
		e.want(e.do("", "POST", "/v1/hosts/a/heartbeat", nil), 401)
	})
	t.Run("Hosts", func(t *testing.T) {
		l := e.want(e.do("devops", "GET", "/v1/hosts"+where(`{"state":"READY"}`)+"&sort=-cores,name", nil), 200)
		if items := l["_items"].([]any); len(items) != 5 || items[0].(map[string]any)["name"] != "a" {
			t.Fatalf("hosts %v", l)
		}
		e.want(e.do("dev", "GET", "/v1/hosts", nil), 403)
		e.want(e.do("devops", "GET", "/v1/hosts/nope", nil), 404)
		e.want(e.do("admin", "GET", "/v1/hosts"+where(`{"secret":1}`), nil), 400)
		patch := func(role, path, body string) response {
			return e.do(role, "PATCH", path, body, "Content-Type", "application/merge-patch+json")
		}
		if h := e.want(patch("devops", "/v1/hosts/a", `{"labels":{"zone":"west","rack":""}}`), 200); h["labels"].(map[string]any)["zone"] != "west" || h["labels"].(map[string]any)["rack"] != nil {
			t.Fatalf("labels %v", h)
		}
		e.want(patch("devops", "/v1/hosts/nope", `{"labels":{"zone":"west"}}`), 404)
		e.want(patch("dev", "/v1/hosts/a", `{"labels":{"zone":"west"}}`), 403)
	})

	t.Run("Pools", func(t *testing.T) {
		body := map[string]any{"name": "web", "cores": 24, "memory": 96 * gib, "spares": 1, "dry_run": true}
		plan := e.want(e.do("devops", "POST", "/v1/pools", body), 200)
		if plan["pool"] != nil || len(plan["placement"].(map[string]any)["members"].([]any)) != 2 {
			t.Fatalf("plan %v", plan)
		}
		e.want(e.do("dev", "POST", "/v1/pools", body), 403)
		body["dry_run"] = false
		created := e.want(e.do("devops", "POST", "/v1/pools", body), 201)
		p := created["pool"].(map[string]any)
		if p["state"] != "ACTIVE" || len(p["hosts"].([]any)) != 3 || p["total"].(map[string]any)["cores"] != 24.0 {
			t.Fatalf("created %v", created)
		}
		e.want(e.do("devops", "POST", "/v1/pools", body), 409)
		r := e.do("devops", "POST", "/v1/pools", map[string]any{"name": "huge", "cores": 500})
		if e.want(r, 409); !strings.Contains(string(r.Body), "offer") {
			t.Fatalf("too large: %s", r.Body)
		}
		e.want(e.do("devops", "POST", "/v1/pools", map[string]any{"name": "Bad Name", "cores": 1}), 422)
		if l := e.want(e.do("devops", "GET", "/v1/pools", nil), 200); len(l["_items"].([]any)) != 1 {
			t.Fatalf("pools %v", l)
		}
		e.want(e.do("devops", "GET", "/v1/pools"+where(`{"nope":1}`), nil), 400)
		e.want(e.do("devops", "GET", "/v1/pools/web", nil), 200)
		e.want(e.do("devops", "GET", "/v1/pools/nope", nil), 404)

		r = e.do("devops", "POST", "/v1/pools/web/resize", map[string]any{"cores": 28})
		if e.want(r, 409); !strings.Contains(string(r.Body), "over: confirm") {
			t.Fatalf("overshoot: %s", r.Body)
		}
		e.want(e.do("devops", "POST", "/v1/pools/web/resize", map[string]any{"cores": 28, "memory": 10 * gib}), 422)
		if rp := e.want(e.do("devops", "POST", "/v1/pools/web/resize", map[string]any{"cores": 28, "yes": true}), 200); len(rp["add"].([]any)) != 1 {
			t.Fatalf("resize %v", rp)
		}
		e.want(e.do("devops", "POST", "/v1/pools/nope/resize", map[string]any{"cores": 28}), 404)

		free := freeHost(t, e)
		e.want(e.do("devops", "POST", "/v1/pools/web/nodes", map[string]any{"host": free}), 200)
		e.want(e.do("devops", "POST", "/v1/pools/web/nodes", map[string]any{"host": free}), 409)
		e.want(e.do("devops", "POST", "/v1/pools/web/nodes", map[string]any{"host": "nope"}), 404)
		e.want(e.do("devops", "POST", "/v1/hosts/"+free+"/maintenance", map[string]any{"maintenance": true}), 409)
		e.want(e.do("devops", "POST", "/v1/hosts/"+free+"/retire", nil), 409)
		if h := e.want(e.do("devops", "POST", "/v1/pools/web/nodes/"+free+"/drain", map[string]any{"deadline_seconds": 60}), 202); h["state"] != "DRAINING" {
			t.Fatalf("drain %v", h)
		}
		e.want(e.do("devops", "POST", "/v1/pools/web/nodes/"+free+"/drain", nil), 409)
		e.want(e.do("devops", "POST", "/v1/pools/web/nodes/nope/drain", nil), 404)
		if h := e.want(e.do("devops", "DELETE", "/v1/pools/web/nodes/"+free, nil), 200); h["pool"] != nil || h["state"] != "READY" {
			t.Fatalf("remove %v", h)
		}
		e.want(e.do("devops", "DELETE", "/v1/pools/web/nodes/"+free, nil), 404)
		r = e.do("devops", "DELETE", "/v1/pools/web/nodes/a", nil)
		if r.Status != 200 && r.Status != 409 {
			t.Fatalf("remove a member: %d %s", r.Status, r.Body)
		}
		e.want(e.do("devops", "DELETE", "/v1/pools/web", nil), 204)
		e.want(e.do("devops", "DELETE", "/v1/pools/web", nil), 404)
		e.want(e.do("devops", "GET", "/v1/pools/web", nil), 404)
	})

	t.Run("MaintenanceAndRetire", func(t *testing.T) {
		if h := e.want(e.do("devops", "POST", "/v1/hosts/e/maintenance", map[string]any{"maintenance": true}), 200); h["state"] != "MAINTENANCE" {
			t.Fatalf("maintenance %v", h)
		}
		e.want(e.do("devops", "POST", "/v1/hosts/e/maintenance", map[string]any{"maintenance": false}), 200)
		e.want(e.do("devops", "POST", "/v1/hosts/nope/maintenance", map[string]any{"maintenance": true}), 404)
		e.want(e.do("devops", "POST", "/v1/hosts/e/retire", nil), 200)
		e.want(e.do("devops", "POST", "/v1/hosts/nope/retire", nil), 404)
		e.want(e.do("agent-e", "POST", "/v1/hosts/e/heartbeat", nil), 401)
		e.want(e.do("", "POST", "/v1/hosts", reg("e", 8, 32)), 409)
	})
	t.Run("Revoke", func(t *testing.T) {
		e.want(e.do("admin", "DELETE", "/v1/joinTokens/"+tok["_id"].(string), nil), 204)
		e.want(e.do("admin", "DELETE", "/v1/joinTokens/nope", nil), 404)
		e.want(e.do("", "POST", "/v1/hosts", reg("f", 8, 32)), 401)
	})
}

// freeHost names a free host.
func freeHost(t *testing.T, e *env) string {
	l := e.want(e.do("devops", "GET", "/v1/hosts"+where(`{"pool":"","state":"READY"}`), nil), 200)
	items := l["_items"].([]any)
	if len(items) == 0 {
		t.Fatal("no free host")
	}
	return items[0].(map[string]any)["name"].(string)
}
