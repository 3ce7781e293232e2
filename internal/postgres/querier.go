package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/purserhq/purser/internal/sqldb"
)

// runner is what *pgxpool.Pool and pgx.Tx share.
type runner interface {
	// Exec runs a statement with $n placeholders and reports what it did.
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	// Query runs a query; the caller closes the rows.
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	// QueryRow runs a query for one row; pgx.ErrNoRows comes from Scan.
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// querier adapts pgx to sqldb.Querier, rebinding ? placeholders to $n.
type querier struct{ r runner }

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.r.Exec(ctx, rebind(query), args...)
	return tag.RowsAffected(), unavailable(err)
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := q.r.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return pgRows{rows}, nil
}

// pgRows translates the error that ended an iteration.
type pgRows struct{ pgx.Rows }

func (r pgRows) Err() error { return unavailable(r.Rows.Err()) }

func (r pgRows) Scan(dest ...any) error { return unavailable(r.Rows.Scan(dest...)) }

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return pgRow{q.r.QueryRow(ctx, rebind(query), args...)}
}

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqldb.ErrNoRows
	}
	return unavailable(err)
}

// rebind turns ? placeholders into $1, $2... Purser's SQL never has a ?
// inside a string literal.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

type txQuerier struct {
	querier
	tx pgx.Tx
}

func (t *txQuerier) Native() any                        { return t.tx }
func (t *txQuerier) Commit(ctx context.Context) error   { return unavailable(t.tx.Commit(ctx)) }
func (t *txQuerier) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }
