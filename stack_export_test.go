package purser

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestExportTarget: the export of revision n writes n while it is the
// newest applied revision, the newer applied revision once one exists,
// and nothing for a revision no longer applied.
func TestExportTarget(t *testing.T) {
	t.Parallel()
	h := StackHistory{Cluster: "c", Revisions: []*StackRevision{
		{Number: 6, Status: RevisionApplied}, {Number: 7, Status: RevisionApplied}, {Number: 8, Status: RevisionApplied},
		{Number: 9, Status: RevisionBlocked}, {Number: 10, Status: RevisionPending},
	}}
	for _, tt := range []struct {
		name string
		n    int
		want int
		code string
	}{
		{"NewestWritesItself", 8, 8, ""},
		{"LateExportSuperseded", 7, 8, ""},
		{"BlockedNotExported", 9, 0, ECONFLICT},
		{"PendingNotExported", 10, 0, ECONFLICT},
		{"NoSuchRevision", 11, 0, ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := h.ExportTarget(tt.n)
			if ErrorCode(err) != tt.code {
				t.Fatalf("ExportTarget(%d) = %v, want code %q", tt.n, err, tt.code)
			}
			if tt.code == "" && r.Number != tt.want {
				t.Fatalf("ExportTarget(%d) = revision %d, want %d", tt.n, r.Number, tt.want)
			}
		})
	}
	if _, err := (StackHistory{Cluster: "c", Revisions: []*StackRevision{{Number: 1, Status: RevisionPending}}}).ExportTarget(1); ErrorCode(err) != ECONFLICT {
		t.Fatalf("nothing applied yet: %v", err)
	}
}

// TestExportStateRecord: failures count and show their error, pending
// until the last attempt, then failed; a success clears the error.
func TestExportStateRecord(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var s ExportState
	s = s.Record(ExportOutcome{Err: errors.New("connection refused")}, now)
	if s.Status != ExportPending || s.Attempts != 1 || s.LastError != "connection refused" || !s.At.Equal(now) {
		t.Fatalf("after one failure: %+v", s)
	}
	s = s.Record(ExportOutcome{Err: errors.New(strings.Repeat("x", 5000)), Final: true}, now)
	if s.Status != ExportFailed || s.Attempts != 2 || len(s.LastError) > maxExportError+3 {
		t.Fatalf("after the last failure: %+v", s)
	}
	s = s.Record(ExportOutcome{URL: "s3://b/c"}, now)
	if s.Status != ExportExported || s.Attempts != 3 || s.LastError != "" || s.URL != "s3://b/c" {
		t.Fatalf("after a success: %+v", s)
	}
	if s := (ExportState{}).Record(ExportOutcome{SupersededBy: 8}, now); s.Status != ExportSuperseded || s.SupersededBy != 8 {
		t.Fatalf("superseded: %+v", s)
	}
	if s := (ExportState{}).Record(ExportOutcome{NotApplied: true, Err: errors.New("revision 9 is blocked")}, now); s.Status != ExportSuperseded || s.LastError == "" {
		t.Fatalf("no longer applied: %+v", s)
	}
}

func TestRevisionExport(t *testing.T) {
	t.Parallel()
	if got := RevisionExport(&StackRevision{Status: RevisionApplied}, ExportState{}); got == nil || got.Status != ExportPending {
		t.Fatalf("applied, not yet exported: %+v", got)
	}
	if got := RevisionExport(&StackRevision{Status: RevisionPending}, ExportState{}); got != nil {
		t.Fatalf("never applied: %+v", got)
	}
	if got := RevisionExport(&StackRevision{Status: RevisionBlocked}, ExportState{Status: ExportExported}); got == nil || got.Status != ExportExported {
		t.Fatalf("exported, blocked since: %+v", got)
	}
}

// TestStackExportDocument: the object is named after the cluster, as the
// seed's were, its body is the stackfile as JSON, and the revision
// travels as metadata.
func TestStackExportDocument(t *testing.T) {
	t.Parallel()
	var sf Stackfile
	src := `{"defaults":{"memory":512},"services":[{"web":{"image":"nginx:1"}}]}`
	if err := json.Unmarshal([]byte(src), &sf); err != nil {
		t.Fatal(err)
	}
	applied := time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("x", 3600))
	doc := NewStackExport(&StackRevision{Cluster: "prod", Number: 7, Author: "ops", Stackfile: &sf}, applied)
	if doc.Key() != "prod" {
		t.Fatalf("key %q, want the cluster's name", doc.Key())
	}
	body, err := doc.Body()
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	_ = json.Unmarshal(body, &got)
	_ = json.Unmarshal([]byte(src), &want)
	if b1, b2 := mustJSON(t, got), mustJSON(t, want); b1 != b2 {
		t.Fatalf("body %s, want %s", b1, b2)
	}
	if m := doc.Metadata(); m["revision"] != "7" || m["author"] != "ops" || m["applied"] != "2026-12-01T09:00:00Z" {
		t.Fatalf("metadata %v", m)
	}
	if (StackExportArgs{}).Kind() != "stack_export" || JobQueue("stack_export") != QueueDefault {
		t.Fatal("stack_export jobs wait in the default queue")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
