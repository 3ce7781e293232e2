package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/purserhq/purser"
)

// testStackExport: marking a revision applied enqueues its export, shown
// pending; the export writes the newest applied revision, never an older
// one; attempts, errors and the outcome are recorded by Purser alone and
// read by anyone who reads stacks.
func testStackExport(t *testing.T, open Opener) {
	e := newStackEnv(t, open)
	ctx := context.Background()
	e.propose(t, stackfile(t, "1"))
	if got := e.export(t, 1); got != nil {
		t.Fatalf("a pending revision shows an export: %+v", got)
	}
	e.apply(t, 1)
	var jobs int
	if err := e.db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = ?", purser.StackExportArgs{}.Kind()).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("export jobs after one revision applied: %d (%v), want 1", jobs, err)
	}
	if got := e.export(t, 1); got == nil || got.Status != purser.ExportPending || got.Attempts != 0 {
		t.Fatalf("revision 1 applied, not exported yet: %+v", got)
	}
	for _, c := range []context.Context{e.devCtx, e.opsCtx, e.adminCtx} {
		if _, err := e.stacks.RevisionToExport(c, "sim1", 1); purser.ErrorCode(err) != purser.EFORBIDDEN {
			t.Fatalf("a user reads what to export: %v", err)
		}
		if err := e.stacks.MarkExported(c, "sim1", 1, purser.ExportOutcome{URL: "x"}); purser.ErrorCode(err) != purser.EFORBIDDEN {
			t.Fatalf("a user records an export: %v", err)
		}
	}
	doc, err := e.stacks.RevisionToExport(e.reconciler, "sim1", 1)
	if err != nil || doc.Revision != 1 || doc.Author != "ops" || doc.Stackfile.Services[0].Image != "nginx:1" || doc.Applied.IsZero() || doc.Key() != "sim1" {
		t.Fatalf("revision 1 to export: %+v (%v)", doc, err)
	}

	e.propose(t, stackfile(t, "2"))
	if _, err := e.stacks.RevisionToExport(e.reconciler, "sim1", 2); purser.ErrorCode(err) != purser.ECONFLICT {
		t.Fatalf("export a pending revision: %v", err)
	}
	e.apply(t, 2)
	if doc, err := e.stacks.RevisionToExport(e.reconciler, "sim1", 1); err != nil || doc.Revision != 2 || doc.Stackfile.Services[0].Image != "nginx:2" {
		t.Fatalf("a late export of revision 1 once 2 is applied: %+v (%v), want revision 2", doc, err)
	}
	for _, tt := range []struct {
		n    int
		code string
		c    string
	}{{9, purser.ENOTFOUND, "sim1"}, {1, purser.ENOTFOUND, "nowhere"}} {
		if _, err := e.stacks.RevisionToExport(e.reconciler, tt.c, tt.n); purser.ErrorCode(err) != tt.code {
			t.Fatalf("export revision %d of %s: %v", tt.n, tt.c, err)
		}
		if err := e.stacks.MarkExported(e.reconciler, tt.c, tt.n, purser.ExportOutcome{URL: "x"}); purser.ErrorCode(err) != tt.code {
			t.Fatalf("record revision %d of %s: %v", tt.n, tt.c, err)
		}
	}

	e.mark(t, 1, purser.ExportOutcome{SupersededBy: 2})
	if got := e.export(t, 1); got.Status != purser.ExportSuperseded || got.SupersededBy != 2 || got.At.IsZero() {
		t.Fatalf("revision 1 superseded: %+v", got)
	}
	e.mark(t, 2, purser.ExportOutcome{Err: errors.New("dial tcp: connection refused")})
	if got := e.export(t, 2); got.Status != purser.ExportPending || got.Attempts != 1 || got.LastError != "dial tcp: connection refused" {
		t.Fatalf("revision 2 after a failed attempt: %+v", got)
	}
	e.mark(t, 2, purser.ExportOutcome{Err: errors.New("still refused"), Final: true})
	if got := e.export(t, 2); got.Status != purser.ExportFailed || got.Attempts != 2 || got.LastError != "still refused" {
		t.Fatalf("revision 2 after its last attempt: %+v", got)
	}
	e.mark(t, 2, purser.ExportOutcome{URL: "s3://bucket/sim1"})
	if got := e.export(t, 2); got.Status != purser.ExportExported || got.URL != "s3://bucket/sim1" || got.LastError != "" || got.Attempts != 3 {
		t.Fatalf("revision 2 exported: %+v", got)
	}
}

func (e *stackEnv) export(t *testing.T, n int) *purser.ExportState {
	t.Helper()
	s, err := e.stacks.StackRevisionExport(e.devCtx, "sim1", n)
	if err != nil {
		t.Fatalf("export state of revision %d: %v", n, err)
	}
	return s
}

func (e *stackEnv) mark(t *testing.T, n int, o purser.ExportOutcome) {
	t.Helper()
	if err := e.stacks.MarkExported(e.reconciler, "sim1", n, o); err != nil {
		t.Fatalf("record the export of revision %d: %v", n, err)
	}
}
