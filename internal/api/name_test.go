package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// TestNamesEverywhere: wherever the API takes a user or a template, a
// username or a template's name works as its _id does, an unknown name is
// refused naming the field and the value, and documents name people and
// templates beside their ids.
func TestNamesEverywhere(t *testing.T) { eachStore(t, testNamesEverywhere) }

func testNamesEverywhere(t *testing.T, open store) {
	e := newEnv(t, open)
	dev, devops := e.users["dev"].ID, e.users["devops"].ID
	refused := func(r response, status int, words ...string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
		}
		for _, w := range words {
			if !strings.Contains(string(r.Body), w) {
				t.Fatalf("the problem does not say %q: %s", w, r.Body)
			}
		}
	}

	t.Run("Users", func(t *testing.T) {
		if got := e.want(e.do("admin", "GET", "/v1/users/dev-user", nil), 200); got["_id"] != dev {
			t.Fatalf("users/dev-user is %v", got)
		}
		e.want(e.do("dev", "GET", "/v1/users/dev-user", nil), 200) // oneself, by name
		e.want(e.do("dev", "GET", "/v1/users/devops-user", nil), 403)
		refused(e.do("admin", "GET", "/v1/users/nobody", nil), 404, "nobody")
		// A username shaped like another user's _id: the _id wins.
		e.want(e.do("admin", "POST", "/v1/users", map[string]any{"username": dev}), 201)
		if got := e.want(e.do("admin", "GET", "/v1/users/"+dev, nil), 200); got["username"] != "dev-user" {
			t.Fatalf("users/<dev's _id> is %v", got)
		}
		if got := e.want(e.do("admin", "PATCH", "/v1/users/dev-user", `{"name":"Dev Eloper"}`, "Content-Type", "application/merge-patch+json"), 200); got["_id"] != dev || got["name"] != "Dev Eloper" {
			t.Fatalf("patch by name: %v", got)
		}
		ev := e.want(e.do("admin", "GET", "/v1/events"+where(`{"action":"user.update"}`), nil), 200)["_items"].([]any)
		if len(ev) != 1 || ev[0].(map[string]any)["target_name"] != "dev-user" || ev[0].(map[string]any)["actor_username"] != "admin-user" {
			t.Fatalf("user.update events: %v", ev)
		}
	})

	t.Run("Tokens", func(t *testing.T) {
		tok := e.want(e.do("admin", "POST", "/v1/tokens", map[string]any{"name": "ci", "user": "dev-user"}), 201)
		if tok["user"] != dev || tok["username"] != "dev-user" {
			t.Fatalf("token %v", tok)
		}
		l := e.want(e.do("admin", "GET", "/v1/tokens?user=dev-user", nil), 200)["_items"].([]any)
		if len(l) != 2 || l[0].(map[string]any)["username"] != "dev-user" {
			t.Fatalf("dev-user's tokens: %v", l)
		}
		refused(e.do("admin", "POST", "/v1/tokens", map[string]any{"name": "ci", "user": "nobody"}), 422, "user", "nobody")
	})

	t.Run("Quotas", func(t *testing.T) {
		q := e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"user": "dev-user", "limits": map[string]any{"cores": 40}}), 201)
		if q["user"] != dev || q["username"] != "dev-user" {
			t.Fatalf("quota %v", q)
		}
		l := e.want(e.do("devops", "GET", "/v1/quotas"+where(`{"user":"dev-user"}`), nil), 200)["_items"].([]any)
		if len(l) != 1 || l[0].(map[string]any)["username"] != "dev-user" {
			t.Fatalf("dev-user's quotas: %v", l)
		}
		var usage []map[string]any
		if err := json.Unmarshal(e.want0(e.do("devops", "GET", "/v1/quotas/usage?user=dev-user", nil), 200), &usage); err != nil || len(usage) != 1 || usage[0]["user"] != dev {
			t.Fatalf("usage %v (%v)", usage, err)
		}
		refused(e.do("devops", "POST", "/v1/quotas", map[string]any{"user": "nobody", "limits": map[string]any{"cores": 1}}), 422, "user", "nobody")
	})

	t.Run("Requests", func(t *testing.T) {
		e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
		if got := e.want(e.do("dev", "GET", "/v1/templates/"+url.PathEscape("Basic EKS Cluster"), nil), 200); got["_id"] != "basic-eks-cluster" {
			t.Fatalf("templates/Basic EKS Cluster is %v", got)
		}
		r := e.want(e.do("admin", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "Basic EKS Cluster",
			"requested_by": "dev-user", "resource_parameters": seedParams}), 201)
		if r["requested_by"] != dev || r["requested_by_username"] != "dev-user" ||
			r["resource_template"] != "basic-eks-cluster" || r["resource_template_name"] != "Basic EKS Cluster" {
			t.Fatalf("request %v", r)
		}
		id := r["_id"].(string)
		refused(e.do("admin", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster",
			"requested_by": "nobody", "resource_parameters": seedParams}), 422, "requested_by", "nobody")

		got := e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
		if got["reviewed_by"] != devops || got["reviewed_by_username"] != "devops-user" {
			t.Fatalf("approved %v", got)
		}
		for _, w := range []string{`{"requested_by":"dev-user"}`, `{"requested_by":{"$in":["dev-user","nobody"]}}`,
			`{"reviewed_by":"devops-user"}`, `{"resource_template":"Basic EKS Cluster"}`} {
			l := e.want(e.do("devops", "GET", "/v1/provisionRequests"+where(w), nil), 200)["_items"].([]any)
			if len(l) != 1 || l[0].(map[string]any)["_id"] != id || l[0].(map[string]any)["requested_by_username"] != "dev-user" {
				t.Fatalf("where %s: %v", w, l)
			}
		}
		if l := e.want(e.do("devops", "GET", "/v1/provisionRequests"+where(`{"requested_by":"nobody"}`), nil), 200)["_items"].([]any); len(l) != 0 {
			t.Fatalf("nobody's requests: %v", l)
		}

		// A name two active templates share is refused; once one is
		// retired, the name means the other.
		for _, id := range []string{"twin-a", "twin-b"} {
			e.want(e.do("devops", "POST", "/v1/templates", map[string]any{"_id": id, "name": "Twin", "driver": "sim"}), 201)
		}
		refused(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "Twin"}), 422, "resource_template", "twin-a", "twin-b", "give the _id")
		e.want(e.do("devops", "PATCH", "/v1/templates/twin-a", `{"is_active":false}`, "Content-Type", "application/merge-patch+json"), 200)
		if got := e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "Twin"}), 201); got["resource_template"] != "twin-b" {
			t.Fatalf("Twin means %v", got["resource_template"])
		}

		ev := e.want(e.do("devops", "GET", "/v1/events"+where(`{"actor":"devops-user","action":"request.approve"}`), nil), 200)["_items"].([]any)
		if len(ev) != 1 || ev[0].(map[string]any)["actor"] != devops || ev[0].(map[string]any)["actor_username"] != "devops-user" {
			t.Fatalf("events by devops-user: %v", ev)
		}
		h := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id+"/history", nil), 200)["_items"].([]any)
		if last := h[len(h)-1].(map[string]any); last["actor_username"] != "devops-user" {
			t.Fatalf("history %v", h)
		}
	})
}

