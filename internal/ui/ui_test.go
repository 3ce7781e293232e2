package ui_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/storetest"
	"github.com/purserhq/purser/internal/ui"
)

const password = "a long enough password"

// counting counts the read queries the pages make.
type counting struct {
	sqldb.Querier
	n atomic.Int64
}

func (c *counting) Query(ctx context.Context, q string, args ...any) (sqldb.Rows, error) {
	c.n.Add(1)
	return c.Querier.Query(ctx, q, args...)
}

func (c *counting) QueryRow(ctx context.Context, q string, args ...any) sqldb.Row {
	c.n.Add(1)
	return c.Querier.QueryRow(ctx, q, args...)
}

// env is the UI behind the server's middleware on a real store.
type env struct {
	t     *testing.T
	db    *sqldb.DB
	srv   *httptest.Server
	reads *counting
	users map[string]*purser.User
	web   *ui.Server
}

func eachStore(t *testing.T, f func(t *testing.T, db *sqldb.DB)) {
	t.Run("SQLite", func(t *testing.T) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "purser.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s.DB)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		if os.Getenv("PURSER_TEST_POSTGRES_URL") == "" {
			t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
		}
		s, err := postgres.Open(context.Background(), storetest.PostgresURL(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s.DB)
	})
}

func newEnv(t *testing.T, db *sqldb.DB) *env {
	db = storetest.Equip(t, db)
	db.MaxPending = 1000
	reads := &counting{Querier: db.Read}
	db.Read = reads
	sys := purser.SystemContext(context.Background())
	e := &env{t: t, db: db, reads: reads, users: map[string]*purser.User{}}
	sessions := sqldb.NewSessionService(db)
	for _, r := range []string{purser.RoleDev, purser.RoleDevOps} {
		u := &purser.User{Username: r + "-user", Roles: []string{r}, IsActive: true}
		if err := sqldb.NewUserService(db).CreateUser(sys, u); err != nil {
			t.Fatal(err)
		}
		if err := sessions.SetPassword(sys, u.ID, password); err != nil {
			t.Fatal(err)
		}
		e.users[r] = u
	}
	tpl := &purser.Template{Meta: purser.Meta{ID: "small"}, Name: "Small", Driver: "sim", IsActive: true,
		Params:    []purser.Param{{Name: "size", Type: purser.ParamInteger, Default: float64(1), Min: ptr(1.0), Max: ptr(8.0)}},
		Footprint: purser.FootprintExprs{Cores: "size", Memory: "size * 2", CostPerHour: "0.1"}}
	if err := sqldb.NewTemplateService(db).CreateTemplate(sys, tpl); err != nil {
		t.Fatal(err)
	}
	web := &ui.Server{LiveInterval: 50 * time.Millisecond, Sessions: sessions, Tokens: sqldb.NewTokenService(db), Templates: sqldb.NewTemplateService(db),
		Requests: sqldb.NewRequestService(db), Quotas: sqldb.NewQuotaService(db),
		Notifications: sqldb.NewNotificationService(db), Events: sqldb.NewEventService(db), Names: sqldb.NewNameService(db),
		Limiter: sqldb.NewSignInLimiter(db), Users: sqldb.NewUserService(db), Roles: sqldb.NewRoleService(db), Identities: sessions,
		Logs: sqldb.NewLogService(db), Extensions: sqldb.NewExtensionService(db)}
	e.web = web
	equipInfra(web, db)
	home := mountFunc(func(mux *http.ServeMux) { mux.Handle("GET /{$}", web.Dashboard()) }) // as the API hands / to browsers
	e.srv = httptest.NewServer((&httpserver.Server{Tokens: sqldb.NewTokenService(db)}).Handler(web, home))
	t.Cleanup(e.srv.Close)
	t.Cleanup(web.Shutdown)
	return e
}

type mountFunc func(mux *http.ServeMux)

func (f mountFunc) Register(mux *http.ServeMux) { f(mux) }

func ptr[T any](v T) *T { return &v }

// submit makes n requests of dev's.
func (e *env) submit(n int) {
	ctx := purser.NewContextWithActor(context.Background(), &purser.Actor{User: e.users[purser.RoleDev]})
	for i := 0; i < n; i++ {
		if _, err := sqldb.NewRequestService(e.db).CreateRequest(ctx, purser.RequestInput{ResourceTemplate: "small"}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// browser is a cookie-keeping client signed in as the role.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) signIn(role string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, c: &http.Client{Jar: jar}}
	body := b.get("/signin", http.StatusOK)
	status, body := b.post("/signin", url.Values{"username": {role + "-user"}, "password": {password}, "csrf": {csrf(e.t, body)}})
	if status != http.StatusOK || !strings.Contains(body, "Dashboard") {
		e.t.Fatalf("sign in as %s: %d %s", role, status, body)
	}
	b.csrf = csrf(e.t, body)
	return b
}

func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page: %s", body)
	}
	return m[1]
}

