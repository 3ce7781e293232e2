package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newRoleDoc(r *purser.Role) roleDoc {
	etag := r.ETag()
	return roleDoc{
		Meta: newMeta(r.Role, r.Created, r.Updated, etag, "roles", "role"),
		Role: r.Role, Description: r.Description, IsActive: r.IsActive, BuiltIn: r.BuiltIn,
	}
}

type roleOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     roleDoc
}

// roleIndex returns every role by name, for embedding.
func (s *Server) roleIndex(ctx context.Context) (map[string]*purser.Role, error) {
	roles, _, err := s.Roles.FindRoles(ctx, purser.Query{Page: 1, MaxResults: purser.MaxMaxResults})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*purser.Role, len(roles))
	for _, r := range roles {
		out[r.Role] = r
	}
	return out, nil
}

func (s *Server) registerRoles() {
	huma.Register(s.api, op(http.MethodGet, "/roles", "list-roles", "roles", "List roles", http.StatusBadRequest), s.listRoles)

	create := op(http.MethodPost, "/roles", "create-role", "roles", "Create a role (admins)", http.StatusConflict, http.StatusRequestEntityTooLarge)
	create.Description = "Creating a built-in role (admin, devops, dev) again answers 200 with the existing role, so that set-up scripts can run twice."
	create.DefaultStatus = http.StatusCreated
	create.Responses = map[string]*huma.Response{"200": {Description: "The role is built in and already exists."}}
	huma.Register(s.api, create, s.createRole)

	huma.Register(s.api, cacheable(op(http.MethodGet, "/roles/{role}", "get-role", "roles", "Get a role", http.StatusNotFound)), s.getRole)

	patch := op(http.MethodPatch, "/roles/{role}", "update-role", "roles", "Change a role's description or activity (JSON merge patch; admins)",
		http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed)
	patch.Description = "A built-in role (admin, devops, dev) stays active: deactivating one answers 409 naming is_active."
	huma.Register(s.api, patch, s.updateRole)

	del := op(http.MethodDelete, "/roles/{role}", "delete-role", "roles", "Delete a role nothing uses (admins)", http.StatusNotFound, http.StatusConflict)
	del.Description = "Refused with 409 for a built-in role, and for a role still held by a user, named by a quota or granted a permission by the server's configuration; the problem says which."
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, s.deleteRole)
}

// updateRole serves PATCH /api/v1/roles/{role}: Change a role's description or activity.
func (s *Server) updateRole(ctx context.Context, in *struct {
	Role    string    `path:"role"`
	IfMatch string    `header:"If-Match" doc:"The _etag you read; 412 if the role changed since."`
	Body    rolePatch `contentType:"application/merge-patch+json"`
}) (*roleOutput, error) {
	r, err := s.Roles.UpdateRole(ctx, in.Role, purser.RoleUpdate{Description: in.Body.Description, IsActive: in.Body.IsActive}, in.IfMatch)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := newRoleDoc(r)
	return &roleOutput{Status: http.StatusOK, ETag: etagOf(d.ETag), Body: d}, nil
}

// deleteRole serves DELETE /api/v1/roles/{role}: Delete a role nothing uses.
func (s *Server) deleteRole(ctx context.Context, in *struct {
	Role string `path:"role"`
}) (*struct{}, error) {
	return nil, s.problemOrNil(ctx, s.Roles.DeleteRole(ctx, in.Role))
}

// listRoles serves GET /api/v1/roles: List roles.
func (s *Server) listRoles(ctx context.Context, in *ListParams) (*struct{ Body collection[roleDoc] }, error) {
	q, err := in.query(purser.RoleFields)
	if err == nil {
		_, err = in.embedded()
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	roles, info, err := s.Roles.FindRoles(ctx, q)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[roleDoc] }{}
	out.Body.Items = make([]roleDoc, len(roles))
	for i, r := range roles {
		out.Body.Items[i] = newRoleDoc(r)
	}
	out.Body.Meta = listMetaOf(q, info)
	out.Body.Links = pageLinks("roles", *in, info)
	return out, nil
}

// createRole serves POST /api/v1/roles: Create a role (admins).
func (s *Server) createRole(ctx context.Context, in *struct {
	Body roleBody
}) (*roleOutput, error) {
	r := &purser.Role{Role: in.Body.Role, Description: in.Body.Description}
	created, err := s.Roles.CreateRole(ctx, r)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := newRoleDoc(r)
	out := &roleOutput{Status: http.StatusOK, ETag: etagOf(d.ETag), Body: d}
	if created {
		out.Status, out.Location = http.StatusCreated, d.Links["self"].Href
	}
	return out, nil
}

// getRole serves GET /api/v1/roles/{role}: Get a role.
func (s *Server) getRole(ctx context.Context, in *struct {
	Role string `path:"role"`
}) (*roleOutput, error) {
	r, err := s.Roles.FindRoleByName(ctx, in.Role)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := newRoleDoc(r)
	return &roleOutput{Status: http.StatusOK, ETag: etagOf(d.ETag), Body: d}, nil
}
