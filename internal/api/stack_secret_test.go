package api_test

import (
	"strings"
	"testing"
)

func TestClusterSecretsAPI(t *testing.T) { eachStore(t, testClusterSecretsAPI) }

// testClusterSecretsAPI: secrets go in by PUT (201, then 200), are listed
// by name, and their values never come out: not in answers, nor in the
// audit log. One the current revision names cannot be removed.
func testClusterSecretsAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	const value = "s3cr3t-value-in-clear"
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim"}), 201)
	e.want(e.do("dev", "PUT", "/v1/clusters/staging/secrets/DB_PASSWORD", map[string]any{"value": value}), 403)
	e.want(e.do("", "PUT", "/v1/clusters/staging/secrets/DB_PASSWORD", map[string]any{"value": value}), 401)
	e.want(e.do("devops", "PUT", "/v1/clusters/nope/secrets/DB_PASSWORD", map[string]any{"value": value}), 404)
	r := e.do("devops", "PUT", "/v1/clusters/staging/secrets/1BAD", map[string]any{"value": value})
	if e.want(r, 422); !strings.Contains(string(r.Body), "body.name") {
		t.Fatalf("a bad name: %s", r.Body)
	}
	r = e.do("devops", "PUT", "/v1/clusters/staging/secrets/DB_PASSWORD", map[string]any{"value": value})
	doc := e.want(r, 201)
	if doc["name"] != "DB_PASSWORD" || doc["cluster"] != "staging" || r.Header.Get("Location") != "/api/v1/clusters/staging/secrets/DB_PASSWORD" {
		t.Fatalf("a new secret: %v %v", doc, r.Header)
	}
	r = e.do("admin", "PUT", "/v1/clusters/staging/secrets/DB_PASSWORD", map[string]any{"value": value + "-2"})
	if e.want(r, 200); r.Header.Get("Location") != "" {
		t.Fatalf("a replaced secret has a Location: %v", r.Header)
	}
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/secrets/UNUSED", map[string]any{"value": value}), 201)
	l := e.want(e.do("dev", "GET", "/v1/clusters/staging/secrets", nil), 200)
	items := l["_items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["name"] != "DB_PASSWORD" || items[1].(map[string]any)["name"] != "UNUSED" {
		t.Fatalf("secrets: %v", l)
	}
	e.want(e.do("dev", "GET", "/v1/clusters/nope/secrets", nil), 404)

	cfg := `{"defaults": {"memory": 512}, "services": [{"web": {"image": "nginx:1", "environment": [{"DB_PASSWORD": "${DB_PASSWORD}"}]}}]}`
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", cfg), 202)
	e.want(e.do("dev", "DELETE", "/v1/clusters/staging/secrets/UNUSED", nil), 403)
	r = e.do("devops", "DELETE", "/v1/clusters/staging/secrets/DB_PASSWORD", nil)
	if e.want(r, 409); !strings.Contains(string(r.Body), "${DB_PASSWORD}") {
		t.Fatalf("removing a secret in use: %s", r.Body)
	}
	e.want(e.do("devops", "DELETE", "/v1/clusters/staging/secrets/UNUSED", nil), 204)
	e.want(e.do("devops", "DELETE", "/v1/clusters/staging/secrets/UNUSED", nil), 404)

	for _, r := range []response{e.do("admin", "GET", "/v1/events?max_results=200", nil), e.do("admin", "GET", "/v1/clusters/staging/secrets", nil),
		e.do("admin", "GET", "/v1/clusters/staging/config", nil)} {
		if r.Status != 200 || strings.Contains(string(r.Body), value) {
			t.Fatalf("a secret's value shows: %d %s", r.Status, r.Body)
		}
	}
	if ev := e.do("admin", "GET", `/v1/events?where={"action":"cluster_secret.set"}`, nil); ev.Status != 200 || !strings.Contains(string(ev.Body), "DB_PASSWORD") {
		t.Fatalf("setting a secret is audited by name: %d %s", ev.Status, ev.Body)
	}
}

func TestUnblockRevisionAPI(t *testing.T) { eachStore(t, testUnblockRevisionAPI) }

// testUnblockRevisionAPI: a rollback blocks the revision it replaces;
// unblocking it makes it superseded, once.
func testUnblockRevisionAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim"}), 201)
	for _, tag := range []string{"1", "2"} {
		e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", `{"defaults": {}, "services": [{"web": {"image": "nginx:`+tag+`"}}]}`), 202)
	}
	e.want(e.do("devops", "POST", "/v1/clusters/staging/rollback", map[string]any{"revision": 1}), 202)
	if r := e.want(e.do("dev", "GET", "/v1/clusters/staging/revisions/2", nil), 200); r["status"] != "blocked" || r["blocked_by"] != 3.0 {
		t.Fatalf("revision 2 after the rollback: %v", r)
	}
	e.want(e.do("dev", "POST", "/v1/clusters/staging/revisions/2/unblock", nil), 403)
	r := e.want(e.do("devops", "POST", "/v1/clusters/staging/revisions/2/unblock", nil), 200)
	if r["status"] != "superseded" || r["blocked_by"] != nil || r["number"] != 2.0 {
		t.Fatalf("revision 2 unblocked: %v", r)
	}
	e.want(e.do("devops", "POST", "/v1/clusters/staging/revisions/2/unblock", nil), 409)
	e.want(e.do("devops", "POST", "/v1/clusters/staging/revisions/9/unblock", nil), 404)
}

func TestClusterRegistrationAPI(t *testing.T) { eachStore(t, testClusterRegistrationAPI) }

