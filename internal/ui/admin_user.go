package ui

import (
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// usersData is the users page's: the list, its filters, and the create
// form (with the server's messages when it refused one).
type usersData struct {
	Users          []userRow
	Q, Role, State string
	Roles          []option
	States         []option
	Total          int
	Pager          pager
	Form           userForm
}

// userRow is a user as the list shows it.
type userRow struct {
	ID, Username, Name, Email, Roles string
	Active                           bool
	Created                          timeView
}

// userForm is the create form: its values, and its errors by field.
type userForm struct {
	Username, Name, Email string
	Roles                 []option
	Error                 string
	Fields                map[string]string
}

func (d usersData) content(p page) templ.Component { return usersPage(p, d) }

// usersQuery is the list's query: username prefix, role, active or not,
// by username, fifty a page.
func usersQuery(r *http.Request) (purser.Query, usersData) {
	v := r.URL.Query()
	d := usersData{Q: strings.ToLower(strings.TrimSpace(v.Get("q"))), Role: v.Get("role"), State: v.Get("state")}
	var where []purser.Cond
	if d.Q != "" {
		where = append(where, purser.Cond{Field: "username", Op: "$gte", Value: d.Q}, purser.Cond{Field: "username", Op: "$lt", Value: d.Q + "\U0010FFFF"})
	}
	if d.Role != "" {
		where = append(where, eq("roles", d.Role))
	}
	switch d.State {
	case "active":
		where = append(where, eq("is_active", true))
	case "inactive":
		where = append(where, eq("is_active", false))
	}
	d.States = []option{{Value: "", Label: "any", Selected: d.State == ""}, {Value: "active", Label: "active", Selected: d.State == "active"},
		{Value: "inactive", Label: "inactive", Selected: d.State == "inactive"}}
	return purser.Query{Where: where, Sort: []purser.Sort{{Field: "username"}}, Page: pageNumber(r), MaxResults: 50}, d
}

// roleOptions are the active roles, those in chosen selected.
func (s *Server) roleOptions(r *http.Request, chosen []string) ([]option, error) {
	rs, _, err := s.Roles.FindRoles(r.Context(), purser.Query{Where: []purser.Cond{eq("is_active", true)},
		Sort: []purser.Sort{{Field: "role"}}, Page: 1, MaxResults: purser.MaxMaxResults, SkipTotal: true})
	if err != nil {
		return nil, err
	}
	out := make([]option, 0, len(rs))
	for _, x := range rs {
		sel := false
		for _, c := range chosen {
			sel = sel || c == x.Role
		}
		out = append(out, option{Value: x.Role, Label: x.Role, Selected: sel})
	}
	return out, nil
}

func (s *Server) usersData(r *http.Request, form userForm) (usersData, error) {
	q, d := usersQuery(r)
	us, pi, err := s.Users.FindUsers(r.Context(), q)
	if err != nil {
		return d, err
	}
	d.Total, d.Pager = pi.Total, newPager(r, q.Page, pi.More)
	for _, u := range us {
		d.Users = append(d.Users, userRow{ID: u.ID, Username: u.Username, Name: u.Name, Email: u.Email,
			Roles: strings.Join(u.Roles, ", "), Active: u.IsActive, Created: newTime(u.Created)})
	}
	if d.Roles, err = s.roleOptions(r, []string{d.Role}); err != nil {
		return d, err
	}
	d.Roles = append([]option{{Value: "", Label: "any", Selected: d.Role == ""}}, d.Roles...)
	if form.Roles == nil {
		if form.Roles, err = s.roleOptions(r, nil); err != nil {
			return d, err
		}
	}
	d.Form = form
	return d, nil
}

// userList serves GET /admin/users.
func (s *Server) userList(w http.ResponseWriter, r *http.Request) {
	d, err := s.usersData(r, userForm{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin", "Users", d)
}

// createUser serves POST /admin/users: the new user's page, or the list
// with the server's messages beside the fields.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	u := &purser.User{Username: strings.TrimSpace(r.PostFormValue("username")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Email: strings.TrimSpace(r.PostFormValue("email")), Roles: r.PostForm["roles"], IsActive: true}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	err := s.Users.CreateUser(r.Context(), u)
	if err == nil {
		http.Redirect(w, r, string(adminURL("users", u.ID, "")), http.StatusSeeOther)
		return
	}
	if c := purser.ErrorCode(err); c != purser.EINVALID && c != purser.ECONFLICT {
		s.fail(w, r, err)
		return
	}
	form := userForm{Username: u.Username, Name: u.Name, Email: u.Email}
	form.Error, form.Fields = fieldErrors(err)
	roles, rerr := s.roleOptions(r, u.Roles)
	if rerr != nil {
		s.fail(w, r, rerr)
		return
	}
	form.Roles = roles
	d, derr := s.usersData(r, form)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	s.render(w, r, statusOf(err), "admin", "Users", d)
}

// userData is one user's admin page.
type userData struct {
	User    userRow
	Roles   []option
	Tokens  []tokenRow
	Link    string
	LinkExp timeView
	Error   string
	Self    bool
}

func (d userData) content(p page) templ.Component { return userPage(p, d) }

func (s *Server) userData(r *http.Request, id string) (userData, error) {
	u, err := s.Users.FindUserByID(r.Context(), id)
	if err != nil {
		return userData{}, err
	}
	d := userData{User: userRow{ID: u.ID, Username: u.Username, Name: u.Name, Email: u.Email, Roles: strings.Join(u.Roles, ", "),
		Active: u.IsActive, Created: newTime(u.Created)}, Self: user(r).ID == u.ID}
	if d.Roles, err = s.roleOptions(r, u.Roles); err != nil {
		return d, err
	}
	ts, err := s.Tokens.FindTokens(r.Context(), purser.TokenFilter{UserID: u.ID})
	if err != nil {
		return d, err
	}
	d.Tokens = s.tokenRows(ts, nil)
	return d, nil
}

// userPage serves GET /admin/users/{id}.
func (s *Server) userPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.userData(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin", "User "+d.User.Username, d)
}

// userChanged answers a change to a user: its page again, or with the
// server's message when it refused the change.
func (s *Server) userChanged(w http.ResponseWriter, r *http.Request, err error) {
	id := r.PathValue("id")
	if err == nil {
		http.Redirect(w, r, string(adminURL("users", id, "")), http.StatusSeeOther)
		return
	}
	if c := purser.ErrorCode(err); c != purser.EINVALID && c != purser.ECONFLICT && c != purser.EPRECONDITION {
		s.fail(w, r, err)
		return
	}
	d, derr := s.userData(r, id)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	d.Error = purser.ErrorMessage(err)
	s.render(w, r, statusOf(err), "admin", "User "+d.User.Username, d)
}

// setUserRoles serves POST /admin/users/{id}/roles.
func (s *Server) setUserRoles(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	roles := r.PostForm["roles"]
	if roles == nil {
		roles = []string{}
	}
	_, err := s.Users.UpdateUser(r.Context(), r.PathValue("id"), purser.UserUpdate{Roles: &roles}, "")
	s.userChanged(w, r, err)
}

// setUserActive serves POST /admin/users/{id}/active: active=false
// deactivates the user (its tokens and sessions stop working), true
// brings it back.
func (s *Server) setUserActive(w http.ResponseWriter, r *http.Request) {
	active := r.PostFormValue("active") == "true"
	var err error
	if active {
		_, err = s.Users.UpdateUser(r.Context(), r.PathValue("id"), purser.UserUpdate{IsActive: &active}, "")
	} else {
		_, err = s.Users.DeactivateUser(r.Context(), r.PathValue("id"), "")
	}
	s.userChanged(w, r, err)
}

// userSignInLink serves POST /admin/users/{id}/link: a one-time sign-in
// link, shown on the page this once.
func (s *Server) userSignInLink(w http.ResponseWriter, r *http.Request) {
	secret, exp, err := s.Sessions.CreateSignInLink(r.Context(), r.PathValue("id"))
	if err != nil {
		s.userChanged(w, r, err)
		return
	}
	d, err := s.userData(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Link, d.LinkExp = linkURL(r, secret), newTime(exp)
	s.render(w, r, http.StatusOK, "admin", "User "+d.User.Username, d)
}

// linkURL is the full address of a sign-in link, on the host the admin
// reached.
func linkURL(r *http.Request, secret string) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host + "/signin/link/" + secret
}
