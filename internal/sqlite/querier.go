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

// querier adapts database/sql to sqldb.Querier. With stmts, it runs each
// query through its cached prepared statement (within tx when set).
type querier struct {
	r     runner
	stmts *stmtCache
	tx    *sql.Tx
}

// runner returns what runs query: its prepared statement when the cache
// has or takes one, else the pool or transaction itself.
func (q querier) runner(ctx context.Context, query string) (runner, error) {
	switch {
	case q.stmts == nil:
		return q.r, nil
	case q.tx != nil:
		if s := q.stmts.lookup(query); s != nil {
			return stmtRunner{q.tx.StmtContext(ctx, s)}, nil
		}
		return q.r, nil
	}
	s, err := q.stmts.get(ctx, query)
	if err != nil || s == nil {
		return q.r, err
	}
	return stmtRunner{s}, nil
}

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	r, err := q.runner(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := r.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	r, err := q.runner(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	r, err := q.runner(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return sqlRow{r.QueryRowContext(ctx, query, args...)}
}

// stmtRunner runs its statement, whatever query text it is given (the
// statement's own).
type stmtRunner struct{ s *sql.Stmt }

func (r stmtRunner) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return r.s.ExecContext(ctx, args...)
}

func (r stmtRunner) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return r.s.QueryContext(ctx, args...)
}

func (r stmtRunner) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return r.s.QueryRowContext(ctx, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

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
	// jobs is set when the transaction inserted River jobs, and wake is
	// signalled once it has committed (see wakeDriver).
	jobs bool
	wake chan struct{}
}

func (t *txQuerier) Native() any { return t.tx }

// Commit commits, then prepares the statements first seen in the
// transaction, now that the writer's connection is free.
func (t *txQuerier) Commit(ctx context.Context) error {
	err := t.tx.Commit()
	if err == nil && t.jobs {
		signal(t.wake)
	}
	t.stmts.prepareSeen(context.WithoutCancel(ctx))
	return err
}

func (t *txQuerier) Rollback(context.Context) error { return t.tx.Rollback() }
