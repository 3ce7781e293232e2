package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/purserhq/purser"
)

// StackRevision is one numbered, immutable version of a cluster's
// stackfile.
type StackRevision struct {
	Meta
	Cluster    string         `json:"cluster"`
	Number     int            `json:"number"`
	Status     string         `json:"status"`
	Author     string         `json:"author"`
	Message    string         `json:"message,omitempty"`
	RollbackOf int            `json:"rollback_of,omitempty"`
	BlockedBy  int            `json:"blocked_by,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Stackfile  map[string]any `json:"stackfile,omitempty"`
}

// StackPlan is what a reconcile would do to a cluster's services.
type StackPlan struct {
	Cluster  string               `json:"cluster"`
	Revision int                  `json:"revision,omitempty"`
	NoOp     bool                 `json:"no_op"`
	Services []purser.ServicePlan `json:"services"`
	// Notes are the fields the cluster's kind of target ignores, and why.
	Notes []PlanNote `json:"notes,omitempty"`
}

// PlanNote is a field of the stackfile a target does not carry out.
type PlanNote struct {
	Service string `json:"service,omitempty"`
	Field   string `json:"field"`
	Reason  string `json:"reason"`
}

// StackDiff is what changed between two revisions.
type StackDiff struct {
	Cluster  string               `json:"cluster"`
	From     int                  `json:"from"`
	To       int                  `json:"to"`
	Sections []purser.FieldChange `json:"sections"`
	Services []purser.ServicePlan `json:"services"`
	Unified  string               `json:"unified"`
}

// StackfileType is how a stackfile's text is sent: YAML (JSON is YAML).
const StackfileType = "application/yaml"

func stackPath(cluster, rest string) string {
	return APIPath + "/clusters/" + url.PathEscape(cluster) + rest
}

// StackConfig returns a cluster's current stackfile as YAML.
func (c *Client) StackConfig(ctx context.Context, cluster string) ([]byte, error) {
	return c.DoRaw(ctx, http.MethodGet, stackPath(cluster, "/config"), "", nil, StackfileType)
}

// ApplyOptions go with a stackfile applied.
type ApplyOptions struct {
	Message string // why, kept with the revision
	// IfMatch, when not empty, is the revision the caller read (412 when
	// another landed since).
	IfMatch string
	// Hold keeps the revision pending, not deployed, until DeployStack.
	Hold bool
}

// ApplyStack makes stackfile (YAML or JSON text) the cluster's next
// revision, which the server deploys unless o.Hold.
func (c *Client) ApplyStack(ctx context.Context, cluster string, stackfile []byte, o ApplyOptions) (*StackRevision, error) {
	q := url.Values{}
	if o.Message != "" {
		q.Set("message", o.Message)
	}
	if o.Hold {
		q.Set("deploy", "false")
	}
	path := stackPath(cluster, "/config")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	data, err := c.DoRaw(ctx, http.MethodPut, path, StackfileType, stackfile, "application/json", IfMatch(o.IfMatch))
	if err != nil {
		return nil, err
	}
	var out StackRevision
	return &out, json.Unmarshal(data, &out)
}

// PlanStack plans stackfile (the current revision when nil) against what
// the cluster runs.
func (c *Client) PlanStack(ctx context.Context, cluster string, stackfile []byte) (*StackPlan, error) {
	data, err := c.DoRaw(ctx, http.MethodPost, stackPath(cluster, "/plan"), StackfileType, stackfile, "application/json")
	if err != nil {
		return nil, err
	}
	var out StackPlan
	return &out, json.Unmarshal(data, &out)
}

// StackRevisions lists a cluster's revisions, newest first.
func (c *Client) StackRevisions(ctx context.Context, cluster string, o ListOptions) (*List[StackRevision], error) {
	var l List[StackRevision]
	return &l, c.Do(ctx, http.MethodGet, stackPath(cluster, "/revisions")+o.encode(), nil, &l)
}

// DiffStack compares two revisions (0: the server's defaults, the current
// one against the one before).
func (c *Client) DiffStack(ctx context.Context, cluster string, from, to int) (*StackDiff, error) {
	q := url.Values{}
	if from > 0 {
		q.Set("from", strconv.Itoa(from))
	}
	if to > 0 {
		q.Set("to", strconv.Itoa(to))
	}
	path := stackPath(cluster, "/diff")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out StackDiff
	return &out, c.Do(ctx, http.MethodGet, path, nil, &out)
}

// StackRevision returns revision n of the cluster's stack.
func (c *Client) StackRevision(ctx context.Context, cluster string, n int) (*StackRevision, error) {
	var out StackRevision
	return &out, c.Do(ctx, http.MethodGet, stackPath(cluster, "/revisions/"+strconv.Itoa(n)), nil, &out)
}

// DeployStack applies the cluster's current revision again: a held one
// starts, an applied one is re-applied (correcting drift), a failed one is
// tried again.
func (c *Client) DeployStack(ctx context.Context, cluster string) (*StackRevision, error) {
	var out StackRevision
	return &out, c.Do(ctx, http.MethodPost, stackPath(cluster, "/deploy"), nil, &out)
}

// RollbackStack makes a new revision equal to revision n; the one it
// replaces is blocked until unblocked.
func (c *Client) RollbackStack(ctx context.Context, cluster string, n int) (*StackRevision, error) {
	var out StackRevision
	return &out, c.Do(ctx, http.MethodPost, stackPath(cluster, "/rollback"), map[string]int{"revision": n}, &out)
}

// StackService is one service: what the current revision wants, what the
// target runs, and how the two compare.
type StackService struct {
	Name         string `json:"name"`
	DesiredImage string `json:"desired_image,omitempty"`
	DesiredTag   string `json:"desired_tag,omitempty"`
	ActualImage  string `json:"actual_image,omitempty"`
	ActualTag    string `json:"actual_tag,omitempty"`
	DesiredCount int    `json:"desired_count"`
	RunningCount int    `json:"running_count"`
	Running      bool   `json:"running"`
	State        string `json:"state"`
	Revision     int    `json:"revision"`
	// WaitingFor names the services it depends on that are not in sync
	// yet, while a rollout is under way.
	WaitingFor []string `json:"waiting_for,omitempty"`
}

// StackServiceUpdate changes one service's tag or count (nil: unchanged).
type StackServiceUpdate struct {
	ImageTag     *string `json:"image_tag,omitempty"`
	DesiredCount *int    `json:"desired_count,omitempty"`
	// Deploy false keeps the new revision pending until DeployStack.
	Deploy *bool `json:"deploy,omitempty"`
}

// StackServices lists a cluster's services, desired and actual.
func (c *Client) StackServices(ctx context.Context, cluster string) (*List[StackService], error) {
	var l List[StackService]
	return &l, c.Do(ctx, http.MethodGet, stackPath(cluster, "/services"), nil, &l)
}

// UpdateStackService makes a new revision with one service's tag or count
// changed.
func (c *Client) UpdateStackService(ctx context.Context, cluster, service string, u StackServiceUpdate) (*StackRevision, error) {
	var out StackRevision
	return &out, c.Do(ctx, http.MethodPut, stackPath(cluster, "/services/"+url.PathEscape(service)), u, &out)
}

// RemoveStackService makes a new revision without the service.
func (c *Client) RemoveStackService(ctx context.Context, cluster, service string) (*StackRevision, error) {
	var out StackRevision
	return &out, c.Do(ctx, http.MethodDelete, stackPath(cluster, "/services/"+url.PathEscape(service)), nil, &out)
}

// UnblockRevision lets blocked revision n be rolled back to again.
func (c *Client) UnblockRevision(ctx context.Context, cluster string, n int) (*StackRevision, error) {
	var out StackRevision
	return &out, c.Do(ctx, http.MethodPost, stackPath(cluster, "/revisions/"+strconv.Itoa(n)+"/unblock"), nil, &out)
}

// ClusterSecret is a cluster secret a stackfile names ${NAME}: its name
// and dates, never its value.
type ClusterSecret struct {
	Meta
	Cluster string `json:"cluster"`
	Name    string `json:"name"`
}

// ClusterSecretSet is a secret's new value.
type ClusterSecretSet struct {
	Value string `json:"value" maxLength:"65536" doc:"Sealed at rest; never returned, logged or audited."`
}

// SetClusterSecret creates or replaces a cluster secret.
func (c *Client) SetClusterSecret(ctx context.Context, cluster, name, value string) (*ClusterSecret, error) {
	var out ClusterSecret
	return &out, c.Do(ctx, http.MethodPut, stackPath(cluster, "/secrets/"+url.PathEscape(name)), ClusterSecretSet{Value: value}, &out)
}

// ClusterSecrets lists a cluster's secrets, without their values.
func (c *Client) ClusterSecrets(ctx context.Context, cluster string) (*List[ClusterSecret], error) {
	var l List[ClusterSecret]
	return &l, c.Do(ctx, http.MethodGet, stackPath(cluster, "/secrets"), nil, &l)
}

// DeleteClusterSecret removes a cluster secret the current revision does
// not refer to.
func (c *Client) DeleteClusterSecret(ctx context.Context, cluster, name string) error {
	return c.Do(ctx, http.MethodDelete, stackPath(cluster, "/secrets/"+url.PathEscape(name)), nil, nil)
}

// StackDrift is what the last drift scan of a cluster's stack found.
type StackDrift struct {
	Cluster     string               `json:"cluster"`
	Revision    int                  `json:"revision"`
	Drifted     bool                 `json:"drifted"`
	Mode        string               `json:"mode"`
	Since       *time.Time           `json:"since,omitempty"`
	CheckedAt   time.Time            `json:"checked_at"`
	Services    []purser.ServicePlan `json:"services"`
	Fingerprint string               `json:"fingerprint,omitempty"`
}

// StackDrift returns the last drift scan of the cluster's stack.
func (c *Client) StackDrift(ctx context.Context, cluster string) (*StackDrift, error) {
	var out StackDrift
	return &out, c.Do(ctx, http.MethodGet, stackPath(cluster, "/drift"), nil, &out)
}

// ScanStackDrift asks for a drift scan of the cluster's stack now.
func (c *Client) ScanStackDrift(ctx context.Context, cluster string) error {
	return c.Do(ctx, http.MethodPost, stackPath(cluster, "/drift"), nil, nil)
}
