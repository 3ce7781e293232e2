package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser/client"
)

// SignInLinkPath is where the web UI takes a one-time sign-in link.
const SignInLinkPath = "/signin/link/"

func (s *Server) registerSessions() {
	set := op(http.MethodPut, "/users/{id}/password", "set-password", "users", "Set a user's web UI password",
		http.StatusNotFound, http.StatusRequestEntityTooLarge)
	set.Description = "Sets the password the user signs in to the web UI with: one's own, or anyone's for admins. The user's web sessions end. API tokens are not affected."
	set.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, set, s.setPassword)

	link := op(http.MethodPost, "/users/{id}/signInLinks", "create-signin-link", "users", "Create a one-time sign-in link (admins)",
		http.StatusNotFound, http.StatusConflict)
	link.Description = "Makes a link, valid 72 hours and usable once, with which the user sets a password and signs in to the web UI."
	link.DefaultStatus = http.StatusCreated
	huma.Register(s.api, link, s.createSignInLink)
}

// setPassword serves PUT /api/v1/users/{id}/password.
func (s *Server) setPassword(ctx context.Context, in *struct {
	UserIDParam
	Body client.PasswordSet
}) (*struct{}, error) {
	id, err := s.userID(ctx, "id", in.ID, inPath)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if err := s.Sessions.SetPassword(ctx, id, in.Body.Password); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

// createSignInLink serves POST /api/v1/users/{id}/signInLinks.
func (s *Server) createSignInLink(ctx context.Context, in *struct{ UserIDParam }) (*struct{ Body client.SignInLink }, error) {
	id, err := s.userID(ctx, "id", in.ID, inPath)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	secret, exp, err := s.Sessions.CreateSignInLink(ctx, id)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body client.SignInLink }{Body: client.SignInLink{User: id, Path: SignInLinkPath + secret, ExpiresAt: exp}}, nil
}
