package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Check is one readiness check: a name and a function that fails when the
// dependency is not ready.
type Check struct {
	Name string
	Func func(ctx context.Context) error
	// Optional checks say DOWN in the details without failing readiness:
	// the server still serves without what they check (the cache).
	Optional bool
}

type checkResult struct {
	Name   string `json:"name"`
	Status string `json:"status" enum:"UP,DOWN"`
	Error  string `json:"error,omitempty"`
}

type health struct {
	Status string        `json:"status" enum:"UP,DOWN"`
	Checks []checkResult `json:"checks"`
}

type healthOutput struct {
	Status int
	Body   health
}

// registerHealth registers /healthz and /readyz, and documents the routes
// served outside huma (/metrics, /docs, /api-docs) so that the OpenAPI
// document lists every route.
func (s *Server) registerHealth() {
	huma.Register(s.api, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Tags: []string{"operations"},
		Summary: "Liveness: answers 200 while the process serves; checks no dependency",
	}, s.healthz)

	ready := huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz", Tags: []string{"operations"},
		Summary:   "Readiness: the database and the job queue",
		Responses: map[string]*huma.Response{"503": {Description: "A check failed; the body names it."}},
	}
	huma.Register(s.api, ready, s.readyz)
	// Document the 503 body with the same schema as the 200.
	oa := s.api.OpenAPI()
	if r := oa.Paths["/readyz"].Get.Responses; r["200"] != nil {
		r["503"].Content = r["200"].Content
	}

	text := func(path, id, summary, ctype string) {
		o := &huma.Operation{
			OperationID: id, Method: http.MethodGet, Path: path, Summary: summary, Tags: []string{"operations"},
			Responses: map[string]*huma.Response{"200": {Description: "OK", Content: map[string]*huma.MediaType{ctype: {}}}},
		}
		if strings.Contains(path, "{file}") {
			o.Parameters = []*huma.Param{{Name: "file", In: "path", Required: true, Schema: &huma.Schema{Type: "string"}}}
			o.Responses["404"] = &huma.Response{Description: "No such file."}
		}
		oa.AddOperation(o)
	}
	text("/metrics", "metrics", "Prometheus metrics: requests by route, code and duration; jobs by kind and state; database pool", "text/plain")
	oa.Paths["/metrics"].Get.Responses["401"] = &huma.Response{Description: "The server has a metrics token and the request lacks it."}
	oa.Paths["/metrics"].Get.Responses["429"] = &huma.Response{Description: "Too many failed authentications from this address; see Retry-After."}
	text("/docs", "docs", "This reference, readable in a browser (Swagger UI, served from the binary)", "text/html")
	text("/docs/{file}", "docs-asset", "The reference's scripts and styles", "application/octet-stream")
	text("/api-docs", "openapi", "The OpenAPI 3.1 document", "application/openapi+json")
	text("/api-docs.json", "openapi-json", "The OpenAPI 3.1 document as JSON", "application/openapi+json")
	text("/api-docs.yaml", "openapi-yaml", "The OpenAPI 3.1 document as YAML", "application/openapi+yaml")
}

// healthz serves GET /healthz: the process answers, whatever its dependencies.
func (s *Server) healthz(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	return &healthOutput{Status: http.StatusOK, Body: health{Status: "UP", Checks: []checkResult{}}}, nil
}

// readyz serves GET /readyz: every check, each within the same 5 s.
func (s *Server) readyz(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out := &healthOutput{Status: http.StatusOK, Body: health{Status: "UP", Checks: []checkResult{}}}
	for _, c := range s.Checks {
		res := checkResult{Name: c.Name, Status: "UP"}
		if err := c.Func(ctx); err != nil {
			res.Status, res.Error = "DOWN", err.Error()
			if !c.Optional {
				out.Status, out.Body.Status = http.StatusServiceUnavailable, "DOWN"
			}
			s.Logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "error", err)
		}
		out.Body.Checks = append(out.Body.Checks, res)
	}
	return out, nil
}
