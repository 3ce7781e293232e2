package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Footprint is what an environment takes.
type Footprint struct {
	Cores       float64 `json:"cores"`
	Memory      float64 `json:"memory" doc:"GiB."`
	CostPerHour float64 `json:"cost_per_hour"`
}

// QuotaCheck is one dimension of a quota check.
type QuotaCheck struct {
	Dimension string   `json:"dimension" enum:"environments,cores,memory,monthly_cost"`
	Limit     *float64 `json:"limit" doc:"null: no limit."`
	Used      float64  `json:"used"`
	Pending   float64  `json:"pending"`
	Asked     float64  `json:"asked"`
	Fits      bool     `json:"fits"`
}

// QuotaFit is whether a request fits its requester's quota, dimension by
// dimension.
type QuotaFit struct {
	Fits   bool         `json:"fits"`
	Checks []QuotaCheck `json:"checks"`
}

// Request is a provision request document.
type Request struct {
	Meta
	Description        string         `json:"description"`
	ExpiresBy          time.Time      `json:"expires_by"`
	RequestedBy        string         `json:"requested_by"`
	RequestedByName    string         `json:"requested_by_username,omitempty" doc:"The requester's username."`
	ReviewedBy         string         `json:"reviewed_by,omitempty"`
	ReviewedByName     string         `json:"reviewed_by_username,omitempty" doc:"The reviewer's username."`
	ReviewComment      string         `json:"review_comment,omitempty"`
	ResourceType       string         `json:"resource_type"`
	ResourceTemplate   string         `json:"resource_template"`
	TemplateName       string         `json:"resource_template_name,omitempty" doc:"The template's name."`
	TemplateRevision   int            `json:"template_revision" doc:"The template's revision the request was made with; provisioning and destruction follow it, whatever the template became since."`
	ResourceParameters map[string]any `json:"resource_parameters"`
	RequestType        string         `json:"request_type" enum:"TEMPORARY,PERMANENT"`
	Status             string         `json:"status" enum:"REQUESTED,REVOKED,APPROVED,REJECTED,INITIATED,DEPLOYED,FAILED,EXPIRED,PURGE_INITIATED,PURGED,PURGE_FAILED" doc:"Changes only through actions."`
	Footprint          Footprint      `json:"footprint"`
	EstimatedCost      float64        `json:"estimated_cost" doc:"Cost per hour times the hours until expires_by."`
	Extended           bool           `json:"extended" doc:"An extension was granted (at most one is)."`
	HasOutputs         bool           `json:"has_outputs" doc:"Outputs (endpoint, credentials) are at _links.outputs, for the requester and admins."`
	LastError          string         `json:"last_error,omitempty"`
	Quota              *QuotaFit      `json:"quota,omitempty" doc:"Whether it fits the requester's quota (on a single request)."`
	Embedded           map[string]any `json:"_embedded,omitempty" doc:"Related documents asked for with embedded: requested_by, reviewed_by (users), resource_template (the template)."`
}

// RequestCreate is the body of a new provision request.
type RequestCreate struct {
	Description        string         `json:"description,omitempty"`
	ExpiresBy          string         `json:"expires_by,omitempty"`
	TTLHours           float64        `json:"ttl_hours,omitempty"`
	RequestedBy        string         `json:"requested_by,omitempty" doc:"The requester's _id or username: yourself (the default), or anyone for admins acting for them."`
	ResourceType       string         `json:"resource_type,omitempty"`
	ResourceTemplate   string         `json:"resource_template" doc:"The template's _id or name."`
	ResourceParameters map[string]any `json:"resource_parameters,omitempty"`
	RequestType        string         `json:"request_type,omitempty"`
}

// CreateRequest submits a provision request.
func (c *Client) CreateRequest(ctx context.Context, in RequestCreate) (*Request, error) {
	var r Request
	return &r, c.Do(ctx, http.MethodPost, APIPath+"/provisionRequests", in, &r)
}

// GetRequest returns a provision request.
func (c *Client) GetRequest(ctx context.Context, id string) (*Request, error) {
	var r Request
	return &r, c.Do(ctx, http.MethodGet, APIPath+"/provisionRequests/"+url.PathEscape(id), nil, &r)
}

// ListRequests returns a page of provision requests.
func (c *Client) ListRequests(ctx context.Context, o ListOptions) (*List[Request], error) {
	var l List[Request]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/provisionRequests"+o.encode(), nil, &l)
}

// Review is the optional body of an action on a request or an extension:
// approve, reject, revoke, retry or purge.
type Review struct {
	Comment    string `json:"comment,omitempty" maxLength:"1000"`
	ReviewedBy string `json:"reviewed_by,omitempty" doc:"Admins may name another user (_id or username) here (the seed's field); it is recorded as acting_for in the audit log only. The review is always the caller's own, and only distinct callers count toward a template's approvers."`
}

// ActOnRequest performs approve, reject, revoke, retry or purge.
func (c *Client) ActOnRequest(ctx context.Context, id, action, comment string) (*Request, error) {
	var r Request
	var body any
	if comment != "" {
		body = Review{Comment: comment}
	}
	return &r, c.Do(ctx, http.MethodPost, APIPath+"/provisionRequests/"+url.PathEscape(id)+"/"+action, body, &r)
}

// RequestOutputs returns an environment's outputs.
func (c *Client) RequestOutputs(ctx context.Context, id string) (map[string]string, error) {
	out := map[string]string{}
	return out, c.Do(ctx, http.MethodGet, APIPath+"/provisionRequests/"+url.PathEscape(id)+"/outputs", nil, &out)
}

// Kubeconfig is a Kubernetes environment's kubeconfig.
type Kubeconfig struct {
	Kubeconfig string `json:"kubeconfig"`
	Simulated  bool   `json:"simulated"` // made by the sim driver: it reaches no cluster
}

// RequestKubeconfig returns an environment's kubeconfig; when there is
// none, the error (404 or 409) says why.
func (c *Client) RequestKubeconfig(ctx context.Context, id string) (*Kubeconfig, error) {
	var k Kubeconfig
	return &k, c.Do(ctx, http.MethodGet, APIPath+"/provisionRequests/"+url.PathEscape(id)+"/kubeconfig", nil, &k)
}

// RequestHistory returns a request's audit events, oldest first.
func (c *Client) RequestHistory(ctx context.Context, id string) (*List[Event], error) {
	var l List[Event]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/provisionRequests/"+url.PathEscape(id)+"/history", nil, &l)
}

// WaitRequest polls a request until its status is one of statuses, or ctx
// ends; progress is called with each new status seen.
func (c *Client) WaitRequest(ctx context.Context, id string, progress func(*Request), statuses ...string) (*Request, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		r, err := c.GetRequest(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Status != last && progress != nil {
			progress(r)
		}
		last = r.Status
		for _, s := range statuses {
			if r.Status == s {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("still %s: %w", r.Status, ctx.Err())
		case <-tick.C:
		}
	}
}

// RunExpiry runs expiry and reminders now (admins).
func (c *Client) RunExpiry(ctx context.Context) (int, error) {
	var out struct {
		Expired int `json:"expired"`
	}
	return out.Expired, c.Do(ctx, http.MethodPost, APIPath+"/admin/expire", nil, &out)
}
