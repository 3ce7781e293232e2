package api_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// seedTemplate is the provisioning-assistant seed's template call, as written.
var seedTemplate = map[string]any{
	"_id": "basic-eks-cluster", "name": "Basic EKS Cluster", "type": "EKSCTL",
	"url":    "https://raw.githubusercontent.com/ashutoshdtu/assistant-rest-apiserver/main/app/src/rest_apiserver/models/eksctl_templates/basic-eks-cluster.yaml",
	"params": []string{"cluster_name", "region", "instance_type", "desired_capacity", "volume_size"},
}

var seedParams = map[string]any{"cluster_name": "dev-cluster-2", "region": "us-west-1", "instance_type": "t2.micro", "desired_capacity": 2, "volume_size": 30}

func (e *env) want(r response, status int) map[string]any {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if len(r.Body) == 0 || r.Body[0] != '{' {
		return nil
	}
	return r.json(e.t)
}

// deploy does what the provision worker does, through the same service calls.
func (e *env) deploy(id string) {
	e.t.Helper()
	reqs := sqldb.NewRequestService(e.db)
	if _, ok, err := reqs.StartProvision(context.Background(), id); err != nil || !ok {
		e.t.Fatalf("start provision: %v %v", ok, err)
	}
	if _, err := reqs.FinishProvision(context.Background(), purser.ProvisionResult{RequestID: id, Outputs: map[string]string{"endpoint": "https://x", "password": "s3cret"}, Final: true}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) submit(role string, params map[string]any) string {
	e.t.Helper()
	body := map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": params}
	return e.want(e.do(role, "POST", "/v1/provisionRequests", body), 201)["_id"].(string)
}

func TestProvisioningFlow(t *testing.T) { eachStore(t, testProvisioningFlow) }

func testProvisioningFlow(t *testing.T, open store) {
	e := newEnv(t, open)
	dev, devops := e.users["dev"].ID, e.users["devops"].ID

	// The catalog: the seed's call works as written; the template lands on the sim driver.
	tpl := e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	if tpl["driver"] != "sim" || tpl["simulated"] != true || tpl["resource_type"] != "KUBERNETES" {
		t.Fatalf("template %v", tpl)
	}
	e.want(e.do("dev", "POST", "/v1/templates", map[string]any{"_id": "x", "name": "x"}), 403)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 409)
	e.want(e.do("dev", "GET", "/v1/templates", nil), 200)
	e.want(e.do("dev", "GET", "/v1/templates/basic-eks-cluster", nil), 200)

	// The seed's sample provision request, with a date in the future.
	expires := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC1123)
	pr := e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{
		"description": "2 node k8s cluster of t2.micro instances", "expires_by": expires, "requested_by": dev,
		"resource_type": "KUBERNETES", "resource_template": "basic-eks-cluster", "resource_parameters": seedParams,
	}), 201)
	id := pr["_id"].(string)
	if pr["status"] != "REQUESTED" || pr["request_type"] != "TEMPORARY" {
		t.Fatalf("new request %v", pr)
	}
	t.Run("BadParameters", func(t *testing.T) {
		r := e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster",
			"resource_parameters": map[string]any{"cluster_name": map[string]any{"a": 1}, "region": "x", "instance_type": "t", "desired_capacity": 1, "nodes": 3}})
		e.want(r, 422)
		for _, f := range []string{"resource_parameters.cluster_name", "resource_parameters.volume_size", "resource_parameters.nodes"} {
			if !strings.Contains(string(r.Body), f) {
				t.Errorf("422 does not name %s: %s", f, r.Body)
			}
		}
		e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams,
			"expires_by": "Wed, 03 Mar 2021 23:32:43 GMT"}), 422)
		e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams,
			"ttl_hours": 10000}), 422)
		e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams,
			"status": "APPROVED"}), 422)
		e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams,
			"requested_by": devops}), 403)
		// PERMANENT was accepted and did nothing: it is refused, with why.
		r = e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams,
			"request_type": "PERMANENT"})
		e.want(r, 422)
		if !strings.Contains(string(r.Body), "request_type") || !strings.Contains(string(r.Body), "every environment expires") {
			t.Errorf("PERMANENT refused without its reason: %s", r.Body)
		}
	})
	got := e.want(e.do("devops", "GET", "/v1/provisionRequests/"+id, nil), 200)
	if q := got["quota"].(map[string]any); q["fits"] != true {
		t.Fatalf("the reviewer is not shown that it fits: %v", got["quota"])
	}

	// Reviews: never one's own; the seed's call answers {_id, status}.
	e.want(e.do("dev", "POST", "/v1/approveProvisionRequest", map[string]any{"_id": id, "reviewed_by": dev, "status": "APPROVED"}), 403)
	ans := e.want(e.do("devops", "POST", "/v1/approveProvisionRequest", map[string]any{"_id": id, "reviewed_by": devops, "status": "APPROVED"}), 200)
	if ans["_id"] != id || ans["status"] != "APPROVED" {
		t.Fatalf("seed review answer %v", ans)
	}
	r := e.do("devops", "POST", "/v1/approveProvisionRequest", map[string]any{"_id": id, "reviewed_by": devops, "status": "REJECTED"})
	if e.want(r, 409); !strings.Contains(string(r.Body), "cannot be reviewed in APPROVED state") {
		t.Fatalf("second review: %s", r.Body)
	}
	e.want(e.do("devops", "GET", "/v1/provisionRequests/"+id+"/outputs", nil), 403)
	if r := e.do("dev", "GET", "/v1/provisionRequests/"+id+"/kubeconfig", nil); e.want(r, 409) == nil || !strings.Contains(string(r.Body), "is APPROVED (it is not provisioned yet") {
		t.Fatalf("kubeconfig before deploy: %s", r.Body)
	}
	e.deploy(id)
	out := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id+"/outputs", nil), 200)
	if out["password"] != "s3cret" {
		t.Fatalf("outputs %v", out)
	}
	e.want(e.do("admin", "GET", "/v1/provisionRequests/"+id+"/outputs", nil), 200)
	e.want(e.do("devops", "GET", "/v1/provisionRequests/"+id+"/outputs", nil), 403)
	// No kubeconfig among these outputs: the answer says why, from the facts.
	r = e.do("dev", "GET", "/v1/provisionRequests/"+id+"/kubeconfig", nil)
	if e.want(r, 404); !strings.Contains(string(r.Body), `driver sim gave request `+id+` no \"kubeconfig\" output (its outputs are endpoint, password)`) {
		t.Fatalf("kubeconfig: %s", r.Body)
	}
	e.want(e.do("devops", "GET", "/v1/provisionRequests/"+id+"/kubeconfig", nil), 403)

	// Extension: the seed's calls; once only.
	before := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id, nil), 200)["expires_by"].(string)
	ext := e.want(e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "Delay in project.", "extend_by": "48",
		"requested_by": dev, "provision_request": id}), 201)
	e.want(e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "again", "extend_by": 1, "provision_request": id}), 409)
	e.want(e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "too long", "extend_by": 721, "provision_request": id}), 422)
	ans = e.want(e.do("devops", "POST", "/v1/approveExtensionRequest", map[string]any{"_id": ext["_id"], "reviewed_by": devops, "status": "APPROVED"}), 200)
	if ans["status"] != "APPROVED" || ans["provision_request"] != id {
		t.Fatalf("extension review answer %v", ans)
	}
	after := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id, nil), 200)
	b0, _ := time.Parse(time.RFC3339, before)
	a0, _ := time.Parse(time.RFC3339, after["expires_by"].(string))
	if a0.Sub(b0) != 48*time.Hour || after["extended"] != true || after["status"] != "DEPLOYED" {
		t.Fatalf("after the extension: expires %s (was %s), %v", a0, b0, after)
	}
	e.want(e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "more", "extend_by": 1, "provision_request": id}), 409)
	e.want(e.do("dev", "GET", "/v1/extensionRequests/"+ext["_id"].(string), nil), 200)
	e.want(e.do("dev", "GET", "/v1/extensionRequests", nil), 200)

	// History and inbox.
	hist := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id+"/history", nil), 200)
	var actions []string
	for _, it := range hist["_items"].([]any) {
		actions = append(actions, it.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, ","); got != "request.create,request.approve,request.start,request.deploy,request.extend" {
		t.Fatalf("history %s", got)
	}
	inbox := e.want(e.do("dev", "GET", "/v1/notifications?unread=true", nil), 200)
	var events []string
	for _, it := range inbox["_items"].([]any) {
		events = append(events, it.(map[string]any)["event"].(string))
	}
	for _, want := range []string{"request.approved", "request.deployed", "extension.approved"} {
		if !strings.Contains(strings.Join(events, ","), want) {
			t.Fatalf("inbox %v lacks %s", events, want)
		}
	}
	first := inbox["_items"].([]any)[0].(map[string]any)["_id"].(string)
	e.want(e.do("dev", "POST", "/v1/notifications/"+first+"/read", nil), 204)
	e.want(e.do("devops", "POST", "/v1/notifications/"+first+"/read", nil), 404)
	marked := e.want(e.do("dev", "POST", "/v1/notifications/read-all", nil), 200)
	if marked["marked"] != float64(len(events)-1) {
		t.Fatalf("read-all marked %v of %d", marked["marked"], len(events)-1)
	}
	e.want(e.do("devops", "GET", "/v1/events?where={\"action\":\"request.approve\"}", nil), 200)

	// Purge.
	e.want(e.do("dev", "POST", "/v1/provisionRequests/"+id+"/purge", nil), 200)
	if err := sqldb.NewRequestService(e.db).FinishPurge(context.Background(), purser.PurgeResult{RequestID: id, Final: true}); err != nil {
		t.Fatal(err)
	}
	if st := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id, nil), 200)["status"]; st != "PURGED" {
		t.Fatalf("after purge: %v", st)
	}
	e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id+"/outputs", nil), 200)
}

