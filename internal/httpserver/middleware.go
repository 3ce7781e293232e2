package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/purserhq/purser"
)

// tracer makes one span per HTTP request (when tracing is on).
var tracer = otel.Tracer("github.com/purserhq/purser/internal/httpserver")

var propagator = propagation.TraceContext{}

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// LogHandler wraps h so that every record logged with a request's context
// carries its request_id, and every record logged while a span is active
// (a request, a job, when tracing is on) its trace_id and span_id.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(a)}
}

func (h requestIDHandler) WithGroup(n string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(n)}
}

// routeKey holds a *string the router fills with the matched route, so the
// outer middleware can label metrics and logs with it.
type routeKey struct{}

// SetRoute labels the route of the request ctx belongs to, for the
// metrics and the request log; a mount's router calls it once it matched.
func SetRoute(ctx context.Context, route string) {
	if p, ok := ctx.Value(routeKey{}).(*string); ok {
		*p = route
	}
}

// Named labels a plain handler's route in the metrics and the request log.
func Named(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetRoute(r.Context(), route)
		h.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	cache  *purser.CacheReport
}

// header adds, as the answer starts, X-Cache: HIT or MISS when a cache
// was consulted for it (a handler's own X-Cache stands).
func (w *statusWriter) header() {
	if s := w.cache.Status(); s != "" && w.Header().Get("X-Cache") == "" {
		w.Header().Set("X-Cache", s)
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.header()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
		w.header()
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// requestMiddleware gives every request an id (X-Request-Id, kept when the
// caller sends a sane one), logs it, and counts it in the metrics.
func (s *Server) requestMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n") {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		// Answers carry tokens and secrets: no cache keeps them (the
		// reference's static files aside), and no browser guesses their type.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path != "/docs" && !strings.HasPrefix(r.URL.Path, "/docs/") {
			w.Header().Set("Cache-Control", "no-store")
		}
		route := "unmatched"
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey{}, id), routeKey{}, &route)
		ctx, report := purser.NewContextWithCacheReport(ctx)
		// The request's span continues the caller's trace (traceparent);
		// it is named after the route once the mux matched one.
		ctx = propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, cache: report}
		next.ServeHTTP(sw, r.WithContext(ctx))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		span.SetName(route)
		span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", sw.status),
			attribute.String("request.id", id))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
		elapsed := time.Since(start)
		s.metrics.observe(route, sw.status, elapsed)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.Logger.LogAttrs(ctx, level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", route), slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
			slog.Duration("duration", elapsed))
	})
}

// recoverMiddleware turns a handler's panic into a logged error (with its
// stack) and a 500 problem document, so that one bad request costs neither
// the process nor its other requests. A panic after the answer started can
// only cut the connection (http.ErrAbortHandler), which is what
// http.ErrAbortHandler itself asks for.
func (s *Server) recoverMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before := w.Header().Clone()
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.Logger.ErrorContext(r.Context(), "panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				panic(http.ErrAbortHandler)
			}
			// Drop what the handler meant to send with its answer (an ETag).
			clear(w.Header())
			maps.Copy(w.Header(), before)
			writeProblem(w, http.StatusInternalServerError, InternalDetail)
		}()
		next.ServeHTTP(w, r)
	})
}

// authMiddleware resolves a bearer token to the actor. A request without
// one goes on anonymous (the services refuse what needs a user); a bad one
// is refused here. The scheme is case-insensitive (RFC 9110). A client
// address that presented too many bad tokens is answered 429 for every
// token, good or bad, until its window ends: answering a good one would
// leave a guesser its oracle. /metrics, when it has a token of its own,
// checks it itself.
func (s *Server) authMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" || (s.MetricsToken != "" && r.URL.Path == "/metrics") {
			next.ServeHTTP(w, r)
			return
		}
		addr := clientAddr(r)
		if wait := s.failures.blocked(addr, s.now()); wait > 0 {
			writeTooManyFailures(w, wait)
			return
		}
		secret, ok := bearer(h)
		if !ok {
			s.failures.fail(addr, s.now())
			writeProblem(w, http.StatusUnauthorized, "the Authorization header must be \"Bearer <token>\"")
			return
		}
		actor, err := s.Tokens.Authenticate(r.Context(), secret)
		if err != nil {
			if purser.ErrorCode(err) == purser.EUNAVAILABLE {
				s.Logger.WarnContext(r.Context(), "authenticate", "error", err)
				w.Header().Set("Retry-After", RetryAfterUnavailable)
				writeProblem(w, http.StatusServiceUnavailable, purser.ErrorMessage(err))
				return
			}
			if purser.ErrorCode(err) != purser.EUNAUTHORIZED {
				s.Logger.ErrorContext(r.Context(), "authenticate", "error", err)
				writeProblem(w, http.StatusInternalServerError, "internal error")
				return
			}
			s.failures.fail(addr, s.now())
			writeProblem(w, http.StatusUnauthorized, purser.ErrorMessage(err))
			return
		}
		next.ServeHTTP(w, r.WithContext(purser.NewContextWithActor(r.Context(), actor)))
	})
}

// bearer returns the token of an "Authorization: Bearer <token>" header,
// whatever the scheme's case.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// clientAddr is the address of the connection's peer: a load balancer's
// own address behind one (X-Forwarded-For is not trusted: any client can
// write it).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// alias serves each alias prefix's paths as its target's, and reads a body
// sent with no Content-Type as JSON.
func (s *Server) alias(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") == "" && r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			r.Header.Set("Content-Type", "application/json")
		}
		for from, to := range s.Aliases {
			if r.URL.Path == from || strings.HasPrefix(r.URL.Path, from+"/") {
				r2 := r.Clone(r.Context())
				r2.URL.Path = to + strings.TrimPrefix(r.URL.Path, from)
				r2.URL.RawPath = ""
				next.ServeHTTP(w, r2)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
