package ui

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/a-h/templ"

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
	// Infra lists the infrastructure pages the user may open.
	Infra infraNav
	// OIDC names the OpenID Connect provider the sign-in page offers; "" none.
	OIDC string
	Data any
}

// pageContent is a page's data that renders its own content, so that a
// new page needs no case in content's switch.
type pageContent interface {
	content(p page) templ.Component
}

// content is a page's own part, chosen by the type of its data.
func content(p page) templ.Component {
	switch d := p.Data.(type) {
	case pageContent:
		return d.content(p)
	case dashboardData:
		return dashboardPage(p, d)
	case catalogData:
		return catalogPage(d)
	case formData:
		return formPage(p, d)
	case inboxData:
		return inboxPage(p, d)
	case quotaData:
		return quotasPage(d)
	case listData:
		return requestsPage(d)
	case detailData:
		return requestPage(p, d)
	case outputsData:
		return outputsPage(d)
	case queueData:
		return reviewsPage(p, d)
	case tokenData:
		return tokensPage(p, d)
	case signInData:
		return signInPage(p, d)
	case errorData:
		return errorPage(d)
	}
	panic(fmt.Sprintf("ui: no page for %T", p.Data))
}

// render writes a signed-in page in the layout.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := page{Title: title, Nav: name, User: user(r), Data: data}
	if sess := sessionFrom(r.Context()); sess != nil {
		p.CSRF = sess.CSRFToken
	}
	if a := purser.ActorFromContext(r.Context()); a != nil {
		p.Reviewer = a.Can(purser.ActionRequestReview)
		p.Infra = s.infraNav(a)
	}
	s.write(w, r, status, layout(p, content(p)))
}

// renderPublic writes a page of the sign-in forms, with the pre-session
// CSRF token.
func (s *Server) renderPublic(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := page{Title: title, Nav: name, CSRF: s.preCSRF(w, r), Data: data}
	if s.OIDC != nil {
		p.OIDC = s.OIDC.Name()
	}
	s.write(w, r, status, layout(p, content(p)))
}

// write renders c whole before answering, so that a failure is an error
// page and not half a page.
func (s *Server) write(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var b bytes.Buffer
	if err := c.Render(r.Context(), &b); err != nil {
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
	if layout(p, errorPage(d)).Render(r.Context(), &b) != nil {
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
