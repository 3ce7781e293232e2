package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sizeResult is what a person running Purser sees of its footprint: the
// stripped binary, the server's resident memory idle, and with envs
// environments DEPLOYED on the sim driver.
type sizeResult struct {
	binary            int64
	idleRSS, loadRSS  int64 // bytes
	idleAnon          int64 // bytes: RssAnon idle, the server's own memory (the rest is mostly the binary's pages)
	peakRSS           int64 // bytes: VmHWM after the load
	envs              int
	reflectMethod     []string // functions that switch off the linker's dead-method elimination
	buildErr, loadErr error
}

// runSize builds cmd/purser as `make build` does (stripped), starts it as
// a process on SQLite in dir, reads its RSS once it serves and is idle,
// then has envs environments made through its API by clients clients
// (a template approved automatically, asked for by the admin, who has no
// quota) and reads it again once all of them are DEPLOYED.
func runSize(ctx context.Context, dir string, envs, clients int) sizeResult {
	var r sizeResult
	bin := filepath.Join(dir, "purser")
	// -dumpdep adds nothing to the binary: the linker prints its
	// reachability graph, where a function calling reflect's
	// MethodByName with a name it cannot see is marked <ReflectMethod>.
	build := exec.CommandContext(ctx, "go", "build", "-ldflags", "-s -w -dumpdep", "-o", bin, "./cmd/purser")
	var graph bytes.Buffer
	build.Stdout, build.Stderr = &graph, &graph
	if err := build.Run(); err != nil {
		r.buildErr = fmt.Errorf("go build: %v: %s", err, tail(graph.Bytes(), 4000))
		return r
	}
	r.reflectMethod = reflectMethodCallers(graph.Bytes())
	st, err := os.Stat(bin)
	if err != nil {
		r.buildErr = err
		return r
	}
	r.binary = st.Size()

	// auto-approval is a job: the burst waits for it beyond the default 10
	srv, err := startServer(ctx, bin, filepath.Join(dir, "size-data"), "PURSER_REQUESTS_MAX_PENDING="+strconv.Itoa(envs+1))
	if err != nil {
		r.loadErr = err
		return r
	}
	defer srv.stop()
	c := &apiClient{url: srv.url, token: srv.token}
	// Idle: serving, its workers started, nothing asked of it for a while.
	time.Sleep(3 * time.Second)
	r.idleRSS, _ = rss(srv.pid(), "VmRSS")
	r.idleAnon, _ = rss(srv.pid(), "RssAnon")

	tpl := map[string]any{"_id": "bench-ns", "name": "bench namespace", "driver": "sim", "resource_type": "KUBERNETES",
		"footprint": map[string]any{"cores": 1, "memory": 1, "cost_per_hour": 0.01},
		"approval":  map[string]any{"mode": "auto", "auto_max": map[string]any{"cores": 2, "memory": 2, "cost_per_hour": 1}}}
	if err := c.do(ctx, "POST", "/v1/templates", tpl, nil); err != nil {
		r.loadErr = err
		return r
	}
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(envs) {
				if err := c.do(ctx, "POST", "/v1/provisionRequests", map[string]any{"resource_template": "bench-ns"}, nil); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		r.loadErr = fmt.Errorf("%d of %d requests refused, the first: %v", n, envs, firstErr.Load())
		return r
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var page struct {
			Meta struct {
				Total *int `json:"total"`
			} `json:"_meta"`
		}
		if err := c.do(ctx, "GET", `/v1/provisionRequests?max_results=1&total=true&where={"status":"DEPLOYED"}`, nil, &page); err != nil {
			r.loadErr = err
			return r
		}
		if page.Meta.Total != nil && *page.Meta.Total >= envs {
			break
		}
		if time.Now().After(deadline) {
			r.loadErr = fmt.Errorf("not all %d environments DEPLOYED after 10 minutes", envs)
			return r
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.envs = envs
	r.loadRSS, _ = rss(srv.pid(), "VmRSS")
	r.peakRSS, _ = rss(srv.pid(), "VmHWM")
	return r
}

// readBanner reads what the server prints at its first start: its URL
// and the admin's token.
func readBanner(r io.Reader) (url, token string, err error) {
	urlRe, tokRe := regexp.MustCompile(`is running at (http://\S+)`), regexp.MustCompile(`^\s+(pst_\S+)$`)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := urlRe.FindStringSubmatch(line); m != nil {
			url = m[1]
		}
		if m := tokRe.FindStringSubmatch(line); m != nil {
			token = m[1]
		}
		if url != "" && token != "" {
			return url, token, nil
		}
	}
	return "", "", fmt.Errorf("the server printed no URL and token (%v)", sc.Err())
}

// rss is a field of /proc/PID/status, in bytes.
func rss(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// apiClient calls a running server's API with a token.
type apiClient struct{ url, token string }

func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// mib is n bytes in MiB, for the table.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// reflectMethodCallers returns the functions the linker's graph marks
// <ReflectMethod>, but reflect's own: those are reached only once another
// caller has switched the dead-method elimination off.
func reflectMethodCallers(graph []byte) []string {
	seen := map[string]bool{}
	var out []string
	for line := range bytes.Lines(graph) {
		for _, side := range strings.Split(string(bytes.TrimSpace(line)), " -> ") {
			name, ok := strings.CutSuffix(side, " <ReflectMethod>")
			if !ok || strings.HasPrefix(name, "reflect.") || seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// tail is the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
