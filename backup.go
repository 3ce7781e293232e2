package purser

import (
	"context"
	"io"
	"sort"
	"strings"
	"time"
)

// BackupMaker writes an archive of the whole store (purser backup's).
type BackupMaker interface {
	WriteBackup(ctx context.Context, w io.Writer) error
}

// BackupBucket is where scheduled backups go: a directory or an S3 bucket.
type BackupBucket interface {
	PutObject(ctx context.Context, key string, body []byte, contentType string) error
	// ListObjects returns the keys starting with prefix, sorted.
	ListObjects(ctx context.Context, prefix string) ([]string, error)
	DeleteObject(ctx context.Context, key string) error
}

// BackupArgs asks for one scheduled backup (periodic, on the leader).
type BackupArgs struct{}

// Kind names the job.
func (BackupArgs) Kind() string { return "backup" }

// BackupPrefix starts every scheduled backup's name.
const BackupPrefix = "purser-backup-"

// BackupKey names the scheduled backup made at t: names sort as their times.
func BackupKey(t time.Time) string {
	return BackupPrefix + t.UTC().Format("20060102T150405Z") + ".tar.gz"
}

// BackupsToDelete returns which of the backups in keys fall outside
// retention, the newest keep of them kept. Keys not named by BackupKey are
// never touched.
func BackupsToDelete(keys []string, keep int) []string {
	var ours []string
	for _, k := range keys {
		if _, err := time.Parse("20060102T150405Z", strings.TrimSuffix(strings.TrimPrefix(k, BackupPrefix), ".tar.gz")); err == nil && strings.HasPrefix(k, BackupPrefix) {
			ours = append(ours, k)
		}
	}
	sort.Strings(ours)
	if keep < 1 {
		keep = 1
	}
	if len(ours) <= keep {
		return nil
	}
	return ours[:len(ours)-keep]
}
