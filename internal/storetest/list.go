package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testCursorPages: following PageInfo.Next from the first page reads every
// user once, in the order numbered pages give, whatever the sort, ties in
// the sorted column included.
func testCursorPages(t *testing.T, open Opener) {
	db := open(t)
	ctx, _ := admin(t, db)
	now := time.Now().UnixMicro()
	err := db.WithTx(ctx, func(tx sqldb.Tx) error {
		for i := range 11 {
			// Three users per created_at: the tiebreak decides their order.
			if _, err := tx.Exec(ctx, "INSERT INTO users (id, username, name, email, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
				purser.NewID(), fmt.Sprintf("u%02d", i), fmt.Sprintf("name %d", i%4), "", i%3 != 0, now+int64(i/3), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	us := sqldb.NewUserService(db)
	names := func(users []*purser.User) []string {
		out := make([]string, len(users))
		for i, u := range users {
			out[i] = u.Username
		}
		return out
	}
	for _, sort := range []string{"", "_created", "-username", "name", "-name", "name,-_created", "-is_active,name"} {
		t.Run("Sort="+sort, func(t *testing.T) {
			q, err := purser.ParseQuery("", sort, 1, purser.MaxMaxResults, purser.UserFields)
			if err != nil {
				t.Fatal(err)
			}
			all, info, err := us.FindUsers(ctx, q)
			if err != nil || info.More || info.Next != "" || info.Total != 12 {
				t.Fatalf("one page of all: %d users, %+v, %v", len(all), info, err)
			}
			var got []string
			q.MaxResults = 5
			for page := 0; ; page++ {
				if page > 5 {
					t.Fatalf("more pages than 12 users make: %v", got)
				}
				items, info, err := us.FindUsers(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, names(items)...)
				if wantTotal := -1; q.After == "" {
					wantTotal = 12
					if info.Total != wantTotal {
						t.Fatalf("first page total %d, want 12", info.Total)
					}
				} else if info.Total != -1 {
					t.Fatalf("cursor page counted %d without asking", info.Total)
				}
				if !info.More {
					break
				}
				if info.Next == "" {
					t.Fatal("a page with more after it has no cursor")
				}
				q.After, q.SkipTotal = info.Next, true
			}
			if want := names(all); !slices.Equal(got, want) {
				t.Fatalf("pages by cursor read\n%v, want\n%v", got, want)
			}
		})
	}
	t.Run("ErrBadCursor", func(t *testing.T) {
		for _, after := range []string{"nonsense!", "WyJ4Il0", "WzEsMl0"} { // bad base64; ["x"]; [1,2]
			_, _, err := us.FindUsers(ctx, purser.Query{Page: 1, MaxResults: 5, After: after})
			wantCode(t, err, purser.EBADREQUEST)
			var pe *purser.Error
			if !errors.As(err, &pe) || len(pe.Fields) != 1 || pe.Fields[0].Field != "after" {
				t.Fatalf("error %v does not name after", err)
			}
		}
	})
	t.Run("ErrPageAndAfter", func(t *testing.T) {
		_, info, err := us.FindUsers(ctx, purser.Query{Page: 1, MaxResults: 5})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = us.FindUsers(ctx, purser.Query{Page: 2, MaxResults: 5, After: info.Next})
		wantCode(t, err, purser.EBADREQUEST)
	})
	t.Run("TotalFollowsWrites", func(t *testing.T) {
		q := purser.Query{Page: 1, MaxResults: 1, Where: []purser.Cond{{Field: "is_active", Op: "$eq", Value: true}}}
		_, before, err := us.FindUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		as(t, db, "newcomer", purser.RoleDev)
		_, after, err := us.FindUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if after.Total != before.Total+1 {
			t.Fatalf("total %d after a user was added to %d", after.Total, before.Total)
		}
	})
}

// testListPlans: every list's default sort, and the filters the UI and
// CLI use, are read in index order: no sort of the matching rows
// (SQLite's EXPLAIN QUERY PLAN shows no temp B-tree; PostgreSQL's planner,
// with sorts and sequential scans disabled, still finds a plan without a
// Sort node).
func testListPlans(t *testing.T, open Opener) {
	db := open(t)
	ctx, _ := admin(t, db)
	devCtx, dev := as(t, db, "dev1", purser.RoleDev)
	rec := &recorder{Querier: db.Read}
	db.Read = rec
	eq := func(field string, v any) []purser.Cond { return []purser.Cond{{Field: field, Op: "$eq", Value: v}} }
	sorted := func(field string, desc bool) []purser.Sort { return []purser.Sort{{Field: field, Desc: desc}} }
	cases := []struct {
		name string
		run  func(q purser.Query) (purser.PageInfo, error)
		q    purser.Query
	}{
		{"Users", wrap(sqldb.NewUserService(db).FindUsers, ctx), purser.Query{}},
		{"UsersActive", wrap(sqldb.NewUserService(db).FindUsers, ctx), purser.Query{Where: eq("is_active", true)}},
		{"UsersActiveByUsername", wrap(sqldb.NewUserService(db).FindUsers, ctx), purser.Query{Where: eq("is_active", true), Sort: sorted("username", true)}},
		{"Requests", wrap(sqldb.NewRequestService(db).FindRequests, ctx), purser.Query{}},
		{"RequestsByStatus", wrap(sqldb.NewRequestService(db).FindRequests, ctx), purser.Query{Where: eq("status", "REQUESTED")}},
		{"RequestsByRequester", wrap(sqldb.NewRequestService(db).FindRequests, ctx), purser.Query{Where: eq("requested_by", dev.ID)}},
		{"RequestsOwn", wrap(sqldb.NewRequestService(db).FindRequests, devCtx), purser.Query{}},
		{"RequestsOwnByStatus", wrap(sqldb.NewRequestService(db).FindRequests, devCtx), purser.Query{Where: eq("status", "DEPLOYED")}},
		{"Extensions", wrap(sqldb.NewExtensionService(db).FindExtensions, ctx), purser.Query{}},
		{"ExtensionsOwn", wrap(sqldb.NewExtensionService(db).FindExtensions, devCtx), purser.Query{}},
		{"ExtensionsByStatus", wrap(sqldb.NewExtensionService(db).FindExtensions, ctx), purser.Query{Where: eq("status", "REQUESTED")}},
		{"Quotas", wrap(sqldb.NewQuotaService(db).FindQuotas, ctx), purser.Query{}},
		{"Events", wrap(sqldb.NewEventService(db).FindEvents, ctx), purser.Query{}},
		{"EventsByActor", wrap(sqldb.NewEventService(db).FindEvents, ctx), purser.Query{Where: eq("actor", dev.ID)}},
		{"EventsByAction", wrap(sqldb.NewEventService(db).FindEvents, ctx), purser.Query{Where: eq("action", "user.create")}},
		{"Notifications", func(q purser.Query) (purser.PageInfo, error) {
			_, info, err := sqldb.NewNotificationService(db).FindNotifications(devCtx, q, false)
			return info, err
		}, purser.Query{}},
		{"Templates", wrap(sqldb.NewTemplateService(db).FindTemplates, ctx), purser.Query{}},
		{"Roles", wrap(sqldb.NewRoleService(db).FindRoles, ctx), purser.Query{}},
		{"Clusters", wrap(sqldb.NewClusterService(db).FindClusters, ctx), purser.Query{}},
	}
	for _, c := range cases {
		for _, desc := range []bool{true, false} {
			q := c.q
			q.Page, q.MaxResults, q.SkipTotal = 1, 10, true
			name := c.name
			if !desc {
				if q.Sort != nil || c.name == "Templates" || c.name == "Roles" || c.name == "Clusters" {
					continue
				}
				// Newest first ascending: an index serves both ways.
				// (Templates, roles and clusters sort by their key.)
				q.Sort, name = sorted("_created", false), name+"Ascending"
			}
			rec.queries = nil
			if _, err := c.run(q); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(rec.queries) == 0 {
				t.Fatalf("%s ran no query", name)
			}
			// The page's query is the first; the rest load related rows.
			if plan := explain(t, db, rec.queries[0]); plan != "" {
				t.Errorf("%s sorts its rows:\n%s\n%s", name, rec.queries[0].sql, plan)
			}
		}
	}
}

func wrap[T any](find func(context.Context, purser.Query) ([]*T, purser.PageInfo, error), ctx context.Context) func(purser.Query) (purser.PageInfo, error) {
	return func(q purser.Query) (purser.PageInfo, error) {
		_, info, err := find(ctx, q)
		return info, err
	}
}

// sortNode matches a Sort node in PostgreSQL's EXPLAIN output.
var sortNode = regexp.MustCompile(`^\s*(->\s+)?(Incremental )?Sort\s+\(`)

type recorded struct {
	sql  string
	args []any
}

// recorder records the queries run through it.
type recorder struct {
	sqldb.Querier
	queries []recorded
}

func (r *recorder) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	r.queries = append(r.queries, recorded{query, args})
	return r.Querier.Query(ctx, query, args...)
}

// explain returns the plan of q when it sorts rows, "" when it reads them
// in index order.
func explain(t *testing.T, db *sqldb.DB, q recorded) string {
	t.Helper()
	var lines []string
	sorts := false
	err := db.WithTx(context.Background(), func(tx sqldb.Tx) error {
		stmt := "EXPLAIN QUERY PLAN " + q.sql
		if db.Name == "postgres" {
			if _, err := tx.Exec(context.Background(), "SET LOCAL enable_sort = off"); err != nil {
				return err
			}
			if _, err := tx.Exec(context.Background(), "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			stmt = "EXPLAIN " + q.sql
		}
		rows, err := tx.Query(context.Background(), stmt, q.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if db.Name == "postgres" {
				err = rows.Scan(&line)
				sorts = sorts || sortNode.MatchString(line)
			} else {
				var id, parent, unused int
				err = rows.Scan(&id, &parent, &unused, &line)
				sorts = sorts || strings.Contains(line, "TEMP B-TREE")
			}
			if err != nil {
				return err
			}
			lines = append(lines, line)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("explain %s: %v", q.sql, err)
	}
	if !sorts {
		return ""
	}
	return strings.Join(lines, "\n")
}
