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

// tagged answers /api/v1/doc with a document tagged "v1".
type tagged struct{}

func (tagged) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/doc", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"_etag":"v1"}`)
	})
}

func TestRoutesAndConditionalGET(t *testing.T) {
	t.Parallel()
	hs := &httpserver.Server{Tokens: tokens{}, Aliases: map[string]string{"/v1": "/api/v1"}}
	srv := httptest.NewServer(hs.Handler(tagged{}))
	t.Cleanup(srv.Close)
	send := func(method, path string, headers ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := send("GET", "/v1/nothing")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, "no route /v1/nothing") {
		t.Fatalf("unknown path: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = send("POST", "/api/v1/doc")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(body, `"status":405`) {
		t.Fatalf("wrong method: %d Allow=%q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	for _, tt := range []struct {
		inm  string
		want int
	}{{`"v1"`, 304}, {`W/"v1"`, 304}, {`"v0", "v1"`, 304}, {`*`, 304}, {`"v0"`, 200}, {"", 200}} {
		resp, body = send("GET", "/v1/doc", "If-None-Match", tt.inm)
		if resp.StatusCode != tt.want || (tt.want == 304 && body != "") || (tt.want == 200 && body == "") {
			t.Fatalf("If-None-Match %s: %d %q, want %d", tt.inm, resp.StatusCode, body, tt.want)
		}
	}
}
