package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

func newClusterDoc(c *purser.Cluster) clusterDoc {
	return clusterDoc{Meta: newMeta(c.Name, c.Created, c.Updated, c.ETag(), "clusters", "cluster"), Name: c.Name, Kind: c.Kind,
		Description: c.Description, Server: c.Server, Region: c.Region, ECSCluster: c.ECSCluster, Deployers: append([]string{}, c.Deployers...),
		StackNamespace: c.Namespace(), DriftMode: string(c.Drift()), HealthyDeadline: c.HealthyDeadline().String(),
		Reachable: c.Reachable, Version: c.Version, LastError: c.LastError, CheckedAt: c.CheckedAt}
}

type clusterOutput struct {
	ETag string `header:"ETag"`
	Body clusterDoc
}

// clusterCreateOutput is a registration's answer: 201, or 202 with the
// first revision in Location when a config came with it.
type clusterCreateOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     clusterDoc
}

func (s *Server) registerClusters() {
	huma.Register(s.api, op(http.MethodGet, "/clusters", "list-clusters", "clusters", "List registered clusters (devops, admins)", http.StatusBadRequest), s.listClusters)
	create := op(http.MethodPost, "/clusters", "create-cluster", "clusters", "Register a cluster (devops, admins)", http.StatusConflict)
	create.Description = "Give a kubeconfig, or a server, CA and token; for kind ecs, a region, the ECS cluster's name, an optional endpoint, and an access key " +
		"(access_key_id, secret_access_key) or a role_arn; for kind sim, nothing. Credentials are encrypted at rest and never returned. " +
		"A kubernetes cluster is checked at once (an unreachable one is registered and shown unreachable); an ecs cluster is not checked yet: " +
		"no driver reaches ECS, and its last_error says so. With `config`, the cluster's first stackfile, the stackfile is validated first " +
		"(422 naming each path under body.config, and nothing is created), the cluster is registered and the stackfile proposed as revision 1: " +
		"the answer is then 202, with the revision in Location."
	create.DefaultStatus = http.StatusCreated
	create.Responses = map[string]*huma.Response{"202": {Description: "Registered with its first stackfile, revision 1 (in Location)."}}
	huma.Register(s.api, create, s.createCluster)
	huma.Register(s.api, cacheable(op(http.MethodGet, "/clusters/{name}", "get-cluster", "clusters", "Get a cluster", http.StatusNotFound)), s.getCluster)
	huma.Register(s.api, op(http.MethodPost, "/clusters/{name}/check", "check-cluster", "clusters", "Check a cluster's reachability and version now", http.StatusNotFound, http.StatusServiceUnavailable), s.checkCluster)
	del := op(http.MethodDelete, "/clusters/{name}", "delete-cluster", "clusters", "Remove a cluster that hosts no environment", http.StatusNotFound, http.StatusConflict)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, s.deleteCluster)
	patch := op(http.MethodPatch, "/clusters/{name}", "update-cluster", "clusters", "Change a cluster's description or credentials (JSON merge patch; devops, admins)",
		http.StatusNotFound, http.StatusPreconditionFailed)
	patch.Description = "New credentials (a kubeconfig, or a server, CA and token; for ecs, an access key or a role) replace the old ones whole: " +
		"they are checked as at registration (422), encrypted at rest and never returned, and the cluster is checked again. " +
		"deployers replaces the list of users and roles who may change the stack's image tags and counts."
	huma.Register(s.api, patch, s.updateCluster)
}

// updateCluster serves PATCH /api/v1/clusters/{name}: Change a cluster's description or credentials.
func (s *Server) updateCluster(ctx context.Context, in *struct {
	Name    string       `path:"name"`
	IfMatch string       `header:"If-Match" doc:"The _etag you read; 412 if the cluster changed since."`
	Body    clusterPatch `contentType:"application/merge-patch+json"`
}) (*clusterOutput, error) {
	b := in.Body
	upd := purser.ClusterUpdate{StackNamespace: b.StackNamespace}
	if b.DriftMode != nil {
		m := purser.DriftMode(*b.DriftMode)
		upd.DriftMode = &m
	}
	if b.HealthyDeadline != nil {
		d, err := healthyDeadline(*b.HealthyDeadline)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		upd.Healthy = &d
	}
	c, err := s.Clusters.UpdateCluster(ctx, in.Name, purser.ClusterUpdate{Description: b.Description, Kubeconfig: b.Kubeconfig,
		StackNamespace: upd.StackNamespace, DriftMode: upd.DriftMode, Healthy: upd.Healthy,
		Server: b.Server, CA: b.CA, Token: b.Token, Deployers: b.Deployers, ECS: purser.ECSUpdate{Region: b.Region, ECSCluster: b.ECSCluster,
			Endpoint: b.Endpoint, AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey, RoleARN: b.RoleARN}}, in.IfMatch)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return clusterOut(c), nil
}

// listClusters serves GET /api/v1/clusters: List registered clusters (devops, admins).
func (s *Server) listClusters(ctx context.Context, in *ListParams) (*struct{ Body collection[clusterDoc] }, error) {
	return listOf(ctx, s, in, "clusters", purser.ClusterFields, s.Clusters.FindClusters, newClusterDoc)
}

