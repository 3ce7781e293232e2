// Package postgres opens Purser's scale-out store: PostgreSQL through a pgx
// v5 pool. Several replicas may start at once: migrations run under an
// advisory lock.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/purserhq/purser/internal/logging"
	"github.com/purserhq/purser/internal/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key held while migrating ("purser" in ASCII).
const migrationLock = 0x707572736572

// Store is an open PostgreSQL database.
type Store struct {
	*sqldb.DB
	Pool *pgxpool.Pool
	// client inserts the store's jobs: the process's one River client once
	// NewQueue made it, so that an insert wakes this client's own
	// producers; until then an insert-only client (admin commands, tests).
	client atomic.Pointer[river.Client[pgx.Tx]]
}

// Open connects to the database at url (postgres://...), runs the
// migrations and returns the store.
func Open(ctx context.Context, url string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (4 on a small machine) starves a server whose
		// requests each run a few queries; PostgreSQL's own default allows 100.
		cfg.MaxConns = int32(max(16, 4*runtime.NumCPU()))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	s := &Store{Pool: pool}
	if err := s.migrate(ctx, logger); err != nil {
		pool.Close()
		return nil, err
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: logging.River(logger)})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	s.client.Store(inserter)
	s.DB = sqldb.New(sqldb.Engine{
		Name:            "postgres",
		Read:            querier{pool},
		Begin:           s.begin,
		UniqueViolation: uniqueViolation,
		ForeignKeyViolation: func(err error) bool {
			var pe *pgconn.PgError
			return errors.As(err, &pe) && pe.Code == "23503"
		},
		InsertJob: func(ctx context.Context, tx sqldb.Tx, args river.JobArgs, opts *river.InsertOpts) error {
			_, err := s.client.Load().InsertTx(ctx, tx.Native().(pgx.Tx), args, opts)
			return unavailable(err)
		},
		Ping:    func(ctx context.Context) error { return unavailable(pool.Ping(ctx)) },
		Catalog: Catalog,
		Lock: func(ctx context.Context, tx sqldb.Tx, key string) error {
			_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", key)
			return err
		},
	}, logger)
	return s, nil
}

// migrate runs Purser's and River's migrations while holding an advisory
// lock, so that replicas starting together migrate once.
func (s *Store) migrate(ctx context.Context, logger *slog.Logger) error {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck // the session ends the lock anyway

	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(s.Pool)
	defer db.Close()
	if err := sqldb.Migrate(ctx, goose.DialectPostgres, db, fsys, extraMigrations(fsys)...); err != nil {
		return err
	}
	m, err := rivermigrate.New(riverpgxv5.New(s.Pool), &rivermigrate.Config{Logger: logging.River(logger)})
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
// process inserts and works, so that an insert's NOTIFY is limited to one
// per queue per cfg.FetchCooldown, not per River's default 100 ms.
func (s *Store) NewQueue(cfg *river.Config) (*river.Client[pgx.Tx], error) {
	c, err := river.NewClient(riverpgxv5.New(s.Pool), cfg)
	if err != nil {
		return nil, err
	}
	s.client.Store(c)
	return c, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.Pool.Close()
	return nil
}

func (s *Store) begin(ctx context.Context) (sqldb.Tx, error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return &txQuerier{querier{tx}, tx}, nil
}

func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
