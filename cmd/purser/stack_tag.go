package main

import (
	"fmt"
	"net/http"

	"github.com/purserhq/purser/internal/cache"
	"github.com/purserhq/purser/internal/registry"
)

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
func newTagSource(cfg StacksConfig, st *store, caches *cache.Set) *registry.Source {
	return &registry.Source{
		Transport: st.policy.Client(0).Transport,
		ECRClient: &http.Client{Timeout: registry.DefaultTimeout},
		Cluster:   st.db.ClusterCredentials,
		Cache:     registry.Shared(cache.New[registry.Entry](caches, "image_tags", cfg.TagsStale)),
		TTL:       cfg.TagsTTL,
		Metrics:   caches.Counter("image_tags"),
		NowFunc:   st.db.NowFunc,
	}
}
