package client

import (
	"context"
	"net/http"
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

// CreateRole creates a role.
func (c *Client) CreateRole(ctx context.Context, role, description string) (*Role, error) {
	var r Role
	body := map[string]string{"role": role}
	if description != "" {
		body["description"] = description
	}
	return &r, c.Do(ctx, http.MethodPost, APIPath+"/roles", body, &r)
}
