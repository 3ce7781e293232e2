package client

import (
	"context"
	"net/http"
	"net/url"
)

// Template is a catalog entry (the fields the CLI shows).
type Template struct {
	Meta
	Name              string         `json:"name"`
	Description       string         `json:"description"`
	Driver            string         `json:"driver"`
	Simulated         bool           `json:"simulated"`
	ResourceType      string         `json:"resource_type"`
	Params            []any          `json:"params"`
	Footprint         map[string]any `json:"footprint"`
	TTLDefaultHours   float64        `json:"ttl_default_hours"`
	TTLMaxHours       float64        `json:"ttl_max_hours"`
	ExtensionMaxHours float64        `json:"extension_max_hours"`
	Approval          map[string]any `json:"approval"`
	IsActive          bool           `json:"is_active"`
	Revision          int            `json:"revision"`
	// Cache is set on a single template's answer: whether it came from
	// the cache (X-Cache: HIT) rather than from the database.
	Cache *bool `json:"cache,omitempty" doc:"On GET /templates/{id}: whether the answer came from the cache (X-Cache: HIT) rather than from the database (MISS)."`
}

// ListTemplates returns a page of the catalog.
func (c *Client) ListTemplates(ctx context.Context, o ListOptions) (*List[Template], error) {
	var l List[Template]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/templates"+o.encode(), nil, &l)
}

// GetTemplate returns a template.
func (c *Client) GetTemplate(ctx context.Context, id string) (*Template, error) {
	var t Template
	return &t, c.Do(ctx, http.MethodGet, APIPath+"/templates/"+url.PathEscape(id), nil, &t)
}

// ListTemplateRevisions returns every revision of a template, oldest first.
func (c *Client) ListTemplateRevisions(ctx context.Context, id string) (*List[Template], error) {
	var l List[Template]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/templates/"+url.PathEscape(id)+"/revisions", nil, &l)
}

// CreateTemplate adds a template; body is the template document.
func (c *Client) CreateTemplate(ctx context.Context, body any) (*Template, error) {
	var t Template
	return &t, c.Do(ctx, http.MethodPost, APIPath+"/templates", body, &t)
}

// UpdateTemplate changes a template with a JSON merge patch; etag
// (optional) is its _etag.
func (c *Client) UpdateTemplate(ctx context.Context, id string, patch any, etag string) (*Template, error) {
	var t Template
	return &t, c.Do(ctx, http.MethodPatch, APIPath+"/templates/"+url.PathEscape(id), patch, &t, IfMatch(etag))
}

// DeleteTemplate removes a template from the catalog.
func (c *Client) DeleteTemplate(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, APIPath+"/templates/"+url.PathEscape(id), nil, nil)
}
