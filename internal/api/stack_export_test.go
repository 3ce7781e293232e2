package api_test

import (
	"context"
	"errors"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// TestStackExportShown: GET of one revision shows its export: none while
// pending, pending once applied, then the attempts and last error of a
// failing bucket, then where it was written.
func TestStackExportShown(t *testing.T) { eachStore(t, testStackExportShown) }

func testStackExportShown(t *testing.T, open store) {
	e := newEnv(t, open)
	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "prod", "kind": "sim"}), 201)
	e.want(e.do("devops", "PUT", "/v1/clusters/prod/config", `{"defaults":{},"services":[{"web":{"image":"nginx:1"}}]}`), 202)
	rev := e.want(e.do("dev", "GET", "/v1/clusters/prod/revisions/1", nil), 200)
	if _, ok := rev["export"]; ok {
		t.Fatalf("a pending revision shows an export: %v", rev)
	}
	stacks, sys := sqldb.NewStackService(e.db), purser.SystemContext(context.Background())
	for _, st := range []purser.RevisionStatus{purser.RevisionApplying, purser.RevisionApplied} {
		if _, err := stacks.MarkRevision(sys, "prod", 1, st); err != nil {
			t.Fatal(err)
		}
	}
	export := func() map[string]any {
		t.Helper()
		rev := e.want(e.do("dev", "GET", "/v1/clusters/prod/revisions/1", nil), 200)
		x, _ := rev["export"].(map[string]any)
		return x
	}
	if x := export(); x["status"] != "pending" || x["attempts"] != 0.0 {
		t.Fatalf("applied, not exported yet: %v", x)
	}
	if err := stacks.MarkExported(sys, "prod", 1, purser.ExportOutcome{Err: errors.New("dial tcp 127.0.0.1:1: connection refused")}); err != nil {
		t.Fatal(err)
	}
	if x := export(); x["status"] != "pending" || x["attempts"] != 1.0 || x["last_error"] != "dial tcp 127.0.0.1:1: connection refused" || x["at"] == nil {
		t.Fatalf("after a failed attempt: %v", x)
	}
	if err := stacks.MarkExported(sys, "prod", 1, purser.ExportOutcome{URL: "s3://stacks/prod"}); err != nil {
		t.Fatal(err)
	}
	if x := export(); x["status"] != "exported" || x["url"] != "s3://stacks/prod" || x["attempts"] != 2.0 || x["last_error"] != nil {
		t.Fatalf("exported: %v", x)
	}
	e.want(e.do("dev", "GET", "/v1/clusters/prod/revisions/9", nil), 404)
}
