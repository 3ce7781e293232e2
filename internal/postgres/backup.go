package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purserhq/purser/internal/sqldb"
)

// Catalog describes PostgreSQL's schema (the connection's current schema)
// to backups and restores.
var Catalog = sqldb.Catalog{
	Tables: "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
	Columns: "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? " +
		"ORDER BY ordinal_position",
	Parents: "SELECT DISTINCT p.relname::text FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid " +
		"WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace AND t.relname = ?",
	Jobs: "SELECT kind, args::text, queue, priority, max_attempts, metadata::text FROM river_job " +
		"WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled') ORDER BY id",
	QueueLag: "SELECT queue, EXTRACT(EPOCH FROM (now() - MIN(scheduled_at)))::float8 FROM river_job WHERE state = 'available' GROUP BY queue",
}

// Snapshot opens a REPEATABLE READ READ ONLY transaction: every query of
// the backup sees the database as it was when the first one ran, while
// the servers go on writing. Close ends it.
func (s *Store) Snapshot(ctx context.Context) (*sqldb.Snapshot, error) {
	tx, err := s.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return &sqldb.Snapshot{Engine: "postgres", Read: querier{tx}, Catalog: Catalog,
		Close: func() error { return tx.Rollback(context.WithoutCancel(ctx)) }}, nil
}
