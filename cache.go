package purser

import (
	"context"
	"sync/atomic"
)

// CacheReport records whether the answers behind one API request came
// from a cache: the API says so in X-Cache and in the body's "cache".
type CacheReport struct {
	hits, misses atomic.Int32
}

type cacheReportKey struct{}

// NewContextWithCacheReport returns ctx carrying a new report.
func NewContextWithCacheReport(ctx context.Context) (context.Context, *CacheReport) {
	r := &CacheReport{}
	return context.WithValue(ctx, cacheReportKey{}, r), r
}

// ReportCache records a cache's hit or miss on ctx's report, if any.
func ReportCache(ctx context.Context, hit bool) {
	r, _ := ctx.Value(cacheReportKey{}).(*CacheReport)
	switch {
	case r == nil:
	case hit:
		r.hits.Add(1)
	default:
		r.misses.Add(1)
	}
}

// Status is "HIT" when every cache consulted answered, "MISS" when one
// did not, and "" when none was consulted.
func (r *CacheReport) Status() string {
	switch {
	case r == nil || r.hits.Load()+r.misses.Load() == 0:
		return ""
	case r.misses.Load() > 0:
		return "MISS"
	default:
		return "HIT"
	}
}

// CacheStatus is the Status of ctx's report: "HIT", "MISS", or "" when no
// cache was consulted (or ctx carries no report).
func CacheStatus(ctx context.Context) string {
	r, _ := ctx.Value(cacheReportKey{}).(*CacheReport)
	return r.Status()
}
