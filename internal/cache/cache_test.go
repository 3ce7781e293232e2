package cache_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/cache"
)

type entry struct {
	Name string
	N    int
}

// startRedis starts a redis-server of the test's own on a free port.
func startRedis(t *testing.T) (url string, kill func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return startRedisOn(t, port)
}

// startRedisOn starts a redis-server of the test's own on port.
func startRedisOn(t *testing.T, port int) (url string, kill func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill = func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server never listened: %v", err)
		}
		<-time.After(20 * time.Millisecond)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port), kill
}

// TestCache runs the same story on both backends: a miss, a hit reported
// on the request's context and counted, an invalidation, and for Redis a
// second client (another replica) that shares answers and invalidations.
func TestCache(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		t.Parallel()
		b := cache.NewMemory(0)
		testCache(t, b, b)
	})
	t.Run("Redis", func(t *testing.T) {
		t.Parallel()
		url, _ := startRedis(t)
		a, err := cache.NewRedis(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := cache.NewRedis(url)
		t.Cleanup(a.Close)
		t.Cleanup(b.Close)
		testCache(t, a, b)
	})
}

func testCache(t *testing.T, a, b cache.Backend) {
	reg := prometheus.NewPedanticRegistry()
	ca := cache.New[entry](cache.NewSet(a, reg, nil), "things", time.Minute)
	cb := cache.New[entry](cache.NewSet(b, nil, nil), "things", time.Minute)
	ctx, report := purser.NewContextWithCacheReport(context.Background())
	if _, ok := ca.Get(ctx, "k"); ok || report.Status() != "MISS" {
		t.Fatalf("empty cache: found, or report %q", report.Status())
	}
	ca.Set(ctx, "k", entry{"one", 1})
	ctx, report = purser.NewContextWithCacheReport(context.Background())
	if v, ok := cb.Get(ctx, "k"); !ok || v != (entry{"one", 1}) || report.Status() != "HIT" {
		t.Fatalf("after Set: %v %v, report %q; want a hit", v, ok, report.Status())
	}
	if v, ok := ca.Get(ctx, "k"); !ok || v.N != 1 {
		t.Fatalf("again: %v %v", v, ok)
	}
	cb.Invalidate(ctx, "k")
	if _, ok := cb.Get(ctx, "k"); ok {
		t.Fatal("found right after this client invalidated it")
	}
	// Another client hears of the invalidation asynchronously (a Redis
	// push): within milliseconds.
	start := time.Now()
	for n := 0; ; n++ {
		if _, ok := ca.Get(ctx, "k"); !ok {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("still found a second after another client invalidated it")
		}
		<-time.After(time.Millisecond)
	}
	t.Logf("another client's invalidation seen after %s", time.Since(start))
	if hits := testutil.ToFloat64(ca.Counter().Hits()); hits < 1 {
		t.Errorf("counted %v hits", hits)
	}
	if misses := testutil.ToFloat64(ca.Counter().Misses()); misses < 2 {
		t.Errorf("counted %v misses", misses)
	}
}

// TestRedisDown checks that a Redis gone away is a miss, not an error,
// that the set's check says so, and that a Set does not fail the caller.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	url, kill := startRedis(t)
	r, err := cache.NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var logs bytes.Buffer
	set := cache.NewSet(r, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	c := cache.New[entry](set, "things", time.Minute)
	ctx := context.Background()
	c.Set(ctx, "k", entry{"one", 1})
	if err := set.Check(ctx); err != nil {
		t.Fatalf("check with Redis up: %v", err)
	}
	kill()
	if _, ok := c.Get(ctx, "k"); ok {
		t.Error("a hit with Redis gone")
	}
	c.Set(ctx, "k", entry{"two", 2})
	if err := set.Check(ctx); err == nil {
		t.Error("check with Redis gone: no error")
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"cache unavailable; reading from the source\""); n != 1 {
		t.Errorf("%d warnings (one per 10 s wanted):\n%s", n, logs.String())
	}
}

// TestRedisBack: two clients (two replicas) that saw Redis go away share
// answers again once it is back.
func TestRedisBack(t *testing.T) {
	t.Parallel()
	url, kill := startRedis(t)
	a, _ := cache.NewRedis(url)
	b, _ := cache.NewRedis(url)
	defer a.Close()
	defer b.Close()
	ca := cache.New[entry](cache.NewSet(a, nil, nil), "things", time.Minute)
	cb := cache.New[entry](cache.NewSet(b, nil, nil), "things", time.Minute)
	ctx := context.Background()
	ca.Set(ctx, "k", entry{"one", 1})
	if _, ok := cb.Get(ctx, "k"); !ok {
		t.Fatal("b misses what a set")
	}
	kill()
	cb.Get(ctx, "k") // a miss, or this process's copy, valid until the disconnection is noticed
	var port int
	fmt.Sscanf(url, "redis://127.0.0.1:%d/0", &port)
	startRedisOn(t, port)
	start := time.Now()
	for a.Check(ctx) != nil || b.Check(ctx) != nil {
		if time.Since(start) > 10*time.Second {
			t.Fatal("never reconnected")
		}
		<-time.After(50 * time.Millisecond)
	}
	t.Logf("both reconnected after %s", time.Since(start))
	for i := range 20 {
		key := fmt.Sprint("k", i)
		if _, ok := ca.Get(ctx, key); ok {
			t.Fatalf("%s: a hit before any set", key)
		}
		ca.Set(ctx, key, entry{"two", i})
		if v, ok := ca.Get(ctx, key); !ok || v.N != i {
			t.Fatalf("%s: a misses what it set itself after Redis came back", key)
		}
		if v, ok := cb.Get(ctx, key); !ok || v.N != i {
			t.Fatalf("%s: b misses what a set after Redis came back", key)
		}
	}
}
