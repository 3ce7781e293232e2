package sqldb

import (
	"context"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// listSpec describes a paged list query over one table: R is the row
// type, D the domain type it becomes.
type listSpec[R any, D any] struct {
	from, selectCols string
	where            sq.And
	orderBy          []string
	query            purser.Query
	scan             func(Row) (*R, error)
	after            func(context.Context, []*R) error // loads related rows, optional
	domain           func(*R) *D
}

// list runs the count and the page of a list query.
func list[R any, D any](ctx context.Context, db *DB, spec listSpec[R, D]) ([]*D, int, error) {
	total, rows, err := countAndPage(ctx, db, spec.from, spec.selectCols, spec.where, spec.orderBy, spec.query)
	if err != nil {
		return nil, 0, err
	}
	var rs []*R
	for rows.Next() {
		r, err := spec.scan(rows)
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("scan: %w", err)
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if spec.after != nil {
		if err := spec.after(ctx, rs); err != nil {
			return nil, 0, err
		}
	}
	out := make([]*D, len(rs))
	for i, r := range rs {
		out[i] = spec.domain(r)
	}
	return out, total, nil
}

func countAndPage(ctx context.Context, db *DB, from, selectCols string, where sq.And, orderBy []string, q purser.Query) (int, Rows, error) {
	cq, cargs, err := builder.Select("COUNT(*)").From(from).Where(where).ToSql()
	if err != nil {
		return 0, nil, err
	}
	var total int
	if err := db.Read.QueryRow(ctx, cq, cargs...).Scan(&total); err != nil {
		return 0, nil, fmt.Errorf("count: %w", err)
	}
	// LIMIT and OFFSET are parameters, not literals, so that every page is
	// the same statement (PostgreSQL prepares each distinct text once per
	// connection).
	pq, pargs, err := builder.Select(selectCols).From(from).Where(where).OrderBy(orderBy...).
		Suffix("LIMIT ? OFFSET ?", q.MaxResults, q.Offset()).ToSql()
	if err != nil {
		return 0, nil, err
	}
	rows, err := db.Read.Query(ctx, pq, pargs...)
	if err != nil {
		return 0, nil, fmt.Errorf("list: %w", err)
	}
	return total, rows, nil
}
