package purser

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Export: every applied revision is written, as the desired-state seed
// wrote its S3 objects, as one object per cluster named after it, to a
// bucket the operator chooses (a directory by default, S3 at scale). The
// export is a job of its own: it is retried and its state is shown on the
// revision, and a failure never holds a deploy back.

// StackExportArgs asks to export applied revision Revision of Cluster.
type StackExportArgs struct {
	Cluster  string `json:"cluster"`
	Revision int    `json:"revision"`
}

// Kind names the job.
func (StackExportArgs) Kind() string { return "stack_export" }

// ExportStatus is where a revision's export stands.
type ExportStatus string

// Export statuses:
//
//	pending --> exported | failed      (failed once the job's attempts are spent)
//	pending --> superseded             (a newer revision was applied first, or
//	                                    this one was blocked: not written)
//
// A pending export may carry the error and count of the attempts that
// failed so far.
const (
	ExportPending    ExportStatus = "pending"
	ExportExported   ExportStatus = "exported"
	ExportFailed     ExportStatus = "failed"
	ExportSuperseded ExportStatus = "superseded"
)

// maxExportError bounds the error kept on a revision.
const maxExportError = 1000

// ExportState is how a revision's export went, shown on the revision.
type ExportState struct {
	Status ExportStatus
	// At is when the object was written, or the revision skipped, or the
	// last attempt failed.
	At time.Time
	// URL is where the object was written: the bucket and the key.
	URL string
	// Attempts counts the writes tried, failed ones included.
	Attempts int
	// LastError is why the last attempt failed (or why it was skipped).
	LastError string
	// SupersededBy is the newer applied revision that made this one's
	// export moot.
	SupersededBy int
}

// RevisionExport returns r's export state as shown: the stored one, or
// pending for an applied revision whose export has not run yet; nil for a
// revision never applied.
func RevisionExport(r *StackRevision, stored ExportState) *ExportState {
	if stored.Status != "" {
		return &stored
	}
	if r.Status == RevisionApplied {
		return &ExportState{Status: ExportPending}
	}
	return nil
}

// ExportOutcome is what one export attempt did, for the store to record.
type ExportOutcome struct {
	URL          string // where the object was written, on success
	Err          error  // why it failed; nil on success
	Final        bool   // no attempt follows a failure (the job gave up)
	SupersededBy int    // set when the revision was not written because a newer one was applied
	NotApplied   bool   // the revision was not written: it is no longer applied (Err says why)
}

// Record returns the state after outcome o, at now.
func (s ExportState) Record(o ExportOutcome, now time.Time) ExportState {
	s.At = now
	switch {
	case o.SupersededBy > 0 || o.NotApplied:
		s.Status, s.SupersededBy = ExportSuperseded, o.SupersededBy
		if o.Err != nil {
			s.LastError = o.Err.Error()
		}
	case o.Err != nil:
		s.Attempts++
		s.LastError = o.Err.Error()
		if len(s.LastError) > maxExportError {
			s.LastError = s.LastError[:maxExportError] + "..."
		}
		s.Status = ExportPending
		if o.Final {
			s.Status = ExportFailed
		}
	default:
		s.Attempts++
		s.Status, s.URL, s.LastError, s.SupersededBy = ExportExported, o.URL, "", 0
	}
	return s
}

// NewestApplied returns the highest-numbered applied revision, or nil.
func (h StackHistory) NewestApplied() *StackRevision {
	var out *StackRevision
	for _, r := range h.Revisions {
		if r.Status == RevisionApplied && (out == nil || r.Number > out.Number) {
			out = r
		}
	}
	return out
}

// ExportTarget decides what the export of revision n writes: n itself
// while it is the newest applied revision, or the newer applied revision
// that superseded it. The exporter writes nothing for a superseded
// revision; but having written n, it asks again and writes the newer one
// returned, so that a late export of revision 7 never leaves the object
// older than revision 8, whatever order the writes land in. ENOTFOUND for
// no revision n; ECONFLICT when n is not applied (blocked since) and no
// newer revision is.
func (h StackHistory) ExportTarget(n int) (*StackRevision, error) {
	r, err := h.Revision(n)
	if err != nil {
		return nil, err
	}
	newest := h.NewestApplied()
	if newest == nil || newest.Number < n {
		return nil, Errorf(ECONFLICT, "revision %d of %s is %s, not applied: it is not exported", n, h.Cluster, r.Status)
	}
	return newest, nil
}

// StackExport is the document written for an applied revision.
//
// The object's body is the stackfile as given, as JSON, alone: exactly
// what the seed's api-server stored (json.dumps of the config), so that
// whatever read the seed's bucket reads this one. The revision, its author
// and when it was applied travel as the object's metadata (S3 user
// metadata, fileblob's sidecar), which leaves the body untouched.
type StackExport struct {
	Cluster   string
	Revision  int
	Author    string
	Applied   time.Time
	Stackfile *Stackfile
}

// NewStackExport is the export document of applied revision r, applied
// at applied.
func NewStackExport(r *StackRevision, applied time.Time) *StackExport {
	return &StackExport{Cluster: r.Cluster, Revision: r.Number, Author: r.Author, Applied: applied, Stackfile: r.Stackfile}
}

// StackExportKey is the object a cluster's stack is exported to: the
// cluster's name at the bucket's root, without an extension, as the seed
// named its objects (its GET /v1/clusters listed the keys as the cluster
// names).
func StackExportKey(cluster string) string { return cluster }

// Key is the object's key.
func (e *StackExport) Key() string { return StackExportKey(e.Cluster) }

// Body is the object's content: the stackfile as JSON.
func (e *StackExport) Body() ([]byte, error) {
	b, err := json.Marshal(e.Stackfile)
	if err != nil {
		return nil, fmt.Errorf("export revision %d of %s: %w", e.Revision, e.Cluster, err)
	}
	return b, nil
}

// Metadata is the object's metadata: revision, author and applied (RFC
// 3339, UTC).
func (e *StackExport) Metadata() map[string]string {
	return map[string]string{"revision": strconv.Itoa(e.Revision), "author": e.Author, "applied": e.Applied.UTC().Format(time.RFC3339)}
}

// StackExporter writes export documents where the operator chose.
type StackExporter interface {
	// Write replaces the object doc.Key() with doc, and returns where it
	// went (the bucket's URL, without its query, and the key).
	Write(ctx context.Context, doc *StackExport) (string, error)
}

// StackExportStore is what the exporter needs of the stack store. Its
// writes are Purser's own (stacks:apply); reading a state needs
// stacks:read.
type StackExportStore interface {
	// RevisionToExport returns the document the export of revision n
	// writes (StackHistory.ExportTarget): n's, or a newer applied
	// revision's that superseded it; ENOTFOUND, ECONFLICT as there.
	RevisionToExport(ctx context.Context, cluster string, n int) (*StackExport, error)
	// MarkExported records an export attempt's outcome on revision n
	// (ExportState.Record).
	MarkExported(ctx context.Context, cluster string, n int, o ExportOutcome) error
	// StackRevisionExport returns revision n's export state as shown
	// (RevisionExport): nil for a revision never applied.
	StackRevisionExport(ctx context.Context, cluster string, n int) (*ExportState, error)
}
