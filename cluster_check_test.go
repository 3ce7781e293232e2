package purser

import (
	"errors"
	"strings"
	"testing"
)

func TestClusterRecordCheck(t *testing.T) {
	t.Parallel()
	c := &Cluster{Name: "c1", LastError: "old"}
	c.RecordCheck("v1.37.1", nil, t0)
	if !c.Reachable || c.Version != "v1.37.1" || c.LastError != "" || !c.CheckedAt.Equal(t0) {
		t.Fatalf("reachable check recorded as %+v", c)
	}
	c.RecordCheck("", errors.New(strings.Repeat("x", 600)), t0)
	if c.Reachable || len(c.LastError) != 505 {
		t.Fatalf("unreachable check: reachable %v, error of %d bytes", c.Reachable, len(c.LastError))
	}
}

func TestRequestCluster(t *testing.T) {
	t.Parallel()
	if got := RequestCluster(map[string]any{"cluster": "p"}, map[string]any{"cluster": "c"}); got != "p" {
		t.Errorf("the parameter wins: %q", got)
	}
	if got := RequestCluster(map[string]any{"cluster": ""}, map[string]any{"cluster": "c"}); got != "c" {
		t.Errorf("else the template's config: %q", got)
	}
	if err := CheckClusterUnused("c", nil); err != nil {
		t.Error(err)
	}
	if err := CheckClusterUnused("c", []string{"r1", "r2"}); ErrorCode(err) != ECONFLICT || !strings.Contains(ErrorMessage(err), "2 environment(s) (e.g. provision request r1)") {
		t.Errorf("in use: %v", err)
	}
}

func TestClusterValidateKinds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		c     Cluster
		field string // the first field refused, "" for none
	}{
		{"Sim", Cluster{Name: "demo", Kind: ClusterSim}, ""},
		{"SimWithToken", Cluster{Name: "demo", Kind: ClusterSim, Server: "https://k.test", Token: "t"}, "kubeconfig"},
		{"SimWithKubeconfig", Cluster{Name: "demo", Kind: ClusterSim, Kubeconfig: "apiVersion: v1"}, "kubeconfig"},
		{"Kubernetes", Cluster{Name: "k", Kind: ClusterKubernetes, Server: "https://k.test", Token: "t"}, ""},
		{"KubernetesWithoutCredentials", Cluster{Name: "k", Kind: ClusterKubernetes}, "kubeconfig"},
		{"UnknownKind", Cluster{Name: "k", Kind: "nomad", Server: "https://k.test", Token: "t"}, "kind"},
		{"KubernetesWithRegion", Cluster{Name: "k", Kind: ClusterKubernetes, Server: "https://k.test", Token: "t", Region: "eu-west-1"}, "region"},
		{"ECSKey", Cluster{Name: "e", Kind: ClusterECS, Region: "eu-west-1", ECSCluster: "prod", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "s"}, ""},
		{"ECSRole", Cluster{Name: "e", Kind: ClusterECS, Region: "us-gov-west-1", ECSCluster: "prod_1", RoleARN: "arn:aws:iam::123456789012:role/purser", Endpoint: "http://127.0.0.1:4566"}, ""},
		{"ECSBadRegion", Cluster{Name: "e", Kind: ClusterECS, Region: "Europe", ECSCluster: "prod", RoleARN: "arn:aws:iam::123456789012:role/purser"}, "region"},
		{"ECSNoCluster", Cluster{Name: "e", Kind: ClusterECS, Region: "eu-west-1", RoleARN: "arn:aws:iam::123456789012:role/purser"}, "ecs_cluster"},
		{"ECSBadEndpoint", Cluster{Name: "e", Kind: ClusterECS, Region: "eu-west-1", ECSCluster: "prod", RoleARN: "arn:aws:iam::123456789012:role/purser", Endpoint: "localhost:4566"}, "endpoint"},
		{"ECSKeyAndRole", Cluster{Name: "e", Kind: ClusterECS, Region: "eu-west-1", ECSCluster: "prod", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "s", RoleARN: "arn:aws:iam::123456789012:role/purser"}, "access_key_id"},
		{"ECSNoCredentials", Cluster{Name: "e", Kind: ClusterECS, Region: "eu-west-1", ECSCluster: "prod"}, "access_key_id"},
		{"ECSKeyWithoutSecret", Cluster{Name: "e", Kind: ClusterECS, Region: "eu-west-1", ECSCluster: "prod", AccessKeyID: "AKIAIOSFODNN7EXAMPLE"}, "secret_access_key"},
		{"ECSBadRole", Cluster{Name: "e", Kind: ClusterECS, Region: "eu-west-1", ECSCluster: "prod", RoleARN: "purser"}, "role_arn"},
		{"ECSWithToken", Cluster{Name: "e", Kind: ClusterECS, Region: "eu-west-1", ECSCluster: "prod", RoleARN: "arn:aws:iam::123456789012:role/purser", Token: "t"}, "kubeconfig"},
		{"SimWithRegion", Cluster{Name: "demo", Kind: ClusterSim, Region: "eu-west-1"}, "kubeconfig"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			var got string
			if e, ok := err.(*Error); ok && len(e.Fields) > 0 {
				got = e.Fields[0].Field
			}
			if got != tt.field || (err == nil) != (tt.field == "") {
				t.Fatalf("Validate() = %v, want a fault on %q", err, tt.field)
			}
		})
	}
}
