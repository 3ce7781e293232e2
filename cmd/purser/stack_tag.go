package main

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

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
