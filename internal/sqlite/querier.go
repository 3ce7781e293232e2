package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/purserhq/purser/internal/sqldb"
)

// runner is what *sql.DB and *sql.Tx share.
type runner interface {
	// ExecContext runs a statement and reports what it did.
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	// QueryContext runs a query; the caller closes the rows.
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	// QueryRowContext runs a query for one row; sql.ErrNoRows comes from
	// Scan.
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// querier adapts database/sql to sqldb.Querier.
type querier struct{ r runner }

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.r.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return sqlRow{q.r.QueryRowContext(ctx, query, args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqldb.ErrNoRows
	}
	return err
}

type txQuerier struct {
	querier
	tx *sql.Tx
}

func (t *txQuerier) Native() any                    { return t.tx }
func (t *txQuerier) Commit(context.Context) error   { return t.tx.Commit() }
func (t *txQuerier) Rollback(context.Context) error { return t.tx.Rollback() }
