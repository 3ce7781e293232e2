package client

import (
	"context"
	"net/http"
	"net/url"
)

// Role is a role document.
type Role struct {
	Meta
	Role        string `json:"role"`
	Description string `json:"description"`
	IsActive    bool   `json:"is_active"`
	BuiltIn     bool   `json:"built_in" doc:"admin, devops and dev are built in."`
}

// ListRoles returns a page of roles.
func (c *Client) ListRoles(ctx context.Context, o ListOptions) (*List[Role], error) {
	var l List[Role]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/roles"+o.encode(), nil, &l)
}

// RoleCreate is the body of a new role.
type RoleCreate struct {
	Role        string `json:"role" minLength:"1" maxLength:"100" pattern:"^[a-zA-Z0-9_-]+$"`
	Description string `json:"description,omitempty" maxLength:"200"`
}

// CreateRole creates a role.
func (c *Client) CreateRole(ctx context.Context, role, description string) (*Role, error) {
	var r Role
	return &r, c.Do(ctx, http.MethodPost, APIPath+"/roles", RoleCreate{Role: role, Description: description}, &r)
}

// DeleteRole deletes a role.
func (c *Client) DeleteRole(ctx context.Context, role string) error {
	return c.Do(ctx, http.MethodDelete, APIPath+"/roles/"+url.PathEscape(role), nil, nil)
}

// RolePatch changes a role; nil fields are left alone.
type RolePatch struct {
	Description *string `json:"description,omitempty" maxLength:"200"`
	IsActive    *bool   `json:"is_active,omitempty" doc:"A built-in role stays active (409)."`
}

// UpdateRole changes a role, if its _etag is still etag (when given).
func (c *Client) UpdateRole(ctx context.Context, role string, p RolePatch, etag string) (*Role, error) {
	var r Role
	return &r, c.Do(ctx, http.MethodPatch, APIPath+"/roles/"+url.PathEscape(role), p, &r, IfMatch(etag))
}
