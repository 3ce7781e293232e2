package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

type tokenDoc struct {
	ID         string          `json:"_id"`
	Created    time.Time       `json:"_created"`
	Links      map[string]link `json:"_links"`
	User       string          `json:"user" doc:"The _id of the token's user."`
	Username   string          `json:"username,omitempty" doc:"The token's user's username."`
	Name       string          `json:"name"`
	Hint       string          `json:"hint" doc:"The first characters of the secret, to recognise it."`
	ExpiresAt  *time.Time      `json:"expires_at,omitempty"`
	LastUsedAt *time.Time      `json:"last_used_at,omitempty" doc:"Recorded to the minute."`
	RevokedAt  *time.Time      `json:"revoked_at,omitempty"`
	Active     bool            `json:"active"`
}

func (s *Server) newTokenDoc(t *purser.Token) tokenDoc {
	return tokenDoc{
		ID: t.ID, Created: t.Created, User: t.UserID, Name: t.Name, Hint: t.Hint,
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt, Active: t.Active(s.now()),
		Links: map[string]link{"self": {Href: BasePath + "/tokens/" + t.ID, Title: "token"}},
	}
}

type newTokenDocument struct {
	tokenDoc
	Token string `json:"token" doc:"The secret. It is shown this once and never again."`
}

func (s *Server) registerTokens() {
	create := op(http.MethodPost, "/tokens", "create-token", "tokens", "Create an API token",
		http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge)
	create.Description = "Creates a token for the caller, or (admins) for the user named. The secret is in the response and is never shown again: Purser stores only its hash."
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, s.createToken)

	huma.Register(s.api, op(http.MethodGet, "/tokens", "list-tokens", "tokens", "List API tokens", http.StatusNotFound), s.listTokens)

	revoke := op(http.MethodDelete, "/tokens/{id}", "revoke-token", "tokens", "Revoke an API token", http.StatusNotFound)
	revoke.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, revoke, s.revokeToken)
}

// createToken serves POST /api/v1/tokens: Create an API token.
func (s *Server) createToken(ctx context.Context, in *struct {
	Body tokenBody
}) (*struct{ Body newTokenDocument }, error) {
	var exp *time.Time
	if in.Body.ExpiresAt != "" {
		t, err := purser.ParseTime(in.Body.ExpiresAt)
		if err != nil {
			return nil, s.problem(ctx, purser.Invalid(purser.FieldError{Field: "expires_at", Rule: "format", Message: err.Error()}))
		}
		exp = &t
	}
	uid, err := s.userID(ctx, "user", in.Body.User, inField)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	t, secret, err := s.Tokens.CreateToken(ctx, uid, in.Body.Name, exp)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := []tokenDoc{s.newTokenDoc(t)}
	if err := s.nameTokens(ctx, d); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body newTokenDocument }{Body: newTokenDocument{tokenDoc: d[0], Token: secret}}, nil
}

// listTokens serves GET /api/v1/tokens: List API tokens.
func (s *Server) listTokens(ctx context.Context, in *struct {
	User string `query:"user" doc:"The _id or username of the user whose tokens to list (admins only); default the caller."`
}) (*struct{ Body collection[tokenDoc] }, error) {
	uid, err := s.userID(ctx, "user", in.User, inField)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	toks, err := s.Tokens.FindTokens(ctx, purser.TokenFilter{UserID: uid})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[tokenDoc] }{}
	out.Body.Items = make([]tokenDoc, len(toks))
	for i, t := range toks {
		out.Body.Items[i] = s.newTokenDoc(t)
	}
	if err := s.nameTokens(ctx, out.Body.Items); err != nil {
		return nil, s.problem(ctx, err)
	}
	out.Body.Meta = listMeta{Page: 1, MaxResults: len(toks), Total: counted(len(toks))}
	out.Body.Links = map[string]link{"self": {Href: BasePath + "/tokens", Title: "tokens"}, "parent": {Href: BasePath, Title: "home"}}
	return out, nil
}

// revokeToken serves DELETE /api/v1/tokens/{id}: Revoke an API token.
func (s *Server) revokeToken(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*struct{}, error) {
	if err := s.Tokens.RevokeToken(ctx, in.ID); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

// nameTokens names each token's user.
func (s *Server) nameTokens(ctx context.Context, docs []tokenDoc) error {
	return nameUsers(ctx, s, docs, func(d *tokenDoc) (string, *string) { return d.User, &d.Username })
}
