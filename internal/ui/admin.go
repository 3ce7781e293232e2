package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// adminRoutes are the admin pages, the audit log and the OpenID Connect
// sign-in.
func (s *Server) adminRoutes() []route {
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.requireAdmin(h) }
	return []route{
		{pattern: "GET /signin/oidc", h: s.oidcStart, public: true},
		{pattern: "GET /signin/oidc/callback", h: s.oidcCallback, public: true},
		{pattern: "GET /admin/users", h: admin(s.userList)},
		{pattern: "POST /admin/users", h: admin(s.createUser)},
		{pattern: "GET /admin/users/{id}", h: admin(s.userPage)},
		{pattern: "POST /admin/users/{id}/roles", h: admin(s.setUserRoles)},
		{pattern: "POST /admin/users/{id}/active", h: admin(s.setUserActive)},
		{pattern: "POST /admin/users/{id}/link", h: admin(s.userSignInLink)},
		{pattern: "GET /admin/roles", h: admin(s.roleList)},
		{pattern: "POST /admin/roles", h: admin(s.createRole)},
		{pattern: "GET /admin/tokens", h: admin(s.allTokens)},
		{pattern: "POST /admin/tokens/{id}/revoke", h: admin(s.adminRevokeToken)},
		{pattern: "GET /audit", h: s.auditLog},
		{pattern: "GET /requests/{id}/log", h: s.requestLog},
		{pattern: "GET /requests/{id}/log/live", h: s.requestLogLive},
		{pattern: "POST /requests/{id}/extend", h: s.extendRequest},
		{pattern: "GET /requests/{id}/purge", h: s.purgePage},
		{pattern: "POST /requests/{id}/extension/{eid}", h: s.reviewExtension},
	}
}

// isAdmin reports whether the signed-in actor administers users.
func isAdmin(r *http.Request) bool {
	a := purser.ActorFromContext(r.Context())
	return a != nil && a.Can(purser.ActionUserWrite)
}

// canAudit reports whether the navigation offers the whole audit log.
func canAudit(u *purser.User) bool {
	a := &purser.Actor{User: u}
	return u != nil && a.Can(purser.ActionEventsRead)
}

// userAdmin reports whether the navigation offers the admin pages.
func userAdmin(u *purser.User) bool {
	a := &purser.Actor{User: u}
	return u != nil && a.Can(purser.ActionUserWrite)
}

// requireAdmin answers 403 with a page to anyone but an admin (the
// services check again).
func (s *Server) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !isAdmin(r) {
			s.fail(w, r, purser.Errorf(purser.EFORBIDDEN, "this page is for admins only"))
			return
		}
		next(w, r)
	}
}

// pageNumber is the page= query parameter, from 1.
func pageNumber(r *http.Request) int {
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if p < 1 || p > purser.MaxPage {
		return 1
	}
	return p
}

// withPage is the current URL with page=n.
func withPage(r *http.Request, n int) string {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(n))
	return r.URL.Path + "?" + q.Encode()
}

// pager is a list's previous and next page links.
type pager struct {
	Prev, Next string
	Page       int
}

func newPager(r *http.Request, page int, more bool) pager {
	p := pager{Page: page}
	if page > 1 {
		p.Prev = withPage(r, page-1)
	}
	if more {
		p.Next = withPage(r, page+1)
	}
	return p
}

// adminURL is the path of an admin page about id.
func adminURL(kind, id, sub string) templ.SafeURL {
	u := "/admin/" + kind + "/" + url.PathEscape(id)
	if sub != "" {
		u += "/" + sub
	}
	return templ.SafeURL(u)
}

// fieldErrors maps a refused form's fields to their messages; the rest
// of the error is its message.
func fieldErrors(err error) (string, map[string]string) {
	out := map[string]string{}
	var pe *purser.Error
	if !errors.As(err, &pe) {
		return purser.ErrorMessage(err), out
	}
	for _, f := range pe.Fields {
		out[f.Field] = f.Message
	}
	return purser.ErrorMessage(err), out
}

// activeLabel is a user's or a role's status.
func activeLabel(active bool) string {
	if active {
		return "active"
	}
	return "inactive"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// fieldClassOf is a form field's class: invalid when msg says why.
func fieldClassOf(msg string) string {
	if msg != "" {
		return "field invalid"
	}
	return "field"
}
