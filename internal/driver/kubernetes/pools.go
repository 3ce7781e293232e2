package kubernetes

import (
	"context"

	"github.com/purserhq/purser"
)

// PoolClusters resolves a pool's Kubernetes API: the registered cluster
// (of kind kubernetes) the pool names as its control plane (Pool.Cluster).
type PoolClusters struct {
	// Clusters returns a registered cluster with its credentials.
	Clusters Credentials
}

// Client returns the pool's API; ENOTFOUND when the pool has no control
// plane, EINVALID when its cluster is gone or not of kind kubernetes (the
// sweep then holds the pool's drains, rather than end them unevicted).
func (pc *PoolClusters) Client(ctx context.Context, p *purser.Pool) (purser.PoolCluster, error) {
	name := p.Cluster
	if name == "" {
		return nil, purser.Errorf(purser.ENOTFOUND, "pool %s has no Kubernetes control plane", p.Name)
	}
	c, err := pc.Clusters(ctx, name)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		return nil, purser.Errorf(purser.EINVALID, "pool %s: its control plane, cluster %s, is not registered", p.Name, name)
	}
	if err != nil {
		return nil, err
	}
	if c.Kind != purser.ClusterKubernetes {
		return nil, purser.Errorf(purser.EINVALID, "pool %s: cluster %s is of kind %s, not kubernetes", p.Name, name, c.Kind)
	}
	cfg, err := RESTConfig(c)
	if err != nil {
		return nil, &purser.Error{Code: purser.EINVALID, Message: "pool " + p.Name + ": the credentials of cluster " + name + " are refused", Err: err}
	}
	api, err := NewPoolNodes(cfg)
	if err != nil {
		return nil, err
	}
	return api, nil
}
