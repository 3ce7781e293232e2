package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/export"
)

// fakeStacks is an in-memory purser.StackExportStore for the export
// worker's own logic (superseded revisions, out-of-order writes, failures
// recorded). It is a fake on purpose: it runs the domain's real decisions
// (StackHistory.ExportTarget, ExportState.Record) over a history held in
// memory; the SQL store behind them is tested black-box in
// internal/storetest.
type fakeStacks struct {
	mu     sync.Mutex
	h      purser.StackHistory
	states map[int]purser.ExportState
}

func newFakeStacks(cluster string) *fakeStacks {
	return &fakeStacks{h: purser.StackHistory{Cluster: cluster}, states: map[int]purser.ExportState{}}
}

// add records revision n, running image nginx:<n>, with status st.
func (s *fakeStacks) add(t *testing.T, n int, st purser.RevisionStatus) {
	t.Helper()
	var sf purser.Stackfile
	if err := json.Unmarshal(fmt.Appendf(nil, `{"services":[{"web":{"image":"nginx:%d"}}]}`, n), &sf); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h.Revisions = append(s.h.Revisions, &purser.StackRevision{Cluster: s.h.Cluster, Number: n, Author: "ops", Stackfile: &sf, Status: st})
}

func (s *fakeStacks) RevisionToExport(ctx context.Context, cluster string, n int) (*purser.StackExport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.h.ExportTarget(n)
	if err != nil {
		return nil, err
	}
	return purser.NewStackExport(r, time.Now()), nil
}

func (s *fakeStacks) MarkExported(ctx context.Context, cluster string, n int, o purser.ExportOutcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[n] = s.states[n].Record(o, time.Now())
	return nil
}

func (s *fakeStacks) StackRevisionExport(ctx context.Context, cluster string, n int) (*purser.ExportState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.h.Revision(n)
	if err != nil {
		return nil, err
	}
	return purser.RevisionExport(r, s.states[n]), nil
}

func (s *fakeStacks) state(n int) purser.ExportState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states[n]
}

func exportJob(cluster string, n, attempt, maxAttempts int) *river.Job[purser.StackExportArgs] {
	return &river.Job[purser.StackExportArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: maxAttempts},
		Args: purser.StackExportArgs{Cluster: cluster, Revision: n}}
}

