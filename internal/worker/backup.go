package worker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
)

// BackupWorker works purser.BackupArgs: it writes an archive of the store
// to the bucket, named after the time, then deletes the oldest scheduled
// backups beyond Keep. A retry writes a new archive; a failed delete is
// retried with the next backup.
type BackupWorker struct {
	river.WorkerDefaults[purser.BackupArgs]
	Maker  purser.BackupMaker
	Bucket purser.BackupBucket
	Keep   int
	Now    func() time.Time
	Logger *slog.Logger
}

// Timeout bounds one backup: a big store takes long to read and upload.
func (w *BackupWorker) Timeout(*river.Job[purser.BackupArgs]) time.Duration { return time.Hour }

// Work makes one backup and applies retention.
func (w *BackupWorker) Work(ctx context.Context, _ *river.Job[purser.BackupArgs]) error {
	start := w.Now()
	var buf bytes.Buffer
	if err := w.Maker.WriteBackup(ctx, &buf); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	key := purser.BackupKey(start)
	if err := w.Bucket.PutObject(ctx, key, buf.Bytes(), "application/gzip"); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	w.Logger.InfoContext(ctx, "backup written", "key", key, "bytes", buf.Len(), "duration", time.Since(start).Round(time.Millisecond))
	keys, err := w.Bucket.ListObjects(ctx, purser.BackupPrefix)
	if err != nil {
		w.Logger.WarnContext(ctx, "backup retention: list", "error", err)
		return nil
	}
	for _, old := range purser.BackupsToDelete(keys, w.Keep) {
		if err := w.Bucket.DeleteObject(ctx, old); err != nil {
			w.Logger.WarnContext(ctx, "backup retention: delete", "key", old, "error", err)
			continue
		}
		w.Logger.InfoContext(ctx, "old backup deleted", "key", old, "keep", w.Keep)
	}
	return nil
}
