package httpserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// InternalDetail is the whole detail of a 500: the cause is only logged.
const InternalDetail = "internal error; the server log has the details under this request's id"

// RetryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// while a dependency (the database) is out of reach.
const RetryAfterUnavailable = "5"

// writeProblem writes a problem document outside huma (authentication,
// unknown routes).
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="purser"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail})
}

// problemRoutes answers the requests mux has no route for with problem
// documents instead of the mux's plain text: 404 for an unknown path, 405
// (with the mux's Allow header) for a known path and another method.
func problemRoutes(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// No route: let the mux's own handler say which answer it is (404,
		// 405, or a redirect to the cleaned path), keeping its headers.
		rec := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		path, _, _ := strings.Cut(r.RequestURI, "?") // as sent: /v1/... stays /v1/...
		if path == "" {
			path = r.URL.Path
		}
		switch rec.status {
		case http.StatusNotFound:
			writeProblem(w, http.StatusNotFound, "no route "+Clip(path)+"; the API's index is at /api/v1 and its reference at /docs")
		case http.StatusMethodNotAllowed:
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+Clip(path)+"; allowed: "+allow)
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// headerRecorder keeps the status and headers a handler answers with and
// drops its body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }

func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *headerRecorder) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return len(b), nil
}

// MaxEcho is the most of a submitted value a problem document repeats
// (the API clips its own problems with Clip too).
const MaxEcho = 200

// Clip cuts s to MaxEcho characters, marking the cut with "…".
func Clip(s string) string {
	if utf8.RuneCountInString(s) <= MaxEcho {
		return s
	}
	r := []rune(s)
	return string(r[:MaxEcho]) + "…"
}
