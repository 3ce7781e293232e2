package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestAPIIndex: _links.parent of every collection points at the index,
// which answers under both prefixes and links every collection.
func TestAPIIndex(t *testing.T) { eachStore(t, testAPIIndex) }

func testAPIIndex(t *testing.T, open store) {
	e := newEnv(t, open)
	parent := e.want(e.do("dev", "GET", "/v1/templates", nil), 200)["_links"].(map[string]any)["parent"].(map[string]any)["href"].(string)
	for _, path := range []string{parent, "/v1"} {
		idx := e.want(e.do("", "GET", path, nil), 200)
		links := idx["_links"].(map[string]any)
		for _, c := range []string{"users", "roles", "tokens", "templates", "provisionRequests", "extensionRequests", "quotas", "notifications", "events", "clusters"} {
			l, ok := links[c].(map[string]any)
			if !ok {
				t.Fatalf("%s: no link to %s: %v", path, c, links)
			}
			e.want(e.do("admin", "GET", l["href"].(string), nil), 200)
		}
	}
}

// raw sends a request that no route serves (so it stays out of the
// documented-routes check).
func raw(t *testing.T, e *env, method, path string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["dev"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, path, resp.StatusCode, b)
	}
	return resp, m
}

func TestUnknownRoutesAnswerProblems(t *testing.T) {
	t.Parallel() // the subject is the router: SQLite alone
	e := newEnv(t, openSQLite)
	resp, p := raw(t, e, "GET", "/v1/no-such-collection")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || p["status"] != float64(404) {
		t.Fatalf("unknown path: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), p)
	}
	resp, p = raw(t, e, "DELETE", "/api/v1/roles")
	allow := resp.Header.Get("Allow")
	if resp.StatusCode != 405 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("wrong method: %d %s Allow=%q %v", resp.StatusCode, resp.Header.Get("Content-Type"), allow, p)
	}
	if !strings.Contains(p["detail"].(string), allow) {
		t.Fatalf("405 does not say what is allowed: %v", p)
	}
}

// TestConditionalGETEverywhere: every single document answers 304 to an
// If-None-Match naming its ETag, and 200 once it changed.
func TestConditionalGETEverywhere(t *testing.T) { eachStore(t, testConditionalGET) }

func testConditionalGET(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	id := e.submit("dev", seedParams)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
	e.deploy(id)
	ext := e.want(e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "r", "extend_by": 2, "provision_request": id}), 201)["_id"].(string)
	quota := e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"role": "dev", "limits": map[string]any{"cores": 8}}), 201)["_id"].(string)
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "etag", "server": "https://127.0.0.1:1", "token": "t",
		"ca": "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"}), 201)
	for _, path := range []string{"/v1/me", "/v1/users/" + e.users["dev"].ID, "/v1/roles/dev", "/v1/templates/basic-eks-cluster",
		"/v1/templates/basic-eks-cluster/revisions/1", "/v1/provisionRequests/" + id, "/v1/extensionRequests/" + ext,
		"/v1/quotas/" + quota, "/v1/clusters/etag"} {
		role := "devops"
		if path == "/v1/me" {
			role = "dev"
		}
		first := e.do(role, "GET", path, nil)
		tag := first.Header.Get("ETag")
		if first.Status != 200 || tag == "" {
			t.Fatalf("%s: %d, ETag %q", path, first.Status, tag)
		}
		if r := e.do(role, "GET", path, nil, "If-None-Match", tag); r.Status != 304 || len(r.Body) != 0 {
			t.Fatalf("%s with If-None-Match %s: %d %s", path, tag, r.Status, r.Body)
		}
		if r := e.do(role, "GET", path, nil, "If-None-Match", `"stale", W/"other"`); r.Status != 200 {
			t.Fatalf("%s with a stale If-None-Match: %d", path, r.Status)
		}
	}
}

func TestQuotaPatch(t *testing.T) { eachStore(t, testQuotaPatch) }