func TestRequestActions(t *testing.T) { eachStore(t, testRequestActions) }

func testRequestActions(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)

	t.Run("RejectAndRevoke", func(t *testing.T) {
		a, b := e.submit("dev", seedParams), e.submit("dev", seedParams)
		e.want(e.do("devops", "POST", "/v1/provisionRequests/"+a+"/reject", map[string]any{"comment": "too big"}), 200)
		e.want(e.do("devops", "POST", "/v1/provisionRequests/"+b+"/revoke", nil), 403)
		if st := e.want(e.do("dev", "POST", "/v1/provisionRequests/"+b+"/revoke", nil), 200)["status"]; st != "REVOKED" {
			t.Fatalf("revoke: %v", st)
		}
		e.want(e.do("devops", "POST", "/v1/provisionRequests/"+b+"/approve", nil), 409)
	})
	t.Run("RetryAfterFailure", func(t *testing.T) {
		id := e.submit("dev", seedParams)
		e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
		reqs := sqldb.NewRequestService(e.db)
		reqs.StartProvision(context.Background(), id)
		if _, err := reqs.FinishProvision(context.Background(), purser.ProvisionResult{RequestID: id, Err: errors.New("cloud down"), Final: true}); err != nil {
			t.Fatal(err)
		}
		got := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id, nil), 200)
		if got["status"] != "FAILED" || got["last_error"] != "cloud down" {
			t.Fatalf("after the last attempt: %v", got)
		}
		if st := e.want(e.do("dev", "POST", "/v1/provisionRequests/"+id+"/retry", nil), 200)["status"]; st != "INITIATED" {
			t.Fatalf("retry: %v", st)
		}
		ops := e.want(e.do("devops", "GET", "/v1/notifications", nil), 200)
		if !strings.Contains(fmt.Sprint(ops["_items"]), "request.failed") {
			t.Fatalf("devops was not told of the failure: %v", ops["_items"])
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		id := e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster",
			"resource_parameters": seedParams, "ttl_hours": 1}), 201)["_id"].(string)
		e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
		e.deploy(id)
		e.db.NowFunc = func() time.Time { return time.Now().Add(45 * time.Minute) }
		defer func() { e.db.NowFunc = time.Now }()
		e.want(e.do("dev", "POST", "/v1/admin/expire", nil), 403)
		if n := e.want(e.do("admin", "POST", "/v1/admin/expire", nil), 200)["expired"]; n != float64(0) {
			t.Fatalf("expired %v before its time", n)
		}
		inbox := e.want(e.do("dev", "GET", `/v1/notifications?where={"event":"request.expiring"}`, nil), 200)
		if inbox["_meta"].(map[string]any)["total"] != float64(1) {
			t.Fatalf("reminders after 45 of 60 minutes: %v (want only the 30-minute one)", inbox["_items"])
		}
		e.db.NowFunc = func() time.Time { return time.Now().Add(61 * time.Minute) }
		if n := e.want(e.do("admin", "POST", "/v1/admin/expire", nil), 200)["expired"]; n != float64(1) {
			t.Fatalf("expired %v, want 1", n)
		}
		if st := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id, nil), 200)["status"]; st != "PURGE_INITIATED" {
			t.Fatalf("after expiry: %v", st)
		}
	})
	t.Run("ExtensionRejectAndRevoke", func(t *testing.T) {
		id := e.submit("dev", seedParams)
		e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
		x := e.want(e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "r", "extend_by": 2, "provision_request": id}), 201)["_id"].(string)
		e.want(e.do("devops", "POST", "/v1/extensionRequests/"+x+"/revoke", nil), 403)
		e.want(e.do("dev", "POST", "/v1/extensionRequests/"+x+"/revoke", nil), 200)
		y := e.want(e.do("dev", "POST", "/v1/extensionRequests", map[string]any{"reason": "r", "extend_by": 2, "provision_request": id}), 201)["_id"].(string)
		e.want(e.do("dev", "POST", "/v1/extensionRequests/"+y+"/reject", nil), 403)
		e.want(e.do("devops", "POST", "/v1/extensionRequests/"+y+"/reject", map[string]any{"comment": "no"}), 200)
		e.want(e.do("devops", "POST", "/v1/extensionRequests/"+y+"/approve", nil), 409)
	})
	t.Run("Templates", func(t *testing.T) {
		e.want(e.do("devops", "PATCH", "/v1/templates/basic-eks-cluster", map[string]any{"footprint": map[string]any{"cores": "desired_capacity * 2", "memory": "desired_capacity * 4"}}), 200)
		e.want(e.do("devops", "PATCH", "/v1/templates/basic-eks-cluster", map[string]any{"footprint": map[string]any{"cores": "nodes * 2"}}), 422)
		id := e.submit("dev", seedParams)
		fp := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id, nil), 200)["footprint"].(map[string]any)
		if fp["cores"] != float64(4) || fp["memory"] != float64(8) {
			t.Fatalf("footprint %v, want 4 cores and 8 GiB", fp)
		}
		e.want(e.do("devops", "PATCH", "/v1/templates/basic-eks-cluster", map[string]any{"is_active": false}), 200)
		e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams}), 422)
		e.want(e.do("devops", "PATCH", "/v1/templates/basic-eks-cluster", map[string]any{"is_active": true}), 200)
		e.want(e.do("devops", "GET", "/v1/provisionRequests", nil), 200)
	})
}

