package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/driver/kubernetes"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/storetest"
)

// TestClustersProbeKubernetesOnly: the clusters service the API serves
// probes only kubernetes clusters. A sim cluster is recorded reachable and
// simulated; an ecs cluster (which the domain accepts and no driver
// reaches yet) is recorded unchecked, saying why, without the Kubernetes
// probe being run against it.
func TestClustersProbeKubernetesOnly(t *testing.T) {
	t.Parallel()
	db := storetest.Equip(t, openSQLite(t))
	probed := 0
	clusters := &kubernetes.Clusters{ClusterStore: sqldb.NewClusterService(db), NowFunc: time.Now,
		Probe: func(context.Context, *purser.Cluster) (string, error) { probed++; return "v1.37.1", nil }}
	ctx := purser.SystemContext(context.Background())
	sim := &purser.Cluster{Name: "sim1", Kind: purser.ClusterSim}
	if err := clusters.CreateCluster(ctx, sim); err != nil || !sim.Reachable || sim.Version != purser.SimulatedVersion {
		t.Fatalf("register sim1: %+v (%v)", sim, err)
	}
	ecs := &purser.Cluster{Name: "ecs1", Kind: purser.ClusterECS, Region: "eu-west-1", ECSCluster: "prod", RoleARN: "arn:aws:iam::123456789012:role/purser"}
	if err := clusters.CreateCluster(ctx, ecs); err != nil || ecs.Reachable || !strings.Contains(ecs.LastError, "no driver checks ecs clusters") {
		t.Fatalf("register ecs1: %+v (%v)", ecs, err)
	}
	if got, err := clusters.CheckCluster(ctx, "sim1"); err != nil || !got.Reachable || got.Version != purser.SimulatedVersion {
		t.Fatalf("check sim1: %+v (%v)", got, err)
	}
	if probed != 0 {
		t.Fatalf("the kubernetes probe ran %d times on clusters of other kinds", probed)
	}
}
