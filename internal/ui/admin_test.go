package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// addAdmin makes an admin with the test password.
func (e *env) addAdmin() {
	sys := purser.SystemContext(context.Background())
	u := &purser.User{Username: purser.RoleAdmin + "-user", Roles: []string{purser.RoleAdmin}, IsActive: true}
	if err := sqldb.NewUserService(e.db).CreateUser(sys, u); err != nil {
		e.t.Fatal(err)
	}
	if err := sqldb.NewSessionService(e.db).SetPassword(sys, u.ID, password); err != nil {
		e.t.Fatal(err)
	}
	e.users[purser.RoleAdmin] = u
}

// postOK posts a form with the browser's CSRF token and wants status.
func (b *browser) postOK(path string, form url.Values, want int) string {
	b.e.t.Helper()
	form.Set("csrf", b.csrf)
	status, body := b.post(path, form)
	if status != want {
		b.e.t.Fatalf("POST %s: %d, want %d: %s", path, status, want, body)
	}
	return body
}

var userIDRE = regexp.MustCompile(`action="/admin/users/([^/"]+)/roles"`)

// TestAdminPages: the admin pages answer 403 to others; an admin lists and
// filters users, creates one (the server's message beside a bad field),
// sets its roles, makes it a one-time sign-in link, deactivates it,
// creates a role, and lists and revokes every user's tokens.
func TestAdminPages(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.addAdmin()
		dev, admin := e.signIn(purser.RoleDev), e.signIn(purser.RoleAdmin)
		for _, p := range []string{"/admin/users", "/admin/roles", "/admin/tokens", "/admin/users/" + e.users[purser.RoleDev].ID} {
			if body := dev.get(p, http.StatusForbidden); !strings.Contains(body, "admins only") {
				t.Fatalf("%s for a developer: %s", p, body)
			}
		}
		dev.postOK("/admin/users", url.Values{"username": {"x"}}, http.StatusForbidden)
		if body := dev.get("/dashboard", http.StatusOK); strings.Contains(body, `href="/admin/users"`) {
			t.Fatal("the developer's navigation offers the admin pages")
		}

		if body := admin.get("/admin/users?role=devops", http.StatusOK); !strings.Contains(body, "devops-user") || strings.Contains(body, ">dev-user<") {
			t.Fatalf("users filtered by role: %s", body)
		}
		if body := admin.get("/admin/users?q=dev", http.StatusOK); !strings.Contains(body, ">dev-user<") || !strings.Contains(body, ">devops-user<") || strings.Contains(body, ">admin-user</a>") {
			t.Fatalf("users by username prefix: %s", body)
		}
		body := admin.postOK("/admin/users", url.Values{"username": {"Bad Name"}, "email": {"nope"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(body, `id="username-error"`) || !strings.Contains(body, `id="email-error"`) {
			t.Fatalf("a bad user: %s", body)
		}
		body = admin.postOK("/admin/users", url.Values{"username": {"newbie"}, "name": {"New Bie"}, "roles": {"dev"}}, http.StatusOK)
		m := userIDRE.FindStringSubmatch(body)
		if m == nil || !strings.Contains(body, "New Bie") {
			t.Fatalf("the new user's page: %s", body)
		}
		id := m[1]
		admin.postOK("/admin/users/"+id+"/roles", url.Values{"roles": {"dev", "devops"}}, http.StatusOK)
		u, err := sqldb.NewUserService(db).FindUserByID(purser.SystemContext(context.Background()), id)
		if err != nil || strings.Join(u.Roles, ",") != "dev,devops" {
			t.Fatalf("roles set on the page: %+v %v", u, err)
		}
		body = admin.postOK("/admin/users/"+id+"/link", url.Values{}, http.StatusOK)
		if !strings.Contains(body, "/signin/link/psl_") {
			t.Fatalf("the sign-in link: %s", body)
		}
		admin.postOK("/admin/users/"+id+"/active", url.Values{"active": {"false"}}, http.StatusOK)
		if body := admin.get("/admin/users?state=inactive", http.StatusOK); !strings.Contains(body, ">newbie<") {
			t.Fatalf("inactive users: %s", body)
		}
		// An admin cannot deactivate themself: the message, nothing changed.
		if body := admin.postOK("/admin/users/"+e.users[purser.RoleAdmin].ID+"/active", url.Values{"active": {"false"}}, http.StatusConflict); !strings.Contains(body, "cannot deactivate yourself") {
			t.Fatalf("self-deactivation: %s", body)
		}

		if body := admin.postOK("/admin/roles", url.Values{"role": {"bad role!"}}, http.StatusUnprocessableEntity); !strings.Contains(body, `id="role-error"`) {
			t.Fatalf("a bad role: %s", body)
		}
		if body := admin.postOK("/admin/roles", url.Values{"role": {"auditor"}, "description": {"Reads the log"}}, http.StatusOK); !strings.Contains(body, "Reads the log") {
			t.Fatalf("roles after creating one: %s", body)
		}

		dev.postOK("/tokens", url.Values{"name": {"dev laptop"}}, http.StatusOK)
		body = admin.get("/admin/tokens", http.StatusOK)
		if !strings.Contains(body, "dev laptop") || !strings.Contains(body, ">dev-user<") {
			t.Fatalf("all tokens: %s", body)
		}
		toks, _ := sqldb.NewTokenService(db).FindTokens(purser.SystemContext(context.Background()), purser.TokenFilter{UserID: e.users[purser.RoleDev].ID})
		admin.postOK("/admin/tokens/"+toks[0].ID+"/revoke", url.Values{"back": {"/admin/tokens"}}, http.StatusOK)
		toks, _ = sqldb.NewTokenService(db).FindTokens(purser.SystemContext(context.Background()), purser.TokenFilter{UserID: e.users[purser.RoleDev].ID})
		if toks[0].RevokedAt == nil {
			t.Fatal("the token revoked on the admin page still works")
		}
	})
}

// TestAuditLog: the log filters by actor (a username), kind (an action or
// its start), subject and time, pages by cursor, refuses a bad time
// range with a message, and shows a developer only their own.
func TestAuditLog(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.addAdmin()
		admin, dev := e.signIn(purser.RoleAdmin), e.signIn(purser.RoleDev)
		for i := 0; i < 55; i++ {
			admin.postOK("/tokens", url.Values{"name": {fmt.Sprintf("t%d", i)}}, http.StatusOK)
		}
		body := admin.get("/audit?actor=admin-user&kind=token.", http.StatusOK)
		if n := strings.Count(body, "<code>token.create</code>"); n != 50 || !strings.Contains(body, `id="audit-next"`) {
			t.Fatalf("first page: %d token.create rows", n)
		}
		next := regexp.MustCompile(`href="(/audit\?[^"]+)" rel="next"`).FindStringSubmatch(body)
		body = admin.get(strings.ReplaceAll(next[1], "&amp;", "&"), http.StatusOK)
		if n := strings.Count(body, "<code>token.create</code>"); n != 5 || strings.Contains(body, `id="audit-next"`) {
			t.Fatalf("second page: %d token.create rows", n)
		}
		if body := admin.get("/audit?actor=dev-user&kind=token.create", http.StatusOK); !strings.Contains(body, "No event matches") {
			t.Fatalf("another actor: %s", body)
		}
		if body := admin.get("/audit?from=2000-01-01T00:00&to=2000-01-02T00:00", http.StatusOK); !strings.Contains(body, "No event matches") {
			t.Fatalf("a time range long past: %s", body)
		}
		if body := admin.get("/audit?from=yesterday", http.StatusUnprocessableEntity); !strings.Contains(body, `id="audit-error"`) {
			t.Fatalf("a bad time: %s", body)
		}
		if body := admin.get("/audit?subject_type=user&subject_id="+e.users[purser.RoleAdmin].ID, http.StatusOK); !strings.Contains(body, "user.signin") {
			t.Fatalf("by subject: %s", body)
		}
		if body := dev.get("/audit", http.StatusOK); strings.Contains(body, "token.create") {
			t.Fatalf("a developer sees the admin's events: %s", body)
		}
	})
}

