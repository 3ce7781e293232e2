package purser

import (
	"context"
	"regexp"
	"time"
)

// Cluster kinds. A sim cluster is built in: it needs no credentials, is
// always reachable, and its services run only in Purser's database (the
// sim target of stacks), for demos and tests. An ecs cluster is an Amazon
// ECS cluster, reached with an access key or by assuming a role; it is
// registered, its credentials sealed, but not checked yet: no target
// reaches ECS clusters so far.
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
	// Deployers may change the image tags and desired counts of the
	// cluster's services without stacks:write: entries user:USERNAME or
	// role:ROLE (see AuthorizeStackChange).
	Deployers []string
	// Stack settings: the Kubernetes namespace the stack is applied into
	// (default DefaultStackNamespace), what a drift scan does (DriftMode),
	// and how long a service may take to become healthy in a rollout
	// (default DefaultHealthyDeadline).
	StackNamespace string
	DriftMode      DriftMode
	Healthy        time.Duration
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
	fe = append(fe, validateDeployers(c.Deployers)...)
	fe = append(fe, c.validateStackSettings()...)
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
	// UpdateCluster applies upd when ifMatch is "" or the cluster's ETag
	// (EPRECONDITION otherwise); new credentials are checked as at
	// registration, sealed, and the cluster checked again. ENOTFOUND when
	// there is no such cluster.
	UpdateCluster(ctx context.Context, name string, upd ClusterUpdate, ifMatch string) (*Cluster, error)
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
	// ClusterToUpdate authorizes, reads (with credentials) and validates
	// what the cluster becomes with upd, before anything is probed.
	ClusterToUpdate(ctx context.Context, name string, upd ClusterUpdate, ifMatch string) (before, after *Cluster, err error)
	// SaveCluster writes after, the update of before (CommitUpdate),
	// unless the cluster changed meanwhile (EPRECONDITION), and returns it
	// without credentials.
	SaveCluster(ctx context.Context, before, after *Cluster) (*Cluster, error)
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

// ClusterUpdate is a partial update of a cluster: nil fields stay. New
// credentials (a kubeconfig, or a token with its server and CA) replace
// the old ones whole. An ecs cluster's region, ECS cluster and endpoint
// change one by one; a new access key (id and secret) or role replaces
// the old credentials whole. Deployers, when set, replace the list.
type ClusterUpdate struct {
	Description *string
	Kubeconfig  *string
	Server      *string
	CA          *string
	Token       *string
	ECS         ECSUpdate
	Deployers   *[]string
	// Stack settings; "" (or 0) restores the default.
	StackNamespace *string
	DriftMode      *DriftMode
	Healthy        *time.Duration
}

// ECSUpdate is the part of a ClusterUpdate only an ecs cluster takes.
type ECSUpdate struct {
	Region          *string
	ECSCluster      *string
	Endpoint        *string
	AccessKeyID     *string
	SecretAccessKey *string
	RoleARN         *string
}

// NewCredentials reports whether upd replaces the cluster's credentials
// or, for an ecs cluster, where it is.
func (upd ClusterUpdate) NewCredentials() bool {
	return upd.Kubeconfig != nil || upd.Token != nil || upd.Server != nil || upd.CA != nil || upd.ECS != (ECSUpdate{})
}

// CredentialKind names the kind of credentials c holds, never their
// value: kubeconfig, token, access_key, role, or none (sim).
func (c *Cluster) CredentialKind() string {
	switch {
	case c.Kind == ClusterSim:
		return "none"
	case c.Kind == ClusterECS && c.RoleARN != "":
		return "role"
	case c.Kind == ClusterECS:
		return "access_key"
	case c.Kubeconfig != "":
		return "kubeconfig"
	}
	return "token"
}

// doc is the cluster as audit events keep it: never its credentials.
func (c *Cluster) doc() map[string]any {
	d := map[string]any{"name": c.Name, "kind": c.Kind, "description": c.Description, "server": c.Server,
		"credentials": c.CredentialKind(), "deployers": c.Deployers, "stack_namespace": c.StackNamespace, "drift_mode": c.DriftMode,
		"healthy_deadline": c.Healthy.String()}
	if c.Kind == ClusterECS {
		d["region"], d["ecs_cluster"] = c.Region, c.ECSCluster
	}
	return d
}

