package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/purserhq/purser"
)

// TestRoleUpdateAndDelete: admins change a role's description and
// activity (a built-in role stays active), under If-Match; a role is
// deleted only when nothing uses it, and the refusal says what does.
func TestRoleUpdateAndDelete(t *testing.T) { eachStore(t, testRoleUpdateAndDelete) }

func testRoleUpdateAndDelete(t *testing.T, open store) {
	e := newEnv(t, open)
	for _, r := range []string{"qa", "held", "quoted", "trusted"} {
		e.want(e.do("admin", "POST", "/v1/roles", map[string]any{"role": r, "description": "the " + r + " role"}), 201)
	}
	patch := func(role, path, body string, headers ...string) response {
		return e.do(role, "PATCH", path, body, append([]string{"Content-Type", "application/merge-patch+json"}, headers...)...)
	}

	t.Run("Update", func(t *testing.T) {
		etag := e.do("admin", "GET", "/v1/roles/qa", nil).Header.Get("ETag")
		e.want(patch("devops", "/v1/roles/qa", `{"description":"x"}`), 403)
		e.want(patch("admin", "/v1/roles/nope", `{"description":"x"}`), 404)
		e.want(patch("admin", "/v1/roles/qa", `{"description":"`+strings.Repeat("x", 201)+`"}`), 422)
		r := patch("admin", "/v1/roles/qa", `{"description":"quality","is_active":false}`, "If-Match", etag)
		got := e.want(r, 200)
		if got["description"] != "quality" || got["is_active"] != false || r.Header.Get("ETag") == "" || r.Header.Get("ETag") == etag {
			t.Fatalf("patched role: %v (ETag %q, was %q)", got, r.Header.Get("ETag"), etag)
		}
		if r := patch("admin", "/v1/roles/qa", `{"is_active":true}`, "If-Match", etag); r.Status != 412 {
			t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
		}
		r = patch("admin", "/v1/roles/dev", `{"is_active":false}`)
		if e.want(r, 409); !strings.Contains(string(r.Body), "is_active") || !strings.Contains(string(r.Body), "built in") {
			t.Fatalf("deactivating a built-in role: %s", r.Body)
		}
		for _, field := range []string{"built_in", "role"} {
			r := patch("admin", "/v1/roles/dev", `{"`+field+`":"x"}`)
			if e.want(r, 422); !strings.Contains(string(r.Body), field) {
				t.Fatalf("patching %s: %s", field, r.Body)
			}
		}
		if got := e.want(patch("admin", "/v1/roles/dev", `{"description":"developers"}`), 200); got["description"] != "developers" || got["is_active"] != true {
			t.Fatalf("a built-in role's description: %v", got)
		}
		ev := e.want(e.do("admin", "GET", "/v1/events"+where(`{"action":"role.update","target_id":"qa"}`), nil), 200)["_items"].([]any)
		if len(ev) != 1 {
			t.Fatalf("role.update events: %v", ev)
		}
		x := ev[0].(map[string]any)
		if b, a := x["before"].(map[string]any), x["after"].(map[string]any); b["is_active"] != true || a["is_active"] != false || a["description"] != "quality" {
			t.Fatalf("role.update event: %v", x)
		}
	})

	t.Run("ConcurrentIfMatch", func(t *testing.T) {
		e.want(e.do("admin", "POST", "/v1/roles", map[string]any{"role": "raced"}), 201)
		etag := e.do("admin", "GET", "/v1/roles/raced", nil).Header.Get("ETag")
		statuses := make(chan int, 5)
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				statuses <- patch("admin", "/v1/roles/raced", fmt.Sprintf(`{"description":"writer %d"}`, i), "If-Match", etag).Status
			})
		}
		wg.Wait()
		close(statuses)
		n := map[int]int{}
		for s := range statuses {
			n[s]++
		}
		if n[200] != 1 || n[412] != 4 {
			t.Fatalf("five changes under one If-Match answered %v, want one 200 and four 412", n)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		e.newUser("held-user", "held")
		q := e.want(e.do("admin", "POST", "/v1/quotas", map[string]any{"role": "quoted", "limits": map[string]any{"environments": 2}}), 201)
		e.db.ExecTemplateRoles = []string{purser.RoleAdmin, "trusted"}
		for _, c := range []struct{ role, says string }{
			{"dev", "built in"}, {"held", "held-user"}, {"quoted", q["_id"].(string)}, {"trusted", "templates:exec"},
		} {
			r := e.do("admin", "DELETE", "/v1/roles/"+c.role, nil)
			if e.want(r, 409); !strings.Contains(string(r.Body), c.says) {
				t.Errorf("deleting role %s: the refusal does not say %q: %s", c.role, c.says, r.Body)
			}
		}
		e.want(e.do("devops", "DELETE", "/v1/roles/qa", nil), 403)
		e.want(e.do("admin", "DELETE", "/v1/roles/qa", nil), 204)
		e.want(e.do("admin", "GET", "/v1/roles/qa", nil), 404)
		e.want(e.do("admin", "DELETE", "/v1/roles/qa", nil), 404)
		ev := e.want(e.do("admin", "GET", "/v1/events"+where(`{"action":"role.delete"}`), nil), 200)["_items"].([]any)
		if len(ev) != 1 || ev[0].(map[string]any)["target_id"] != "qa" || ev[0].(map[string]any)["before"].(map[string]any)["role"] != "qa" {
			t.Fatalf("role.delete events: %v", ev)
		}
	})
}

// where is the query of a list filtered by w.
func where(w string) string { return "?where=" + url.QueryEscape(w) }
