package httpserver

import (
	"encoding/json"
	"net/http"

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
