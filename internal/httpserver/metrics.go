package httpserver

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "purser_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "purser_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// metricsHandler serves /metrics, to whoever asks or, with a MetricsToken,
// to whoever presents it.
func (s *Server) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{})
	if s.MetricsToken == "" {
		return h
	}
	want := []byte(s.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		if wait := s.failures.blocked(addr, s.now()); wait > 0 {
			writeTooManyFailures(w, wait)
			return
		}
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			s.failures.fail(addr, s.now())
			writeProblem(w, http.StatusUnauthorized, "/metrics needs \"Authorization: Bearer <metrics.token>\"")
			return
		}
		h.ServeHTTP(w, r)
	})
}
