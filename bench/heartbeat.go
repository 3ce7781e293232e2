package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/purserhq/purser/client"
)

// heartbeatResult is what 1 000 machines reporting to one server cost it:
// how long each heartbeat took as the agent saw it, and the server's CPU.
type heartbeatResult struct {
	agents    int
	beats     int
	failed    int
	p50, p99  time.Duration
	window    time.Duration
	serverCPU time.Duration // user + system over the window
	err       error
}

// runHeartbeat builds cmd/purser, starts it as a process on SQLite in dir,
// registers agents hosts through its API with a join token, then has each
// heartbeat every interval (spread evenly over the interval, each agent on
// its own connection, as separate machines would be) for window, over real
// HTTP on loopback.
func runHeartbeat(ctx context.Context, dir string, agents int, interval, window time.Duration) heartbeatResult {
	r := heartbeatResult{agents: agents, window: window}
	bin := filepath.Join(dir, "purser-heartbeat")
	if out, err := exec.CommandContext(ctx, "go", "build", "-ldflags", "-s -w", "-o", bin, "./cmd/purser").CombinedOutput(); err != nil {
		r.err = fmt.Errorf("go build: %v: %s", err, tail(out, 2000))
		return r
	}
	srv, err := startServer(ctx, bin, filepath.Join(dir, "heartbeat-data"))
	if err != nil {
		r.err = err
		return r
	}
	defer srv.stop()

	agentClients, err := registerAgents(ctx, srv.url, srv.token, agents)
	if err != nil {
		r.err = err
		return r
	}
	fmt.Fprintf(os.Stderr, "heartbeat: %d agents registered; heartbeating every %s for %s\n", agents, interval, window)

	var (
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	cpu0, start := procCPU(srv.pid()), time.Now()
	for i, c := range agentClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			offset := interval * time.Duration(i) / time.Duration(agents)
			for next := start.Add(offset); next.Before(start.Add(window)); next = next.Add(interval) {
				time.Sleep(time.Until(next))
				name := fmt.Sprintf("bench-%04d", i)
				t := time.Now()
				_, err := c.Heartbeat(ctx, name)
				d := time.Since(t)
				if err == nil {
					// What purser agent does after each heartbeat: ask for
					// its host's hook runs (none here: a read).
					_, err = c.ClaimHookRuns(ctx, name)
				}
				mu.Lock()
				if err != nil {
					r.failed++
				} else {
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.serverCPU = procCPU(srv.pid()) - cpu0
	r.window = time.Since(start)
	slices.Sort(latencies)
	r.beats = len(latencies)
	if n := len(latencies); n > 0 {
		r.p50, r.p99 = latencies[n/2], latencies[min(n-1, n*99/100)]
	}
	return r
}

// registerAgents registers n hosts with one reusable join token and
// returns a client per host holding its own agent credential and its own
// connection.
func registerAgents(ctx context.Context, url, adminToken string, n int) ([]*client.Client, error) {
	admin := client.New(url, adminToken)
	jt, err := admin.CreateJoinToken(ctx, client.JoinTokenCreate{Reusable: true, Description: "bench"})
	if err != nil {
		return nil, fmt.Errorf("join token: %w", err)
	}
	out := make([]*client.Client, n)
	for i := range out {
		c := client.New(url, "")
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		reg, err := c.RegisterHost(ctx, client.HostRegistration{JoinToken: jt.Token, Name: fmt.Sprintf("bench-%04d", i),
			Cores: 8, Memory: 32 << 30, Labels: map[string]string{"bench": "1"}})
		if err != nil {
			return nil, fmt.Errorf("register host %d: %w", i, err)
		}
		c.Token = reg.Credential
		out[i] = c
	}
	return out, nil
}
