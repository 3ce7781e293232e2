package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/cache"
	"github.com/purserhq/purser/internal/sqldb"
)

// CacheConfig chooses where answers are cached.
type CacheConfig struct {
	// RedisURL, when set (redis://[user:password@]host:port/db), keeps the
	// caches in Redis, shared by every replica with client-side caching;
	// empty, each process keeps its own (otter).
	RedisURL string `koanf:"redis_url" yaml:"redis_url" secret:"url"`
	// TTL is how long a catalog entry is kept (writes invalidate it). With
	// PostgreSQL and no Redis, replicas cannot tell each other of writes:
	// the catalog is then kept at most sqldb.CountCacheTTL.
	TTL time.Duration `koanf:"ttl" yaml:"ttl"`
}

func (c CacheConfig) validate() error {
	if c.TTL <= 0 {
		return fmt.Errorf("config: cache.ttl must be positive")
	}
	return nil
}

// openCaches returns the server's caches: in Redis when cache.redis_url is
// set, else in this process.
func openCaches(cfg Config, reg prometheus.Registerer, logger *slog.Logger) (*cache.Set, error) {
	var b cache.Backend = cache.NewMemory(0)
	if cfg.Cache.RedisURL != "" {
		r, err := cache.NewRedis(cfg.Cache.RedisURL)
		if err != nil {
			return nil, err
		}
		b = r
	}
	return cache.NewSet(b, reg, logger), nil
}

// catalogTTL is how long the catalog is cached: the configured TTL, unless
// replicas share the database but not the cache.
func catalogTTL(cfg Config) time.Duration {
	if cfg.IsPostgres() && cfg.Cache.RedisURL == "" {
		return min(cfg.Cache.TTL, sqldb.CountCacheTTL)
	}
	return cfg.Cache.TTL
}

// newCatalogCache keeps current templates by id.
func newCatalogCache(cfg Config, caches *cache.Set) purser.TemplateCache {
	return cache.New[*purser.Template](caches, "catalog", catalogTTL(cfg))
}
