package purser

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a filterable field.
type Kind int

// Field kinds.
const (
	KindString Kind = iota
	KindBool
	KindInt
	KindNumber
	KindTime
)

// Fields lists the documented fields of a collection that where and sort
// may name, with their kinds. Anything else is refused.
type Fields map[string]Kind

// Operators accepted in where.
var operators = map[string]bool{"$eq": true, "$ne": true, "$in": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true}

// Cond is one condition of a where filter. Value has the field's Go type
// (string, bool, int64, float64, time.Time), or a slice of it for $in.
type Cond struct {
	Field string
	Op    string
	Value any
}

// Sort orders a list by a field.
type Sort struct {
	Field string
	Desc  bool
}

// Query selects a page of a collection.
type Query struct {
	Where      []Cond
	Sort       []Sort
	Page       int // from 1
	MaxResults int
	// After is the cursor a previous page returned as PageInfo.Next: the
	// page starts after the item it marks (Page must then be 1). Paging by
	// cursor costs the same at any depth; paging by number reads and skips
	// every row before the page.
	After string
	// SkipTotal leaves PageInfo.Total uncounted (-1).
	SkipTotal bool
}

// PageInfo is where a page of a collection stands.
type PageInfo struct {
	// Total is the number of items matching the query's filter, -1 when
	// not counted (Query.SkipTotal).
	Total int
	// More reports whether items follow this page.
	More bool
	// Next is the cursor of the following page, for Query.After; empty on
	// the last page, and when the sort is on a field that may be empty
	// (such a list pages by number).
	Next string
}

// Paging defaults and limits. MaxPage keeps the offset of the last page
// (MaxPage × MaxMaxResults rows) far from overflowing.
const (
	DefaultMaxResults = 25
	MaxMaxResults     = 200
	MaxPage           = 1_000_000
)

// Offset returns the number of rows before the page.
func (q Query) Offset() int { return (q.Page - 1) * q.MaxResults }

// ParseQuery parses the where and sort query parameters against the
// documented fields, with the page and its size. Every error names the
// parameter and the rule (EBADREQUEST).
func ParseQuery(where, sortSpec string, page, maxResults int, fields Fields) (Query, error) {
	q := Query{Page: page, MaxResults: maxResults}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.MaxResults == 0 {
		q.MaxResults = DefaultMaxResults
	}
	if q.Page < 1 || q.Page > MaxPage {
		return q, badParam("page", fmt.Sprintf("must be between 1 and %d", MaxPage))
	}
	if q.MaxResults < 1 || q.MaxResults > MaxMaxResults {
		return q, badParam("max_results", fmt.Sprintf("must be between 1 and %d", MaxMaxResults))
	}
	var err error
	if q.Where, err = parseWhere(where, fields); err != nil {
		return q, err
	}
	q.Sort, err = parseSort(sortSpec, fields)
	return q, err
}

func badParam(param, msg string) *Error {
	return &Error{Code: EBADREQUEST, Message: param + ": " + msg, Fields: []FieldError{{param, "format", msg}}}
}

func parseWhere(raw string, fields Fields) ([]Cond, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, badParam("where", "must be a JSON object such as {\"status\":\"REQUESTED\"}")
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	var conds []Cond
	for _, name := range names {
		kind, ok := fields[name]
		if !ok {
			return nil, badParam("where", fmt.Sprintf("unknown field %q; filterable fields are %s", name, fields.names()))
		}
		raw := m[name]
		var ops map[string]json.RawMessage
		if len(raw) > 0 && raw[0] == '{' {
			if err := json.Unmarshal(raw, &ops); err != nil {
				return nil, badParam("where", fmt.Sprintf("%s: malformed operator object", name))
			}
		} else {
			ops = map[string]json.RawMessage{"$eq": raw}
		}
		opNames := make([]string, 0, len(ops))
		for op := range ops {
			opNames = append(opNames, op)
		}
		sort.Strings(opNames)
		for _, op := range opNames {
			if !operators[op] {
				return nil, badParam("where", fmt.Sprintf("%s: unknown operator %q; use $eq, $ne, $in, $gt, $gte, $lt or $lte", name, op))
			}
			v, err := decodeValue(ops[op], kind, op == "$in")
			if err != nil {
				return nil, badParam("where", fmt.Sprintf("%s %s: %v", name, op, err))
			}
			conds = append(conds, Cond{Field: name, Op: op, Value: v})
		}
	}
	return conds, nil
}

func decodeValue(raw json.RawMessage, kind Kind, list bool) (any, error) {
	if list {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
			return nil, fmt.Errorf("needs a non-empty JSON array")
		}
		out := make([]any, len(items))
		for i, it := range items {
			v, err := decodeValue(it, kind, false)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("malformed value")
	}
	switch kind {
	case KindString:
		if s, ok := v.(string); ok {
			if strings.ContainsRune(s, 0) {
				return nil, fmt.Errorf("holds a NUL character, which no value may hold")
			}
			return s, nil
		}
		return nil, fmt.Errorf("needs a string")
	case KindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("needs true or false")
	case KindInt:
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			return int64(f), nil
		}
		return nil, fmt.Errorf("needs an integer")
	case KindNumber:
		if f, ok := v.(float64); ok {
			return f, nil
		}
		return nil, fmt.Errorf("needs a number")
	case KindTime:
		if s, ok := v.(string); ok {
			if t, err := ParseTime(s); err == nil {
				return t, nil
			}
		}
		return nil, fmt.Errorf("needs an RFC 3339 or RFC 1123 date")
	}
	return nil, fmt.Errorf("unsupported field")
}

func parseSort(raw string, fields Fields) ([]Sort, error) {
	var out []Sort
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		s := Sort{Field: part}
		if strings.HasPrefix(part, "-") {
			s = Sort{Field: part[1:], Desc: true}
		}
		if _, ok := fields[s.Field]; !ok {
			return nil, badParam("sort", fmt.Sprintf("unknown field %q; sortable fields are %s", s.Field, fields.names()))
		}
		out = append(out, s)
	}
	return out, nil
}

func (f Fields) names() string {
	n := make([]string, 0, len(f))
	for k := range f {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// ParseTime accepts RFC 3339 and the seed's RFC 1123 form
// ("Wed, 03 Mar 2021 23:32:43 GMT").
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC1123, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 nor an RFC 1123 date", s)
}

func fieldIndex(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

func sortFields(fe []FieldError) {
	sort.Slice(fe, func(i, j int) bool { return fe[i].Field < fe[j].Field })
}
