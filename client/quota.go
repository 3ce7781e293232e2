package client

import (
	"context"
	"net/http"
	"net/url"
)

// Usage is one user's quota picture.
type Usage struct {
	User     string             `json:"user"`
	Username string             `json:"username"`
	Limited  bool               `json:"limited"`
	Limits   map[string]float64 `json:"limits"`
	Used     map[string]float64 `json:"used"`
	Pending  map[string]float64 `json:"pending"`
}

// QuotaUsage returns limits, usage and pending per user.
func (c *Client) QuotaUsage(ctx context.Context, userID string) ([]Usage, error) {
	var out []Usage
	path := APIPath + "/quotas/usage"
	if userID != "" {
		path += "?user=" + url.QueryEscape(userID)
	}
	return out, c.Do(ctx, http.MethodGet, path, nil, &out)
}

// CreateQuota creates a quota; body is the quota document.
func (c *Client) CreateQuota(ctx context.Context, body any) (map[string]any, error) {
	out := map[string]any{}
	return out, c.Do(ctx, http.MethodPost, APIPath+"/quotas", body, &out)
}

// ListQuotas returns a page of quotas.
func (c *Client) ListQuotas(ctx context.Context, o ListOptions) (*List[map[string]any], error) {
	var l List[map[string]any]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/quotas"+o.encode(), nil, &l)
}

// GetQuota returns a quota document.
func (c *Client) GetQuota(ctx context.Context, id string) (map[string]any, error) {
	out := map[string]any{}
	return out, c.Do(ctx, http.MethodGet, APIPath+"/quotas/"+url.PathEscape(id), nil, &out)
}

// ReplaceQuota replaces a quota's limits and window; body is the quota
// document, etag (optional) its _etag.
func (c *Client) ReplaceQuota(ctx context.Context, id string, body any, etag string) (map[string]any, error) {
	out := map[string]any{}
	return out, c.Do(ctx, http.MethodPut, APIPath+"/quotas/"+url.PathEscape(id), body, &out, IfMatch(etag))
}

// DeleteQuota deletes a quota.
func (c *Client) DeleteQuota(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, APIPath+"/quotas/"+url.PathEscape(id), nil, nil)
}
