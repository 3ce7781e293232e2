package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
)

// maxExportRewrites bounds how many newer revisions one export job writes
// after its own, should revisions keep being applied while it writes.
const maxExportRewrites = 3

// StackExportWorker writes an applied revision to the export bucket, one
// object per cluster, and records how it went on the revision. It is a job
// of its own, so a failing bucket never holds a deploy back: the job
// returns the error for River to retry (Backoff), after recording the
// attempt, and the last attempt records the export failed.
type StackExportWorker struct {
	river.WorkerDefaults[purser.StackExportArgs]
	Stacks   purser.StackExportStore
	Exporter purser.StackExporter
	Logger   *slog.Logger
}

// Work exports revision n of the cluster unless a newer revision was
// applied first (that one's job writes it). Having written n, it asks
// again and writes any revision applied meanwhile, so that the object
// never ends older than the newest applied revision, whatever order the
// writes of two jobs land in.
func (w *StackExportWorker) Work(ctx context.Context, job *river.Job[purser.StackExportArgs]) error {
	ctx = purser.SystemContext(ctx)
	cluster, n := job.Args.Cluster, job.Args.Revision
	doc, err := w.Stacks.RevisionToExport(ctx, cluster, n)
	switch purser.ErrorCode(err) {
	case "":
	case purser.ENOTFOUND:
		return nil // the cluster, or the revision, is gone: nothing to export
	case purser.ECONFLICT:
		return w.record(ctx, cluster, n, purser.ExportOutcome{Err: err, NotApplied: true})
	default:
		return err
	}
	if doc.Revision != n {
		return w.record(ctx, cluster, n, purser.ExportOutcome{SupersededBy: doc.Revision})
	}
	for range maxExportRewrites {
		where, err := w.Exporter.Write(ctx, doc)
		if err != nil {
			if rerr := w.record(ctx, cluster, doc.Revision, purser.ExportOutcome{Err: err, Final: final(job.JobRow)}); rerr != nil {
				return fmt.Errorf("%w (and recording it: %v)", err, rerr)
			}
			return err
		}
		if err := w.record(ctx, cluster, doc.Revision, purser.ExportOutcome{URL: where}); err != nil {
			return err
		}
		next, err := w.Stacks.RevisionToExport(ctx, cluster, doc.Revision)
		if err != nil || next.Revision == doc.Revision {
			return nil // written, and still the newest applied revision (or nothing newer to write)
		}
		if w.Logger != nil {
			w.Logger.InfoContext(ctx, "stack export: a newer revision was applied while writing; writing it too",
				"cluster", cluster, "written", doc.Revision, "newer", next.Revision)
		}
		doc = next
	}
	return nil
}

// record keeps an attempt's outcome, after the job's context ended too.
func (w *StackExportWorker) record(ctx context.Context, cluster string, n int, o purser.ExportOutcome) error {
	rctx, cancel := detached(ctx)
	defer cancel()
	return w.Stacks.MarkExported(rctx, cluster, n, o)
}
