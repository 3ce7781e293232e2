package api

import (
	"context"
	"time"

	"github.com/purserhq/purser"
)

// stackExportDoc is where an applied revision's export stands: written to
// the export bucket (one object per cluster, named after it), retried,
// failed, or superseded by a newer revision.
type stackExportDoc struct {
	Status       string     `json:"status" enum:"pending,exported,failed,superseded" doc:"pending until written (failed attempts are retried), then exported; failed once the attempts are spent; superseded when a newer revision was applied first, or this one blocked, so it was not written."`
	At           *time.Time `json:"at,omitempty" doc:"When it was written, skipped, or last tried."`
	URL          string     `json:"url,omitempty" doc:"Where it was written: the bucket and the key, the cluster's name."`
	Attempts     int        `json:"attempts" doc:"Writes tried, failed ones included."`
	LastError    string     `json:"last_error,omitempty" doc:"Why the last attempt failed, or why the revision was not written."`
	SupersededBy int        `json:"superseded_by,omitempty" doc:"The newer applied revision, exported in this one's place."`
}

// stackExport returns revision n's export state as a document, nil when
// it has none (never applied) or the store keeps no exports.
func (s *Server) stackExport(ctx context.Context, cluster string, n int) (*stackExportDoc, error) {
	ex, ok := s.Stacks.(purser.StackExportStore)
	if !ok {
		return nil, nil
	}
	st, err := ex.StackRevisionExport(ctx, cluster, n)
	if err != nil || st == nil {
		return nil, err
	}
	d := &stackExportDoc{Status: string(st.Status), URL: st.URL, Attempts: st.Attempts, LastError: st.LastError, SupersededBy: st.SupersededBy}
	if !st.At.IsZero() {
		d.At = &st.At
	}
	return d, nil
}
