package client

import (
	"context"
	"net/http"
	"net/url"
)

// PoolSize is an amount of cores and memory (bytes).
type PoolSize struct {
	Cores  int   `json:"cores"`
	Memory int64 `json:"memory" doc:"Bytes."`
}

// PoolHost is a host as a pool or a plan lists it.
type PoolHost struct {
	Name   string `json:"name"`
	Cores  int    `json:"cores"`
	Memory int64  `json:"memory" doc:"Bytes."`
	State  string `json:"state"`
	Spare  bool   `json:"spare"`
	Joined bool   `json:"joined" doc:"A member whose join hook succeeded."`
	// Reason says why the host is in its state; a drain that waits says
	// what holds it ("...: disruption budget web-pdb refused eviction of
	// default/web-1").
	Reason string `json:"reason,omitempty"`
}

// PoolHooks are the commands a pool's agents run on their hosts: argv
// lists whose arguments may hold {{ pool }}, {{ cluster }}, {{ server }},
// {{ host }} and {{ address }}, each replaced as plain text inside its
// argument (no shell reads it).
type PoolHooks struct {
	Join   []string `json:"join,omitempty" maxItems:"64" doc:"Run when a host becomes a member; it is joined once this exits 0."`
	Leave  []string `json:"leave,omitempty" maxItems:"64" doc:"Run when a joined member leaves (removed, resized down, drained, replaced, the pool destroyed)."`
	Reboot []string `json:"reboot,omitempty" maxItems:"64" doc:"Run on purser hosts reboot."`
}

// Pool is a set of hosts forming one cluster.
type Pool struct {
	Meta
	Name        string            `json:"name"`
	Cores       int               `json:"cores" doc:"Requested."`
	Memory      int64             `json:"memory" doc:"Requested, bytes."`
	Spares      int               `json:"spares"`
	Selector    map[string]string `json:"selector"`
	MinHosts    int               `json:"min_hosts"`
	MaxHosts    int               `json:"max_hosts" doc:"0: no maximum."`
	Cluster     string            `json:"cluster" doc:"The Purser cluster (kind kubernetes) that is the pool's control plane; empty when none."`
	Hooks       PoolHooks         `json:"hooks"`
	State       string            `json:"state" enum:"ACTIVE,DESTROYING,DESTROY_FAILED" doc:"DESTROYING: waiting for its hosts' leave hooks."`
	Status      string            `json:"status" doc:"Why not: why remediation halted or cannot proceed, why a destroy failed; empty when nothing is held back."`
	ScaleStatus string            `json:"scale_status" doc:"Why not, for autoscaling: cooldown, minimum or maximum size, pods with nowhere to go."`
	Halted      bool              `json:"halted" doc:"Self-healing is halted: too many members are unhealthy (more than 40 %, or more than 3 hosts)."`
	Total       PoolSize          `json:"total" doc:"What the members offer."`
	Hosts       []PoolHost        `json:"hosts" doc:"Members and spares, by name."`
}

// PoolCreate is the body of a new pool.
type PoolCreate struct {
	Name     string            `json:"name" doc:"A DNS label."`
	Cores    int               `json:"cores,omitempty" minimum:"0"`
	Memory   int64             `json:"memory,omitempty" minimum:"0" doc:"Bytes."`
	Spares   int               `json:"spares,omitempty" minimum:"0" maximum:"16"`
	Selector map[string]string `json:"selector,omitempty" doc:"Only hosts with every one of these labels."`
	MinHosts int               `json:"min_hosts,omitempty" minimum:"0"`
	MaxHosts int               `json:"max_hosts,omitempty" minimum:"0"`
	Cluster  string            `json:"cluster,omitempty" doc:"A registered cluster of kind kubernetes: the pool's control plane, its server the hooks' {{ server }}."`
	Hooks    *PoolHooks        `json:"hooks,omitempty"`
	DryRun   bool              `json:"dry_run,omitempty" doc:"Only plan: answer 200 with the placement, create nothing."`
}

// PoolPlacement is where a new pool lands: the best fit (docs/pools.md).
type PoolPlacement struct {
	Members   []PoolHost `json:"members"`
	Spares    []PoolHost `json:"spares"`
	Need      PoolSize   `json:"need"`
	Total     PoolSize   `json:"total"`
	Overshoot PoolSize   `json:"overshoot" doc:"By how much the members exceed the need."`
}

