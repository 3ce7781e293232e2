package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/purserhq/purser/client"
)

// redisServer is a redis-server of one test's own, on a free port.
type redisServer struct {
	port int
	cmd  *exec.Cmd
	URL  string
}

// startRedis starts a redis-server (skipping the test when there is none)
// on a free port, or on port when it is not 0.
func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	r := &redisServer{port: port, URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}
	r.cmd = exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Kill)
	eventually(t, "redis-server accepts connections", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return r
}

// Kill stops the server at once.
func (r *redisServer) Kill() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// get answers a GET: status, X-Cache and body.
func get(t *testing.T, url, token string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Cache"), string(b)
}

// TestSharedCache keeps the catalog in a Redis of the test's own: with
// PostgreSQL, two servers share answers and invalidations through it. A
// Redis that goes away makes reads fall through to the database, /readyz
// says the cache is DOWN while staying ready, and a Redis that comes back
// is used again.
func TestSharedCache(t *testing.T) { eachStore(t, testSharedCache) }

func testSharedCache(t *testing.T, env ...string) {
	redis := startRedis(t, 0)
	env = append(env, "PURSER_CACHE_REDIS_URL", redis.URL)
	urlA, token := server(t, env...)
	urlB := urlA
	if len(env) > 2 { // PostgreSQL: a second replica on the same database
		urlB, _ = server(t, env...)
	}
	ctx := context.Background()
	admin := client.New(urlA, token)
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "cached", "name": "Before", "driver": "sim"}); err != nil {
		t.Fatal(err)
	}
	tmpl := "/api/v1/templates/cached"
	want := func(url, xcache, name string) {
		t.Helper()
		st, x, body := get(t, url+tmpl, token)
		if st != http.StatusOK || x != xcache || !strings.Contains(body, `"name":"`+name+`"`) ||
			!strings.Contains(body, fmt.Sprintf(`"cache":%t`, xcache == "HIT")) {
			t.Fatalf("GET %s: %d X-Cache %q %s; want 200, %s, name %s", url+tmpl, st, x, body, xcache, name)
		}
	}
	want(urlA, "MISS", "Before")
	want(urlB, "HIT", "Before") // the other replica's answer, through Redis
	if _, err := client.New(urlB, token).UpdateTemplate(ctx, "cached", map[string]any{"name": "After"}, ""); err != nil {
		t.Fatal(err)
	}
	// Invalidated by the other replica's write: Redis tells this one's
	// client-side cache at once (a push, asynchronous: microseconds).
	eventually(t, "replica A answers the template as replica B wrote it", func() bool {
		_, _, body := get(t, urlA+tmpl, token)
		return strings.Contains(body, `"name":"After"`)
	})
	want(urlA, "HIT", "After")

	_, _, metrics := get(t, urlA+"/metrics", "")
	if !strings.Contains(metrics, `purser_cache_hits_total{cache="catalog"}`) || !strings.Contains(metrics, `purser_cache_misses_total{cache="catalog"}`) {
		t.Errorf("/metrics has no catalog cache counters:\n%s", grepLines(metrics, "purser_cache"))
	}

	redis.Kill()
	want(urlA, "MISS", "After") // from the database
	st, _, body := get(t, urlA+"/readyz", "")
	if st != http.StatusOK || !cacheCheck(t, body, "DOWN") {
		t.Fatalf("/readyz with Redis gone: %d %s; want 200 with the cache DOWN", st, body)
	}
	startRedis(t, redis.port)
	eventually(t, "the cache is UP again in /readyz", func() bool {
		_, _, a := get(t, urlA+"/readyz", "")
		_, _, b := get(t, urlB+"/readyz", "")
		return cacheCheck(t, a, "UP") && cacheCheck(t, b, "UP")
	})
	want(urlA, "MISS", "After")
	want(urlB, "HIT", "After")
}

// cacheCheck reports whether /readyz's body says the cache is status.
func cacheCheck(t *testing.T, body, status string) bool {
	t.Helper()
	var doc struct {
		Checks []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("/readyz: %v: %s", err, body)
	}
	for _, c := range doc.Checks {
		if c.Name == "cache" {
			return c.Status == status
		}
	}
	return false
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