// testClusterRegistrationAPI: the seed's POST /clusters with a config
// registers the cluster with revision 1 (202); a bad config creates
// nothing. The cluster's deployers set tags and counts over HTTP, and
// nothing else. An ecs cluster registers with sealed credentials, shown
// not checked.
func testClusterRegistrationAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	_, e.tokens["alice"] = e.newUser("alice", "dev")
	config := map[string]any{"defaults": map[string]any{"memory": 512},
		"services": []any{map[string]any{"web": map[string]any{"image": "nginx:1", "desired_count": 1}}}}
	bad := map[string]any{"defaults": map[string]any{},
		"services": []any{map[string]any{"web": map[string]any{"image": "nginx:1", "ports": []any{"80"}}}}}

	e.want(e.do("dev", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim", "config": config}), 403)
	r := e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim", "config": bad})
	if e.want(r, 422); !strings.Contains(string(r.Body), `"body.config.services[0].web.ports[0]"`) {
		t.Fatalf("a bad config: %s", r.Body)
	}
	withSecret := map[string]any{"defaults": map[string]any{"environment": []any{map[string]any{"PW": "${PW}"}}},
		"services": []any{map[string]any{"web": map[string]any{"image": "nginx:1"}}}}
	r = e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim", "config": withSecret})
	if e.want(r, 422); !strings.Contains(string(r.Body), `"body.config"`) || !strings.Contains(string(r.Body), "${PW}") {
		t.Fatalf("a config naming a secret a new cluster cannot have: %s", r.Body)
	}
	e.want(e.do("devops", "GET", "/v1/clusters/staging", nil), 404)
	r = e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim", "deployers": []string{"user:nobody"}})
	if e.want(r, 422); !strings.Contains(string(r.Body), "body.deployers[0]") {
		t.Fatalf("a deployer who does not exist: %s", r.Body)
	}

	r = e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim", "config": config, "deployers": []string{"user:alice"}})
	c := e.want(r, 202)
	if r.Header.Get("Location") != "/api/v1/clusters/staging/revisions/1" || c["name"] != "staging" || c["reachable"] != true ||
		c["_links"].(map[string]any)["revision"] == nil || len(c["deployers"].([]any)) != 1 {
		t.Fatalf("a cluster with its first stackfile: %v %v", c, r.Header)
	}
	if rev := e.want(e.do("dev", "GET", "/v1/clusters/staging/revisions/1", nil), 200); rev["message"] != "initial stackfile" || rev["author"] != "devops-user" {
		t.Fatalf("revision 1: %v", rev)
	}
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim", "config": config}), 409)

	// alice, a deployer, sets a tag and a count, and nothing else.
	if rev := e.want(e.do("alice", "PUT", "/v1/clusters/staging/services/web", map[string]any{"image_tag": "2", "desired_count": 3}), 202); rev["number"] != 2.0 {
		t.Fatalf("a deployer's change: %v", rev)
	}
	r = e.do("alice", "PUT", "/v1/clusters/staging/config", `{"defaults": {}, "services": [{"web": {"image": "nginx:2", "desired_count": 3, "privileged": true}}]}`)
	e.want(r, 403) // PUT config needs stacks:write: only the service route serves deployers
	e.want(e.do("alice", "DELETE", "/v1/clusters/staging/services/web", nil), 403)
	e.want(e.do("dev", "PUT", "/v1/clusters/staging/services/web", map[string]any{"image_tag": "3"}), 403)
	e.want(e.do("alice", "PATCH", "/v1/clusters/staging", map[string]any{"deployers": []string{}}, "Content-Type", "application/merge-patch+json"), 403)
	p := e.want(e.do("devops", "PATCH", "/v1/clusters/staging", map[string]any{"deployers": []string{"role:dev"}}, "Content-Type", "application/merge-patch+json"), 200)
	if ds := p["deployers"].([]any); len(ds) != 1 || ds[0] != "role:dev" {
		t.Fatalf("deployers replaced: %v", p)
	}
	e.want(e.do("dev", "PUT", "/v1/clusters/staging/services/web", map[string]any{"image_tag": "3"}), 202)

	// ecs: registered, credentials sealed and never shown, not checked.
	const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	ecs := map[string]any{"name": "prod", "kind": "ecs", "region": "eu-west-1", "ecs_cluster": "prod-cluster",
		"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": secret}
	c = e.want(e.do("devops", "POST", "/v1/clusters", ecs), 201)
	if c["kind"] != "ecs" || c["region"] != "eu-west-1" || c["ecs_cluster"] != "prod-cluster" || c["server"] != "https://ecs.eu-west-1.amazonaws.com" ||
		c["reachable"] != false || !strings.Contains(c["last_error"].(string), "not checked") {
		t.Fatalf("an ecs cluster: %v", c)
	}
	r = e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "prod2", "kind": "ecs", "region": "eu-west-1", "ecs_cluster": "x", "token": "t"})
	if e.want(r, 422); !strings.Contains(string(r.Body), "body.access_key_id") {
		t.Fatalf("an ecs cluster without its credentials: %s", r.Body)
	}
	p = e.want(e.do("devops", "PATCH", "/v1/clusters/prod", map[string]any{"role_arn": "arn:aws:iam::123456789012:role/purser", "endpoint": "http://127.0.0.1:5000"},
		"Content-Type", "application/merge-patch+json"), 200)
	if p["server"] != "http://127.0.0.1:5000" || p["region"] != "eu-west-1" {
		t.Fatalf("an ecs cluster given a role and an endpoint: %v", p)
	}
	for _, r := range []response{e.do("devops", "GET", "/v1/clusters/prod", nil), e.do("devops", "GET", "/v1/clusters", nil),
		e.do("devops", "POST", "/v1/clusters/prod/check", nil), e.do("admin", "GET", "/v1/events?max_results=200", nil)} {
		if r.Status != 200 || strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), "AKIAIOSFODNN7EXAMPLE") {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
}