func TestQuotasAPI(t *testing.T) { eachStore(t, testQuotasAPI) }

func testQuotasAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	q := e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"role": "dev", "limits": map[string]any{"environments": 1}}), 201)
	qid := q["_id"].(string)
	e.want(e.do("dev", "POST", "/v1/quotas", map[string]any{"role": "dev", "limits": map[string]any{}}), 403)
	e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"role": "dev", "user": e.users["dev"].ID, "limits": map[string]any{}}), 422)
	e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"user": e.users["dev"].ID, "quota_type": "TEMPORARY",
		"valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z", "limits": map[string]any{}}), 422)

	a := e.submit("dev", seedParams)
	b := e.submit("dev", seedParams) // pending requests do not count: both may be submitted
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+a+"/approve", nil), 200)
	r := e.do("devops", "POST", "/v1/provisionRequests/"+b+"/approve", nil)
	if e.want(r, 409); !strings.Contains(string(r.Body), "quota.environments") || !strings.Contains(string(r.Body), "limit 1, used 1") {
		t.Fatalf("refused approval does not break the quota down: %s", r.Body)
	}
	r = e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams})
	if e.want(r, 409); !strings.Contains(string(r.Body), "does not fit the quota") {
		t.Fatalf("a submission beyond the quota: %s", r.Body)
	}
	// A temporary grant adds to the permanent quota.
	e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"user": e.users["dev"].ID, "quota_type": "TEMPORARY",
		"valid_until": time.Now().Add(time.Hour).Format(time.RFC3339), "limits": map[string]any{"environments": 1}}), 201)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+b+"/approve", nil), 200)

	e.want(e.do("dev", "GET", "/v1/quotas/usage", nil), 200)
	e.want(e.do("admin", "POST", "/v1/admin/expire", nil), 200)
	lapsing := e.want(e.do("dev", "GET", `/v1/notifications?where={"event":"quota.lapsing"}`, nil), 200)
	if lapsing["_meta"].(map[string]any)["total"] != float64(1) {
		t.Fatalf("the grant lapsing within the hour was not announced once: %v", lapsing["_items"])
	}
	e.want(e.do("admin", "POST", "/v1/admin/expire", nil), 200)
	if again := e.want(e.do("dev", "GET", `/v1/notifications?where={"event":"quota.lapsing"}`, nil), 200); again["_meta"].(map[string]any)["total"] != float64(1) {
		t.Fatal("the lapse was announced twice")
	}
	all := e.do("devops", "GET", "/v1/quotas/usage", nil)
	if e.want(all, 200); !strings.Contains(string(all.Body), `"username":"dev-user","limited":true,"limits":{"environments":2},"used":{"environments":2`) {
		t.Fatalf("usage: %s", all.Body)
	}
	e.want(e.do("dev", "GET", "/v1/quotas/"+qid, nil), 200)
	e.want(e.do("dev", "GET", "/v1/quotas", nil), 200)
	e.want(e.do("devops", "PUT", "/v1/quotas/"+qid, map[string]any{"role": "dev", "limits": map[string]any{"environments": 5}}), 200)
	e.want(e.do("devops", "DELETE", "/v1/quotas/"+qid, nil), 204)
	e.want(e.do("devops", "GET", "/v1/quotas/"+qid, nil), 404)
}

