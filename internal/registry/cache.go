package registry

import (
	"context"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/cache"
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

// Shared returns a Cache kept in c: in this process or in Redis, shared by
// every replica. Freshness stays the Source's decision, and so does the
// counting (Source.Metrics).
func Shared(c *cache.Cache[Entry]) Cache { return shared{c} }

type shared struct{ c *cache.Cache[Entry] }

func (s shared) Get(ctx context.Context, repository string) (Entry, bool) {
	return s.c.Peek(ctx, repository)
}

func (s shared) Set(ctx context.Context, repository string, e Entry) { s.c.Set(ctx, repository, e) }

func (s shared) Invalidate(ctx context.Context, repository string) { s.c.Invalidate(ctx, repository) }