func (b *browser) get(path string, want int) string {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		b.e.t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, data)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		b.e.t.Fatalf("GET %s: CSP %q", path, csp)
	}
	return string(data)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.e.t.Helper()
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestPagesCostTheSameQueries: each page makes as many queries with 30
// requests in the store as with 3 (no query per row).
func TestPagesCostTheSameQueries(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		dev, ops := e.signIn(purser.RoleDev), e.signIn(purser.RoleDevOps)
		pages := []struct {
			b    *browser
			path string
		}{{dev, "/dashboard"}, {dev, "/requests"}, {dev, "/catalog"}, {ops, "/reviews"}, {ops, "/dashboard"}, {dev, "/tokens"}, {dev, "/inbox"}, {dev, "/quotas"}, {ops, "/quotas"}}
		cost := func() []int64 {
			var out []int64
			for _, p := range pages {
				before := e.reads.n.Load()
				p.b.get(p.path, http.StatusOK)
				out = append(out, e.reads.n.Load()-before)
			}
			return out
		}
		e.submit(3)
		small := cost()
		e.submit(27)
		large := cost()
		if fmt.Sprint(small) != fmt.Sprint(large) {
			t.Fatalf("queries per page grow with the store: %v with 3 requests, %v with 30 (pages %v)", small, large, pages)
		}
		if body := ops.get("/reviews", http.StatusOK); strings.Count(body, `<svg`) != 30*4 {
			t.Fatalf("the queue does not draw four bars per request")
		}
		if status, body := dev.post("/inbox/read", url.Values{"csrf": {dev.csrf}}); status != http.StatusOK || !strings.Contains(body, "0 unread") {
			t.Fatalf("mark all read: %d %s", status, body)
		}
	})
}

// TestFormsNeedTheCSRFToken: a POST without the session's token, or with
// another's, is refused; sign-out ends the session.
func TestFormsNeedTheCSRFToken(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		dev, ops := e.signIn(purser.RoleDev), e.signIn(purser.RoleDevOps)
		for _, token := range []string{"", ops.csrf} {
			if status, _ := dev.post("/tokens", url.Values{"name": {"x"}, "csrf": {token}}); status != http.StatusForbidden {
				t.Fatalf("POST /tokens with token %q: %d, want 403", token, status)
			}
		}
		if status, body := dev.post("/tokens", url.Values{"name": {"laptop"}, "csrf": {dev.csrf}}); status != http.StatusOK || !strings.Contains(body, "pst_") {
			t.Fatalf("POST /tokens: %d %s", status, body)
		}
		if status, body := dev.post("/catalog/small", url.Values{"p.size": {"99"}, "csrf": {dev.csrf}}); status != http.StatusUnprocessableEntity ||
			!strings.Contains(body, `id="p-size-error"`) {
			t.Fatalf("a bad parameter: %d %s", status, body)
		}
		if status, body := dev.post("/signout", url.Values{"csrf": {dev.csrf}}); status != http.StatusOK || !strings.Contains(body, `id="username"`) {
			t.Fatalf("sign out: %d %s", status, body)
		}
		if body := dev.get("/requests", http.StatusOK); !strings.Contains(body, `id="username"`) {
			t.Fatal("still signed in after signing out")
		}
		if status, _ := dev.post("/signin", url.Values{"username": {"dev-user"}, "password": {"wrong password!"}, "csrf": {"x"}}); status != http.StatusForbidden {
			t.Fatalf("sign-in without the pre-session token: %d", status)
		}
	})
}

