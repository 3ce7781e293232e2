package purser

import (
	"context"
	"regexp"
	"time"
)

// Cluster kinds. A sim cluster is built in: it needs no credentials, is
// always reachable, and its services run only in Purser's database (the
// sim target of stacks), for demos and tests. An ecs cluster is an Amazon
// ECS cluster, reached with an access key or by assuming a role; the
// domain and the store accept it, the API does not offer it yet (no
// driver reaches it).
const (
	ClusterKubernetes = "kubernetes"
	ClusterSim        = "sim"
	ClusterECS        = "ecs"
)

// SimulatedVersion is the version a sim cluster's check records, so that
// every listing shows it is simulated.
const SimulatedVersion = "simulated"

// Cluster is a registered target. Its credentials (a kubeconfig, or a
// server, CA and token) are sealed at rest and never returned.
type Cluster struct {
	Meta
	Name        string
	Kind        string
	Description string
	Server      string // the API server's URL, read from the credentials
	// Credentials: a kubeconfig, or Token (with Server and optional CA).
	Kubeconfig string
	CA         string
	Token      string
	// ECS: where the cluster is (Endpoint overrides the region's, for
	// an emulator), and either an access key or a role to assume.
	Region          string
	ECSCluster      string
	Endpoint        string
	AccessKeyID     string
	SecretAccessKey string
	RoleARN         string
	// Status, from the last check.
	Reachable bool
	Version   string
	LastError string
	CheckedAt *time.Time
}

var clusterNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Validate checks the cluster's own fields.
func (c *Cluster) Validate() error {
	var fe []FieldError
	if !clusterNameRE.MatchString(c.Name) {
		fe = append(fe, FieldError{"name", "pattern", "must be a DNS label: lower-case letters, digits and '-', at most 63"})
	}
	switch c.Kind {
	case ClusterSim:
		if c.Kubeconfig != "" || c.Token != "" || c.Server != "" || c.CA != "" || c.hasECSFields() {
			fe = append(fe, FieldError{"kubeconfig", "absent", "a sim cluster takes no credentials: give no kubeconfig, server, CA or token"})
		}
		return invalidOrNil(fe)
	case ClusterECS:
		return invalidOrNil(append(fe, c.validateECS()...))
	case ClusterKubernetes:
		if c.hasECSFields() {
			fe = append(fe, FieldError{"region", "absent", "only an ecs cluster has a region, ECS cluster, endpoint, access key or role"})
		}
	default:
		fe = append(fe, FieldError{"kind", "enum", "must be kubernetes, sim or ecs"})
	}
	if (c.Kubeconfig == "") == (c.Token == "") {
		fe = append(fe, FieldError{"kubeconfig", "one_of", "give a kubeconfig, or a server and a token"})
	}
	if c.Token != "" && c.Server == "" {
		fe = append(fe, FieldError{"server", "required", "a token needs the server's URL"})
	}
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}

// ClusterFields are the fields of clusters that where and sort may name.
var ClusterFields = Fields{"_id": KindString, "name": KindString, "kind": KindString, "_created": KindTime}

// ClusterProbe checks a cluster: whether it answers, and its version.
type ClusterProbe func(ctx context.Context, c *Cluster) (version string, err error)

// ClusterService manages registered clusters. Every method authorizes the
// actor in ctx: reading needs clusters:read, changing clusters:write.
// Credentials are sealed at rest and never returned.
type ClusterService interface {
	// FindClusterByName returns the cluster, without its credentials, or
	// ENOTFOUND.
	FindClusterByName(ctx context.Context, name string) (*Cluster, error)
	// FindClusters returns a page of clusters, without their credentials,
	// and how many match q in all.
	FindClusters(ctx context.Context, q Query) ([]*Cluster, PageInfo, error)
	// CreateCluster registers a cluster and checks it (an unreachable
	// cluster is registered all the same, and shown unreachable); ECONFLICT
	// when the name is taken, EINVALID for a bad name or kubeconfig.
	CreateCluster(ctx context.Context, c *Cluster) error
	// CheckCluster probes a cluster now, records whether it answered and
	// its version, and returns it; ENOTFOUND when there is none.
	CheckCluster(ctx context.Context, name string) (*Cluster, error)
	// DeleteCluster removes a cluster that hosts no environment: ECONFLICT
	// while one lives on it, ENOTFOUND when there is no such cluster.
	DeleteCluster(ctx context.Context, name string) error
}

// Simulated reports whether c is a sim cluster, which nothing probes.
func (c *Cluster) Simulated() bool { return c.Kind == ClusterSim }

// RecordCheck records the outcome of probing c at now: reachable with its
// version, or unreachable and why (the first 500 bytes).
func (c *Cluster) RecordCheck(version string, err error, now time.Time) {
	c.CheckedAt, c.Reachable, c.Version, c.LastError = &now, err == nil, version, ""
	if err != nil {
		c.LastError = truncate(err.Error(), 500)
	}
}

// ClusterStore is the store's side of ClusterService: it records clusters
// and their checks, and makes no network call; whoever probes a cluster
// (the kubernetes driver's Clusters) does so between its calls.
type ClusterStore interface {
	// FindClusterByName is ClusterService.FindClusterByName.
	FindClusterByName(ctx context.Context, name string) (*Cluster, error)
	// FindClusters is ClusterService.FindClusters.
	FindClusters(ctx context.Context, q Query) ([]*Cluster, PageInfo, error)
	// DeleteCluster is ClusterService.DeleteCluster.
	DeleteCluster(ctx context.Context, name string) error
	// CheckNewCluster authorizes and validates a cluster about to be
	// registered (filling defaults), before anything is probed.
	CheckNewCluster(ctx context.Context, c *Cluster) error
	// CreateCluster registers c, with the check the caller recorded on it
	// (none when nothing probed it).
	CreateCluster(ctx context.Context, c *Cluster) error
	// ClusterToCheck returns a cluster with its credentials, to probe; it
	// needs clusters:read.
	ClusterToCheck(ctx context.Context, name string) (*Cluster, error)
	// RecordClusterCheck stores the check recorded on c and returns c
	// without its credentials.
	RecordClusterCheck(ctx context.Context, c *Cluster) (*Cluster, error)
}

// RequestCluster is the cluster a kubernetes-namespace request's
// environment lives on: its cluster parameter, else its template's config.
func RequestCluster(params, config map[string]any) string {
	if c, ok := params["cluster"].(string); ok && c != "" {
		return c
	}
	c, _ := config["cluster"].(string)
	return c
}

// CheckClusterUnused refuses to delete a cluster that still hosts the
// environments of the requests listed.
func CheckClusterUnused(name string, requests []string) error {
	if len(requests) == 0 {
		return nil
	}
	return Errorf(ECONFLICT, "cluster %s still hosts %d environment(s) (e.g. provision request %s); purge them first", name, len(requests), requests[0])
}
