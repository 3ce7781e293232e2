// Package httpserver assembles Purser's HTTP surface: the mounts (the API
// today; the web UI and a Slack endpoint beside it later) on one mux, behind
// one middleware chain that every mount shares: request ids, logs and
// metrics, panic recovery, bearer-token authentication with its rate limit,
// the /v1 alias and the NUL check. It also serves /metrics.
//
// It knows the domain's token service and nothing of the handlers it
// mounts, so that each mount stays a plain set of handlers.
package httpserver

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser"
)

// Mount is a set of handlers that registers itself on the server's mux
// (api.Server is one).
type Mount interface {
	// Register adds the mount's routes to mux, once, before the server
	// serves. A route should label itself with SetRoute or Named, for the
	// metrics and the request log.
	Register(mux *http.ServeMux)
}

// Server holds what the shared middleware needs.
type Server struct {
	// Tokens authenticates the bearer tokens requests carry.
	Tokens purser.TokenService
	Logger *slog.Logger
	// Registerer receives the HTTP metrics; Gatherer serves /metrics.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// AuthFailuresPerMinute is how many bad tokens one client address may
	// present in a minute before its token-bearing requests are answered
	// 429 until the minute ends; 0 turns the limit off.
	AuthFailuresPerMinute int
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// Aliases maps a path prefix to the one it stands for ("/v1" to
	// "/api/v1"): a request under the first is served as if under the
	// second.
	Aliases map[string]string
	// NowFunc is the rate limit's clock; nil is time.Now.
	NowFunc func() time.Time

	metrics  *httpMetrics
	failures *failureLimiter
}

// Handler returns the whole HTTP handler: the mounts and /metrics on one
// mux, behind the middleware chain, outermost first: request id, log and
// metrics; panic recovery; authentication; the alias; the NUL check; 304
// for a GET whose If-None-Match names the answer's ETag. Paths and methods
// the mounts do not serve are answered with problem documents.
func (s *Server) Handler(mounts ...Mount) http.Handler {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Registerer == nil {
		reg := prometheus.NewRegistry()
		s.Registerer, s.Gatherer = reg, reg
	}
	s.metrics = newHTTPMetrics(s.Registerer)
	s.failures = newFailureLimiter(s.AuthFailuresPerMinute, time.Minute)

	mux := http.NewServeMux()
	for _, m := range mounts {
		m.Register(mux)
	}
	mux.Handle("GET /metrics", Named("GET /metrics", s.metricsHandler()))
	return s.requestMiddleware(s.recoverMiddleware(s.authMiddleware(s.alias(refuseNUL(notModified(problemRoutes(mux)))))))
}

// now is the server's clock.
func (s *Server) now() time.Time {
	if s.NowFunc != nil {
		return s.NowFunc()
	}
	return time.Now()
}
