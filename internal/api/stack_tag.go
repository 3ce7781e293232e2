package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
)

type (
	imageTagDoc  = client.ImageTag
	imageTagList = client.ImageTagList
)

func (s *Server) registerStackTags() {
	o := op(http.MethodGet, "/clusters/{cluster}/services/{service}/tags", "list-stack-service-tags", "stacks",
		"List the newest tags of a service's image, from its registry", http.StatusNotFound, http.StatusConflict,
		http.StatusNotImplemented, http.StatusBadGateway)
	o.Description = "The tags of the repository of the service's image in the cluster's current revision, newest first, each with " +
		"its push time and digest: from Amazon ECR (DescribeImages, with the ecs cluster's credentials; 409 for an ECR image on " +
		"another kind of cluster), or from any OCI registry, read anonymously (the push time is then the image's created time). " +
		"Answers are cached per repository for a minute (`X-Cache: HIT` or `MISS`, and `cache` in the body) and forgotten when " +
		"a service's tag is set; when the registry fails, an older cached answer is served with a `warning`, and without one " +
		"the answer is 502, naming the registry and the cause."
	huma.Register(s.api, o, s.listStackServiceTags)
}

type imageTagsOutput struct {
	XCache string `header:"X-Cache" doc:"HIT when the answer came from the cache, MISS when from the registry."`
	Body   imageTagList
}

// listStackServiceTags serves GET /api/v1/clusters/{cluster}/services/{service}/tags.
func (s *Server) listStackServiceTags(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	Service string `path:"service"`
	Limit   int    `query:"limit" minimum:"1" maximum:"100" default:"10" doc:"How many tags, newest first."`
}) (*imageTagsOutput, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, s.problem(ctx, err)
	}
	if s.Tags == nil {
		return nil, s.problem(ctx, purser.Errorf(purser.ENOTIMPLEMENTED, "this server lists no image tags"))
	}
	image, err := s.serviceImage(ctx, in.Cluster, in.Service)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	l, err := s.Tags.ImageTags(ctx, purser.TagQuery{Cluster: in.Cluster, Image: image, Limit: in.Limit})
	if re := (*purser.RegistryError)(nil); errors.As(err, &re) {
		return nil, huma.NewError(http.StatusBadGateway, re.Error())
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &imageTagsOutput{XCache: "MISS"}
	if l.Cached {
		out.XCache = "HIT"
	}
	b := &out.Body
	b.Repository, b.Cache, b.Warning = l.Repository, l.Cached, l.Warning
	b.Items = make([]imageTagDoc, len(l.Tags))
	for i, tg := range l.Tags {
		b.Items[i] = imageTagDoc{Name: tg.Name, Digest: tg.Digest}
		if !tg.Pushed.IsZero() {
			p := tg.Pushed.UTC().Truncate(time.Second)
			b.Items[i].Pushed = &p
		}
	}
	base := BasePath + "/clusters/" + url.PathEscape(in.Cluster)
	b.Meta = listMeta{Page: 1, MaxResults: in.Limit}
	b.Links = map[string]link{"self": {Href: base + "/services/" + url.PathEscape(in.Service) + "/tags", Title: in.Service + " tags"},
		"services": {Href: base + "/services", Title: "services"},
		"cluster":  {Href: base, Title: in.Cluster}}
	return out, nil
}

// serviceImage returns the image of a service in the cluster's current
// revision (normalised), or ENOTFOUND.
func (s *Server) serviceImage(ctx context.Context, cluster, service string) (string, error) {
	cur, err := s.currentRevision(ctx, cluster)
	if err != nil {
		return "", err
	}
	sf := cur.Normalized
	if sf == nil {
		sf = cur.Stackfile.Normalize()
	}
	sv := sf.Service(service)
	if sv == nil {
		return "", purser.Errorf(purser.ENOTFOUND, "revision %d of %s has no service %s", cur.Number, cluster, service)
	}
	return sv.Image, nil
}

// forgetTags drops the cached tags of a service's image repository, after
// its tag was set: the tag may be one the cache has not seen.
func (s *Server) forgetTags(ctx context.Context, cluster, service string) {
	if s.Tags == nil {
		return
	}
	if image, err := s.serviceImage(ctx, cluster, service); err == nil {
		repo, _ := purser.SplitImage(image)
		s.Tags.InvalidateTags(ctx, repo)
	}
}