// PoolCreated is a new pool (or, for a dry run, none) with its placement.
type PoolCreated struct {
	Pool      *Pool         `json:"pool,omitempty"`
	Placement PoolPlacement `json:"placement"`
}

// PoolResize resizes a pool to absolute totals.
type PoolResize struct {
	Cores  int   `json:"cores,omitempty" minimum:"0" doc:"The new total; 0 keeps what the members have."`
	Memory int64 `json:"memory,omitempty" minimum:"0" doc:"The new total, bytes; 0 keeps what the members have."`
	Yes    bool  `json:"yes,omitempty" doc:"Confirm an overshoot; without it an overshooting resize answers 409 saying by how much."`
	DryRun bool  `json:"dry_run,omitempty"`
}

// ResizePlan is what a resize does.
type ResizePlan struct {
	Target    PoolSize   `json:"target"`
	Before    PoolSize   `json:"before"`
	After     PoolSize   `json:"after"`
	Overshoot PoolSize   `json:"overshoot"`
	Add       []PoolHost `json:"add"`
	Remove    []PoolHost `json:"remove"`
}

// PoolNode names a host to add to a pool.
type PoolNode struct {
	Host string `json:"host"`
}

// PoolDrain starts a drain.
type PoolDrain struct {
	DeadlineSeconds int `json:"deadline_seconds,omitempty" minimum:"0" doc:"When to force the drain (default 3600)."`
}

// ListPools returns a page of pools.
func (c *Client) ListPools(ctx context.Context, o ListOptions) (*List[Pool], error) {
	var l List[Pool]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/pools"+o.encode(), nil, &l)
}

// GetPool returns a pool with its hosts.
func (c *Client) GetPool(ctx context.Context, name string) (*Pool, error) {
	var out Pool
	return &out, c.Do(ctx, http.MethodGet, APIPath+"/pools/"+url.PathEscape(name), nil, &out)
}

// CreatePool creates (or, with DryRun, plans) a pool.
func (c *Client) CreatePool(ctx context.Context, in PoolCreate) (*PoolCreated, error) {
	var out PoolCreated
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/pools", in, &out)
}

// ResizePool resizes (or, with DryRun, plans resizing) a pool.
func (c *Client) ResizePool(ctx context.Context, name string, in PoolResize) (*ResizePlan, error) {
	var out ResizePlan
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/pools/"+url.PathEscape(name)+"/resize", in, &out)
}

// DestroyPool destroys a pool: nil when it is gone, or the pool
// DESTROYING (its hosts run their leave hooks) or DESTROY_FAILED naming
// the hosts that did not leave.
func (c *Client) DestroyPool(ctx context.Context, name string) (*Pool, error) {
	var out Pool
	if err := c.Do(ctx, http.MethodDelete, APIPath+"/pools/"+url.PathEscape(name), nil, &out); err != nil {
		return nil, err
	}
	if out.Name == "" {
		return nil, nil
	}
	return &out, nil
}

// AddNode makes a free host (or a spare) a member of the pool.
func (c *Client) AddNode(ctx context.Context, pool, host string) (*Host, error) {
	var out Host
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/pools/"+url.PathEscape(pool)+"/nodes", PoolNode{host}, &out)
}

// RemoveNode releases a host from the pool.
func (c *Client) RemoveNode(ctx context.Context, pool, host string) (*Host, error) {
	var out Host
	return &out, c.Do(ctx, http.MethodDelete, APIPath+"/pools/"+url.PathEscape(pool)+"/nodes/"+url.PathEscape(host), nil, &out)
}

// DrainNode starts draining a member.
func (c *Client) DrainNode(ctx context.Context, pool, host string, deadlineSeconds int) (*Host, error) {
	var out Host
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/pools/"+url.PathEscape(pool)+"/nodes/"+url.PathEscape(host)+"/drain", PoolDrain{deadlineSeconds}, &out)
}

// SetPoolHooks replaces a pool's hooks.
func (c *Client) SetPoolHooks(ctx context.Context, name string, in PoolHooks) (*Pool, error) {
	var out Pool
	return &out, c.Do(ctx, http.MethodPut, APIPath+"/pools/"+url.PathEscape(name)+"/hooks", in, &out)
}
