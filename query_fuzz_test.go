package purser_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/purserhq/purser"
)

// FuzzParseQuery feeds the where and sort parameters, and the page numbers,
// that any caller may send. Whatever they are, parsing answers a query made
// only of documented fields and known operators, or a bad-request error that
// names the parameter; it never panics and never yields a negative offset.
func FuzzParseQuery(f *testing.F) {
	fields := purser.Fields{"status": purser.KindString, "owner": purser.KindString, "cores": purser.KindNumber,
		"_created": purser.KindTime, "is_active": purser.KindBool}
	f.Add(`{"status":"REQUESTED"}`, "-_created,owner", 1, 25)
	f.Add(`{"cores":{"$gte":2,"$lt":8}}`, "cores", 2, 200)
	f.Add(`{"status":{"$in":["APPROVED","DEPLOYED"]}}`, "", 0, 0)
	f.Add(`{"_created":{"$gt":"Tue, 01 Dec 2026 10:00:00 GMT"}}`, "-status", 3, 10)
	f.Add(`{"owner":"x'; DROP TABLE users; --"}`, "owner; DROP TABLE users", 1, 1)
	f.Add(`{"is_active":true,"status":{"$ne":null}}`, "+owner,,-cores", 1, 5)
	f.Add(`{"status":{"$regex":".*"}}`, "password", 9223372036854775807, 200)
	f.Add(`[]`, "-", -1, -1)
	f.Fuzz(func(t *testing.T, where, sortSpec string, page, maxResults int) {
		q, err := purser.ParseQuery(where, sortSpec, page, maxResults, fields)
		if err != nil {
			var pe *purser.Error
			if !errors.As(err, &pe) || pe.Code != purser.EBADREQUEST {
				t.Fatalf("error %v is not a bad-request purser.Error", err)
			}
			if len(pe.Fields) == 0 || !strings.Contains("where sort page max_results", pe.Fields[0].Field) {
				t.Fatalf("error %v names no query parameter", err)
			}
			return
		}
		if q.Offset() < 0 || q.Page < 1 || q.MaxResults < 1 || q.MaxResults > purser.MaxMaxResults {
			t.Fatalf("page %d x %d gives offset %d", q.Page, q.MaxResults, q.Offset())
		}
		for _, c := range q.Where {
			if _, ok := fields[c.Field]; !ok {
				t.Fatalf("where yields undocumented field %q", c.Field)
			}
			switch c.Op {
			case "$eq", "$ne", "$in", "$gt", "$gte", "$lt", "$lte":
			default:
				t.Fatalf("where yields unknown operator %q", c.Op)
			}
		}
		for _, s := range q.Sort {
			if _, ok := fields[s.Field]; !ok || !utf8.ValidString(s.Field) {
				t.Fatalf("sort yields undocumented field %q", s.Field)
			}
		}
	})
}