func testQuotaPatch(t *testing.T, open store) {
	e := newEnv(t, open)
	q := e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"role": "dev", "limits": map[string]any{"cores": 8, "memory": 16}}), 201)
	path := "/v1/quotas/" + q["_id"].(string)
	merge := "application/merge-patch+json"
	e.want(e.do("dev", "PATCH", path, `{"limits":{"cores":9}}`, "Content-Type", merge), 403)
	got := e.want(e.do("devops", "PATCH", path, `{"limits":{"cores":12,"memory":null},"description":"bigger"}`, "Content-Type", merge), 200)
	limits := got["limits"].(map[string]any)
	if limits["cores"] != float64(12) || limits["memory"] != nil || got["description"] != "bigger" {
		t.Fatalf("patched quota %v", got)
	}
	r := e.do("devops", "PATCH", path, `{"limits":{"gpus":1}}`, "Content-Type", merge)
	if e.want(r, 422); !strings.Contains(string(r.Body), "body.limits.gpus") {
		t.Fatalf("unknown limit: %s", r.Body)
	}
	e.want(e.do("devops", "PATCH", path, `{"description":"x"}`, "Content-Type", merge, "If-Match", `"`+q["_etag"].(string)+`"`), 412)
	e.want(e.do("devops", "PATCH", "/v1/quotas/6b0000000000000000000000", `{"description":"x"}`, "Content-Type", merge), 404)
}

func TestPreferencesPatch(t *testing.T) { eachStore(t, testPreferencesPatch) }

func testPreferencesPatch(t *testing.T, open store) {
	e := newEnv(t, open)
	merge := "application/merge-patch+json"
	e.want(e.do("dev", "PUT", "/v1/me/preferences", map[string]any{"channels": []string{"inbox"}}), 200)
	got := e.want(e.do("dev", "PATCH", "/v1/me/preferences", `{"webhook_url":"https://hooks.example.com/x","webhook_secret":"s3cret-value"}`, "Content-Type", merge), 200)
	if got["webhook_url"] != "https://hooks.example.com/x" || len(got["channels"].([]any)) != 1 {
		t.Fatalf("patched preferences %v", got)
	}
	e.want(e.do("dev", "PATCH", "/v1/me/preferences", `{"channels":["carrier-pigeon"]}`, "Content-Type", merge), 422)
	if got := e.want(e.do("dev", "GET", "/v1/me/preferences", nil), 200); got["channels"].([]any)[0] != "inbox" {
		t.Fatalf("a refused patch changed the preferences: %v", got)
	}
}

// TestRequestEmbedded: a request embeds its requester, reviewer and
// template on demand, in a list and alone.
func TestRequestEmbedded(t *testing.T) { eachStore(t, testRequestEmbedded) }

func testRequestEmbedded(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	id := e.submit("dev", seedParams)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
	emb := `{"requested_by":1,"reviewed_by":1,"resource_template":1}`
	one := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id+"?embedded="+emb, nil), 200)["_embedded"].(map[string]any)
	if one["requested_by"].(map[string]any)["username"] != "dev-user" || one["resource_template"].(map[string]any)["_id"] != "basic-eks-cluster" {
		t.Fatalf("embedded %v", one)
	}
	list := e.want(e.do("devops", "GET", "/v1/provisionRequests?max_results=1&embedded="+emb, nil), 200)
	item := list["_items"].([]any)[0].(map[string]any)["_embedded"].(map[string]any)
	if item["reviewed_by"].(map[string]any)["username"] != "devops-user" {
		t.Fatalf("embedded in a list %v", item)
	}
	if self := list["_links"].(map[string]any)["self"].(map[string]any)["href"].(string); !strings.Contains(self, "embedded=") {
		t.Fatalf("page links drop embedded: %s", self)
	}
	e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id+`?embedded={"quota":1}`, nil), 400)
	e.want(e.do("dev", "GET", `/v1/provisionRequests?embedded={"quota":1}`, nil), 400)

	// A conditional GET sees a change to what is embedded, not only to the request.
	path := "/v1/provisionRequests/" + id + "?embedded=" + emb
	tag := e.do("dev", "GET", path, nil).Header.Get("ETag")
	if plain := e.do("dev", "GET", "/v1/provisionRequests/"+id, nil).Header.Get("ETag"); tag == "" || tag == plain {
		t.Fatalf("embedded answer's ETag %q, the request's own %q", tag, plain)
	}
	if r := e.do("dev", "GET", path, nil, "If-None-Match", tag); r.Status != 304 {
		t.Fatalf("unchanged embedded answer: %d, want 304", r.Status)
	}
	e.want(e.do("admin", "PATCH", "/v1/users/dev-user", `{"name":"Dev Eloper"}`, "Content-Type", "application/merge-patch+json"), 200)
	if r := e.do("dev", "GET", path, nil, "If-None-Match", tag); r.Status != 200 {
		t.Fatalf("after the embedded requester changed: %d, want 200 with the new name", r.Status)
	}
}

