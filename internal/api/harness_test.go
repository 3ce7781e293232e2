package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/api"
	"github.com/purserhq/purser/internal/driver/kubernetes"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/storetest"
)

// env is a running API on a real store, with a user and token per role.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	api    *api.Server
	db     *sqldb.DB
	users  map[string]*purser.User // by role name: admin, devops, dev
	tokens map[string]string       // by role name; "" is anonymous
	hits   *hitLog
}

// hitLog records every (operation, status) a test saw, to check them
// against the OpenAPI document.
type hitLog struct {
	mu   sync.Mutex
	seen map[string]map[int]bool // "GET /api/v1/users/{id}" -> statuses
}

var allHits = &hitLog{seen: map[string]map[int]bool{}}

func (h *hitLog) add(route string, status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[route] == nil {
		h.seen[route] = map[int]bool{}
	}
	h.seen[route][status] = true
}

// store opens a fresh, migrated store that the test owns.
type store func(t *testing.T) *sqldb.DB

func openSQLite(t *testing.T) *sqldb.DB {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "purser.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.DB
}

func openPostgres(t *testing.T) *sqldb.DB {
	s, err := postgres.Open(context.Background(), storetest.PostgresURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.DB
}

// eachStore runs f as the subtests SQLite and PostgreSQL (skipped when
// PURSER_TEST_POSTGRES_URL is unset), in parallel with other tests: each
// run owns its store, as River runs one suite on every driver.
func eachStore(t *testing.T, f func(t *testing.T, open store)) {
	t.Parallel()
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		f(t, openSQLite)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		t.Parallel()
		if os.Getenv("PURSER_TEST_POSTGRES_URL") == "" && os.Getenv("CI") == "" {
			t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
		}
		f(t, openPostgres)
	})
}

// newEnv starts the API, behind the server's middleware, on a store made by
// open; opts set the middleware's options before it starts.
func newEnv(t *testing.T, open store, opts ...func(*httpserver.Server)) *env {
	t.Helper()
	db := storetest.Equip(t, open(t))
	db.ValidateCluster = kubernetes.ValidateCluster
	db.Drivers["exec"] = []string{"OTHER"} // known, so that exec templates reach authorization
	e := &env{t: t, db: db, users: map[string]*purser.User{}, tokens: map[string]string{"": ""}, hits: allHits}
	e.api = &api.Server{
		Users: sqldb.NewUserService(db), Roles: sqldb.NewRoleService(db), Tokens: sqldb.NewTokenService(db),
		Sessions:  sqldb.NewSessionService(db),
		Templates: sqldb.NewTemplateService(db), Requests: sqldb.NewRequestService(db), Extensions: sqldb.NewExtensionService(db),
		Quotas: sqldb.NewQuotaService(db), Notifications: sqldb.NewNotificationService(db), Events: sqldb.NewEventService(db), Logs: sqldb.NewLogService(db),
		Names:         sqldb.NewNameService(db),
		Clusters:      &kubernetes.Clusters{ClusterStore: sqldb.NewClusterService(db), Probe: kubernetes.Probe, NowFunc: db.NowFunc},
		Stacks:        sqldb.NewStackService(db),
		DefaultDriver: "sim",
		Checks:        []api.Check{{Name: "database", Func: db.Ping}},

		Hosts: sqldb.NewHostService(db), Pools: sqldb.NewPoolService(db), JoinTokens: sqldb.NewJoinTokenService(db),
		HookRuns: sqldb.NewHookRunService(db, 0),
	}
	e.srv = httptest.NewServer(serve(e.api, opts...))
	t.Cleanup(e.srv.Close)
	for _, role := range []string{"admin", "devops", "dev"} {
		e.users[role], e.tokens[role] = e.newUser(role+"-user", role)
	}
	return e
}

// serve wraps the API in the middleware as cmd/purser does.
func serve(s *api.Server, opts ...func(*httpserver.Server)) http.Handler {
	hs := &httpserver.Server{Tokens: s.Tokens, Aliases: map[string]string{api.AliasPath: api.BasePath}}
	for _, o := range opts {
		o(hs)
	}
	return hs.Handler(s)
}

// newUser creates a user with the roles and returns it with a token.
func (e *env) newUser(username string, roles ...string) (*purser.User, string) {
	e.t.Helper()
	sys := purser.SystemContext(context.Background())
	u := &purser.User{Username: username, Roles: roles, IsActive: true}
	if err := sqldb.NewUserService(e.db).CreateUser(sys, u); err != nil {
		e.t.Fatal(err)
	}
	_, secret, err := sqldb.NewTokenService(e.db).CreateToken(sys, u.ID, "test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, secret
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// do sends a request as the role ("" for anonymous). body may be a string
// (sent as is) or a value (sent as JSON).
func (e *env) do(role, method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := e.tokens[role]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	e.hits.add(method+" "+routeOf(e.api, path), resp.StatusCode)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// routeOf finds the documented path a request path matches.
func routeOf(s *api.Server, path string) string {
	path, _, _ = strings.Cut(path, "?")
	if path == api.AliasPath || strings.HasPrefix(path, api.AliasPath+"/") {
		path = "/api" + path
	}
	var routes []string
	for p := range s.OpenAPI().Paths {
		routes = append(routes, p)
	}
	sort.Strings(routes)
	for _, p := range routes {
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) {
			return p
		}
	}
	return "UNDOCUMENTED " + path
}
