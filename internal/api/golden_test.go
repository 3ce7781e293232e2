package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
)

var (
	update   = flag.Bool("update", false, "rewrite the golden files in testdata/")
	goldenMu sync.Mutex
)

var (
	hexID = regexp.MustCompile(`[0-9a-f]{24}`)
	stamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	etag  = regexp.MustCompile(`"_etag": "[0-9a-f]+"`)
	token = regexp.MustCompile(`pst_[A-Za-z0-9_-]+`)
)

// golden compares an answer, with ids, times, ETags and secrets replaced
// by placeholders and indented, with testdata/name.json.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v: %s", name, err, body)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	got := hexID.ReplaceAll(pretty, []byte("ID"))
	got = stamp.ReplaceAll(got, []byte("TIME"))
	got = etag.ReplaceAll(got, []byte(`"_etag": "ETAG"`))
	got = token.ReplaceAll(got, []byte("TOKEN"))
	path := filepath.Join("testdata", name+".json")
	goldenMu.Lock() // both stores' runs read and may rewrite the same file
	defer goldenMu.Unlock()
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Fatalf("%s differs from %s (run with -update if the change is meant):\n%s", name, path, got)
	}
}

// TestGoldenAnswers pins the shapes users and scripts depend on: a
// document, a collection, a problem, the seed's review answer.
func TestGoldenAnswers(t *testing.T) { eachStore(t, testGoldenAnswers) }

func testGoldenAnswers(t *testing.T, open store) {
	e := newEnv(t, open)
	golden(t, "user", e.do("admin", "GET", "/v1/users/"+e.users["dev"].ID, nil).Body)
	golden(t, "roles", e.do("dev", "GET", "/v1/roles?max_results=2", nil).Body)
	golden(t, "problem-422", e.do("admin", "POST", "/v1/users", `{"username":"Bad Name","email":"nope","roles":["wizard"]}`).Body)
	golden(t, "problem-quota", func() []byte {
		e.want(e.do("devops", "POST", "/v1/templates", seedTemplate), 201)
		e.want(e.do("devops", "POST", "/v1/quotas", map[string]any{"role": "dev", "limits": map[string]any{"environments": 0}}), 201)
		return e.do("dev", "POST", "/v1/provisionRequests", map[string]any{"resource_template": "basic-eks-cluster", "resource_parameters": seedParams}).Body
	}())
	e.want(e.do("devops", "DELETE", "/v1/quotas/"+quotaID(t, e), nil), 204)
	id := e.submit("dev", seedParams)
	golden(t, "seed-review", e.do("devops", "POST", "/v1/approveProvisionRequest", map[string]any{"_id": id, "status": "APPROVED"}).Body)
}

func quotaID(t *testing.T, e *env) string {
	l := e.want(e.do("devops", "GET", "/v1/quotas", nil), 200)
	return l["_items"].([]any)[0].(map[string]any)["_id"].(string)
}
