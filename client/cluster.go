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
	Name        string     `json:"name"`
	Kind        string     `json:"kind" enum:"kubernetes,sim"`
	Description string     `json:"description,omitempty"`
	Server      string     `json:"server" doc:"The API server's URL. Credentials are never returned."`
	Reachable   bool       `json:"reachable"`
	Version     string     `json:"version,omitempty" doc:"The server's version at the last check."`
	LastError   string     `json:"last_error,omitempty"`
	CheckedAt   *time.Time `json:"checked_at,omitempty"`
}

// ClusterCreate registers a cluster: a kubeconfig, or server, CA and token;
// for kind sim, nothing.
type ClusterCreate struct {
	Name        string `json:"name" doc:"A DNS label."`
	Kind        string `json:"kind,omitempty" enum:"kubernetes,sim" doc:"Default kubernetes. A sim cluster is built in: give no credentials; it is always reachable and its version reads simulated."`
	Description string `json:"description,omitempty" maxLength:"500"`
	Kubeconfig  string `json:"kubeconfig,omitempty" doc:"A kubeconfig (its current context is used) of inline data only: token, client-certificate-data, client-key-data, certificate-authority-data, username and password. An exec or auth-provider plugin, a file path (tokenFile, client-certificate, client-key, certificate-authority), proxy-url and impersonation are refused with 422."`
	Server      string `json:"server,omitempty"`
	CA          string `json:"ca,omitempty" doc:"PEM."`
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

// ClusterPatch changes a cluster; nil fields are left alone. New
// credentials (a kubeconfig, or a token with its server and CA) replace
// the old ones whole, are checked as at registration, and the cluster is
// checked again.
type ClusterPatch struct {
	Description *string `json:"description,omitempty" maxLength:"500"`
	Kubeconfig  *string `json:"kubeconfig,omitempty" doc:"A kubeconfig of inline data only, as at registration."`
	Server      *string `json:"server,omitempty" doc:"With token."`
	CA          *string `json:"ca,omitempty" doc:"PEM; with token."`
	Token       *string `json:"token,omitempty"`
}

// UpdateCluster changes a cluster, if its _etag is still etag (when given).
func (c *Client) UpdateCluster(ctx context.Context, name string, p ClusterPatch, etag string) (*Cluster, error) {
	var out Cluster
	return &out, c.Do(ctx, http.MethodPatch, APIPath+"/clusters/"+url.PathEscape(name), p, &out, IfMatch(etag))
}
