package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestStacksAPI(t *testing.T) { eachStore(t, testStacksAPI) }

func testStacksAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	seed, err := os.ReadFile("../stackfile/testdata/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yamlBody := []string{"Content-Type", "application/yaml"}

	// The schema is public, as /api-docs is.
	r := e.do("", "GET", "/api/v1/schemas/stackfile.json", nil)
	if e.want(r, 200); r.Header.Get("Content-Type") != "application/schema+json" || !strings.Contains(string(r.Body), "2020-12") {
		t.Fatalf("schema: %s %.200s", r.Header.Get("Content-Type"), r.Body)
	}

	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim"}), 201)
	r = e.do("devops", "GET", "/v1/clusters/staging/config", nil)
	if e.want(r, 404); !strings.Contains(string(r.Body), "no stack yet") {
		t.Fatalf("no stack: %s", r.Body)
	}
	e.want(e.do("devops", "GET", "/v1/clusters/nope/config", nil), 404)
	e.want(e.do("devops", "PUT", "/v1/clusters/nope/config", seed, yamlBody...), 404)

	// A developer reads but does not propose.
	e.want(e.do("dev", "PUT", "/v1/clusters/staging/config", seed, yamlBody...), 403)
	e.want(e.do("dev", "PUT", "/v1/clusters/staging/config", "services: 3", yamlBody...), 403)
	e.want(e.do("", "PUT", "/v1/clusters/staging/config", seed, yamlBody...), 401)
	e.want(e.do("", "GET", "/v1/clusters/staging/config", nil), 401)
	e.want(e.do("dev", "POST", "/v1/clusters/nope/plan", "services: 3", yamlBody...), 404)

	// dry_run: the revision it would make, with its plan; nothing stored.
	r = e.do("devops", "PUT", "/v1/clusters/staging/config?dry_run=true", seed, yamlBody...)
	dry := e.want(r, 200)
	if plan, _ := dry["plan"].(map[string]any); dry["dry_run"] != true || dry["number"] != 1.0 || plan == nil ||
		len(plan["services"].([]any)) != 3 || r.Header.Get("Location") != "" {
		t.Fatalf("dry run: %v %v", dry, r.Header)
	}
	e.want(e.do("devops", "GET", "/v1/clusters/staging/config", nil), 404)
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/config?dry_run=true", "services: 3", yamlBody...), 422)

	// The seed's stackfile, verbatim, as YAML.
	r = e.do("devops", "PUT", "/v1/clusters/staging/config?message=first", seed, yamlBody...)
	rev := e.want(r, 202)
	if rev["number"] != 1.0 || rev["status"] != "pending" || rev["message"] != "first" || rev["author"] != "devops-user" ||
		r.Header.Get("Location") != "/api/v1/clusters/staging/revisions/1" || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("revision 1: %v %v", rev, r.Header)
	}

	// GET config as YAML and as JSON.
	r = e.do("dev", "GET", "/v1/clusters/staging/config", nil, "Accept", "application/yaml")
	if e.want(r, 200); r.Header.Get("ETag") != `"1"` || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/yaml") || r.Header.Get("Vary") != "Accept" ||
		!strings.Contains(string(r.Body), "routing-service:") || strings.Contains(string(r.Body), "_revision") {
		t.Fatalf("config as YAML: %v %s", r.Header, r.Body)
	}
	r = e.do("dev", "GET", "/v1/clusters/staging/config", nil, "Accept", "application/json, application/yaml;q=0.5")
	cfg := e.want(r, 200)
	if r.Header.Get("ETag") != `"1"` || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("config as JSON: %v", r.Header)
	}
	if meta, _ := cfg["_revision"].(map[string]any); meta == nil || meta["number"] != 1.0 || meta["status"] != "pending" {
		t.Fatalf("config's _revision: %v", cfg["_revision"])
	}
	if svcs, _ := cfg["services"].([]any); len(svcs) != 3 {
		t.Fatalf("config's services: %v", cfg["services"])
	}
	e.want(e.do("dev", "GET", "/v1/clusters/staging/config", nil, "If-None-Match", `"1"`), 304)
	dry = e.want(e.do("devops", "PUT", "/v1/clusters/staging/services/user-service?dry_run=true", map[string]any{"image_tag": "v9"}), 200)
	if dry["dry_run"] != true || dry["number"] != 2.0 || !strings.Contains(fmt.Sprint(dry["stackfile"]), "v9") {
		t.Fatalf("a service's dry run: %v", dry)
	}
	dry = e.want(e.do("devops", "POST", "/v1/clusters/staging/rollback?dry_run=true", map[string]any{"revision": 1}), 200)
	if dry["dry_run"] != true || dry["message"] != "rollback to revision 1" {
		t.Fatalf("a rollback's dry run: %v", dry)
	}
	e.want(e.do("dev", "GET", "/v1/clusters/staging/config", nil, "If-None-Match", `"1"`), 304) // still revision 1

	// POST deploy applies the current revision again (devops only).
	if dep := e.want(e.do("devops", "POST", "/v1/clusters/staging/deploy", nil), 202); dep["number"] != 1.0 {
		t.Fatalf("deploy: %v", dep)
	}
	e.want(e.do("dev", "POST", "/v1/clusters/staging/deploy", nil), 403)
	// Drift: not scanned yet (404 saying how), a scan on demand (202).
	if r := e.do("dev", "GET", "/v1/clusters/staging/drift", nil); e.want(r, 404) != nil && !strings.Contains(string(r.Body), "not scanned for drift yet") {
		t.Fatalf("drift before a scan: %s", r.Body)
	}
	if r := e.do("dev", "POST", "/v1/clusters/staging/drift", nil); e.want(r, 202) != nil && r.Header.Get("Location") != "/api/v1/clusters/staging/drift" {
		t.Fatalf("scan: %v", r.Header)
	}
	e.want(e.do("dev", "POST", "/v1/clusters/nope/drift", nil), 404)
	e.want(e.do("devops", "POST", "/v1/clusters/nope/deploy", nil), 404)

	// A refused stackfile names each path, and stores nothing.
	bad := strings.Replace(string(seed), `"8080:8080"`, `"eighty"`, 1)
	bad = strings.Replace(bad, "desired_count: 1", "desired_count: -3", 1)
	r = e.do("devops", "PUT", "/v1/clusters/staging/config", bad, yamlBody...)
	e.want(r, 422)
	var prob struct {
		Errors []struct{ Location, Message string }
	}
	if err := json.Unmarshal(r.Body, &prob); err != nil || len(prob.Errors) < 2 {
		t.Fatalf("refusal: %s", r.Body)
	}
	for _, fe := range prob.Errors {
		if !strings.HasPrefix(fe.Location, "body.services[0].routing-service.") {
			t.Fatalf("refusal does not name the path: %s", r.Body)
		}
	}
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", `{"services": "none"}`), 422)
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", "services: [", yamlBody...), 422)
	secret := strings.Replace(string(seed), "- SERVER_PORT: 8080", "- DB_PASSWORD: ${DB_PASSWORD}", 1)
	r = e.do("devops", "PUT", "/v1/clusters/staging/config", secret, yamlBody...)
	if e.want(r, 422); !strings.Contains(string(r.Body), "${DB_PASSWORD}") {
		t.Fatalf("a missing secret: %s", r.Body)
	}
	list := e.want(e.do("dev", "GET", "/v1/clusters/staging/revisions", nil), 200)
	if items := list["_items"].([]any); len(items) != 1 {
		t.Fatalf("a refused stackfile was stored: %v", list)
	}

	// Round trip: the JSON config, edited, back with If-Match; a stale
	// If-Match is refused.
	cfg["defaults"].(map[string]any)["memory"] = 1024.0
	rev = e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", cfg, "If-Match", `"1"`), 202)
	if rev["number"] != 2.0 {
		t.Fatalf("revision 2: %v", rev)
	}
	r = e.do("devops", "PUT", "/v1/clusters/staging/config", cfg, "If-Match", `"1"`)
	if e.want(r, 412); !strings.Contains(string(r.Body), "revision 2") {
		t.Fatalf("stale If-Match: %s", r.Body)
	}
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", cfg, "If-Match", "yesterday"), 400)

	// The list, newest first, and one revision.
	list = e.want(e.do("dev", "GET", "/v1/clusters/staging/revisions", nil), 200)
	items := list["_items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["number"] != 2.0 || items[1].(map[string]any)["status"] != "superseded" {
		t.Fatalf("revisions: %v", items)
	}
	one := e.want(e.do("dev", "GET", "/api/v1/clusters/staging/revisions/1", nil), 200)
	if one["number"] != 1.0 || one["stackfile"] == nil {
		t.Fatalf("revision 1: %v", one)
	}
	e.want(e.do("dev", "GET", "/v1/clusters/staging/revisions/9", nil), 404)

	// The diff of 1 and 2.
	d := e.want(e.do("dev", "GET", "/v1/clusters/staging/diff?from=1&to=2", nil), 200)
	if !strings.Contains(d["unified"].(string), "+  memory: 1024") || !strings.Contains(string(mustJSON(d)), "defaults.memory") {
		t.Fatalf("diff: %v", d)
	}
	if d2 := e.want(e.do("dev", "GET", "/v1/clusters/staging/diff", nil), 200); d2["from"] != 1.0 || d2["to"] != 2.0 {
		t.Fatalf("default diff: %v", d2)
	}

	// The plan: nothing runs on the sim cluster yet, so every service is created.
	for _, body := range []any{nil, string(seed)} {
		var hdr []string
		if body != nil {
			hdr = yamlBody
		}
		p := e.want(e.do("dev", "POST", "/v1/clusters/staging/plan", body, hdr...), 200)
		var names []string
		for _, s := range p["services"].([]any) {
			sp := s.(map[string]any)
			if sp["action"] != "create" {
				t.Fatalf("plan: %v", p)
			}
			names = append(names, sp["service"].(string))
		}
		if len(names) != 3 || p["no_op"] != false {
			t.Fatalf("plan: %v", p)
		}
	}
	e.want(e.do("dev", "POST", "/v1/clusters/staging/plan", `{"services": 3}`), 422)

	// Rollback to 1: a new revision, and the replaced one blocked.
	e.want(e.do("dev", "POST", "/v1/clusters/staging/rollback", map[string]any{"revision": 1}), 403)
	e.want(e.do("devops", "POST", "/v1/clusters/staging/rollback", map[string]any{"revision": 1}, "If-Match", `"1"`), 412)
	r = e.do("devops", "POST", "/v1/clusters/staging/rollback", map[string]any{"revision": 1})
	rb := e.want(r, 202)
	if rb["number"] != 3.0 || rb["rollback_of"] != 1.0 || rb["status"] != "pending" || r.Header.Get("Location") != "/api/v1/clusters/staging/revisions/3" {
		t.Fatalf("rollback: %v", rb)
	}
	if two := e.want(e.do("dev", "GET", "/v1/clusters/staging/revisions/2", nil), 200); two["status"] != "blocked" || two["blocked_by"] != 3.0 {
		t.Fatalf("revision 2 after the rollback: %v", two)
	}
	if cfg := e.want(e.do("dev", "GET", "/v1/clusters/staging/config", nil), 200); cfg["defaults"].(map[string]any)["memory"] != 930.0 {
		t.Fatalf("config after the rollback: %v", cfg["defaults"])
	}
	e.want(e.do("devops", "POST", "/v1/clusters/staging/rollback", map[string]any{"revision": 42}), 404)
}