// TestReviewerMessage: the DevOps user told a request waits for review
// reads who asks, for which template, with which parameters (a secret one
// masked) and what it will cost.
func TestReviewerMessage(t *testing.T) { eachStore(t, testReviewerMessage) }

func testReviewerMessage(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("admin", "PATCH", "/v1/users/dev-user", `{"name":"Dee Veloper"}`, "Content-Type", "application/merge-patch+json"), 200)
	e.want(e.do("devops", "POST", "/v1/templates", map[string]any{"_id": "pg", "name": "PostgreSQL", "driver": "sim",
		"params":    []any{map[string]any{"name": "size", "type": "integer"}, map[string]any{"name": "password", "secret": true}},
		"footprint": map[string]any{"cores": 2, "memory": 4, "cost_per_hour": 0.5}}), 201)
	r := e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "PostgreSQL", "ttl_hours": 10,
		"resource_parameters": map[string]any{"size": 3, "password": "hunter2"}}), 201)
	id := r["_id"].(string)
	if err := sqldb.NewRequestService(e.db).Analyse(purser.SystemContext(context.Background()), id); err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse(time.RFC3339, r["expires_by"].(string))
	if err != nil {
		t.Fatal(err)
	}
	l := e.want(e.do("devops", "GET", "/v1/notifications"+"?where="+url.QueryEscape(`{"event":"request.submitted"}`), nil), 200)["_items"].([]any)
	if len(l) != 1 {
		t.Fatalf("devops was told %v", l)
	}
	n := l[0].(map[string]any)
	wantTitle := "To review: dev-user asks for PostgreSQL (pg)"
	wantDesc := fmt.Sprintf("dev-user (Dee Veloper) asks for PostgreSQL (pg) with parameters password=********, size=3, until %s. "+
		"It takes 2 cores and 4 GiB at 0.50 per hour: estimated cost 5.00. It fits the requester's quota. "+
		"Approve with `purser request approve %s` or reject with `purser request reject %s`.", exp.UTC().Format("2006-01-02 15:04 MST"), id, id)
	if n["title"] != wantTitle || n["description"] != wantDesc {
		t.Fatalf("the reviewer reads\n%q\n%q\nwant\n%q\n%q", n["title"], n["description"], wantTitle, wantDesc)
	}
	if strings.Contains(fmt.Sprint(l), "hunter2") {
		t.Fatal("the secret parameter is in the message")
	}
}

// want0 is want for answers that are not JSON objects: it returns the body.
func (e *env) want0(r response, status int) []byte {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r.Body
}