// TestSeedExtensionReviewTakesEitherID: the seed's README documents _id
// as the provision request's id; the extension's own id works too.
func TestSeedExtensionReviewTakesEitherID(t *testing.T) { eachStore(t, testSeedExtensionEitherID) }

func testSeedExtensionEitherID(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	id := e.submit("dev", seedParams)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
	e.deploy(id)
	e.want(e.do("devops", "POST", "/v1/approveExtensionRequest", map[string]any{"_id": id, "status": "APPROVED"}), 404)
	ext := e.want(e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "demo", "extend_by": 2, "provision_request": id}), 201)["_id"]
	ans := e.want(e.do("devops", "POST", "/v1/approveExtensionRequest", map[string]any{"_id": id, "status": "APPROVED"}), 200)
	if ans["_id"] != ext || ans["status"] != "APPROVED" || ans["provision_request"] != id {
		t.Fatalf("review by the provision request's id: %v", ans)
	}
	e.want(e.do("devops", "POST", "/v1/approveExtensionRequest", map[string]any{"_id": "6b0000000000000000000000", "status": "APPROVED"}), 404)
}

// TestSeedTemplateSaysItIsSimulated: the seed's EKSCTL template is kept on
// the sim driver, and the answer says so and why.
func TestSeedTemplateSaysItIsSimulated(t *testing.T) {
	t.Parallel() // the subject is the answer: SQLite alone
	e := newEnv(t, openSQLite)
	tpl := e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	w, _ := json.Marshal(tpl["warnings"])
	if tpl["simulated"] != true || !strings.Contains(string(w), "type EKSCTL") || !strings.Contains(string(w), "sim driver") || !strings.Contains(string(w), "every parameter is a string") {
		t.Fatalf("warnings %s", w)
	}
	plain := e.want(e.do("devops", "POST", "/v1/templates", map[string]any{"_id": "plain", "name": "Plain"}), 201)
	if plain["warnings"] != nil {
		t.Fatalf("a plain template warns: %v", plain["warnings"])
	}
}