// TestSignInLink: a one-time link an admin made lets the user choose a
// password (the two must agree) and signs them in; it works once.
func TestSignInLink(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		link, _, err := sqldb.NewSessionService(e.db).CreateSignInLink(purser.SystemContext(context.Background()), e.users[purser.RoleDev].ID)
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		b := &browser{e: e, c: &http.Client{Jar: jar}}
		token := csrf(t, b.get("/signin/link/"+link, http.StatusOK))
		if status, body := b.post("/signin/link/"+link, url.Values{"password": {password + "1"}, "confirm": {password + "2"}, "csrf": {token}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, "differ") {
			t.Fatalf("different passwords: %d %s", status, body)
		}
		if status, body := b.post("/signin/link/"+link, url.Values{"password": {password + "1"}, "confirm": {password + "1"}, "csrf": {token}}); status != http.StatusOK || !strings.Contains(body, "Dashboard") {
			t.Fatalf("set the password: %d %s", status, body)
		}
		jar, _ = cookiejar.New(nil)
		other := &browser{e: e, c: &http.Client{Jar: jar}}
		token = csrf(t, other.get("/signin/link/"+link, http.StatusOK))
		if status, _ := other.post("/signin/link/"+link, url.Values{"password": {password + "3"}, "confirm": {password + "3"}, "csrf": {token}}); status != http.StatusUnauthorized {
			t.Fatalf("the link again: %d", status)
		}
	})
}

// TestSignInFailuresAreLimited: after ten failed sign-ins in a minute an
// address is refused, even with the right password, until the minute ends.
func TestSignInFailuresAreLimited(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		jar, _ := cookiejar.New(nil)
		b := &browser{e: e, c: &http.Client{Jar: jar}}
		token := csrf(t, b.get("/signin", http.StatusOK))
		for i := 0; i < 10; i++ {
			if status, _ := b.post("/signin", url.Values{"username": {"dev-user"}, "password": {"wrong"}, "csrf": {token}}); status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, status)
			}
		}
		if status, body := b.post("/signin", url.Values{"username": {"dev-user"}, "password": {password}, "csrf": {token}}); status != http.StatusTooManyRequests || !strings.Contains(body, "Too many") {
			t.Fatalf("after ten failures: %d", status)
		}
	})
}

// TestRequestListIsLive: the my-requests stream sends the table again
// when a status on the page changes.
func TestRequestListIsLive(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.submit(2)
		dev := e.signIn(purser.RoleDev)
		if body := dev.get("/requests", http.StatusOK); !strings.Contains(body, `sse-connect="/requests/live?status=&amp;page=1"`) {
			t.Fatalf("the list is not connected to its stream: %s", body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/requests/live?status=&page=1", nil)
		resp, err := dev.c.Do(req)
		if err != nil || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %v %v", resp, err)
		}
		defer resp.Body.Close()
		rs, _, err := sqldb.NewRequestService(e.db).FindRequests(purser.NewContextWithActor(ctx, &purser.Actor{User: e.users[purser.RoleDev]}), purser.Query{Page: 1, MaxResults: 1})
		if err != nil {
			t.Fatal(err)
		}
		opsCtx := purser.NewContextWithActor(ctx, &purser.Actor{User: e.users[purser.RoleDevOps]})
		if _, err := sqldb.NewRequestService(e.db).ActOnRequest(opsCtx, rs[0].ID, purser.ActReject, purser.Review{Comment: "no"}); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: rows") {
				sc.Scan()
				if !strings.Contains(sc.Text(), "data: ") {
					t.Fatalf("event without data: %q", sc.Text())
				}
				return
			}
		}
		t.Fatalf("no rows event: %v", sc.Err())
	})
}

// TestOwnerWithdrawsARequest: the request page offers its owner the
// actions of its status; withdrawing moves it to REVOKED.
func TestOwnerWithdrawsARequest(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.submit(1)
		dev, ops := e.signIn(purser.RoleDev), e.signIn(purser.RoleDevOps)
		rs, _, err := sqldb.NewRequestService(e.db).FindRequests(purser.SystemContext(context.Background()), purser.Query{Page: 1, MaxResults: 1})
		if err != nil {
			t.Fatal(err)
		}
		id := rs[0].ID
		if body := ops.get("/requests/"+id, http.StatusOK); strings.Contains(body, `value="revoke"`) || !strings.Contains(body, `value="approve"`) {
			t.Fatalf("a reviewer sees the owner's actions, or no review form")
		}
		if body := dev.get("/requests/"+id, http.StatusOK); !strings.Contains(body, `value="revoke"`) {
			t.Fatalf("the owner is not offered to withdraw: %s", body)
		}
		if status, body := dev.post("/requests/"+id+"/act", url.Values{"action": {"revoke"}, "csrf": {dev.csrf}}); status != http.StatusOK || !strings.Contains(body, "REVOKED") {
			t.Fatalf("withdraw: %d %s", status, body)
		}
	})
}
