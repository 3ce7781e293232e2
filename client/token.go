package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Token is an API token document. Token (the secret) is set only in the
// answer to CreateToken.
type Token struct {
	ID         string     `json:"_id"`
	Created    time.Time  `json:"_created"`
	User       string     `json:"user"`
	Username   string     `json:"username,omitempty"`
	Name       string     `json:"name"`
	Hint       string     `json:"hint"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Active     bool       `json:"active"`
	Token      string     `json:"token,omitempty"`
}

// TokenCreate is the body of a new token.
type TokenCreate struct {
	Name      string `json:"name" minLength:"1" maxLength:"100"`
	User      string `json:"user,omitempty" doc:"The _id or username of the user the token is for (admins only); default the caller."`
	ExpiresAt string `json:"expires_at,omitempty" doc:"When the token stops working (RFC 3339 or RFC 1123); default never."`
}

// CreateToken creates an API token; the answer holds its secret.
func (c *Client) CreateToken(ctx context.Context, in TokenCreate) (*Token, error) {
	var t Token
	return &t, c.Do(ctx, http.MethodPost, APIPath+"/tokens", in, &t)
}

// ListTokens lists a user's tokens ("" for the caller's).
func (c *Client) ListTokens(ctx context.Context, userID string) (*List[Token], error) {
	var l List[Token]
	path := APIPath + "/tokens"
	if userID != "" {
		path += "?user=" + url.QueryEscape(userID)
	}
	return &l, c.Do(ctx, http.MethodGet, path, nil, &l)
}

// RevokeToken revokes a token.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, APIPath+"/tokens/"+url.PathEscape(id), nil, nil)
}