func TestPreferencesAPI(t *testing.T) { eachStore(t, testPreferencesAPI) }

func testPreferencesAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	// No SMTP server here: email is neither a default nor a choice.
	p := e.want(e.do("dev", "GET", "/v1/me/preferences", nil), 200)
	if fmt.Sprint(p["channels"]) != "[inbox]" {
		t.Fatalf("default channels without SMTP %v, want [inbox]", p["channels"])
	}
	if r := e.do("dev", "PUT", "/v1/me/preferences", map[string]any{"channels": []string{"inbox", "email"}}); r.Status != 422 ||
		!strings.Contains(string(r.Body), "email is not configured on this server") {
		t.Fatalf("email without SMTP: %d %s", r.Status, r.Body)
	}
	e.db.EmailConfigured = true
	p = e.want(e.do("dev", "GET", "/v1/me/preferences", nil), 200)
	if fmt.Sprint(p["channels"]) != "[inbox email]" {
		t.Fatalf("default channels with SMTP %v", p["channels"])
	}
	e.want(e.do("dev", "PUT", "/v1/me/preferences", map[string]any{"channels": []string{"inbox", "pigeon"}}), 422)
	e.want(e.do("dev", "PUT", "/v1/me/preferences", map[string]any{"channels": []string{"inbox", "webhook"}, "webhook_url": "http://127.0.0.1:1/hook"}), 422)
	e.want(e.do("dev", "PUT", "/v1/me/preferences", map[string]any{"channels": []string{"inbox", "webhook"}, "webhook_url": "http://127.0.0.1:1/hook", "webhook_secret": "s"}), 200)
	p = e.want(e.do("dev", "GET", "/v1/me/preferences", nil), 200)
	if p["webhook_secret"] != "s" {
		t.Fatalf("owner does not see its own secret: %v", p)
	}
	var sealed string
	if err := e.db.Read.QueryRow(context.Background(), "SELECT webhook_secret FROM preferences").Scan(&sealed); err != nil || sealed == "s" || !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("the webhook secret is not sealed at rest: %q %v", sealed, err)
	}
}

