package ui

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"
)

// page is what the layout renders around a page's own data. Templates
// read fields only: what they show is computed here, in Go.
type page struct {
	Title string
	Nav   string
	// User is the signed-in user; nil on the sign-in pages.
	User     *purser.User
	CSRF     string
	Reviewer bool
	Data     any
}

// reviewForm is the review form's data: the request and the CSRF token.
type reviewForm struct{ ID, CSRF string }

// funcs are the templates' functions: constructors of partials' data only.
var funcs = template.FuncMap{
	"review": func(id, csrf string) reviewForm { return reviewForm{ID: id, CSRF: csrf} },
}

// parsePages parses each page with the layout and the shared partials,
// into one template set per page.
func parsePages() map[string]*template.Template {
	shared := []string{"templates/layout.html", "templates/partials.html"}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if n == shared[0] || n == shared[1] {
			continue
		}
		t := template.Must(template.New(path.Base(n)).Funcs(funcs).ParseFS(templateFS, append(shared, n)...))
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return pages
}

// render writes a signed-in page in the layout.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := page{Title: title, Nav: name, User: user(r), Data: data}
	if sess := sessionFrom(r.Context()); sess != nil {
		p.CSRF = sess.CSRFToken
	}
	if a := purser.ActorFromContext(r.Context()); a != nil {
		p.Reviewer = a.Can(purser.ActionRequestReview)
	}
	s.write(w, r, status, name, "layout", p)
}

// renderPublic writes a page of the sign-in forms, with the pre-session
// CSRF token.
func (s *Server) renderPublic(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	s.write(w, r, status, name, "layout", page{Title: title, Nav: name, CSRF: s.preCSRF(w, r), Data: data})
}

// fragment writes one named template of a page alone (an htmx swap).
func (s *Server) fragment(w http.ResponseWriter, r *http.Request, pageName, tmpl string, data any) {
	s.write(w, r, http.StatusOK, pageName, tmpl, data)
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, status int, pageName, tmpl string, data any) {
	var b bytes.Buffer
	if err := s.pages[pageName].ExecuteTemplate(&b, tmpl, data); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// statusOf is the HTTP status of a domain error (the API's table).
func statusOf(err error) int {
	switch purser.ErrorCode(err) {
	case purser.EINVALID:
		return http.StatusUnprocessableEntity
	case purser.ENOTFOUND:
		return http.StatusNotFound
	case purser.EFORBIDDEN:
		return http.StatusForbidden
	case purser.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case purser.ECONFLICT:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// errorData is the error page's.
type errorData struct{ Message, RequestID string }

// fail answers an error as a page: the domain's message for a person, or
// for an internal error only the request id (the cause is logged).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	d := errorData{Message: purser.ErrorMessage(err), RequestID: httpserver.RequestID(r.Context())}
	if status == http.StatusInternalServerError {
		s.Logger.ErrorContext(r.Context(), "ui", "path", r.URL.Path, "error", err)
		d.Message = httpserver.InternalDetail
	}
	var b bytes.Buffer
	p := page{Title: http.StatusText(status), Nav: "error", User: user(r), Data: d}
	if t := s.pages["error"]; t == nil || t.ExecuteTemplate(&b, "layout", p) != nil {
		http.Error(w, d.Message, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// timeView is a time as pages show it: <time datetime=ISO title=Abs>,
// which the page's script rewrites in the browser's zone.
type timeView struct {
	ISO, Abs string
	Set      bool
}

func newTime(t time.Time) timeView {
	if t.IsZero() {
		return timeView{}
	}
	t = t.UTC()
	return timeView{ISO: t.Format(time.RFC3339), Abs: t.Format("2006-01-02 15:04 UTC"), Set: true}
}
