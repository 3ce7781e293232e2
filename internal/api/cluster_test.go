package api_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func TestClustersAPI(t *testing.T) { eachStore(t, testClustersAPI) }

func testClustersAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	body := map[string]any{"name": "gone", "server": "https://127.0.0.1:1", "token": "cluster-secret-token", "ca": "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"}
	e.want(e.do("dev", "POST", "/v1/clusters", body), 403)
	c := e.want(e.do("devops", "POST", "/v1/clusters", body), 201)
	if c["reachable"] != false || c["last_error"] == "" || c["server"] != "https://127.0.0.1:1" {
		t.Fatalf("an unreachable cluster: %v", c)
	}
	e.want(e.do("devops", "POST", "/v1/clusters", body), 409)
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "Bad_Name", "token": "x", "server": "https://x"}), 422)
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "neither"}), 422)
	for _, r := range []response{e.do("devops", "GET", "/v1/clusters/gone", nil), e.do("devops", "GET", "/v1/clusters", nil),
		e.do("devops", "POST", "/v1/clusters/gone/check", nil)} {
		if r.Status != 200 || strings.Contains(string(r.Body), "cluster-secret-token") {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	var sealed string
	if err := e.db.Read.QueryRow(context.Background(), "SELECT credentials FROM clusters").Scan(&sealed); err != nil || strings.Contains(sealed, "cluster-secret-token") {
		t.Fatalf("credentials are not sealed at rest: %q %v", sealed, err)
	}
	e.want(e.do("devops", "GET", "/v1/clusters/nope", nil), 404)

	// A cluster hosting an environment cannot be removed.
	e.want(e.do("devops", "POST", "/v1/templates", map[string]any{"_id": "ns", "name": "Namespace", "driver": "kubernetes-namespace",
		"params": []any{map[string]any{"name": "cluster", "type": "string"}}}), 201)
	id := e.want(e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "ns", "resource_parameters": map[string]any{"cluster": "gone"}}), 201)["_id"].(string)
	e.want(e.do("devops", "POST", "/v1/provisionRequests/"+id+"/approve", nil), 200)
	r := e.do("devops", "DELETE", "/v1/clusters/gone", nil)
	if e.want(r, 409); !strings.Contains(string(r.Body), id) {
		t.Fatalf("refusal does not name the environment: %s", r.Body)
	}
	e.want(e.do("dev", "POST", "/v1/provisionRequests/"+id+"/purge", nil), 200)
	if err := sqldb.NewRequestService(e.db).FinishPurge(context.Background(), purser.PurgeResult{RequestID: id, Final: true}); err != nil {
		t.Fatal(err)
	}
	e.want(e.do("devops", "DELETE", "/v1/clusters/gone", nil), 204)
	e.want(e.do("devops", "DELETE", "/v1/clusters/gone", nil), 404)
}

// TestClusterKubeconfigRunsNothing registers a kubeconfig whose exec
// plugin would touch a file: it is refused before anything is probed or
// stored, and nothing runs.
func TestClusterKubeconfigRunsNothing(t *testing.T) { eachStore(t, testClusterKubeconfigRunsNothing) }

func testClusterKubeconfigRunsNothing(t *testing.T, open store) {
	e := newEnv(t, open)
	marker := filepath.Join(t.TempDir(), "ran")
	kc := `apiVersion: v1
kind: Config
current-context: c
clusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user:
    tokenFile: /var/lib/purser/secret.key
    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, "touch ` + marker + `"]}
`
	r := e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "evil", "kubeconfig": kc})
	e.want(r, 422)
	for _, want := range []string{"body.kubeconfig.users[0].user.exec", "rule: no_plugin", "body.kubeconfig.users[0].user.tokenFile", "rule: inline_only"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("the problem lacks %q: %s", want, r.Body)
		}
	}
	e.want(e.do("devops", "GET", "/v1/clusters/evil", nil), 404)
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the exec plugin ran: %v", err)
	}
}

// TestClusterUpdate: devops change a cluster's description and
// credentials under If-Match; new credentials are checked as at
// registration, sealed, never returned nor audited, and the cluster is
// checked again.
func TestClusterUpdate(t *testing.T) { eachStore(t, testClusterUpdate) }

func testClusterUpdate(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "c1", "server": "https://127.0.0.1:1", "token": "old-secret-token"}), 201)
	patch := func(role, path string, body any, headers ...string) response {
		return e.do(role, "PATCH", path, body, append([]string{"Content-Type", "application/merge-patch+json"}, headers...)...)
	}
	etag := e.do("devops", "GET", "/v1/clusters/c1", nil).Header.Get("ETag")
	e.want(patch("dev", "/v1/clusters/c1", map[string]any{"description": "x"}), 403)
	e.want(patch("devops", "/v1/clusters/nope", map[string]any{"description": "x"}), 404)
	r := patch("devops", "/v1/clusters/c1", map[string]any{"description": "staging"}, "If-Match", etag)
	if got := e.want(r, 200); got["description"] != "staging" || got["server"] != "https://127.0.0.1:1" || r.Header.Get("ETag") == etag {
		t.Fatalf("patched cluster: %v (ETag %q)", got, r.Header.Get("ETag"))
	}
	e.want(patch("devops", "/v1/clusters/c1", map[string]any{"description": "y"}, "If-Match", etag), 412)

	r = patch("devops", "/v1/clusters/c1", map[string]any{"kubeconfig": "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {exec: {command: /bin/sh}}}]\n"})
	if e.want(r, 422); !strings.Contains(string(r.Body), "kubeconfig.users[0].user.exec") {
		t.Fatalf("a kubeconfig with a plugin: %s", r.Body)
	}
	r = patch("devops", "/v1/clusters/c1", map[string]any{"kubeconfig": "apiVersion: v1\nkind: Config\n", "token": "t"})
	if e.want(r, 422); !strings.Contains(string(r.Body), "kubeconfig") {
		t.Fatalf("a kubeconfig and a token: %s", r.Body)
	}

	r = patch("devops", "/v1/clusters/c1", map[string]any{"server": "https://127.0.0.1:2", "token": "new-secret-token"})
	got := e.want(r, 200)
	if got["server"] != "https://127.0.0.1:2" || got["reachable"] != false || got["checked_at"] == nil || strings.Contains(string(r.Body), "secret-token") {
		t.Fatalf("new credentials: %s", r.Body)
	}
	var sealed string
	if err := e.db.Read.QueryRow(context.Background(), "SELECT credentials FROM clusters WHERE name = 'c1'").Scan(&sealed); err != nil || strings.Contains(sealed, "secret-token") {
		t.Fatalf("credentials are not sealed at rest: %q %v", sealed, err)
	}
	c, err := e.db.ClusterCredentials(context.Background(), "c1")
	if err != nil || c.Token != "new-secret-token" || c.Description != "staging" {
		t.Fatalf("stored credentials: %+v %v", c, err)
	}
	r = e.do("devops", "GET", "/v1/events"+where(`{"action":"cluster.update"}`), nil)
	ev := e.want(r, 200)["_items"].([]any)
	if len(ev) != 2 || strings.Contains(string(r.Body), "secret-token") {
		t.Fatalf("cluster.update events: %s", r.Body)
	}
	if a := ev[0].(map[string]any)["after"].(map[string]any); a["credentials_changed"] != true || a["server"] != "https://127.0.0.1:2" {
		t.Fatalf("the last cluster.update event: %v", ev[0])
	}
}
