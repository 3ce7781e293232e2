package kubernetes

import (
	"context"
	"time"

	"github.com/purserhq/purser"
)

// ProbeTimeout bounds one probe of a cluster.
const ProbeTimeout = 10 * time.Second

// Clusters is the purser.ClusterService the API serves: the store's
// clusters, each probed (a network call) between the store's calls and
// outside any transaction, so that the store itself never reaches out.
// An unreachable cluster is registered all the same, shown unreachable.
type Clusters struct {
	purser.ClusterStore
	// Probe checks a cluster (Probe in production); nil when this server
	// reaches no cluster.
	Probe purser.ClusterProbe
	// NowFunc returns the time a check is recorded at.
	NowFunc func() time.Time
}

var _ purser.ClusterService = (*Clusters)(nil)

// CreateCluster validates c, probes it, then has the store register it.
func (s *Clusters) CreateCluster(ctx context.Context, c *purser.Cluster) error {
	if err := s.CheckNewCluster(ctx, c); err != nil {
		return err
	}
	if s.Probe != nil || c.Kind != purser.ClusterKubernetes {
		s.probe(ctx, c)
	}
	return s.ClusterStore.CreateCluster(ctx, c)
}

// CheckCluster probes a cluster now and has the store record the result.
func (s *Clusters) CheckCluster(ctx context.Context, name string) (*purser.Cluster, error) {
	c, err := s.ClusterToCheck(ctx, name)
	if err != nil {
		return nil, err
	}
	if s.Probe == nil && c.Kind == purser.ClusterKubernetes {
		return nil, purser.Errorf(purser.EUNAVAILABLE, "this server cannot reach clusters")
	}
	s.probe(ctx, c)
	return s.RecordClusterCheck(ctx, c)
}

// probe checks a kubernetes cluster; it records a sim cluster reachable
// and simulated, and any other kind unchecked.
func (s *Clusters) probe(ctx context.Context, c *purser.Cluster) {
	now := s.NowFunc().UTC().Truncate(time.Microsecond)
	switch c.Kind {
	case purser.ClusterSim:
		c.RecordCheck(purser.SimulatedVersion, nil, now)
		return
	case purser.ClusterKubernetes:
	default:
		c.RecordCheck("", purser.Errorf(purser.ENOTIMPLEMENTED, "not checked: no driver checks %s clusters yet (its credentials are stored, sealed)", c.Kind), now)
		return
	}
	pctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	v, err := s.Probe(pctx, c)
	c.RecordCheck(v, err, now)
}

// UpdateCluster has the store validate the change, probes the cluster
// again when its credentials change, then has the store save it.
func (s *Clusters) UpdateCluster(ctx context.Context, name string, upd purser.ClusterUpdate, ifMatch string) (*purser.Cluster, error) {
	before, after, err := s.ClusterToUpdate(ctx, name, upd, ifMatch)
	if err != nil {
		return nil, err
	}
	if upd.NewCredentials() && (s.Probe != nil || after.Kind != purser.ClusterKubernetes) {
		s.probe(ctx, after)
	}
	return s.SaveCluster(ctx, before, after)
}
