package httpserver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"
)

// tokens knows one token, "good", of user u1.
type tokens struct{ purser.TokenService }

func (tokens) Authenticate(_ context.Context, secret string) (*purser.Actor, error) {
	if secret != "good" {
		return nil, purser.Errorf(purser.EUNAUTHORIZED, "unknown token")
	}
	return &purser.Actor{}, nil
}

// mount answers /api/v1/who with whether the request is authenticated, and
// panics on /api/v1/panic.
type mount struct{}

func (mount) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/who", func(w http.ResponseWriter, r *http.Request) {
		httpserver.SetRoute(r.Context(), "GET /api/v1/who")
		if purser.ActorFromContext(r.Context()) != nil {
			io.WriteString(w, "someone")
			return
		}
		io.WriteString(w, "anonymous")
	})
	mux.HandleFunc("GET /api/v1/panic", func(http.ResponseWriter, *http.Request) { panic("bug") })
}

func TestChain(t *testing.T) {
	t.Parallel()
	hs := &httpserver.Server{Tokens: tokens{}, Aliases: map[string]string{"/v1": "/api/v1"}}
	srv := httptest.NewServer(hs.Handler(mount{}))
	t.Cleanup(srv.Close)
	get := func(t *testing.T, path, token string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	for name, c := range map[string]struct {
		path, token string
		status      int
		body        string
	}{
		"Anonymous":       {"/api/v1/who", "", 200, "anonymous"},
		"Authenticated":   {"/api/v1/who", "good", 200, "someone"},
		"Alias":           {"/v1/who", "good", 200, "someone"},
		"BadTokenRefused": {"/api/v1/who", "bad", 401, "unknown token"},
		"PanicIsA500":     {"/api/v1/panic", "", 500, "internal error"},
		"NULRefused":      {"/api/v1/who?q=%00", "", 400, "NUL"},
	} {
		t.Run(name, func(t *testing.T) {
			status, body, h := get(t, c.path, c.token)
			if status != c.status || !strings.Contains(body, c.body) || h.Get("X-Request-Id") == "" {
				t.Fatalf("GET %s: %d %q (request id %q), want %d with %q", c.path, status, body, h.Get("X-Request-Id"), c.status, c.body)
			}
		})
	}
	t.Run("MetricsCountRoutes", func(t *testing.T) {
		get(t, "/api/v1/who", "")
		if status, body, _ := get(t, "/metrics", ""); status != 200 || !strings.Contains(body, `purser_http_requests_total{code="200",route="GET /api/v1/who"}`) {
			t.Fatalf("/metrics: %d\n%s", status, body)
		}
	})
}