// TestValidationSaysEachThingOnce: each broken field is one entry with its
// path and rule, the detail does not repeat it, numbers are rounded, and a
// TTL is blamed on the field sent, in hours and days.
func TestValidationSaysEachThingOnce(t *testing.T) {
	t.Parallel() // the subject is the messages: SQLite alone
	e := newEnv(t, openSQLite)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	e.want(e.do("devops", "POST", "/v1/templates", map[string]any{"_id": "costly", "name": "Costly", "footprint": map[string]any{"cost_per_hour": 4.9}}), 201)
	for _, tt := range []struct {
		name, body, location, message, detail string
		status                                int
	}{
		{"TTLTooLong", `{"resource_template":"basic-eks-cluster","resource_parameters":` + mustJSON(seedParams) + `,"ttl_hours":10000}`,
			"body.ttl_hours", "at most 720 hours (30 days)", "1 invalid field", 422},
		{"ExpiresTooLate", `{"resource_template":"basic-eks-cluster","resource_parameters":` + mustJSON(seedParams) + `,"expires_by":"2999-01-01T00:00:00Z"}`,
			"body.expires_by", "at most 720 hours (30 days) from now", "1 invalid field", 422},
		{"Missing", `{"resource_parameters":{}}`, "body.resource_template", "is required (rule: required)", "1 invalid field", 422},
		{"QuotaRounded", `{"resource_template":"costly"}`, "body.quota.monthly_cost", "asked 3577 (rule: quota)", "the request does not fit the quota", 409},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status == 409 {
				e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"user": e.users["admin"].ID, "limits": map[string]any{"monthly_cost": 10}}), 201)
			}
			r := e.do("admin", "POST", "/v1/provisionRequests", tt.body)
			p := e.want(r, tt.status)
			errs := p["errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("want one entry: %s", r.Body)
			}
			f := errs[0].(map[string]any)
			if f["location"] != tt.location || !strings.Contains(f["message"].(string), tt.message) || p["detail"] != tt.detail {
				t.Fatalf("got %s", r.Body)
			}
			if strings.Contains(string(r.Body), "99999") || strings.Contains(string(r.Body), "h0m0s") {
				t.Fatalf("unrounded number or Go duration: %s", r.Body)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSchemaNamesAreDeliberate: generated SDKs take their type names from
// the schemas, so each is a chosen noun; a new one is added here on purpose.
func TestSchemaNamesAreDeliberate(t *testing.T) {
	t.Parallel() // the subject is the document: SQLite alone
	e := newEnv(t, openSQLite)
	var got []string
	for name := range e.api.OpenAPI().Components.Schemas.Map() {
		got = append(got, name)
	}
	sort.Strings(got)
	want := []string{"APIIndex", "ApprovalPolicy", "Cluster", "ClusterCreate", "ClusterList", "ClusterPatch", "ClusterSecret", "ClusterSecretList", "ClusterSecretSet", "Event",
		"EventList", "ExpirySweep", "ExtensionRequest", "ExtensionRequestCreate", "ExtensionRequestList", "FieldChange", "Footprint", "FootprintExpressions", "Health", "HealthCheck",
		"HookLogLine", "HookLogLines", "HookRun", "HookRunFinish", "HookRunList", "HookRunsClaimed",
		"Host", "HostList", "HostMaintenance", "HostPatch", "HostRegistered", "HostRegistration", "ImageTag", "ImageTagList", "JoinToken", "JoinTokenCreate",
		"JoinTokenList", "Kubeconfig", "Link", "ListMeta", "LogLine", "LogLineList", "MarkedRead", "NewJoinToken", "NewToken", "Notification",
		"NotificationList", "Param", "PasswordSet", "PlanNote", "Pool", "PoolCreate", "PoolCreated", "PoolDrain", "PoolHooks", "PoolHost", "PoolList",
		"PoolNode", "PoolPlacement", "PoolResize", "PoolSize", "Preferences", "PreferencesPatch", "Problem", "ProblemField", "ProvisionRequest", "ProvisionRequestCreate",
		"ProvisionRequestList", "Quota", "QuotaCheck", "QuotaCreate", "QuotaFit", "QuotaLimits", "QuotaList", "QuotaPatch", "QuotaUsage", "ResizePlan",
		"Review", "Role", "RoleCreate", "RoleList", "RolePatch", "SeedReview", "SeedReviewResult", "ServicePlan", "SignInLink", "StackDiff",
		"StackDrift", "StackExport", "StackPlan", "StackRevision", "StackRevisionList", "StackRollback", "StackService", "StackServiceList", "StackServiceUpdate", "Template",
		"TemplateCreate", "TemplateList", "TemplatePatch", "Token", "TokenCreate", "TokenList", "Usage", "User", "UserCreate", "UserList",
		"UserPatch"}
	if !slices.Equal(got, want) {
		t.Fatalf("schema names:\n got %q\nwant %q", got, want)
	}
	noun := regexp.MustCompile(`^[A-Z][A-Za-z]*$`)
	for _, n := range got {
		if !noun.MatchString(n) || strings.HasSuffix(n, "Response") || strings.HasSuffix(n, "Body") || strings.HasSuffix(n, "Doc") {
			t.Errorf("schema %q is not a plain noun", n)
		}
	}
	var tags []string
	for _, tg := range e.api.OpenAPI().Tags {
		tags = append(tags, tg.Name)
	}
	if len(tags) == 0 || tags[0] != "index" || tags[len(tags)-1] != "operations" {
		t.Fatalf("the reference lists tags %v: the index first, operations last", tags)
	}
}
