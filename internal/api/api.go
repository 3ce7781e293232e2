// Package api is Purser's HTTP API: /api/v1 (and its alias /v1), the
// OpenAPI 3.1 document at /api-docs, a readable reference at /docs, and the
// operational endpoints /healthz and /readyz. It registers its handlers on a
// mux it is given (internal/httpserver wraps the middleware around them);
// authorization happens in the services it calls.
package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"
)

// BasePath is where the API lives; AliasPath serves the same routes.
const (
	BasePath  = "/api/v1"
	AliasPath = "/v1"
)

// Server holds what the API needs.
type Server struct {
	Users  purser.UserService
	Roles  purser.RoleService
	Tokens purser.TokenService
	// Sessions sets web UI passwords and sign-in links; nil: no such routes.
	Sessions purser.SessionService

	Templates     purser.TemplateService
	Requests      purser.RequestService
	Extensions    purser.ExtensionService
	Quotas        purser.QuotaService
	Notifications purser.NotificationService
	Events        purser.EventService
	Logs          purser.LogService
	Clusters      purser.ClusterService
	// Hosts, Pools and JoinTokens keep the inventory of in-house hosts
	// and the pools built from it; nil Hosts: no host or pool routes.
	Hosts      purser.HostService
	Pools      purser.PoolService
	JoinTokens purser.JoinTokenService
	// HookRuns hands pools' hook runs to hosts' agents and keeps their logs.
	HookRuns purser.HookRunService
	// Stacks keeps clusters' stacks; nil: no stack routes.
	Stacks purser.StackStore
	// FieldNotes say, by cluster kind, which stackfile fields a target
	// ignores, for plans to note (Kubernetes ignores AWS's).
	FieldNotes map[string]purser.FieldNoter
	// Tags lists the tags of services' images; nil: the tags route
	// answers 501.
	Tags purser.TagLister
	// Names lets routes take usernames and template names beside ids, and
	// documents show names beside ids; nil: ids only.
	Names purser.NameService
	// DefaultDriver is the driver of templates that name none.
	DefaultDriver string
	// HTMLHome, when set, answers GET / for a browser (a request that
	// accepts text/html): the web UI's dashboard beside the home document.
	HTMLHome http.Handler
	// Checks are run by /readyz.
	Checks []Check
	Logger *slog.Logger
	// NowFunc is the API's clock (whether tokens and quotas are active);
	// nil is time.Now.
	NowFunc func() time.Time

	api huma.API
}

// Register mounts the API on mux: the routes under BasePath, /healthz,
// /readyz, the OpenAPI document at /api-docs, the reference at /docs and
// the home document at /. The middleware every route needs (authentication,
// the AliasPath alias, request ids, metrics) is the caller's to wrap around
// the mux: see internal/httpserver.
func (s *Server) Register(mux *http.ServeMux) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := huma.DefaultConfig("Purser", purser.Version)
	cfg.Info.Description = "Self-service infrastructure control plane. Every route under " + BasePath +
		" is also served under " + AliasPath + ". Authenticate with `Authorization: Bearer <token>`."
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	cfg.OpenAPIPath = "/api-docs"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema links in documents: keep the seed's shapes
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API token (pst_...), from `purser tokens create` or the server's first start."},
	}
	cfg.Servers = []*huma.Server{{URL: "/"}}
	cfg.Tags = tags // the reference lists them in this order
	cfg.Transformers = append(cfg.Transformers, clipEchoes)
	s.api = humago.New(mux, cfg)
	s.api.UseMiddleware(s.routeMiddleware)

	s.registerIndex()
	s.registerUsers()
	s.registerRoles()
	s.registerTokens()
	if s.Sessions != nil {
		s.registerSessions()
	}
	if s.Templates != nil {
		s.registerTemplates()
		s.registerRequests()
		s.registerExtensions()
		s.registerQuotas()
		s.registerNotifications()
		s.registerEvents()
		s.registerLogs()
	}
	if s.Clusters != nil {
		s.registerClusters()
	}
	if s.Stacks != nil {
		s.registerStacks()
	}
	if s.Hosts != nil {
		s.registerHosts()
		s.registerPools()
	}
	if s.HookRuns != nil {
		s.registerHookRuns()
	}

	s.registerHealth()
	mux.Handle("GET /api-docs", httpserver.Named("GET /api-docs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/openapi+json")
		_ = json.NewEncoder(w).Encode(s.api.OpenAPI())
	})))
	mux.Handle("GET /docs", httpserver.Named("GET /docs", http.HandlerFunc(serveDocsIndex)))
	mux.Handle("GET /docs/", httpserver.Named("GET /docs/", docsAssets()))
	mux.Handle("GET /{$}", httpserver.Named("GET /", http.HandlerFunc(s.home)))
}

// tags order the reference (/docs) as a newcomer meets the API: who you
// are, the catalog, requests and their reviews, then the operators' pages.
var tags = []*huma.Tag{
	{Name: "index", Description: "Where to start: the collections and their links."},
	{Name: "users", Description: "People, and who you are (GET /me)."},
	{Name: "roles", Description: "admin, devops, dev and the roles you add."},
	{Name: "tokens", Description: "API tokens: how scripts and the CLI authenticate."},
	{Name: "templates", Description: "The catalog of environments one may ask for."},
	{Name: "provisionRequests", Description: "Ask for an environment, review, follow, retry and purge it."},
	{Name: "extensionRequests", Description: "Ask for more time, and review such asks."},
	{Name: "quotas", Description: "Limits per user or role, and what each user holds."},
	{Name: "notifications", Description: "Your inbox and your channels."},
	{Name: "events", Description: "The audit log."},
	{Name: "clusters", Description: "The Kubernetes clusters environments land on."},
	{Name: "stacks", Description: "A cluster's services, declared in a stackfile: revisions, diffs, plans and rollbacks."},
	{Name: "hosts", Description: "In-house machines, their agents and the join tokens they register with."},
	{Name: "pools", Description: "Clusters built from hosts, sized in cores and memory, with spares and self-healing."},
	{Name: "operations", Description: "Health, readiness, metrics, expiry and this reference."},
}

// routeMiddleware labels huma operations' routes.
func (s *Server) routeMiddleware(ctx huma.Context, next func(huma.Context)) {
	httpserver.SetRoute(ctx.Context(), ctx.Operation().Method+" "+ctx.Operation().Path)
	next(ctx)
}

// OpenAPI returns the API's OpenAPI document (after Register was called).
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if s.HTMLHome != nil && strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.HTMLHome.ServeHTTP(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "purser", "version": purser.Version,
		"_links": map[string]any{
			"api":     link{Href: BasePath},
			"openapi": link{Href: "/api-docs"},
			"docs":    link{Href: "/docs"},
		},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// op fills the parts every operation shares: its tag, security, and the
// error statuses it can answer (always 401, 403, 422, 429 and 500; 400 and
// 413 for operations with a body).
func op(method, path, id, tag, summary string, errs ...int) huma.Operation {
	if method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut {
		errs = append(errs, http.StatusBadRequest, http.StatusRequestEntityTooLarge) // malformed or oversized bodies
	}
	return huma.Operation{
		OperationID: id,
		Method:      method,
		Path:        BasePath + path,
		Summary:     summary,
		Tags:        []string{tag},
		Security:    []map[string][]string{{"bearer": {}}},
		Errors: append([]int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusTooManyRequests,
			http.StatusInternalServerError}, errs...),
	}
}

// now is the API's clock.
func (s *Server) now() time.Time {
	if s.NowFunc != nil {
		return s.NowFunc()
	}
	return time.Now()
}
