package sqldb

import (
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// columns maps the documented fields of a collection to SQL expressions;
// custom builds the condition of a field that is not a plain column.
// unique names the fields no two rows share (a sort on one needs no
// tiebreak); nullable those whose column may be NULL (a list sorted on one
// pages by number only: a cursor cannot place NULLs the same way on both
// engines).
type columns struct {
	plain    map[string]string
	custom   map[string]func(c purser.Cond) sq.Sqlizer
	fields   purser.Fields
	unique   []string
	nullable []string
}

func sqlValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return micros(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sqlValue(e)
		}
		return out
	}
	return v
}

// where turns parsed conditions into SQL. Fields were allow-listed by
// purser.ParseQuery; a field missing here is a programming error.
func (cols columns) where(conds []purser.Cond) (sq.And, error) {
	var and sq.And
	for _, c := range conds {
		if f, ok := cols.custom[c.Field]; ok {
			and = append(and, f(c))
			continue
		}
		col, ok := cols.plain[c.Field]
		if !ok {
			return nil, fmt.Errorf("field %q has no column", c.Field)
		}
		v := sqlValue(c.Value)
		switch c.Op {
		case "$eq":
			and = append(and, sq.Eq{col: v})
		case "$ne":
			and = append(and, sq.NotEq{col: v})
		case "$in":
			and = append(and, sq.Eq{col: v})
		case "$gt":
			and = append(and, sq.Gt{col: v})
		case "$gte":
			and = append(and, sq.GtOrEq{col: v})
		case "$lt":
			and = append(and, sq.Lt{col: v})
		case "$lte":
			and = append(and, sq.LtOrEq{col: v})
		}
	}
	return and, nil
}

// order is one term of a list's ORDER BY.
type order struct {
	col      string
	desc     bool
	kind     purser.Kind
	nullable bool
}

func (o order) String() string {
	if o.desc {
		return o.col + " DESC"
	}
	return o.col
}

// orderBy returns a list's sort, defaulting to newest first. Unless a
// sorted field is unique, the primary key pk ends it, in the direction of
// the last term, so that pages are stable and an index on (column, pk)
// serves the sort in either direction.
func (cols columns) orderBy(sorts []purser.Sort, pk string) []order {
	if len(sorts) == 0 {
		sorts = []purser.Sort{{Field: "_created", Desc: true}}
	}
	var out []order
	unique := false
	for _, s := range sorts {
		col := cols.plain[s.Field]
		if col == "" {
			continue
		}
		out = append(out, order{col: col, desc: s.Desc, kind: cols.fields[s.Field], nullable: contains(cols.nullable, s.Field)})
		unique = unique || col == pk || contains(cols.unique, s.Field)
	}
	if unique {
		return out
	}
	desc := len(out) > 0 && out[len(out)-1].desc
	return append(out, order{col: pk, desc: desc, kind: purser.KindString})
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func sqExpr(sql string, args ...any) sq.Sqlizer { return sq.Expr(sql, args...) }
