package api_test

import (
	"strings"
	"testing"
)

// TestClusterStackSettings: a cluster's stack settings are given at
// registration, shown with their defaults filled in, changed by PATCH
// ("" restores a default), and refused naming the field and rule.
func TestClusterStackSettings(t *testing.T) { eachStore(t, testClusterStackSettings) }

func testClusterStackSettings(t *testing.T, open store) {
	e := newEnv(t, open)
	c := e.want(e.do("devops", "POST", "/api/v1/clusters", map[string]any{"name": "defaults", "kind": "sim"}), 201)
	if c["stack_namespace"] != "stacks" || c["drift_mode"] != "warn" || c["healthy_deadline"] != "5m0s" {
		t.Fatalf("defaults: %v", c)
	}
	c = e.want(e.do("devops", "POST", "/api/v1/clusters", map[string]any{"name": "tuned", "kind": "sim",
		"stack_namespace": "shop", "drift_mode": "correct", "healthy_deadline": "90s"}), 201)
	if c["stack_namespace"] != "shop" || c["drift_mode"] != "correct" || c["healthy_deadline"] != "1m30s" {
		t.Fatalf("given: %v", c)
	}
	patch := []string{"Content-Type", "application/merge-patch+json"}
	c = e.want(e.do("devops", "PATCH", "/api/v1/clusters/tuned", map[string]any{"drift_mode": "", "healthy_deadline": "2m"}, patch...), 200)
	if c["drift_mode"] != "warn" || c["healthy_deadline"] != "2m0s" || c["stack_namespace"] != "shop" {
		t.Fatalf("patched: %v", c)
	}
	for _, bad := range []map[string]any{{"healthy_deadline": "3s"}, {"healthy_deadline": "soon"}, {"stack_namespace": "Not_A_Namespace"}} {
		r := e.do("devops", "PATCH", "/api/v1/clusters/tuned", bad, patch...)
		e.want(r, 422)
		for field := range bad {
			if !strings.Contains(string(r.Body), field) {
				t.Fatalf("%v: the 422 does not name %s: %s", bad, field, r.Body)
			}
		}
	}
	e.want(e.do("devops", "POST", "/api/v1/clusters", map[string]any{"name": "bad", "kind": "sim", "drift_mode": "sometimes"}), 422)
}