// createCluster serves POST /api/v1/clusters: Register a cluster (devops, admins).
func (s *Server) createCluster(ctx context.Context, in *struct {
	Body clusterBody
}) (*clusterCreateOutput, error) {
	b := in.Body
	c := &purser.Cluster{Name: b.Name, Kind: b.Kind, Description: b.Description, Kubeconfig: b.Kubeconfig, Server: b.Server, CA: b.CA, Token: b.Token,
		Region: b.Region, ECSCluster: b.ECSCluster, Endpoint: b.Endpoint, AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey,
		RoleARN: b.RoleARN, Deployers: b.Deployers, StackNamespace: b.StackNamespace, DriftMode: purser.DriftMode(b.DriftMode)}
	var err error
	if c.Healthy, err = healthyDeadline(b.HealthyDeadline); err != nil {
		return nil, s.problem(ctx, err)
	}
	var first *purser.StackProposal
	if b.Config != nil {
		// Whoever may not propose it is told so before its faults.
		if err := purser.Authorize(ctx, purser.ActionStackWrite, ""); err != nil {
			return nil, s.problem(ctx, err)
		}
		p, err := initialStackfile(b.Name, b.Config)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		first = p
	}
	if err := s.Clusters.CreateCluster(ctx, c); err != nil {
		return nil, s.problem(ctx, err)
	}
	out := clusterOut(c)
	if first == nil {
		return &clusterCreateOutput{Status: http.StatusCreated, ETag: out.ETag, Body: out.Body}, nil
	}
	rev, err := s.Stacks.ProposeRevision(ctx, c.Name, *first)
	if err != nil {
		// The cluster goes with its stackfile, or not at all.
		if derr := s.Clusters.DeleteCluster(ctx, c.Name); derr != nil {
			s.Logger.ErrorContext(ctx, "remove a cluster whose first stackfile failed", "cluster", c.Name, "error", derr)
		}
		return nil, s.problem(ctx, err)
	}
	loc := revisionPath(c.Name, rev.Number)
	out.Body.Links["revision"] = link{Href: loc, Title: "revision " + strconv.Itoa(rev.Number)}
	return &clusterCreateOutput{Status: http.StatusAccepted, ETag: out.ETag, Location: loc, Body: out.Body}, nil
}

// initialStackfile validates a registration's config as the cluster's
// first stackfile: faults are named under config, and so is a secret
// reference (a new cluster has no secret yet).
func initialStackfile(cluster string, config map[string]any) (*purser.StackProposal, error) {
	source, err := json.Marshal(config)
	if err != nil {
		return nil, purser.Invalid(purser.FieldError{Field: "config", Rule: "type", Message: "must be a JSON object"})
	}
	sf, err := stackfile.FromTree(config)
	if err == nil {
		err = purser.CheckSecretRefs(cluster, sf.Normalize().SecretRefs(), nil)
	}
	var pe *purser.Error
	if errors.As(err, &pe) && pe.Code == purser.EINVALID {
		fields := make([]purser.FieldError, len(pe.Fields))
		for i, f := range pe.Fields {
			f.Field = "config." + f.Field
			if f.Field == "config.stackfile" {
				f.Field = "config"
			}
			fields[i] = f
		}
		return nil, &purser.Error{Code: purser.EINVALID, Message: "the config is not a valid stackfile; nothing was created", Fields: fields}
	}
	if err != nil {
		return nil, err
	}
	zero := 0
	return &purser.StackProposal{Message: "initial stackfile", Source: string(source), Stackfile: sf, IfMatch: &zero}, nil
}

// getCluster serves GET /api/v1/clusters/{name}: Get a cluster.
func (s *Server) getCluster(ctx context.Context, in *struct {
	Name string `path:"name"`
}) (*clusterOutput, error) {
	c, err := s.Clusters.FindClusterByName(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return clusterOut(c), nil
}

// checkCluster serves POST /api/v1/clusters/{name}/check: Check a cluster's reachability and version now.
func (s *Server) checkCluster(ctx context.Context, in *struct {
	Name string `path:"name"`
}) (*clusterOutput, error) {
	c, err := s.Clusters.CheckCluster(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return clusterOut(c), nil
}

// deleteCluster serves DELETE /api/v1/clusters/{name}: Remove a cluster that hosts no environment.
func (s *Server) deleteCluster(ctx context.Context, in *struct {
	Name string `path:"name"`
}) (*struct{}, error) {
	return nil, s.problemOrNil(ctx, s.Clusters.DeleteCluster(ctx, in.Name))
}

func clusterOut(c *purser.Cluster) *clusterOutput {
	d := newClusterDoc(c)
	return &clusterOutput{ETag: etagOf(d.ETag), Body: d}
}

// healthyDeadline reads a healthy_deadline ("" for the default).
func healthyDeadline(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, purser.Invalid(purser.FieldError{Field: "healthy_deadline", Rule: "format", Message: "must be a duration such as 90s or 5m"})
	}
	return d, nil
}