// Update returns what c (read with its credentials) becomes with upd,
// validated, for the caller to check its credentials and probe it before
// Commit; nothing is decided yet.
func (c *Cluster) Update(upd ClusterUpdate) (*Cluster, error) {
	after := *c
	if upd.Description != nil {
		after.Description = *upd.Description
	}
	if len(after.Description) > 500 {
		return nil, Invalid(FieldError{"description", "max_length", "must be at most 500 characters"})
	}
	if upd.Deployers != nil {
		after.Deployers = append([]string{}, (*upd.Deployers)...)
	}
	if upd.StackNamespace != nil {
		after.StackNamespace = *upd.StackNamespace
	}
	if upd.DriftMode != nil {
		after.DriftMode = *upd.DriftMode
	}
	if upd.Healthy != nil {
		after.Healthy = *upd.Healthy
	}
	if fe := after.validateStackSettings(); len(fe) > 0 {
		return nil, Invalid(fe...)
	}
	if upd.ECS != (ECSUpdate{}) {
		if c.Kind != ClusterECS {
			return nil, Invalid(FieldError{"region", "absent", "only an ecs cluster has a region, ECS cluster, endpoint, access key or role"})
		}
		if upd.Kubeconfig != nil || upd.Token != nil || upd.Server != nil || upd.CA != nil {
			return nil, Invalid(FieldError{"kubeconfig", "absent", "an ecs cluster takes an access key or a role, not Kubernetes credentials"})
		}
		after.updateECS(upd.ECS)
		if err := after.Validate(); err != nil {
			return nil, err
		}
		return &after, nil
	}
	if upd.NewCredentials() {
		var fe []FieldError
		if upd.Kubeconfig != nil && (upd.Token != nil || upd.CA != nil || upd.Server != nil) {
			fe = append(fe, FieldError{"kubeconfig", "one_of", "give a kubeconfig, or a server and a token, not both"})
		}
		if upd.Kubeconfig == nil && upd.Token == nil {
			fe = append(fe, FieldError{"token", "required", "new credentials need a kubeconfig, or a token (with its server and CA)"})
		}
		if len(fe) > 0 {
			return nil, Invalid(fe...)
		}
		after.Kubeconfig, after.Token, after.CA = "", "", ""
		// The last check was of the old credentials.
		after.Reachable, after.Version, after.LastError, after.CheckedAt = false, "", "", nil
		if upd.Kubeconfig != nil {
			after.Kubeconfig, after.Server = *upd.Kubeconfig, ""
		} else {
			after.Token = *upd.Token
			if upd.Server != nil {
				after.Server = *upd.Server
			}
			if upd.CA != nil {
				after.CA = *upd.CA
			}
		}
	}
	if err := after.Validate(); err != nil {
		return nil, err
	}
	return &after, nil
}

// CommitUpdate decides writing after, the update of before, at now: the
// cluster (a Row, its credentials sealed by the store) and an audit event
// that says whether the credentials changed, never what they are.
func (c *Cluster) CommitUpdate(after *Cluster, now time.Time) Change {
	after.Updated = now
	a := after.doc()
	a["credentials_changed"] = c.Kubeconfig != after.Kubeconfig || c.Token != after.Token || c.CA != after.CA ||
		c.AccessKeyID != after.AccessKeyID || c.SecretAccessKey != after.SecretAccessKey || c.RoleARN != after.RoleARN
	return Change{Rows: []Row{after}, Events: []AuditEvent{{Action: "cluster.update", TargetType: "cluster", TargetID: after.Name,
		Before: c.doc(), After: a}}}
}

// Namespace is the Kubernetes namespace the cluster's stack is applied into.
func (c *Cluster) Namespace() string {
	if c.StackNamespace == "" {
		return DefaultStackNamespace
	}
	return c.StackNamespace
}

// HealthyDeadline is how long a service of the cluster's stack may take
// to become healthy in a rollout.
func (c *Cluster) HealthyDeadline() time.Duration {
	if c.Healthy <= 0 {
		return DefaultHealthyDeadline
	}
	return c.Healthy
}

// DriftMode is what a drift scan does when a stack's target differs from
// its last applied revision.
type DriftMode string

// Drift modes.
const (
	DriftIgnore  DriftMode = "ignore"  // nothing
	DriftWarn    DriftMode = "warn"    // the services show drifted, a notification once per drift, a metric
	DriftCorrect DriftMode = "correct" // the last applied revision is applied again
)

// Drift returns the cluster's drift mode (default warn).
func (c *Cluster) Drift() DriftMode {
	if c.DriftMode == "" {
		return DriftWarn
	}
	return c.DriftMode
}

var namespaceRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validateStackSettings checks the stack settings: a DNS-1123 label for
// the namespace, a known drift mode, and a healthy deadline from 10 s to
// 1 h (0: the default).
func (c *Cluster) validateStackSettings() []FieldError {
	var fe []FieldError
	if c.StackNamespace != "" && !namespaceRE.MatchString(c.StackNamespace) {
		fe = append(fe, FieldError{"stack_namespace", "pattern", "must be a Kubernetes namespace name: lower-case letters, digits and '-', at most 63"})
	}
	switch c.DriftMode {
	case "", DriftIgnore, DriftWarn, DriftCorrect:
	default:
		fe = append(fe, FieldError{"drift_mode", "enum", "must be ignore, warn or correct"})
	}
	if c.Healthy != 0 && (c.Healthy < 10*time.Second || c.Healthy > time.Hour) {
		fe = append(fe, FieldError{"healthy_deadline", "range", "must be from 10s to 1h"})
	}
	return fe
}
