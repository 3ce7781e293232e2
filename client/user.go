package client

import (
	"context"
	"net/http"
	"net/url"
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
