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
