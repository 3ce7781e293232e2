// Package ui is Purser's web UI: server-rendered pages (templ, compiled
// to Go: no template is parsed or executed at run time)
// with htmx and server-sent events for the live parts, its CSS and
// JavaScript embedded (no CDN, no inline script: a strict
// Content-Security-Policy). It mounts beside the API on the shared mux
// (internal/httpserver) and calls the same domain services the API does;
// authorization happens in those services.
//
// A browser signs in with a username and password and holds a session
// cookie; every form carries the session's CSRF token, checked on every
// POST.
package ui

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/oidc"
)

//go:embed static
var staticFS embed.FS

// Server holds what the web UI needs: the domain services the API uses.
type Server struct {
	Sessions      purser.SessionService
	Tokens        purser.TokenService
	Templates     purser.TemplateService
	Requests      purser.RequestService
	Quotas        purser.QuotaService
	Notifications purser.NotificationService
	Events        purser.EventService
	// Names shows usernames beside ids; nil: ids only.
	Names purser.NameService
	// Clusters, Stacks, StackList, Tags, Pools and Hosts serve the
	// infrastructure pages (clusters, stacks, pools); nil: no such pages.
	Clusters  purser.ClusterService
	Stacks    purser.StackStore
	StackList purser.StackLister
	Tags      purser.TagLister
	Pools     purser.PoolService
	Hosts     purser.HostService
	Logger    *slog.Logger
	// Insecure leaves the Secure attribute off cookies wherever the
	// browser reaches the server; without it, cookies are Secure except at
	// loopback addresses.
	Insecure bool
	// LiveInterval is how often a live page's stream looks for a change;
	// 0 is one second.
	LiveInterval time.Duration
	// NowFunc is the UI's clock; nil is time.Now.
	NowFunc func() time.Time

	// Limiter counts failed sign-ins per client address and username,
	// in the store: every replica refuses the same guesses.
	Limiter purser.SignInLimiter
	// Users and Roles serve the admin pages; Identities and OIDC sign
	// people in with an OpenID Connect provider (OIDC nil: no such
	// sign-in).
	Users      purser.UserService
	Roles      purser.RoleService
	Identities purser.IdentitySignIn
	OIDC       *oidc.Provider
	// Logs and Extensions serve the request page's job log and its
	// extension form; nil: not shown.
	Logs       purser.LogService
	Extensions purser.ExtensionService

	stop stopping
}

// route is one of the UI's routes: its pattern and handler, and whether
// it needs a signed-in user.
type route struct {
	pattern string
	h       http.HandlerFunc
	public  bool
}

// Register adds the UI's routes to mux. GET / is not among them: the API
// owns it and hands browsers to Dashboard (api.Server.HTMLHome).
func (s *Server) Register(mux *http.ServeMux) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", httpserver.Named("GET /static/", s.headers(http.StripPrefix("/static/", cacheStatic(files)))))
	for _, r := range append(s.routes(), s.infraRoutes()...) {
		var h http.Handler = r.h
		if !r.public {
			h = s.requireUser(h)
		}
		mux.Handle(r.pattern, httpserver.Named(r.pattern, s.headers(s.authenticate(s.checkCSRF(h)))))
	}
}

// Dashboard serves the dashboard, GET / for browsers.
func (s *Server) Dashboard() http.Handler {
	return s.headers(s.authenticate(s.requireUser(http.HandlerFunc(s.dashboard))))
}

func (s *Server) routes() []route {
	return append([]route{
		{pattern: "GET /signin", h: s.signInPage, public: true},
		{pattern: "POST /signin", h: s.signIn, public: true},
		{pattern: "GET /signin/link/{secret}", h: s.linkPage, public: true},
		{pattern: "POST /signin/link/{secret}", h: s.linkSignIn, public: true},
		{pattern: "POST /signout", h: s.signOut},
		{pattern: "GET /dashboard", h: s.dashboard},
		{pattern: "GET /catalog", h: s.catalog},
		{pattern: "GET /catalog/{id}", h: s.requestForm},
		{pattern: "POST /catalog/{id}", h: s.submitRequest},
		{pattern: "GET /requests", h: s.requestList},
		{pattern: "GET /requests/live", h: s.requestListLive},
		{pattern: "GET /requests/{id}", h: s.requestDetail},
		{pattern: "GET /requests/{id}/live", h: s.requestLive},
		{pattern: "GET /requests/{id}/outputs", h: s.requestOutputs},
		{pattern: "GET /requests/{id}/kubeconfig", h: s.requestKubeconfig},
		{pattern: "POST /requests/{id}/review", h: s.review},
		{pattern: "POST /requests/{id}/act", h: s.act},
		{pattern: "GET /reviews", h: s.reviewQueue},
		{pattern: "GET /quotas", h: s.quotas},
		{pattern: "GET /inbox", h: s.inbox},
		{pattern: "POST /inbox/read", h: s.markAllRead},
		{pattern: "GET /tokens", h: s.tokenPage},
		{pattern: "POST /tokens", h: s.createToken},
		{pattern: "POST /tokens/{id}/revoke", h: s.revokeToken},
	}, s.adminRoutes()...)
}

func (s *Server) now() time.Time {
	if s.NowFunc != nil {
		return s.NowFunc()
	}
	return time.Now()
}

// csp is the Content-Security-Policy of every page: scripts and styles
// from this server only, nothing inline, no framing.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// headers sets the security headers of every UI answer.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// cacheStatic lets browsers keep the embedded assets an hour: they change
// only with the binary.
func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
