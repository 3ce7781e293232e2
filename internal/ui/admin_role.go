package ui

import (
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// rolesData is the roles page's, with the create form.
type rolesData struct {
	Roles []roleRow
	Form  roleForm
}

type roleRow struct {
	Role, Description string
	Active, BuiltIn   bool
}

type roleForm struct {
	Role, Description, Error string
	Fields                   map[string]string
}

func (d rolesData) content(p page) templ.Component { return rolesPage(p, d) }

func (s *Server) rolesData(r *http.Request, form roleForm) (rolesData, error) {
	rs, _, err := s.Roles.FindRoles(r.Context(), purser.Query{Sort: []purser.Sort{{Field: "role"}}, Page: 1,
		MaxResults: purser.MaxMaxResults, SkipTotal: true})
	if err != nil {
		return rolesData{}, err
	}
	d := rolesData{Form: form}
	for _, x := range rs {
		d.Roles = append(d.Roles, roleRow{Role: x.Role, Description: x.Description, Active: x.IsActive, BuiltIn: x.BuiltIn})
	}
	return d, nil
}

// roleList serves GET /admin/roles.
func (s *Server) roleList(w http.ResponseWriter, r *http.Request) {
	d, err := s.rolesData(r, roleForm{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin", "Roles", d)
}

// createRole serves POST /admin/roles.
func (s *Server) createRole(w http.ResponseWriter, r *http.Request) {
	x := &purser.Role{Role: strings.TrimSpace(r.PostFormValue("role")), Description: strings.TrimSpace(r.PostFormValue("description")), IsActive: true}
	_, err := s.Roles.CreateRole(r.Context(), x)
	if err == nil {
		http.Redirect(w, r, "/admin/roles", http.StatusSeeOther)
		return
	}
	if c := purser.ErrorCode(err); c != purser.EINVALID && c != purser.ECONFLICT {
		s.fail(w, r, err)
		return
	}
	form := roleForm{Role: x.Role, Description: x.Description}
	form.Error, form.Fields = fieldErrors(err)
	d, derr := s.rolesData(r, form)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	s.render(w, r, statusOf(err), "admin", "Roles", d)
}
