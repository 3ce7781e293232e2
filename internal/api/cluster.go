package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newClusterDoc(c *purser.Cluster) clusterDoc {
	return clusterDoc{Meta: newMeta(c.Name, c.Created, c.Updated, c.ETag(), "clusters", "cluster"), Name: c.Name, Kind: c.Kind,
		Description: c.Description, Server: c.Server, Reachable: c.Reachable, Version: c.Version, LastError: c.LastError, CheckedAt: c.CheckedAt}
}

type clusterOutput struct {
	ETag string `header:"ETag"`
	Body clusterDoc
}

func (s *Server) registerClusters() {
	huma.Register(s.api, op(http.MethodGet, "/clusters", "list-clusters", "clusters", "List registered clusters (devops, admins)", http.StatusBadRequest), s.listClusters)
	create := op(http.MethodPost, "/clusters", "create-cluster", "clusters", "Register a cluster (devops, admins)", http.StatusConflict)
	create.Description = "Give a kubeconfig, or a server, CA and token. Credentials are encrypted at rest and never returned. The cluster is checked at once; an unreachable one is registered and shown unreachable."
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, s.createCluster)
	huma.Register(s.api, cacheable(op(http.MethodGet, "/clusters/{name}", "get-cluster", "clusters", "Get a cluster", http.StatusNotFound)), s.getCluster)
	huma.Register(s.api, op(http.MethodPost, "/clusters/{name}/check", "check-cluster", "clusters", "Check a cluster's reachability and version now", http.StatusNotFound, http.StatusServiceUnavailable), s.checkCluster)
	del := op(http.MethodDelete, "/clusters/{name}", "delete-cluster", "clusters", "Remove a cluster that hosts no environment", http.StatusNotFound, http.StatusConflict)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, s.deleteCluster)
	patch := op(http.MethodPatch, "/clusters/{name}", "update-cluster", "clusters", "Change a cluster's description or credentials (JSON merge patch; devops, admins)",
		http.StatusNotFound, http.StatusPreconditionFailed)
	patch.Description = "New credentials (a kubeconfig, or a server, CA and token) replace the old ones whole: they are checked as at registration (422), encrypted at rest and never returned, and the cluster is checked again."
	huma.Register(s.api, patch, s.updateCluster)
}

// updateCluster serves PATCH /api/v1/clusters/{name}: Change a cluster's description or credentials.
func (s *Server) updateCluster(ctx context.Context, in *struct {
	Name    string       `path:"name"`
	IfMatch string       `header:"If-Match" doc:"The _etag you read; 412 if the cluster changed since."`
	Body    clusterPatch `contentType:"application/merge-patch+json"`
}) (*clusterOutput, error) {
	b := in.Body
	c, err := s.Clusters.UpdateCluster(ctx, in.Name, purser.ClusterUpdate{Description: b.Description, Kubeconfig: b.Kubeconfig,
		Server: b.Server, CA: b.CA, Token: b.Token}, in.IfMatch)
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
}) (*clusterOutput, error) {
	b := in.Body
	c := &purser.Cluster{Name: b.Name, Kind: b.Kind, Description: b.Description, Kubeconfig: b.Kubeconfig, Server: b.Server, CA: b.CA, Token: b.Token}
	if err := s.Clusters.CreateCluster(ctx, c); err != nil {
		return nil, s.problem(ctx, err)
	}
	return clusterOut(c), nil
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
