package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/api"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/sqldb"
)

// panickyUsers panics where a bug would: in the middle of a handler.
type panickyUsers struct{ purser.UserService }

func (panickyUsers) FindUserByID(context.Context, string) (*purser.User, error) {
	panic("regexp: bug")
}

func TestPanicIsA500(t *testing.T) { eachStore(t, testPanicIsA500) }

func testPanicIsA500(t *testing.T, open store) {
	e := newEnv(t, open)
	s := &api.Server{Users: panickyUsers{sqldb.NewUserService(e.db)}, Roles: sqldb.NewRoleService(e.db), Tokens: sqldb.NewTokenService(e.db)}
	srv := httptest.NewServer(serve(s))
	t.Cleanup(srv.Close)
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v (the server did not answer)", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	for range 3 {
		resp, body := get("/api/v1/users/" + e.users["dev"].ID)
		var p struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(body, &p) != nil || p.Status != 500 || p.Detail == "" {
			t.Fatalf("panicking handler: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if resp, body := get("/api/v1/users"); resp.StatusCode != 200 {
		t.Fatalf("after panics, listing users: %d %s", resp.StatusCode, body)
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) { eachStore(t, testBearerSchemeIsCaseInsensitive) }

func testBearerSchemeIsCaseInsensitive(t *testing.T, open store) {
	e := newEnv(t, open)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		if r := e.do("", "GET", "/api/v1/me", nil, "Authorization", scheme+" "+e.tokens["dev"]); r.Status != 200 {
			t.Fatalf("%s: %d %s", scheme, r.Status, r.Body)
		}
	}
}

func TestAuthFailuresAreLimited(t *testing.T) { eachStore(t, testAuthFailuresAreLimited) }

func testAuthFailuresAreLimited(t *testing.T, open store) {
	e := newEnv(t, open, func(s *httpserver.Server) { s.AuthFailuresPerMinute = 3 })
	for i := range 3 {
		if r := e.do("", "GET", "/api/v1/me", nil, "Authorization", "Bearer pst_guess"+strconv.Itoa(i)); r.Status != 401 {
			t.Fatalf("bad token %d: %d, want 401", i, r.Status)
		}
	}
	// Anonymous requests carry no guess: they go on.
	if r := e.do("", "GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("anonymous after the limit: %d", r.Status)
	}
	for _, tok := range []string{"pst_guess9", e.tokens["dev"]} {
		r := e.do("", "GET", "/api/v1/me", nil, "Authorization", "Bearer "+tok)
		retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if r.Status != 429 || err != nil || retry < 1 || retry > 60 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("token after the limit: %d, Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
		}
	}
}

func TestAnswersAreNotCached(t *testing.T) { eachStore(t, testAnswersAreNotCached) }

func testAnswersAreNotCached(t *testing.T, open store) {
	e := newEnv(t, open)
	for _, path := range []string{"/api/v1/me", "/api/v1/users/nope", "/healthz", "/api-docs"} {
		r := e.do("dev", "GET", path, nil)
		if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: Cache-Control %q, X-Content-Type-Options %q", path, r.Header.Get("Cache-Control"), r.Header.Get("X-Content-Type-Options"))
		}
	}
}

func TestMetricsToken(t *testing.T) { eachStore(t, testMetricsToken) }

func testMetricsToken(t *testing.T, open store) {
	unguarded := newEnv(t, open)
	if r := unguarded.do("", "GET", "/metrics", nil); r.Status != 200 {
		t.Fatalf("/metrics without a metrics token configured: %d", r.Status)
	}
	e := newEnv(t, open, func(s *httpserver.Server) { s.MetricsToken = "metrics-secret-0123456789" })
	// In order: the refused scrapes come first, so that the counter the
	// accepted ones look for has a sample (a map's order made this flaky).
	for _, c := range []struct {
		name   string
		header string
		want   int
	}{
		{"None", "", 401}, {"Wrong", "Bearer nope", 401}, {"APIToken", "Bearer " + e.tokens["admin"], 401},
		{"Right", "Bearer metrics-secret-0123456789", 200}, {"LowerCase", "bearer metrics-secret-0123456789", 200},
	} {
		name := c.name
		var r response
		if c.header == "" {
			r = e.do("", "GET", "/metrics", nil)
		} else {
			r = e.do("", "GET", "/metrics", nil, "Authorization", c.header)
		}
		if r.Status != c.want || (c.want == 200 && !strings.Contains(string(r.Body), "purser_http_requests_total")) {
			t.Errorf("%s: %d, want %d", name, r.Status, c.want)
		}
	}
}

// TestProblemsClipValues: a problem document repeats at most 200
// characters of any submitted value, key or name.
func TestProblemsClipValues(t *testing.T) { eachStore(t, testProblemsClipValues) }

func testProblemsClipValues(t *testing.T, open store) {
	e := newEnv(t, open)
	long := strings.Repeat("x", 5000)
	for name, c := range map[string]struct {
		method, path string
		body         any
		want         int
	}{
		"Pattern":         {"POST", "/api/v1/users", `{"username":"` + long + `"}`, 422},
		"UnknownProperty": {"POST", "/api/v1/users", `{"username":"ok","` + long + `":1}`, 422},
		"WrongType":       {"POST", "/api/v1/users", `{"username":["` + long + `"]}`, 422},
		"UnknownRole":     {"POST", "/api/v1/users", `{"username":"ok","roles":["` + long + `"]}`, 422},
		"WhereField":      {"GET", `/api/v1/users?where={"` + long + `":1}`, nil, 400},
		"SortField":       {"GET", "/api/v1/users?sort=" + long, nil, 400},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do("admin", c.method, c.path, c.body)
			if r.Status != c.want {
				t.Fatalf("status %d, want %d: %.300s", r.Status, c.want, r.Body)
			}
			if strings.Contains(string(r.Body), strings.Repeat("x", 201)) || !strings.Contains(string(r.Body), strings.Repeat("x", 50)+"…") {
				t.Fatalf("the problem repeats more than 200 characters of the value, or does not mark the cut (%d bytes): %.600s", len(r.Body), r.Body)
			}
		})
	}
}

func TestMetricsTokenGuessesAreLimited(t *testing.T) { eachStore(t, testMetricsTokenGuessesAreLimited) }

func testMetricsTokenGuessesAreLimited(t *testing.T, open store) {
	e := newEnv(t, open, func(s *httpserver.Server) { s.MetricsToken = "metrics-secret-0123456789"; s.AuthFailuresPerMinute = 2 })
	for range 2 {
		if r := e.do("", "GET", "/metrics", nil, "Authorization", "Bearer guess"); r.Status != 401 {
			t.Fatalf("bad metrics token: %d", r.Status)
		}
	}
	if r := e.do("", "GET", "/metrics", nil, "Authorization", "Bearer metrics-secret-0123456789"); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("metrics token after the limit: %d %q", r.Status, r.Header.Get("Retry-After"))
	}
}
