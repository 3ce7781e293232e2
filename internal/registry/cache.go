package registry

import (
	"context"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser"
)

// Entry is a repository's tags as the registry gave them, newest first,
// and when.
type Entry struct {
	Tags    []purser.ImageTag
	Fetched time.Time
}

// Cache keeps repositories' tags. Whether an entry is fresh is the
// Source's decision (Entry.Fetched against its TTL); a cache keeps an
// entry as long as it may still be served stale. An implementation shared
// by several replicas (Redis) fits behind the same interface.
type Cache interface {
	// Get returns the entry of a repository, if the cache holds one.
	Get(ctx context.Context, repository string) (Entry, bool)
	// Set stores a repository's entry.
	Set(ctx context.Context, repository string, e Entry)
	// Invalidate forgets a repository's entry.
	Invalidate(ctx context.Context, repository string)
}

// MemoryCache is the in-process Cache.
type MemoryCache struct {
	c *otter.Cache[string, Entry]
}

// NewMemoryCache returns a cache of at most max repositories (0: 10,000),
// each kept keep (0: DefaultStaleTTL) after it was set.
func NewMemoryCache(keep time.Duration, max int) *MemoryCache {
	if keep <= 0 {
		keep = DefaultStaleTTL
	}
	if max <= 0 {
		max = 10_000
	}
	return &MemoryCache{c: otter.Must(&otter.Options[string, Entry]{
		MaximumSize:      max,
		ExpiryCalculator: otter.ExpiryWriting[string, Entry](keep),
	})}
}

// Get implements Cache.
func (m *MemoryCache) Get(_ context.Context, repository string) (Entry, bool) {
	return m.c.GetIfPresent(repository)
}

// Set implements Cache.
func (m *MemoryCache) Set(_ context.Context, repository string, e Entry) { m.c.Set(repository, e) }

// Invalidate implements Cache.
func (m *MemoryCache) Invalidate(_ context.Context, repository string) { m.c.Invalidate(repository) }

// Metrics counts a cache's hits and misses, as
// purser_cache_hits_total{cache="image_tags"} and
// purser_cache_misses_total{cache="image_tags"}.
type Metrics struct {
	hits, misses prometheus.Counter
}

// NewMetrics registers the image tag cache's counters with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	labels := prometheus.Labels{"cache": "image_tags"}
	m := &Metrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{Name: "purser_cache_hits_total", ConstLabels: labels,
			Help: "Answers served from a cache, by cache."}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{Name: "purser_cache_misses_total", ConstLabels: labels,
			Help: "Answers a cache did not hold (or held too old), by cache."}),
	}
	reg.MustRegister(m.hits, m.misses)
	return m
}

func (m *Metrics) hit() {
	if m != nil {
		m.hits.Inc()
	}
}

func (m *Metrics) miss() {
	if m != nil {
		m.misses.Inc()
	}
}
