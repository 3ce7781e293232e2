package sqlite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/purserhq/purser/internal/sqldb"
)

// Catalog describes SQLite's schema to backups and restores.
var Catalog = sqldb.Catalog{
	Tables:  "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
	Columns: "SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
	Parents: `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`,
	Jobs: "SELECT kind, json(args), queue, priority, max_attempts, json(metadata) FROM river_job " +
		"WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled') ORDER BY id",
	QueueLag: "SELECT queue, (julianday('now') - julianday(MIN(scheduled_at))) * 86400.0 FROM river_job WHERE state = 'available' GROUP BY queue",
}

// Snapshot copies the database, online, with VACUUM INTO (a consistent
// copy taken in one read transaction: the server keeps writing) into a
// private file in dir, and returns a read-only view of the copy, which its
// Close removes.
func (s *Store) Snapshot(ctx context.Context, dir string) (*sqldb.Snapshot, error) {
	f, err := os.CreateTemp(dir, ".purser-backup-*.db")
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	path := f.Name()
	f.Close()
	os.Remove(path) // VACUUM INTO wants to create it
	remove := func() error {
		return errors.Join(os.Remove(path), removeIfExists(path+"-wal"), removeIfExists(path+"-shm"))
	}
	if err := s.vacuumInto(ctx, path); err != nil {
		_ = removeIfExists(path)
		return nil, fmt.Errorf("snapshot (VACUUM INTO %s): %w", filepath.Dir(path), err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = remove()
		return nil, err
	}
	db, err := openCached("file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=query_only(1)")
	if err != nil {
		_ = remove()
		return nil, err
	}
	return &sqldb.Snapshot{Engine: "sqlite", Read: querier{r: db}, Catalog: Catalog,
		Close: func() error { return errors.Join(db.Close(), remove()) }}, nil
}

// vacuumInto copies the database to path on a connection of its own: the
// readers are query-only (which VACUUM INTO is not, to SQLite), and the
// single writer must not be held for the length of the copy.
func (s *Store) vacuumInto(ctx context.Context, path string) error {
	var file string
	if err := s.read.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		return err
	}
	db, err := openCached("file:" + (&url.URL{Path: file}).EscapedPath() + "?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "VACUUM INTO ?", path)
	return err
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
