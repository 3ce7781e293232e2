// Package registry lists an image's tags from the image's own registry:
// Amazon ECR through its API (DescribeImages, as the desired-state seed
// did), any other OCI registry through the distribution API
// (go-containerregistry). Answers are cached by repository (Cache): fresh
// for a TTL, then kept a while longer to be served, with a warning, when
// the registry fails.
//
// OCI registries are read anonymously: Purser never reads credentials from
// its own environment or docker config files (DESIGN.md, "Security
// model"), and every call goes through the transport it is given (the
// outbound policy's, in production). ECR is read with the credentials of
// the ecs cluster whose stack names the image.
package registry

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awsclient"
	"github.com/purserhq/purser/internal/cache"
)

// Defaults of a Source.
const (
	DefaultTTL      = 60 * time.Second
	DefaultStaleTTL = 10 * time.Minute
	DefaultTimeout  = 30 * time.Second
)

// Source is the purser.TagLister of a server.
type Source struct {
	// Transport carries the calls to OCI registries (the outbound
	// policy's, in production); nil is http.DefaultTransport.
	Transport http.RoundTripper
	// ECRClient carries the calls to the ECR API, at the address of AWS
	// or of the cluster's endpoint: like clusters, not subject to the
	// outbound policy (DevOps users are trusted with clusters); nil is
	// http.DefaultClient.
	ECRClient *http.Client
	// Cluster returns a cluster with its credentials, as Purser itself
	// (the caller was authorized to read the stack); nil: ECR images
	// cannot be listed.
	Cluster func(ctx context.Context, name string) (*purser.Cluster, error)
	// Cache keeps answers; nil: nothing is cached.
	Cache Cache
	// TTL is how long an answer is served without asking the registry;
	// 0 is DefaultTTL.
	TTL time.Duration
	// Timeout bounds one listing from a registry; 0 is DefaultTimeout.
	Timeout time.Duration
	// Metrics counts cache hits and misses; nil: not counted.
	Metrics *cache.Counter
	// NowFunc is the clock that ages answers; nil is time.Now.
	NowFunc func() time.Time
}

var _ purser.TagLister = (*Source)(nil)

// ImageTags implements purser.TagLister.
func (s *Source) ImageTags(ctx context.Context, q purser.TagQuery) (*purser.TagList, error) {
	if err := purser.CheckTagLimit(q.Limit); err != nil {
		return nil, err
	}
	repo, _ := purser.SplitImage(q.Image)
	host := purser.ImageRegistry(repo)
	var fetch func(context.Context) ([]purser.ImageTag, error)
	if e, ok := parseECR(repo); ok {
		c, err := s.ecsCluster(ctx, q.Cluster, repo)
		if err != nil {
			return nil, err
		}
		fetch = func(ctx context.Context) ([]purser.ImageTag, error) { return s.ecrTags(ctx, c, e) }
	} else {
		ref, err := ociRepository(repo)
		if err != nil {
			return nil, err
		}
		fetch = func(ctx context.Context) ([]purser.ImageTag, error) { return s.ociTags(ctx, ref) }
	}

	now := s.now()
	cached, ok := Entry{}, false
	if s.Cache != nil {
		cached, ok = s.Cache.Get(ctx, repo)
	}
	if ok && now.Sub(cached.Fetched) < s.ttl() {
		s.Metrics.Hit(ctx)
		return answer(repo, cached, q.Limit, true, ""), nil
	}
	fctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	tags, err := fetch(fctx)
	if err != nil {
		if ok {
			s.Metrics.Hit(ctx)
			return answer(repo, cached, q.Limit, true, fmt.Sprintf("the registry %s failed (%v): these tags were read %s ago",
				host, err, now.Sub(cached.Fetched).Round(time.Second))), nil
		}
		s.Metrics.Miss(ctx)
		return nil, &purser.RegistryError{Registry: host, Err: err}
	}
	s.Metrics.Miss(ctx)
	fresh := Entry{Tags: purser.NewestTags(tags, -1), Fetched: now}
	if s.Cache != nil {
		s.Cache.Set(ctx, repo, fresh)
	}
	return answer(repo, fresh, q.Limit, false, ""), nil
}

// InvalidateTags implements purser.TagLister.
func (s *Source) InvalidateTags(ctx context.Context, repository string) {
	if s.Cache != nil {
		s.Cache.Invalidate(ctx, repository)
	}
}

func answer(repo string, e Entry, limit int, cached bool, warning string) *purser.TagList {
	tags := e.Tags
	if len(tags) > limit {
		tags = tags[:limit]
	}
	return &purser.TagList{Repository: repo, Tags: tags, Cached: cached, Fetched: e.Fetched, Warning: warning}
}

func (s *Source) now() time.Time {
	if s.NowFunc != nil {
		return s.NowFunc()
	}
	return time.Now()
}

func (s *Source) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Source) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

// ecrRepo is an ECR repository, parsed from its image reference.
type ecrRepo = awsclient.ECRRepository

func parseECR(repo string) (ecrRepo, bool) { return awsclient.ParseECR(repo) }

// ecsCluster returns the cluster whose credentials read an ECR
// repository: ECONFLICT unless it is an ecs cluster.
func (s *Source) ecsCluster(ctx context.Context, name, repo string) (*purser.Cluster, error) {
	if s.Cluster == nil {
		return nil, purser.Errorf(purser.ECONFLICT, "%s is in Amazon ECR, which needs an ecs cluster's credentials: this server reads no ECR", repo)
	}
	c, err := s.Cluster(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.Kind != purser.ClusterECS {
		return nil, purser.Errorf(purser.ECONFLICT, "%s is in Amazon ECR, which needs an ecs cluster's credentials: cluster %s is a %s cluster", repo, name, c.Kind)
	}
	return c, nil
}
