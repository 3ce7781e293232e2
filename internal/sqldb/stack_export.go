package sqldb

import (
	"context"
	"fmt"

	"github.com/purserhq/purser"
)

var _ purser.StackExportStore = (*StackService)(nil)

const exportSelect = "status, export_state, export_url, export_error, export_attempts, export_superseded_by, exported_at"

// revisionExport reads revision n's status and stored export state.
func (db *DB) revisionExport(ctx context.Context, q Querier, cluster string, n int) (purser.RevisionStatus, purser.ExportState, error) {
	var (
		st   purser.RevisionStatus
		e    purser.ExportState
		at   int64
		errs string
	)
	err := q.QueryRow(ctx, "SELECT "+exportSelect+" FROM stack_revisions WHERE cluster = ? AND number = ?", cluster, n).
		Scan(&st, &e.Status, &e.URL, &errs, &e.Attempts, &e.SupersededBy, &at)
	if err != nil {
		if err := db.clusterExists(ctx, q, cluster); err != nil {
			return st, e, err
		}
		return st, e, db.translate(err, fmt.Sprintf("revision %d of cluster %s", n, cluster))
	}
	e.LastError = errs
	if at != 0 {
		e.At = fromMicros(at)
	}
	return st, e, nil
}

// RevisionToExport returns the document the export of revision n writes:
// n's while it is the newest applied revision, else the newer one's. The
// applied time is the revision's last change, which for an applied
// revision is the move to applied (only blocking moves it on).
func (s *StackService) RevisionToExport(ctx context.Context, cluster string, n int) (*purser.StackExport, error) {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return nil, err
	}
	h, err := s.db.stackHistory(ctx, s.db.Read, cluster)
	if err != nil {
		return nil, err
	}
	if len(h.Revisions) == 0 {
		if err := s.db.clusterExists(ctx, s.db.Read, cluster); err != nil {
			return nil, err
		}
	}
	r, err := h.ExportTarget(n)
	if err != nil {
		return nil, err
	}
	var applied int64
	if err := s.db.Read.QueryRow(ctx, "SELECT updated_at FROM stack_revisions WHERE cluster = ? AND number = ?", cluster, r.Number).Scan(&applied); err != nil {
		return nil, s.db.translate(err, fmt.Sprintf("revision %d of cluster %s", r.Number, cluster))
	}
	return purser.NewStackExport(r, fromMicros(applied)), nil
}

// MarkExported records an export attempt's outcome on revision n.
func (s *StackService) MarkExported(ctx context.Context, cluster string, n int, o purser.ExportOutcome) error {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		if err := s.db.lockCluster(ctx, tx, cluster); err != nil {
			return err
		}
		_, e, err := s.db.revisionExport(ctx, tx, cluster, n)
		if err != nil {
			return err
		}
		e = e.Record(o, s.db.now())
		_, err = tx.Exec(ctx, `UPDATE stack_revisions SET export_state = ?, export_url = ?, export_error = ?, export_attempts = ?,
			export_superseded_by = ?, exported_at = ? WHERE cluster = ? AND number = ?`,
			e.Status, e.URL, e.LastError, e.Attempts, e.SupersededBy, micros(e.At), cluster, n)
		if err != nil {
			return fmt.Errorf("record the export of revision %d: %w", n, err)
		}
		return nil
	})
}

// StackRevisionExport returns revision n's export state as shown.
func (s *StackService) StackRevisionExport(ctx context.Context, cluster string, n int) (*purser.ExportState, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, err
	}
	st, e, err := s.db.revisionExport(ctx, s.db.Read, cluster, n)
	if err != nil {
		return nil, err
	}
	return purser.RevisionExport(&purser.StackRevision{Status: st}, e), nil
}
