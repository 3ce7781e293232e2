package api_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func TestStackServicesAPI(t *testing.T) { eachStore(t, testStackServicesAPI) }

func testStackServicesAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	seed, err := os.ReadFile("../stackfile/testdata/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yamlBody := []string{"Content-Type", "application/yaml"}
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim"}), 201)
	r := e.do("dev", "GET", "/v1/clusters/staging/services", nil)
	if e.want(r, 404); !strings.Contains(string(r.Body), "no stack yet") {
		t.Fatalf("services without a stack: %s", r.Body)
	}
	e.want(e.do("dev", "GET", "/v1/clusters/nope/services", nil), 404)
	e.want(e.do("", "GET", "/v1/clusters/staging/services", nil), 401)
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", seed, yamlBody...), 202)

	// Nothing runs on the sim cluster yet: each service of revision 1,
	// pending, is progressing towards its image and count.
	services := func() map[string]map[string]any {
		t.Helper()
		l := e.want(e.do("dev", "GET", "/v1/clusters/staging/services", nil), 200)
		out := map[string]map[string]any{}
		var names []string
		for _, it := range l["_items"].([]any) {
			sv := it.(map[string]any)
			out[sv["name"].(string)] = sv
			names = append(names, sv["name"].(string))
		}
		if meta := l["_meta"].(map[string]any); meta["total"] != float64(len(names)) {
			t.Fatalf("services' _meta: %v", l)
		}
		return out
	}
	svcs := services()
	if len(svcs) != 3 {
		t.Fatalf("services: %v", svcs)
	}
	us := svcs["user-service"]
	if us["desired_image"] != "xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:latest" || us["desired_tag"] != "latest" ||
		us["desired_count"] != 1.0 || us["running_count"] != 0.0 || us["running"] != false || us["actual_image"] != nil ||
		us["state"] != "progressing" || us["revision"] != 1.0 {
		t.Fatalf("user-service: %v", us)
	}
	if ew := svcs["email-worker"]; ew["desired_tag"] != "xxx" || ew["state"] != "progressing" {
		t.Fatalf("email-worker: %v", ew)
	}

	// A developer reads but does not change services.
	e.want(e.do("dev", "PUT", "/v1/clusters/staging/services/user-service", map[string]any{"image_tag": "v2"}), 403)
	e.want(e.do("dev", "PUT", "/v1/clusters/staging/services/user-service", map[string]any{}), 422) // malformed before the store decides
	e.want(e.do("dev", "DELETE", "/v1/clusters/staging/services/email-worker", nil), 403)

	// Bad changes are named, and store nothing.
	r = e.do("devops", "PUT", "/v1/clusters/staging/services/user-service", map[string]any{"deploy": true})
	e.want(r, 422)
	var prob struct {
		Detail string
		Errors []struct{ Location, Message string }
	}
	if err := json.Unmarshal(r.Body, &prob); err != nil || len(prob.Errors) != 1 || prob.Errors[0].Location != "body" ||
		!strings.Contains(prob.Errors[0].Message, "image_tag, desired_count or both") {
		t.Fatalf("an empty change: %s", r.Body)
	}
	r = e.do("devops", "PUT", "/v1/clusters/staging/services/user-service", map[string]any{"image_tag": "v 2"})
	if e.want(r, 422); !strings.Contains(string(r.Body), "body.image_tag") {
		t.Fatalf("a bad tag: %s", r.Body)
	}
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/services/user-service", map[string]any{"desired_count": -1}), 422)
	r = e.do("devops", "PUT", "/v1/clusters/staging/services/nope", map[string]any{"image_tag": "v2"})
	if e.want(r, 404); !strings.Contains(string(r.Body), "no service nope") {
		t.Fatalf("an unknown service: %s", r.Body)
	}
	e.want(e.do("devops", "DELETE", "/v1/clusters/staging/services/nope", nil), 404)
	e.want(e.do("devops", "PUT", "/v1/clusters/nope/services/user-service", map[string]any{"image_tag": "v2"}), 404)
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/services/user-service", map[string]any{"image_tag": "v2"}, "If-Match", `"7"`), 412)
	if l := e.want(e.do("dev", "GET", "/v1/clusters/staging/revisions", nil), 200); len(l["_items"].([]any)) != 1 {
		t.Fatalf("a refused change was stored: %v", l)
	}

	// A new tag and a count of 0: revision 2, pending, with the default message.
	r = e.do("devops", "PUT", "/v1/clusters/staging/services/user-service", map[string]any{"image_tag": "v2", "desired_count": 0, "deploy": true},
		"If-Match", `"1"`)
	rev := e.want(r, 202)
	if rev["number"] != 2.0 || rev["status"] != "pending" || rev["message"] != "set user-service image tag to v2 and count to 0" ||
		r.Header.Get("Location") != "/api/v1/clusters/staging/revisions/2" || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("revision 2: %v %v", rev, r.Header)
	}
	cfg := e.want(e.do("dev", "GET", "/v1/clusters/staging/config", nil), 200)
	var user map[string]any
	for _, it := range cfg["services"].([]any) {
		if m := it.(map[string]any)["user-service"]; m != nil {
			user = m.(map[string]any)
		}
	}
	if user["image"] != "xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:v2" || user["desired_count"] != 0.0 ||
		cfg["_revision"].(map[string]any)["number"] != 2.0 {
		t.Fatalf("config after the change: %v", cfg)
	}
	if us := services()["user-service"]; us["desired_tag"] != "v2" || us["desired_count"] != 0.0 || us["revision"] != 2.0 {
		t.Fatalf("user-service after the change: %v", us)
	}
	// The revision before stays as it was; the message may be given.
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/services/user-service", map[string]any{"image_tag": "v3"}, "If-Match", `"1"`), 412)
	r = e.do("devops", "PUT", "/v1/clusters/staging/services/routing-service?message=scale+out", map[string]any{"desired_count": 4})
	if rev := e.want(r, 202); rev["number"] != 3.0 || rev["message"] != "scale out" {
		t.Fatalf("revision 3: %v", rev)
	}

	// Removing a service: revision 4 without it.
	r = e.do("devops", "DELETE", "/v1/clusters/staging/services/email-worker", nil, "If-Match", `"3"`)
	rev = e.want(r, 202)
	if rev["number"] != 4.0 || rev["message"] != "remove email-worker" || r.Header.Get("Location") != "/api/v1/clusters/staging/revisions/4" {
		t.Fatalf("revision 4: %v", rev)
	}
	svcs = services()
	if len(svcs) != 2 || svcs["email-worker"] != nil || svcs["routing-service"]["desired_count"] != 4.0 {
		t.Fatalf("services after the removal: %v", svcs)
	}
	e.want(e.do("devops", "DELETE", "/v1/clusters/staging/services/email-worker", nil), 404)
	e.want(e.do("devops", "DELETE", "/v1/clusters/staging/services/user-service", nil, "If-Match", `"3"`), 412)

	// A service others depend on stays until they no longer do.
	deps := strings.Replace(string(seed), "      desired_count: 1\n      elb:", "      desired_count: 1\n      depends_on: [user-service]\n      elb:", 1)
	if deps == string(seed) {
		t.Fatal("the seed changed: depends_on not added")
	}
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", deps, yamlBody...), 202)
	r = e.do("devops", "DELETE", "/v1/clusters/staging/services/user-service", nil)
	if e.want(r, 409); !strings.Contains(string(r.Body), `"routing-service depends on user-service`) ||
		!strings.Contains(string(r.Body), "routing-service.depends_on[0]") {
		t.Fatalf("removing a dependency: %s", r.Body)
	}
	if l := e.want(e.do("dev", "GET", "/v1/clusters/staging/revisions", nil), 200); len(l["_items"].([]any)) != 5 {
		t.Fatalf("a refused removal was stored: %v", l)
	}

	// What the target runs: routing-service as revision 5 wants it,
	// user-service on an older tag, and a worker the stack does not name.
	sys := purser.SystemContext(context.Background())
	stacks := sqldb.NewStackService(e.db)
	five, err := stacks.StackRevision(sys, "staging", 5)
	if err != nil {
		t.Fatal(err)
	}
	routing := *five.Normalized.Service("routing-service")
	user2 := *five.Normalized.Service("user-service")
	user2.Image = "xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:v1"
	for name, a := range map[string]*purser.ActualService{
		"routing-service": {Spec: routing, RunningCount: 1},
		"user-service":    {Spec: user2, RunningCount: 1},
		"legacy-worker":   {Spec: purser.StackService{Name: "legacy-worker", Image: "legacy:3"}, RunningCount: 2},
	} {
		if err := stacks.SetActualService(sys, "staging", name, a); err != nil {
			t.Fatal(err)
		}
	}
	svcs = services()
	if rs := svcs["routing-service"]; len(svcs) != 4 || rs["state"] != "in_sync" || rs["running"] != true || rs["running_count"] != 1.0 ||
		rs["actual_tag"] != "latest" {
		t.Fatalf("services running: %v", svcs)
	}
	if us := svcs["user-service"]; us["state"] != "progressing" || us["actual_tag"] != "v1" || us["desired_tag"] != "latest" {
		t.Fatalf("user-service on an older tag: %v", us)
	}
	if lw := svcs["legacy-worker"]; lw["desired_image"] != nil || lw["actual_image"] != "legacy:3" || lw["running_count"] != 2.0 ||
		lw["desired_count"] != 0.0 || lw["state"] != "progressing" {
		t.Fatalf("a service only the target runs: %v", lw)
	}
}
