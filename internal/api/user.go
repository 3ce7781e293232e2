package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/conditional"

	"github.com/purserhq/purser"
)

func newUserDoc(u *purser.User) userDoc {
	return userDoc{
		Meta:     newMeta(u.ID, u.Created, u.Updated, u.ETag(), "users", "user"),
		Username: u.Username, Name: u.Name, Email: u.Email, Roles: u.Roles, IsActive: u.IsActive,
	}
}

type userOutput struct {
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     userDoc
}

// UserIDParam is the {id} of a user route.
type UserIDParam struct {
	ID string `path:"id" doc:"The user's _id or username."`
}

func (s *Server) userOut(u *purser.User) *userOutput {
	d := newUserDoc(u)
	return &userOutput{ETag: etagOf(d.ETag), Body: d}
}

func (s *Server) registerUsers() {
	huma.Register(s.api, cacheable(op(http.MethodGet, "/me", "get-me", "users", "Who am I: the caller's user")), s.getMe)

	huma.Register(s.api, op(http.MethodGet, "/users", "list-users", "users", "List users", http.StatusBadRequest), s.listUsers)

	create := op(http.MethodPost, "/users", "create-user", "users", "Create a user (admins)", http.StatusConflict, http.StatusRequestEntityTooLarge)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, s.createUser)

	huma.Register(s.api, withNotModified(op(http.MethodGet, "/users/{id}", "get-user", "users", "Get a user", http.StatusNotFound)), s.getUser)

	patch := op(http.MethodPatch, "/users/{id}", "update-user", "users", "Change a user (JSON merge patch)",
		http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge)
	patch.Description = "Admins may change anything; users may change their own name and email. Send If-Match with the _etag you read to avoid overwriting someone else's change."
	huma.Register(s.api, patch, s.updateUser)

	del := op(http.MethodDelete, "/users/{id}", "deactivate-user", "users", "Deactivate a user (admins): it can no longer authenticate",
		http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, s.deactivateUser)
}

// getMe serves GET /api/v1/me: Who am I: the caller's user.
func (s *Server) getMe(ctx context.Context, _ *struct{}) (*userOutput, error) {
	a := purser.ActorFromContext(ctx)
	if a == nil || a.User == nil {
		return nil, s.problem(ctx, purser.Errorf(purser.EUNAUTHORIZED, "authentication required"))
	}
	return s.userOut(a.User), nil
}

// listUsers serves GET /api/v1/users: List users.
func (s *Server) listUsers(ctx context.Context, in *ListParams) (*struct{ Body collection[userDoc] }, error) {
	q, err := in.query(purser.UserFields)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	emb, err := in.embedded("roles")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	users, info, err := s.Users.FindUsers(ctx, q)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	var roles map[string]*purser.Role
	if emb["roles"] {
		if roles, err = s.roleIndex(ctx); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	out := &struct{ Body collection[userDoc] }{}
	out.Body.Items = make([]userDoc, len(users))
	for i, u := range users {
		out.Body.Items[i] = newUserDoc(u)
		if roles != nil {
			var rs []roleDoc
			for _, r := range u.Roles {
				if role := roles[r]; role != nil {
					rs = append(rs, newRoleDoc(role))
				}
			}
			out.Body.Items[i].Embedded = map[string]any{"roles": rs}
		}
	}
	out.Body.Meta = listMetaOf(q, info)
	out.Body.Links = pageLinks("users", *in, info)
	return out, nil
}

// createUser serves POST /api/v1/users: Create a user (admins).
func (s *Server) createUser(ctx context.Context, in *struct{ Body userBody }) (*userOutput, error) {
	u := &purser.User{Username: in.Body.Username, Name: in.Body.Name, Email: in.Body.Email, Roles: in.Body.Roles, IsActive: true}
	if in.Body.IsActive != nil {
		u.IsActive = *in.Body.IsActive
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	if err := s.Users.CreateUser(ctx, u); err != nil {
		return nil, s.problem(ctx, err)
	}
	out := s.userOut(u)
	out.Location = out.Body.Links["self"].Href
	return out, nil
}

// getUser serves GET /api/v1/users/{id}: Get a user.
func (s *Server) getUser(ctx context.Context, in *struct {
	UserIDParam
	conditional.Params
}) (*userOutput, error) {
	id, err := s.userID(ctx, "id", in.ID, inPath)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	u, err := s.Users.FindUserByID(ctx, id)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if in.HasConditionalParams() {
		if err := in.PreconditionFailed(u.ETag(), u.Updated.Truncate(time.Second)); err != nil {
			return nil, err
		}
	}
	return s.userOut(u), nil
}

// updateUser serves PATCH /api/v1/users/{id}: Change a user (JSON merge patch).
func (s *Server) updateUser(ctx context.Context, in *struct {
	UserIDParam
	IfMatch string    `header:"If-Match" doc:"The _etag you read; 412 if the user changed since."`
	Body    userPatch `contentType:"application/merge-patch+json"`
}) (*userOutput, error) {
	id, err := s.userID(ctx, "id", in.ID, inPath)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	u, err := s.Users.UpdateUser(ctx, id, purser.UserUpdate{
		Name: in.Body.Name, Email: in.Body.Email, Roles: in.Body.Roles, IsActive: in.Body.IsActive,
	}, in.IfMatch)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.userOut(u), nil
}

// deactivateUser serves DELETE /api/v1/users/{id}: Deactivate a user (admins): it can no longer authenticate.
func (s *Server) deactivateUser(ctx context.Context, in *struct {
	UserIDParam
	IfMatch string `header:"If-Match" doc:"The _etag you read; 412 if the user changed since."`
}) (*struct{}, error) {
	id, err := s.userID(ctx, "id", in.ID, inPath)
	if err == nil {
		_, err = s.Users.DeactivateUser(ctx, id, in.IfMatch)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

// withNotModified documents the 304 a conditional GET can answer.
func withNotModified(o huma.Operation) huma.Operation {
	o.Responses = map[string]*huma.Response{"304": {Description: "Not Modified: the document still has the ETag in If-None-Match."}}
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	return o
}
