// Package cache keeps answers that are costly to make (image tags from
// registries, the catalog) for a while, in this process (otter) or in Redis
// shared by every replica (rueidis, with client-side caching), so that
// replicas share answers and invalidations. Each named cache counts its
// hits and misses as purser_cache_hits_total and purser_cache_misses_total
// {cache="name"}. A Redis that cannot be reached is a miss, logged as a
// warning, never an error: reads fall through to the source.
package cache

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser"
)

// Backend stores values by key, each for its TTL.
type Backend interface {
	// Get returns the value of key; found is false when there is none.
	Get(ctx context.Context, key string) (val []byte, found bool, err error)
	// Set stores val under key for ttl.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// Delete forgets keys, in every replica's view.
	Delete(ctx context.Context, keys ...string) error
	// Check reports whether the backend can be reached now.
	Check(ctx context.Context) error
	// Close releases the backend's connections.
	Close()
}

// Set is the caches of one server: one backend, one pair of counters.
type Set struct {
	Backend Backend
	Logger  *slog.Logger

	hits, misses *prometheus.CounterVec
	mu           sync.Mutex
	warned       time.Time // when a backend error was last logged
}

// NewSet returns the caches over b, counted in reg (nil: not counted).
func NewSet(b Backend, reg prometheus.Registerer, logger *slog.Logger) *Set {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Set{Backend: b, Logger: logger.With("component", "cache"),
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "purser_cache_hits_total",
			Help: "Answers served from a cache, by cache."}, []string{"cache"}),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "purser_cache_misses_total",
			Help: "Answers a cache did not hold (or held too old), by cache."}, []string{"cache"}),
	}
	if reg != nil {
		reg.MustRegister(s.hits, s.misses)
	}
	return s
}

// Counter counts one cache's hits and misses.
type Counter struct{ hits, misses prometheus.Counter }

// Counter returns the counters of the cache called name.
func (s *Set) Counter(name string) *Counter {
	return &Counter{hits: s.hits.WithLabelValues(name), misses: s.misses.WithLabelValues(name)}
}

// Hit counts a hit and tells the request's report (X-Cache) of it.
func (c *Counter) Hit(ctx context.Context) {
	if c != nil {
		c.hits.Inc()
	}
	purser.ReportCache(ctx, true)
}

// Miss counts a miss and tells the request's report of it.
func (c *Counter) Miss(ctx context.Context) {
	if c != nil {
		c.misses.Inc()
	}
	purser.ReportCache(ctx, false)
}

// warn logs a backend failure, at most once every 10 s: a Redis that went
// away would otherwise log once per read.
func (s *Set) warn(ctx context.Context, op string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.warned) < 10*time.Second {
		return
	}
	s.warned = time.Now()
	s.Logger.WarnContext(ctx, "cache unavailable; reading from the source", "op", op, "error", err)
}

// Check is the backend's readiness detail: an error when it cannot be
// reached (the server still serves, from the sources).
func (s *Set) Check(ctx context.Context) error { return s.Backend.Check(ctx) }

// Cache is one named cache of values of type T, kept as JSON.
type Cache[T any] struct {
	set     *Set
	name    string
	ttl     time.Duration
	counter *Counter
}

// New returns the cache called name, whose entries live ttl.
func New[T any](s *Set, name string, ttl time.Duration) *Cache[T] {
	return &Cache[T]{set: s, name: name, ttl: ttl, counter: s.Counter(name)}
}

func (c *Cache[T]) key(k string) string { return "purser:" + c.name + ":" + k }

// Get returns the entry of key and counts a hit or a miss. A backend
// error or an entry that no longer decodes is a miss.
func (c *Cache[T]) Get(ctx context.Context, key string) (T, bool) {
	var v T
	b, ok, err := c.set.Backend.Get(ctx, c.key(key))
	if err != nil {
		c.set.warn(ctx, "get", err)
	}
	if ok && err == nil && json.Unmarshal(b, &v) == nil {
		c.counter.Hit(ctx)
		return v, true
	}
	c.counter.Miss(ctx)
	var zero T
	return zero, false
}

// Peek returns the entry of key without counting it: for callers that
// decide themselves whether it is fresh enough, and count through Counter.
func (c *Cache[T]) Peek(ctx context.Context, key string) (T, bool) {
	var v T
	b, ok, err := c.set.Backend.Get(ctx, c.key(key))
	if err != nil {
		c.set.warn(ctx, "get", err)
	}
	if ok && err == nil && json.Unmarshal(b, &v) == nil {
		return v, true
	}
	var zero T
	return zero, false
}

// Counter returns the cache's counters.
func (c *Cache[T]) Counter() *Counter { return c.counter }

// Set stores v under key for the cache's TTL.
func (c *Cache[T]) Set(ctx context.Context, key string, v T) {
	b, err := json.Marshal(v)
	if err != nil {
		return // nothing cached: the next read goes to the source
	}
	if err := c.set.Backend.Set(ctx, c.key(key), b, c.ttl); err != nil {
		c.set.warn(ctx, "set", err)
	}
}

// Invalidate forgets key, for every replica sharing the backend.
func (c *Cache[T]) Invalidate(ctx context.Context, key string) {
	if err := c.set.Backend.Delete(ctx, c.key(key)); err != nil {
		c.set.warn(ctx, "delete", err)
	}
}

// Hits is the counter of hits (for tests).
func (c *Counter) Hits() prometheus.Counter { return c.hits }

// Misses is the counter of misses (for tests).
func (c *Counter) Misses() prometheus.Counter { return c.misses }