func dirBucket(t *testing.T) *export.Bucket {
	t.Helper()
	u, err := export.DirURL(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := export.Open(context.Background(), u, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// exportedImage returns the image the cluster's object holds, and its
// revision metadata.
func exportedImage(t *testing.T, b *export.Bucket, cluster string) (string, string) {
	t.Helper()
	body, meta, err := b.Read(context.Background(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	var sf purser.Stackfile
	if err := json.Unmarshal(body, &sf); err != nil {
		t.Fatalf("object %s: %v", body, err)
	}
	return sf.Services[0].Image, meta["revision"]
}

// TestStackExportOutOfOrder: revision 8's export writes it; a late export
// of revision 7 writes nothing and shows superseded by 8.
func TestStackExportOutOfOrder(t *testing.T) {
	t.Parallel()
	stacks, b := newFakeStacks("prod"), dirBucket(t)
	stacks.add(t, 7, purser.RevisionApplied)
	stacks.add(t, 8, purser.RevisionApplied)
	w := &StackExportWorker{Stacks: stacks, Exporter: b}
	if err := w.Work(context.Background(), exportJob("prod", 8, 1, 5)); err != nil {
		t.Fatal(err)
	}
	if err := w.Work(context.Background(), exportJob("prod", 7, 1, 5)); err != nil {
		t.Fatal(err)
	}
	if img, rev := exportedImage(t, b, "prod"); img != "nginx:8" || rev != "8" {
		t.Fatalf("object holds %s (revision %s) after a late export of 7; want revision 8's nginx:8", img, rev)
	}
	if s := stacks.state(8); s.Status != purser.ExportExported || s.URL != b.URL()+"/prod" {
		t.Fatalf("revision 8: %+v", s)
	}
	if s := stacks.state(7); s.Status != purser.ExportSuperseded || s.SupersededBy != 8 || s.Attempts != 0 {
		t.Fatalf("revision 7: %+v", s)
	}
}

// racingExporter applies revision 8 and runs its export to the end just
// before revision 7's write lands: the worst order two jobs can take.
type racingExporter struct {
	*export.Bucket
	once   sync.Once
	before func()
}

func (r *racingExporter) Write(ctx context.Context, doc *purser.StackExport) (string, error) {
	if doc.Revision == 7 {
		r.once.Do(r.before)
	}
	return r.Bucket.Write(ctx, doc)
}

// TestStackExportLateWriteRewritten: revision 7's write lands after
// revision 8's export finished; the job of 7, asking again, writes 8 back.
func TestStackExportLateWriteRewritten(t *testing.T) {
	t.Parallel()
	stacks, b := newFakeStacks("prod"), dirBucket(t)
	stacks.add(t, 7, purser.RevisionApplied)
	racer := &racingExporter{Bucket: b}
	w := &StackExportWorker{Stacks: stacks, Exporter: racer}
	racer.before = func() {
		stacks.add(t, 8, purser.RevisionApplied)
		if err := w.Work(context.Background(), exportJob("prod", 8, 1, 5)); err != nil {
			t.Error(err)
		}
	}
	if err := w.Work(context.Background(), exportJob("prod", 7, 1, 5)); err != nil {
		t.Fatal(err)
	}
	if img, rev := exportedImage(t, b, "prod"); img != "nginx:8" || rev != "8" {
		t.Fatalf("object holds %s (revision %s); want revision 8's nginx:8", img, rev)
	}
	if s := stacks.state(8); s.Status != purser.ExportExported {
		t.Fatalf("revision 8: %+v", s)
	}
}

// TestStackExportFailure: a bucket that refuses fails the job (River
// retries it) and shows the attempts and the error; the last attempt
// shows the export failed.
func TestStackExportFailure(t *testing.T) {
	t.Parallel()
	stacks := newFakeStacks("prod")
	stacks.add(t, 3, purser.RevisionApplied)
	b, err := export.Open(context.Background(), "s3://stacks?endpoint=http://127.0.0.1:1&use_path_style=true",
		export.Options{AccessKeyID: "AKID", SecretAccessKey: "not-a-secret-shown"})
	if err != nil {
		t.Fatal(err)
	}
	w := &StackExportWorker{Stacks: stacks, Exporter: b}
	if err := w.Work(context.Background(), exportJob("prod", 3, 1, 2)); err == nil {
		t.Fatal("a refused write succeeded: River would not retry it")
	}
	s, _ := stacks.StackRevisionExport(context.Background(), "prod", 3)
	if s.Status != purser.ExportPending || s.Attempts != 1 || !strings.Contains(s.LastError, "connection refused") {
		t.Fatalf("after the first attempt: %+v", s)
	}
	if err := w.Work(context.Background(), exportJob("prod", 3, 2, 2)); err == nil {
		t.Fatal("the last refused write succeeded")
	}
	s, _ = stacks.StackRevisionExport(context.Background(), "prod", 3)
	if s.Status != purser.ExportFailed || s.Attempts != 2 || !strings.Contains(s.LastError, "s3://stacks") ||
		strings.Contains(s.LastError, "not-a-secret-shown") {
		t.Fatalf("after the last attempt: %+v", s)
	}
}

// TestStackExportNotApplied: a revision blocked before its export ran is
// not written, and says why.
func TestStackExportNotApplied(t *testing.T) {
	t.Parallel()
	stacks, b := newFakeStacks("prod"), dirBucket(t)
	stacks.add(t, 1, purser.RevisionBlocked)
	w := &StackExportWorker{Stacks: stacks, Exporter: b}
	if err := w.Work(context.Background(), exportJob("prod", 1, 1, 5)); err != nil {
		t.Fatal(err)
	}
	if s := stacks.state(1); s.Status != purser.ExportSuperseded || !strings.Contains(s.LastError, "blocked") {
		t.Fatalf("blocked revision: %+v", s)
	}
	if _, _, err := b.Read(context.Background(), "prod"); err == nil {
		t.Fatal("a blocked revision was written")
	}
	if err := w.Work(context.Background(), exportJob("prod", 99, 1, 5)); err != nil {
		t.Fatalf("the export of a revision no longer there: %v", err)
	}
}
