package sqldb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// listSpec describes a paged list query over one table: R is the row
// type, D the domain type it becomes.
type listSpec[R any, D any] struct {
	from, selectCols string
	where            sq.And
	orderBy          []order
	query            purser.Query
	scan             func(Row) (*R, error)
	after            func(context.Context, []*R) error // loads related rows, optional
	domain           func(*R) *D
}

// list runs a page of a list query and, unless the query skips it, the
// count of every row matching its filter. It reads one row more than the
// page to tell whether more follow, and reads the sort's columns of each
// row beside it to make the next page's cursor.
func list[R any, D any](ctx context.Context, db *DB, spec listSpec[R, D]) ([]*D, purser.PageInfo, error) {
	info := purser.PageInfo{Total: -1}
	q := spec.query
	keyset := cursorable(spec.orderBy)
	where := spec.where
	offset := q.Offset()
	if q.After != "" {
		if !keyset {
			return nil, info, afterError("this sort is on a field that may be empty; page with page= instead")
		}
		if q.Page > 1 {
			return nil, info, afterError("give page or after, not both")
		}
		vals, err := decodeCursor(q.After, spec.orderBy)
		if err != nil {
			return nil, info, err
		}
		where = append(append(sq.And{}, where...), seek(spec.orderBy, vals))
		offset = 0
	}
	if !q.SkipTotal {
		total, err := db.count(ctx, spec.from, spec.where)
		if err != nil {
			return nil, info, err
		}
		info.Total = total
	}
	terms := make([]string, len(spec.orderBy))
	cols := make([]string, 0, len(spec.orderBy)+1)
	cols = append(cols, spec.selectCols)
	for i, o := range spec.orderBy {
		terms[i] = o.String()
		cols = append(cols, o.col)
	}
	// LIMIT and OFFSET are parameters, not literals, so that every page is
	// the same statement (PostgreSQL prepares each distinct text once per
	// connection).
	pq, pargs, err := builder.Select(strings.Join(cols, ", ")).From(spec.from).Where(where).OrderBy(terms...).
		Suffix("LIMIT ? OFFSET ?", q.MaxResults+1, offset).ToSql()
	if err != nil {
		return nil, info, err
	}
	rows, err := db.Read.Query(ctx, pq, pargs...)
	if err != nil {
		return nil, info, fmt.Errorf("list: %w", err)
	}
	var rs []*R
	var last []any
	for rows.Next() {
		if len(rs) == q.MaxResults {
			info.More = true
			break
		}
		keys := make([]any, len(spec.orderBy))
		r, err := spec.scan(keyedRow{rows, keys})
		if err != nil {
			rows.Close()
			return nil, info, fmt.Errorf("scan: %w", err)
		}
		rs = append(rs, r)
		last = keys
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, info, err
	}
	if info.More && keyset {
		info.Next = encodeCursor(last, spec.orderBy)
	}
	if spec.after != nil {
		if err := spec.after(ctx, rs); err != nil {
			return nil, info, err
		}
	}
	out := make([]*D, len(rs))
	for i, r := range rs {
		out[i] = spec.domain(r)
	}
	return out, info, nil
}

// keyedRow scans a row's sort columns, selected after the columns the
// row's scan function reads, into keys.
type keyedRow struct {
	r    Row
	keys []any
}

func (k keyedRow) Scan(dest ...any) error {
	all := make([]any, 0, len(dest)+len(k.keys))
	all = append(all, dest...)
	for i := range k.keys {
		all = append(all, &k.keys[i])
	}
	return k.r.Scan(all...)
}

// count counts the rows of from matching where, or returns the count
// cached since this replica's last write (for CountCacheTTL at most).
func (db *DB) count(ctx context.Context, from string, where sq.And) (int, error) {
	cq, cargs, err := builder.Select("COUNT(*)").From(from).Where(where).ToSql()
	if err != nil {
		return 0, err
	}
	key := fmt.Sprintf("%d\x00%s\x00%#v", db.writes.Load(), cq, cargs)
	if total, ok := db.counts.GetIfPresent(key); ok {
		return total, nil
	}
	var total int
	if err := db.Read.QueryRow(ctx, cq, cargs...).Scan(&total); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	db.counts.Set(key, total)
	return total, nil
}

func cursorable(terms []order) bool {
	for _, o := range terms {
		if o.nullable {
			return false
		}
	}
	return true
}

// seek is the condition of the rows after the one whose sort values are
// vals: (a > ?) OR (a = ? AND b > ?) OR ..., each comparison in its term's
// direction. When every term has one direction it is the row value
// comparison (a, b) > (?, ?), which both engines answer from an index on
// (a, b).
func seek(terms []order, vals []any) sq.Sqlizer {
	same := true
	for _, o := range terms {
		same = same && o.desc == terms[0].desc
	}
	cmp := func(o order) string {
		if o.desc {
			return "<"
		}
		return ">"
	}
	if same {
		names := make([]string, len(terms))
		for i, o := range terms {
			names[i] = o.col
		}
		return sq.Expr("("+strings.Join(names, ", ")+") "+cmp(terms[0])+" ("+sq.Placeholders(len(vals))+")", vals...)
	}
	var or sq.Or
	for i, o := range terms {
		var and sq.And
		for j := 0; j < i; j++ {
			and = append(and, sq.Eq{terms[j].col: vals[j]})
		}
		and = append(and, sq.Expr(o.col+" "+cmp(o)+" ?", vals[i]))
		or = append(or, and)
	}
	return or
}

// A cursor is the base64url of a JSON array of the sort values of the last
// row of a page. It is opaque to clients: only its shape is checked, and
// values are bound as parameters.
func encodeCursor(keys []any, terms []order) string {
	vals := make([]any, len(keys))
	for i, k := range keys {
		switch v := k.(type) {
		case []byte:
			vals[i] = string(v)
		case int64:
			if terms[i].kind == purser.KindBool {
				vals[i] = v != 0
			} else {
				vals[i] = v
			}
		default:
			vals[i] = v
		}
	}
	b, _ := json.Marshal(vals)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, terms []order) ([]any, error) {
	bad := afterError("not a cursor this list returned; follow _links.next of the previous page")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var raw []any
	if err := d.Decode(&raw); err != nil || len(raw) != len(terms) {
		return nil, bad
	}
	vals := make([]any, len(raw))
	for i, v := range raw {
		ok := false
		switch terms[i].kind {
		case purser.KindString:
			vals[i], ok = v.(string)
		case purser.KindBool:
			vals[i], ok = v.(bool)
		case purser.KindInt, purser.KindTime:
			if n, isNum := v.(json.Number); isNum {
				x, err := n.Int64()
				vals[i], ok = x, err == nil
			}
		case purser.KindNumber:
			if n, isNum := v.(json.Number); isNum {
				x, err := n.Float64()
				vals[i], ok = x, err == nil
			}
		}
		if !ok {
			return nil, bad
		}
	}
	return vals, nil
}

func afterError(msg string) error {
	return &purser.Error{Code: purser.EBADREQUEST, Message: "after: " + msg,
		Fields: []purser.FieldError{{Field: "after", Rule: "format", Message: msg}}}
}
