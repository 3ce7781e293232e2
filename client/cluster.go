package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Cluster is a registered cluster (credentials are never returned).
type Cluster struct {
	Meta
	Name        string   `json:"name"`
	Kind        string   `json:"kind" enum:"kubernetes,sim,ecs"`
	Description string   `json:"description,omitempty"`
	Server      string   `json:"server" doc:"The API server's URL (for ecs, the ECS endpoint). Credentials are never returned."`
	Region      string   `json:"region,omitempty" doc:"ecs: the AWS region."`
	ECSCluster  string   `json:"ecs_cluster,omitempty" doc:"ecs: the ECS cluster's name."`
	Deployers   []string `json:"deployers" doc:"Who may change the image tags and desired counts of the stack's services without stacks:write: user:USERNAME or role:ROLE."`
	// Stack settings, as in force (defaults filled in).
	StackNamespace  string     `json:"stack_namespace" doc:"The Kubernetes namespace the stack is applied into."`
	DriftMode       string     `json:"drift_mode" enum:"ignore,warn,correct" doc:"What a drift scan does: ignore; warn (services show drifted, one notification per drift, the purser_stack_drift metric); correct (the last applied revision is applied again)."`
	HealthyDeadline string     `json:"healthy_deadline" doc:"How long a service may take to become healthy in a rollout before the revision fails and is rolled back (a Go duration)."`
	Reachable       bool       `json:"reachable" doc:"Whether the last check reached it. An ecs cluster is not checked yet (no driver reaches ECS): false, and last_error says so."`
	Version         string     `json:"version,omitempty" doc:"The server's version at the last check."`
	LastError       string     `json:"last_error,omitempty"`
	CheckedAt       *time.Time `json:"checked_at,omitempty"`
}

// ClusterCreate registers a cluster: a kubeconfig, or server, CA and token;
// for kind ecs, a region, the ECS cluster's name and an access key or a
// role; for kind sim, nothing. Config, when set, is the cluster's first
// stackfile.
type ClusterCreate struct {
	Name            string         `json:"name" doc:"A DNS label."`
	Kind            string         `json:"kind,omitempty" enum:"kubernetes,sim,ecs" doc:"Default kubernetes. A sim cluster is built in: give no credentials; it is always reachable and its version reads simulated. An ecs cluster takes region, ecs_cluster, an optional endpoint, and access_key_id with secret_access_key, or role_arn; it is not checked yet."`
	Description     string         `json:"description,omitempty" maxLength:"500"`
	Kubeconfig      string         `json:"kubeconfig,omitempty" doc:"A kubeconfig (its current context is used) of inline data only: token, client-certificate-data, client-key-data, certificate-authority-data, username and password. An exec or auth-provider plugin, a file path (tokenFile, client-certificate, client-key, certificate-authority), proxy-url and impersonation are refused with 422."`
	Server          string         `json:"server,omitempty"`
	CA              string         `json:"ca,omitempty" doc:"PEM."`
	Token           string         `json:"token,omitempty"`
	Region          string         `json:"region,omitempty" doc:"ecs: the AWS region, such as eu-west-1."`
	ECSCluster      string         `json:"ecs_cluster,omitempty" doc:"ecs: the ECS cluster's name."`
	Endpoint        string         `json:"endpoint,omitempty" doc:"ecs: an http(s) URL of an AWS-compatible endpoint, in place of the region's."`
	AccessKeyID     string         `json:"access_key_id,omitempty" doc:"ecs: an access key id, with secret_access_key; or give role_arn."`
	SecretAccessKey string         `json:"secret_access_key,omitempty" doc:"ecs: sealed at rest, never returned."`
	RoleARN         string         `json:"role_arn,omitempty" doc:"ecs: an IAM role to assume, in place of an access key."`
	Deployers       []string       `json:"deployers,omitempty" maxItems:"100" doc:"Users (user:USERNAME) and roles (role:ROLE), which must exist, who may change the image tags and desired counts of the stack's services without stacks:write."`
	StackNamespace  string         `json:"stack_namespace,omitempty" maxLength:"63" doc:"The Kubernetes namespace the stack is applied into (default stacks)."`
	DriftMode       string         `json:"drift_mode,omitempty" enum:"ignore,warn,correct" doc:"What a drift scan does (default warn)."`
	HealthyDeadline string         `json:"healthy_deadline,omitempty" doc:"How long a service may take to become healthy in a rollout: a Go duration, 10s to 1h (default 5m)."`
	Config          map[string]any `json:"config,omitempty" doc:"The cluster's first stackfile (/api/v1/schemas/stackfile.json), as the seed's POST /api/v1/clusters took it: validated first (422 names each path under body.config, and nothing is created); the answer is then 202, with the cluster and, in Location, revision 1."`
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

// ClusterPatch changes a cluster; nil fields are left alone. New
// credentials (a kubeconfig, or a token with its server and CA) replace
// the old ones whole, are checked as at registration, and the cluster is
// checked again.
type ClusterPatch struct {
	Description     *string   `json:"description,omitempty" maxLength:"500"`
	Kubeconfig      *string   `json:"kubeconfig,omitempty" doc:"A kubeconfig of inline data only, as at registration."`
	Server          *string   `json:"server,omitempty" doc:"With token."`
	CA              *string   `json:"ca,omitempty" doc:"PEM; with token."`
	Token           *string   `json:"token,omitempty"`
	Region          *string   `json:"region,omitempty" doc:"ecs only."`
	ECSCluster      *string   `json:"ecs_cluster,omitempty" doc:"ecs only."`
	Endpoint        *string   `json:"endpoint,omitempty" doc:"ecs only; \"\" for the region's."`
	AccessKeyID     *string   `json:"access_key_id,omitempty" doc:"ecs only: a new access key (with secret_access_key) replaces the role or key."`
	SecretAccessKey *string   `json:"secret_access_key,omitempty" doc:"ecs only; alone, it rotates the current key's secret."`
	RoleARN         *string   `json:"role_arn,omitempty" doc:"ecs only: replaces the access key."`
	Deployers       *[]string `json:"deployers,omitempty" maxItems:"100" doc:"Replaces the list; [] removes every deployer."`
	StackNamespace  *string   `json:"stack_namespace,omitempty" maxLength:"63" doc:"\"\" for the default (stacks)."`
	DriftMode       *string   `json:"drift_mode,omitempty" enum:"ignore,warn,correct,"`
	HealthyDeadline *string   `json:"healthy_deadline,omitempty" doc:"A Go duration, 10s to 1h; \"\" for the default (5m)."`
}

// UpdateCluster changes a cluster, if its _etag is still etag (when given).
func (c *Client) UpdateCluster(ctx context.Context, name string, p ClusterPatch, etag string) (*Cluster, error) {
	var out Cluster
	return &out, c.Do(ctx, http.MethodPatch, APIPath+"/clusters/"+url.PathEscape(name), p, &out, IfMatch(etag))
}
