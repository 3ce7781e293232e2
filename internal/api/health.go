package api

import (
	"context"
	"net/http"
	"time"
)

type checkResult struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

type health struct {
	Status string        `json:"status"`
	Checks []checkResult `json:"checks"`
}

// healthz is liveness: it depends on nothing.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, health{Status: "UP", Checks: []checkResult{}})
}

// readyz runs every readiness check and answers 503 naming those that fail.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	out := health{Status: "UP", Checks: []checkResult{}}
	status := http.StatusOK
	for _, c := range s.Checks {
		res := checkResult{Name: c.Name, Status: "UP"}
		if err := c.Func(ctx); err != nil {
			res.Status, res.Error = "DOWN", err.Error()
			out.Status, status = "DOWN", http.StatusServiceUnavailable
			s.Logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "error", err)
		}
		out.Checks = append(out.Checks, res)
	}
	writeJSON(w, status, out)
}
