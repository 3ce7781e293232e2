package sqldb

import (
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// columns maps the documented fields of a collection to SQL expressions;
// custom builds the condition of a field that is not a plain column.
type columns struct {
	plain  map[string]string
	custom map[string]func(c purser.Cond) sq.Sqlizer
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

// orderBy returns ORDER BY terms, defaulting to newest first, always ending
// with the primary key so that pages are stable.
func (cols columns) orderBy(sorts []purser.Sort, pk string) []string {
	if len(sorts) == 0 {
		sorts = []purser.Sort{{Field: "_created", Desc: true}}
	}
	var out []string
	for _, s := range sorts {
		col := cols.plain[s.Field]
		if col == "" {
			continue
		}
		if s.Desc {
			col += " DESC"
		}
		out = append(out, col)
	}
	return append(out, pk)
}

func sqExpr(sql string, args ...any) sq.Sqlizer { return sq.Expr(sql, args...) }