func TestRequestLogs(t *testing.T) { eachStore(t, testRequestLogs) }

func testRequestLogs(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
	id := e.submit("dev", seedParams)
	log := e.db.OpenJobLog(id)
	log.WriteLine("stdout", "creating cluster")
	log.WriteLine("stderr", "warning: slow")
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	got := e.want(e.do("dev", "GET", "/v1/provisionRequests/"+id+"/logs", nil), 200)
	items := got["_items"].([]any)
	if len(items) != 2 || items[1].(map[string]any)["stream"] != "stderr" {
		t.Fatalf("logs %v", got)
	}
	e.want(e.do("dev", "GET", "/v1/provisionRequests/000000000000000000000000/logs", nil), 404)
	_, other := e.newUser("other", "dev")
	e.tokens["other"] = other
	e.want(e.do("other", "GET", "/v1/provisionRequests/"+id+"/logs", nil), 403)
	// Follow: the request runs no job (REQUESTED), so the stream sends what
	// there is and ends.
	r := e.do("dev", "GET", "/v1/provisionRequests/"+id+"/logs?follow=true&after=1", nil)
	body := string(r.Body)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/event-stream") ||
		!strings.Contains(body, "event: line") || !strings.Contains(body, "warning: slow") || strings.Contains(body, "creating cluster") ||
		!strings.Contains(body, `event: end`) {
		t.Fatalf("follow: %d %s\n%s", r.Status, r.Header.Get("Content-Type"), body)
	}
}

func TestTwoApprovers(t *testing.T) { eachStore(t, testTwoApprovers) }

func testTwoApprovers(t *testing.T, open store) {
	e := newEnv(t, open)
	tpl := map[string]any{"_id": "prod-db", "name": "Production database", "approval": map[string]any{"mode": "manual", "approvers": 2}}
	e.want(e.do("devops", "POST", "/v1/templates", tpl), 201)
	id := e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "prod-db"}), 201)["_id"].(string)
	first := e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
	if first["status"] != "REQUESTED" || !strings.Contains(first["review_comment"].(string), "1 of the 2") {
		t.Fatalf("after one approval of two: %v", first)
	}
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 409)
	if st := e.want(e.do("admin", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)["status"]; st != "APPROVED" {
		t.Fatalf("after the second approver: %v", st)
	}
}