// TestAdminPagesCostTheSameQueries: the admin pages and the audit log
// make as many queries with 30 users, tokens and events as with 3.
func TestAdminPagesCostTheSameQueries(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.addAdmin()
		admin := e.signIn(purser.RoleAdmin)
		add := func(n int) {
			sys := purser.SystemContext(context.Background())
			for i := 0; i < n; i++ {
				u := &purser.User{Username: fmt.Sprintf("u%d-%d", n, i), Roles: []string{purser.RoleDev}, IsActive: true}
				if err := sqldb.NewUserService(db).CreateUser(sys, u); err != nil {
					t.Fatal(err)
				}
				if _, _, err := sqldb.NewTokenService(db).CreateToken(sys, u.ID, "t", nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		pages := []string{"/admin/users", "/admin/tokens", "/admin/roles", "/audit", "/audit?actor=admin-user&kind=user."}
		cost := func() []int64 {
			var out []int64
			for _, p := range pages {
				before := e.reads.n.Load()
				admin.get(p, http.StatusOK)
				out = append(out, e.reads.n.Load()-before)
			}
			return out
		}
		add(3)
		small := cost()
		add(27)
		if large := cost(); fmt.Sprint(small) != fmt.Sprint(large) {
			t.Fatalf("queries per page grow with the store: %v with 3 users, %v with 30 (pages %v)", small, large, pages)
		}
	})
}
