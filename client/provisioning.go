package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
	ReviewedBy         string         `json:"reviewed_by,omitempty"`
	ReviewComment      string         `json:"review_comment,omitempty"`
	ResourceType       string         `json:"resource_type"`
	ResourceTemplate   string         `json:"resource_template"`
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
}

// RequestCreate is the body of a new provision request.
type RequestCreate struct {
	Description        string         `json:"description,omitempty"`
	ExpiresBy          string         `json:"expires_by,omitempty"`
	TTLHours           float64        `json:"ttl_hours,omitempty"`
	RequestedBy        string         `json:"requested_by,omitempty"`
	ResourceType       string         `json:"resource_type,omitempty"`
	ResourceTemplate   string         `json:"resource_template"`
	ResourceParameters map[string]any `json:"resource_parameters,omitempty"`
	RequestType        string         `json:"request_type,omitempty"`
}

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
}

// Extension is an extension request document.
type Extension struct {
	Meta
	ProvisionRequest string `json:"provision_request"`
	Reason           string `json:"reason"`
	ExtendBy         int    `json:"extend_by" doc:"Hours."`
	RequestedBy      string `json:"requested_by"`
	ReviewedBy       string `json:"reviewed_by,omitempty"`
	ReviewComment    string `json:"review_comment,omitempty"`
	Status           string `json:"status" enum:"REQUESTED,APPROVED,REJECTED,REVOKED"`
}

