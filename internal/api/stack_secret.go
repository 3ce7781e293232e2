package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

// The secrets of a cluster's stack: values a stackfile names ${NAME}.
// Values go in and never come out: not in answers, logs or audit events.

type clusterSecretOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     clusterSecretDoc
}

func (s *Server) registerStackSecrets() {
	huma.Register(s.api, op(http.MethodGet, "/clusters/{cluster}/secrets", "list-cluster-secrets", "stacks",
		"List a cluster's secrets: names and dates, never values", http.StatusNotFound), s.listClusterSecrets)

	put := op(http.MethodPut, "/clusters/{cluster}/secrets/{name}", "set-cluster-secret", "stacks",
		"Create or replace a cluster secret (devops, admins)", http.StatusNotFound, http.StatusConflict)
	put.Description = "A value stackfiles name `${NAME}` in environment values. It is sealed at rest, never returned, logged or " +
		"audited (the audit names the secret only). 201 when created, 200 when replaced."
	put.DefaultStatus = http.StatusCreated
	put.Responses = map[string]*huma.Response{"200": {Description: "Replaced."}}
	huma.Register(s.api, put, s.setClusterSecret)

	del := op(http.MethodDelete, "/clusters/{cluster}/secrets/{name}", "delete-cluster-secret", "stacks",
		"Remove a cluster secret (devops, admins)", http.StatusNotFound, http.StatusConflict)
	del.Description = "409 while the current revision refers to it: propose a stackfile without it first."
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, s.deleteClusterSecret)
}

func newClusterSecretDoc(sec purser.ClusterSecret) clusterSecretDoc {
	base := BasePath + "/clusters/" + url.PathEscape(sec.Cluster)
	return clusterSecretDoc{
		Meta: Meta{ID: sec.Name, Created: sec.Created, Updated: sec.Updated,
			ETag: purser.Meta{ID: "secret-" + sec.Cluster + "-" + sec.Name, Updated: sec.Updated}.ETag(),
			Links: map[string]link{
				"self":       {Href: base + "/secrets/" + url.PathEscape(sec.Name), Title: sec.Name},
				"collection": {Href: base + "/secrets", Title: "secrets"},
				"cluster":    {Href: base, Title: sec.Cluster},
			}},
		Cluster: sec.Cluster, Name: sec.Name,
	}
}

// listClusterSecrets serves GET /api/v1/clusters/{cluster}/secrets.
func (s *Server) listClusterSecrets(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
}) (*struct{ Body collection[clusterSecretDoc] }, error) {
	secs, err := s.Stacks.Secrets(ctx, in.Cluster)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[clusterSecretDoc] }{}
	out.Body.Items = make([]clusterSecretDoc, len(secs))
	for i, sec := range secs {
		out.Body.Items[i] = newClusterSecretDoc(sec)
	}
	base := BasePath + "/clusters/" + url.PathEscape(in.Cluster)
	out.Body.Meta = listMeta{Page: 1, MaxResults: len(secs), Total: counted(len(secs))}
	out.Body.Links = map[string]link{"self": {Href: base + "/secrets", Title: "secrets"}, "cluster": {Href: base, Title: in.Cluster}}
	return out, nil
}

// setClusterSecret serves PUT /api/v1/clusters/{cluster}/secrets/{name}.
func (s *Server) setClusterSecret(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	Name    string `path:"name" doc:"Letters, digits and '_', not starting with a digit, at most 128."`
	Body    clusterSecretBody
}) (*clusterSecretOutput, error) {
	created, err := s.Stacks.SetSecret(ctx, in.Cluster, in.Name, in.Body.Value)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	secs, err := s.Stacks.Secrets(ctx, in.Cluster)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	for _, sec := range secs {
		if sec.Name != in.Name {
			continue
		}
		d := newClusterSecretDoc(sec)
		out := &clusterSecretOutput{Status: http.StatusOK, ETag: etagOf(d.ETag), Body: d}
		if created {
			out.Status, out.Location = http.StatusCreated, d.Links["self"].Href
		}
		return out, nil
	}
	return nil, s.problem(ctx, purser.Errorf(purser.ECONFLICT, "secret %s of %s was removed meanwhile", in.Name, in.Cluster))
}

// deleteClusterSecret serves DELETE /api/v1/clusters/{cluster}/secrets/{name}.
func (s *Server) deleteClusterSecret(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	Name    string `path:"name"`
}) (*struct{}, error) {
	return nil, s.problemOrNil(ctx, s.Stacks.DeleteSecret(ctx, in.Cluster, in.Name))
}
