package httpserver

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// InternalDetail is the whole detail of a 500: the cause is only logged.
const InternalDetail = "internal error; the server log has the details under this request's id"

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
