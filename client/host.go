package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Host is an in-house machine in the inventory.
type Host struct {
	Meta
	Name          string            `json:"name"`
	Address       string            `json:"address"`
	Cores         int               `json:"cores"`
	Memory        int64             `json:"memory" doc:"Bytes."`
	Labels        map[string]string `json:"labels"`
	State         string            `json:"state" enum:"READY,ASSIGNED,DRAINING,SUSPECT,UNHEALTHY,MAINTENANCE,RETIRED" doc:"READY: free (or a pool's spare); ASSIGNED: a pool's member; SUSPECT and UNHEALTHY: no heartbeat for 50 s and 5 min (by default)."`
	Pool          string            `json:"pool,omitempty" doc:"The pool it belongs to; empty when free."`
	Spare         bool              `json:"spare" doc:"Held in reserve by its pool, to replace a failed member."`
	Joined        bool              `json:"joined" doc:"A member whose pool's join hook succeeded (at once when the pool has none); a member not joined yet is joining."`
	Reason        string            `json:"reason" doc:"Why it is in its state: the last transition's cause."`
	LastHeartbeat *time.Time        `json:"last_heartbeat,omitempty"`
}

// HostRegistration is what an agent sends to register its host.
type HostRegistration struct {
	JoinToken string            `json:"join_token" doc:"A join token (psj_...) from POST /api/v1/joinTokens."`
	Name      string            `json:"name" doc:"A DNS name: lower-case letters, digits, '.' and '-'."`
	Address   string            `json:"address,omitempty" maxLength:"255"`
	Cores     int               `json:"cores" minimum:"1"`
	Memory    int64             `json:"memory" minimum:"1048576" doc:"Bytes."`
	Labels    map[string]string `json:"labels,omitempty"`
}

// HostRegistered is a registration's answer: the host and the agent's own
// credential, shown once.
type HostRegistered struct {
	Host       Host   `json:"host"`
	Credential string `json:"credential" doc:"The agent's credential (psa_...): a bearer token for this host's heartbeats only. Shown once; only its hash is kept."`
}

// HostPatch changes a host's labels.
type HostPatch struct {
	Labels map[string]string `json:"labels" doc:"Labels to set; an empty value removes the label."`
}

// HostMaintenance puts a free host under maintenance, or back.
type HostMaintenance struct {
	Maintenance bool `json:"maintenance"`
}

// RegisterHost registers a host with a join token (no other credential).
func (c *Client) RegisterHost(ctx context.Context, in HostRegistration) (*HostRegistered, error) {
	var out HostRegistered
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/hosts", in, &out)
}

// Heartbeat reports that the agent's host is alive.
func (c *Client) Heartbeat(ctx context.Context, name string) (*Host, error) {
	var out Host
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/hosts/"+url.PathEscape(name)+"/heartbeat", nil, &out)
}

// ListHosts returns a page of hosts.
func (c *Client) ListHosts(ctx context.Context, o ListOptions) (*List[Host], error) {
	var l List[Host]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/hosts"+o.encode(), nil, &l)
}

// GetHost returns a host.
func (c *Client) GetHost(ctx context.Context, name string) (*Host, error) {
	var out Host
	return &out, c.Do(ctx, http.MethodGet, APIPath+"/hosts/"+url.PathEscape(name), nil, &out)
}

// LabelHost sets (or, with "", removes) a host's labels.
func (c *Client) LabelHost(ctx context.Context, name string, labels map[string]string) (*Host, error) {
	var out Host
	return &out, c.Do(ctx, http.MethodPatch, APIPath+"/hosts/"+url.PathEscape(name), HostPatch{Labels: labels}, &out)
}

// SetMaintenance puts a free host under maintenance (on) or back.
func (c *Client) SetMaintenance(ctx context.Context, name string, on bool) (*Host, error) {
	var out Host
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/hosts/"+url.PathEscape(name)+"/maintenance", HostMaintenance{on}, &out)
}

// RetireHost retires a free host for good.
func (c *Client) RetireHost(ctx context.Context, name string) (*Host, error) {
	var out Host
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/hosts/"+url.PathEscape(name)+"/retire", nil, &out)
}

// JoinToken is a join token, without its secret.
type JoinToken struct {
	Meta
	Description string     `json:"description,omitempty"`
	Hint        string     `json:"hint" doc:"The secret's first characters."`
	Reusable    bool       `json:"reusable"`
	ExpiresAt   time.Time  `json:"expires_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	Uses        int        `json:"uses"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
}

// JoinTokenCreate is the body of a new join token.
type JoinTokenCreate struct {
	Description string `json:"description,omitempty" maxLength:"200"`
	Reusable    bool   `json:"reusable,omitempty" doc:"Register any number of hosts until it expires; by default one host."`
	TTLHours    int    `json:"ttl_hours,omitempty" minimum:"0" maximum:"720" doc:"Hours until it expires (default 24)."`
}

// NewJoinToken is a new join token with its secret, shown once.
type NewJoinToken struct {
	JoinToken
	Token string `json:"token" doc:"The secret (psj_...), for purser agent --join-token. Shown once."`
}

// CreateJoinToken creates a join token.
func (c *Client) CreateJoinToken(ctx context.Context, in JoinTokenCreate) (*NewJoinToken, error) {
	var out NewJoinToken
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/joinTokens", in, &out)
}

// ListJoinTokens returns a page of join tokens.
func (c *Client) ListJoinTokens(ctx context.Context, o ListOptions) (*List[JoinToken], error) {
	var l List[JoinToken]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/joinTokens"+o.encode(), nil, &l)
}

// RevokeJoinToken revokes a join token.
func (c *Client) RevokeJoinToken(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, APIPath+"/joinTokens/"+url.PathEscape(id), nil, nil)
}
