package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser/internal/registry"
)

// StacksConfig sets how the tags of services' images are listed.
type StacksConfig struct {
	// TagsTTL is how long a registry's answer is served from the cache.
	TagsTTL time.Duration `koanf:"tags_ttl" yaml:"tags_ttl"`
	// TagsStale is how long an answer is kept, from when the registry
	// gave it, to be served with a warning when the registry fails.
	TagsStale time.Duration `koanf:"tags_stale" yaml:"tags_stale"`
}

func (c StacksConfig) validate() error {
	if c.TagsTTL <= 0 {
		return fmt.Errorf("config: stacks.tags_ttl must be positive")
	}
	if c.TagsStale < c.TagsTTL {
		return fmt.Errorf("config: stacks.tags_stale must be at least stacks.tags_ttl")
	}
	return nil
}

// newTagSource lists image tags: OCI registries through the outbound
// policy (the image names a host a DevOps user chose); ECR with the
// cluster's credentials, read as the kubernetes driver reads them, at
// AWS's address or the cluster's endpoint (clusters are trusted).
func newTagSource(cfg StacksConfig, st *store, reg prometheus.Registerer) *registry.Source {
	return &registry.Source{
		Transport: st.policy.Client(0).Transport,
		ECRClient: &http.Client{Timeout: registry.DefaultTimeout},
		Cluster:   st.db.ClusterCredentials,
		Cache:     registry.NewMemoryCache(cfg.TagsStale, 0),
		TTL:       cfg.TagsTTL,
		Metrics:   registry.NewMetrics(reg),
		NowFunc:   st.db.NowFunc,
	}
}
