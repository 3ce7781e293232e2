// Package sqlite opens Purser's embedded store: SQLite through
// modernc.org/sqlite (pure Go, no cgo) in WAL mode, with foreign keys, a busy
// timeout and immediate write transactions. One connection writes (as River
// recommends for SQLite); a pool of read-only connections reads beside it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/purserhq/purser/internal/logging"
	"github.com/purserhq/purser/internal/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// readers is the size of the pool of read-only connections.
const readers = 8

// readPragmas are set on every read connection as it opens: read-only, a
// 16 MiB page cache (SQLite's default is 2 MB, shared by nothing: each
// connection has its own) and the file mapped in memory up to 1 GiB, so
// that pages are read from the operating system's cache, shared by every
// connection, without a copy.
const readPragmas = "&_pragma=query_only(1)&_pragma=cache_size(-16384)&_pragma=mmap_size(1073741824)"

// Store is an open SQLite database.
type Store struct {
	*sqldb.DB
	write, read *sql.DB
	// client inserts the store's jobs: the process's one River client once
	// NewQueue made it, so that an insert wakes this client's own
	// producers; until then an insert-only client (admin commands, tests).
	client atomic.Pointer[river.Client[*sql.Tx]]
	// writeStmts are the writer's prepared statements, used within its
	// transactions.
	writeStmts *stmtCache
	// damage is what PRAGMA quick_check found at open, nil for a sound file.
	damage error
	// wake is signalled when a transaction that inserted jobs commits: it
	// wakes the River listener (wakeDriver).
	wake chan struct{}
}

// Open opens (creating if needed) the database file at path, runs the
// migrations and returns the store. The file and its journals are private
// to their owner (0600). The file's integrity is checked once (PRAGMA
// quick_check): a damaged file still opens, but Ping reports the damage,
// so that /readyz takes the replica out of service instead of serving
// wrong answers.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := private(abs, logger); err != nil {
		return nil, err
	}
	base := "file:" + (&url.URL{Path: abs}).EscapedPath() +
		"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	write, err := openCached(base + "&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", abs, err)
	}
	read, err := openCached(base + readPragmas)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// Readers stay open: database/sql keeps two idle connections by
	// default, and a connection closed loses its page cache and its
	// prepared statements.
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxIdleTime(0)
	s := &Store{write: write, read: read, writeStmts: newStmtCache(write), wake: make(chan struct{}, 1)}
	if s.damage = quickCheck(ctx, write); s.damage != nil {
		logger.ErrorContext(ctx, "the database file is damaged; restore it from a backup", "path", abs, "error", s.damage)
	}
	if err := s.migrate(ctx, logger); err != nil {
		s.Close()
		if s.damage != nil {
			return nil, fmt.Errorf("%w (%w)", err, s.damage)
		}
		return nil, err
	}
	inserter, err := river.NewClient(newWakeDriver(write, s.wake), &river.Config{Logger: logging.River(logger)})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	s.client.Store(inserter)
	s.DB = sqldb.New(sqldb.Engine{
		Name:            "sqlite",
		Read:            querier{r: read, stmts: newStmtCache(read)},
		Begin:           s.begin,
		UniqueViolation: uniqueViolation,
		ForeignKeyViolation: func(err error) bool {
			var se *sqlite.Error
			return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
		},
		InsertJob: func(ctx context.Context, tx sqldb.Tx, args river.JobArgs, opts *river.InsertOpts) error {
			_, err := s.client.Load().InsertTx(ctx, tx.Native().(*sql.Tx), args, opts)
			if t, ok := tx.(*txQuerier); ok && err == nil {
				t.jobs = true
			}
			return err
		},
		Ping: func(ctx context.Context) error {
			if s.damage != nil {
				return s.damage
			}
			return write.PingContext(ctx)
		},
		Catalog: Catalog,
		Lock:    func(context.Context, sqldb.Tx, string) error { return nil },
	}, logger)
	return s, nil
}

func (s *Store) migrate(ctx context.Context, logger *slog.Logger) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := sqldb.Migrate(ctx, goose.DialectSQLite3, s.write, fsys, extraMigrations(fsys)...); err != nil {
		return err
	}
	m, err := rivermigrate.New(riversqlite.New(s.write), &rivermigrate.Config{Logger: logging.River(logger)})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}

// NewQueue returns a River client that works the jobs of cfg on this store.
// The store inserts its jobs through it from then on: one client per
// process inserts and works, so that an insert notifies the producers at
// most once per cfg.FetchCooldown, not per River's default 100 ms. SQLite
// has no LISTEN/NOTIFY; River emulates it (riversqlite appends the
// notification to its river_notification table, which the client's
// listener polls every 50 ms); the store wakes the listener as soon as a
// transaction that inserted jobs commits (wakeDriver), so a job is fetched
// at once, and cfg.FetchPollInterval is only the fallback.
func (s *Store) NewQueue(cfg *river.Config) (*river.Client[*sql.Tx], error) {
	c, err := river.NewClient(newWakeDriver(s.write, s.wake), cfg)
	if err != nil {
		return nil, err
	}
	s.client.Store(c)
	return c, nil
}

// SQLDB returns the writer and reader pools, for metrics.
func (s *Store) SQLDB() (write, read *sql.DB) { return s.write, s.read }

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

func (s *Store) begin(ctx context.Context) (sqldb.Tx, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &txQuerier{querier: querier{r: tx, stmts: s.writeStmts, tx: tx}, tx: tx, wake: s.wake}, nil
}

// quickCheck runs PRAGMA quick_check and returns what it found, or nil.
func quickCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return fmt.Errorf("database integrity check: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("database integrity check: %w", err)
		}
		if line != "ok" {
			found = append(found, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("database integrity check: %w", err)
	}
	if len(found) > 0 {
		return fmt.Errorf("database file damaged (PRAGMA quick_check: %s); restore it from a backup", strings.Join(found, "; "))
	}
	return nil
}

// private makes the database file, made empty if new, and its journals
// readable by their owner only: they hold token hashes and sealed secrets.
// SQLite gives the -wal and -shm files it creates the mode of the database
// file.
func private(path string, logger *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, 0o600); err != nil {
			logger.Warn("the database file is readable by others and cannot be made private", "path", p, "mode", st.Mode().Perm().String(), "error", err)
			continue
		}
		logger.Warn("the database file was readable by others; made it private (0600)", "path", p, "mode", st.Mode().Perm().String())
	}
	return nil
}

func uniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
