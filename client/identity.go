package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// User is a user document.
type User struct {
	Meta
	Username string         `json:"username" doc:"Unique login name."`
	Name     string         `json:"name"`
	Email    string         `json:"email"`
	Roles    []string       `json:"roles" doc:"Names of the user's roles."`
	IsActive bool           `json:"is_active" doc:"Inactive users cannot authenticate."`
	Embedded map[string]any `json:"_embedded,omitempty" doc:"Related documents asked for with embedded."`
}

// UserCreate is the body of a new user.
type UserCreate struct {
	Username string   `json:"username" minLength:"1" maxLength:"100" doc:"Unique login name: lower-case letters, digits, '.', '_' or '-'."`
	Name     string   `json:"name,omitempty" maxLength:"100"`
	Email    string   `json:"email,omitempty" maxLength:"254"`
	Roles    []string `json:"roles,omitempty" doc:"Role names; each must exist."`
	IsActive *bool    `json:"is_active,omitempty" doc:"Default true."`
}

// UserPatch changes a user; nil fields are left alone.
type UserPatch struct {
	Name     *string   `json:"name,omitempty" maxLength:"100"`
	Email    *string   `json:"email,omitempty" maxLength:"254"`
	Roles    *[]string `json:"roles,omitempty" doc:"Replaces the user's roles (admins only)."`
	IsActive *bool     `json:"is_active,omitempty" doc:"Admins only."`
}

// Role is a role document.
type Role struct {
	Meta
	Role        string `json:"role"`
	Description string `json:"description"`
	IsActive    bool   `json:"is_active"`
	BuiltIn     bool   `json:"built_in" doc:"admin, devops and dev are built in."`
}

// Token is an API token document. Token (the secret) is set only in the
// answer to CreateToken.
type Token struct {
	ID         string     `json:"_id"`
	Created    time.Time  `json:"_created"`
	User       string     `json:"user"`
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
	Name      string `json:"name"`
	User      string `json:"user,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// Me returns the caller's user.
func (c *Client) Me(ctx context.Context) (*User, error) {
	var u User
	return &u, c.Do(ctx, http.MethodGet, APIPath+"/me", nil, &u)
}

// ListUsers returns a page of users.
func (c *Client) ListUsers(ctx context.Context, o ListOptions) (*List[User], error) {
	var l List[User]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/users"+o.encode(), nil, &l)
}

// GetUser returns a user by _id.
func (c *Client) GetUser(ctx context.Context, id string) (*User, error) {
	var u User
	return &u, c.Do(ctx, http.MethodGet, APIPath+"/users/"+url.PathEscape(id), nil, &u)
}

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, in UserCreate) (*User, error) {
	var u User
	return &u, c.Do(ctx, http.MethodPost, APIPath+"/users", in, &u)
}

// UpdateUser changes a user, if its _etag is still etag (when given).
func (c *Client) UpdateUser(ctx context.Context, id string, p UserPatch, etag string) (*User, error) {
	var u User
	return &u, c.Do(ctx, http.MethodPatch, APIPath+"/users/"+url.PathEscape(id), p, &u, IfMatch(etag))
}

// DeactivateUser deactivates a user.
func (c *Client) DeactivateUser(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, APIPath+"/users/"+url.PathEscape(id), nil, nil)
}

// ListRoles returns a page of roles.
func (c *Client) ListRoles(ctx context.Context, o ListOptions) (*List[Role], error) {
	var l List[Role]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/roles"+o.encode(), nil, &l)
}

// CreateRole creates a role.
func (c *Client) CreateRole(ctx context.Context, role, description string) (*Role, error) {
	var r Role
	body := map[string]string{"role": role}
	if description != "" {
		body["description"] = description
	}
	return &r, c.Do(ctx, http.MethodPost, APIPath+"/roles", body, &r)
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