// Notification is an inbox entry.
type Notification struct {
	ID          string          `json:"_id"`
	Created     time.Time       `json:"_created"`
	Links       map[string]Link `json:"_links"`
	Event       string          `json:"event"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Channel     string          `json:"channel" enum:"inbox,email,slack,webhook"`
	Status      string          `json:"status" enum:"CREATED,SENT,FAILED" doc:"Delivery: CREATED until sent; FAILED after the last attempt."`
	Attempts    int             `json:"attempts"`
	LastError   string          `json:"last_error,omitempty"`
	ReadAt      *time.Time      `json:"read_at,omitempty"`
}

// Event is an audit record.
type Event struct {
	ID         string         `json:"_id"`
	Created    time.Time      `json:"_created"`
	Actor      string         `json:"actor" doc:"The user's _id, or system."`
	ActingFor  string         `json:"acting_for,omitempty" doc:"The user an admin acted for."`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Before     map[string]any `json:"before,omitempty"`
	After      map[string]any `json:"after,omitempty"`
}

// Usage is one user's quota picture.
type Usage struct {
	User     string             `json:"user"`
	Username string             `json:"username"`
	Limited  bool               `json:"limited"`
	Limits   map[string]float64 `json:"limits"`
	Used     map[string]float64 `json:"used"`
	Pending  map[string]float64 `json:"pending"`
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

// ActOnRequest performs approve, reject, revoke, retry or purge.
func (c *Client) ActOnRequest(ctx context.Context, id, action, comment string) (*Request, error) {
	var r Request
	var body any
	if comment != "" {
		body = map[string]string{"comment": comment}
	}
	return &r, c.Do(ctx, http.MethodPost, APIPath+"/provisionRequests/"+url.PathEscape(id)+"/"+action, body, &r)
}

// RequestOutputs returns an environment's outputs.
func (c *Client) RequestOutputs(ctx context.Context, id string) (map[string]string, error) {
	out := map[string]string{}
	return out, c.Do(ctx, http.MethodGet, APIPath+"/provisionRequests/"+url.PathEscape(id)+"/outputs", nil, &out)
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

// CreateExtension asks for more hours on a request.
func (c *Client) CreateExtension(ctx context.Context, requestID string, hours int, reason string) (*Extension, error) {
	var e Extension
	return &e, c.Do(ctx, http.MethodPost, APIPath+"/extensionRequests", map[string]any{"provision_request": requestID, "extend_by": hours, "reason": reason}, &e)
}

// ListExtensions returns a page of extension requests.
func (c *Client) ListExtensions(ctx context.Context, o ListOptions) (*List[Extension], error) {
	var l List[Extension]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/extensionRequests"+o.encode(), nil, &l)
}

// ReviewExtension approves or rejects an extension request.
func (c *Client) ReviewExtension(ctx context.Context, id string, approve bool, comment string) (*Extension, error) {
	var e Extension
	act := "reject"
	if approve {
		act = "approve"
	}
	return &e, c.Do(ctx, http.MethodPost, APIPath+"/extensionRequests/"+url.PathEscape(id)+"/"+act, map[string]string{"comment": comment}, &e)
}

// Inbox returns the caller's notifications.
func (c *Client) Inbox(ctx context.Context, unread bool, o ListOptions) (*List[Notification], error) {
	var l List[Notification]
	q := o.encode()
	if unread {
		if q == "" {
			q = "?unread=true"
		} else {
			q += "&unread=true"
		}
	}
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/notifications"+q, nil, &l)
}

// MarkAllRead marks the caller's notifications read.
func (c *Client) MarkAllRead(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, APIPath+"/notifications/read-all", nil, nil)
}

// ListEvents returns a page of the audit log.
func (c *Client) ListEvents(ctx context.Context, o ListOptions) (*List[Event], error) {
	var l List[Event]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/events"+o.encode(), nil, &l)
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

// RunExpiry runs expiry and reminders now (admins).
func (c *Client) RunExpiry(ctx context.Context) (int, error) {
	var out struct {
		Expired int `json:"expired"`
	}
	return out.Expired, c.Do(ctx, http.MethodPost, APIPath+"/admin/expire", nil, &out)
}

// LogLine is one line of a job's log.
type LogLine struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Stream string    `json:"stream" enum:"stdout,stderr,purser"`
	Line   string    `json:"line"`
}

// RequestLogs returns a request's job logs after seq.
func (c *Client) RequestLogs(ctx context.Context, id string, after int64) (*List[LogLine], error) {
	var l List[LogLine]
	return &l, c.Do(ctx, http.MethodGet, fmt.Sprintf("%s/provisionRequests/%s/logs?after=%d", APIPath, url.PathEscape(id), after), nil, &l)
}

// FollowLogs streams a request's job logs, calling fn for each line, until
// no job runs for it; it returns the request's status then.
func (c *Client) FollowLogs(ctx context.Context, id string, after int64, fn func(LogLine)) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s%s/provisionRequests/%s/logs?follow=true&after=%d", c.BaseURL, APIPath, url.PathEscape(id), after), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := *c.HTTPClient
	hc.Timeout = 0 // a stream lasts as long as the job
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		_ = json.NewDecoder(resp.Body).Decode(e)
		return "", e
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := []byte(strings.TrimPrefix(line, "data: "))
			if event == "end" {
				var end struct {
					Status string `json:"status"`
				}
				_ = json.Unmarshal(data, &end)
				return end.Status, nil
			}
			var l LogLine
			if err := json.Unmarshal(data, &l); err == nil {
				fn(l)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("the log stream ended early")
}

// Cluster is a registered cluster (credentials are never returned).
type Cluster struct {
	Meta
	Name        string     `json:"name"`
	Kind        string     `json:"kind" enum:"kubernetes"`
	Description string     `json:"description,omitempty"`
	Server      string     `json:"server" doc:"The API server's URL. Credentials are never returned."`
	Reachable   bool       `json:"reachable"`
	Version     string     `json:"version,omitempty" doc:"The server's version at the last check."`
	LastError   string     `json:"last_error,omitempty"`
	CheckedAt   *time.Time `json:"checked_at,omitempty"`
}

// ClusterCreate registers a cluster: a kubeconfig, or server, CA and token.
type ClusterCreate struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Kubeconfig  string `json:"kubeconfig,omitempty"`
	Server      string `json:"server,omitempty"`
	CA          string `json:"ca,omitempty"`
	Token       string `json:"token,omitempty"`
}

// CreateCluster registers a cluster.
func (c *Client) CreateCluster(ctx context.Context, in ClusterCreate) (*Cluster, error) {
	var out Cluster
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/clusters", in, &out)
}

// ListClusters lists clusters.
func (c *Client) ListClusters(ctx context.Context, o ListOptions) (*List[Cluster], error) {
	var l List[Cluster]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/clusters"+o.encode(), nil, &l)
}

// CheckCluster probes a cluster now.
func (c *Client) CheckCluster(ctx context.Context, name string) (*Cluster, error) {
	var out Cluster
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/clusters/"+url.PathEscape(name)+"/check", nil, &out)
}

// DeleteCluster removes a cluster.
func (c *Client) DeleteCluster(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, APIPath+"/clusters/"+url.PathEscape(name), nil, nil)
}
