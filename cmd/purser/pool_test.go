package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
)

// eventually waits until ok holds, checking every 100 ms for 30 s.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !ok() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("never: %s", what)
		}
	}
}

// agent runs `purser agent` through Main until stop is called.
type agent struct {
	stop func()
	done chan int
	log  *bytes.Buffer
}

func startAgent(t *testing.T, url, joinToken, name string, extra ...string) *agent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &agent{done: make(chan int, 1), log: &bytes.Buffer{}}
	args := append([]string{"agent", "--server", url, "--join-token", joinToken, "--name", name, "--interval", "200ms"}, extra...)
	if os.Geteuid() == 0 {
		// Hooks run as purser-exec (tools/test-user.sh), as the exec driver's do.
		args = append(args, "--run-as", "purser-exec")
	}
	var mu sync.Mutex
	go func() {
		var out bytes.Buffer
		code := Main(ctx, args, strings.NewReader(""), &out, &agentLog{mu: &mu, w: a.log})
		a.done <- code
	}()
	var once sync.Once
	a.stop = func() {
		once.Do(func() {
			cancel()
			if code := <-a.done; code != 0 {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("agent %s exited %d: %s", name, code, a.log)
			}
		})
	}
	t.Cleanup(a.stop)
	return a
}

type agentLog struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *agentLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestPoolSelfHealing: four agents join with a join token; a pool of three
// is created by best fit with the fourth as its spare; one agent stops, its
// host turns SUSPECT then UNHEALTHY (short times by configuration) and is
// replaced by the spare, the admins are told, and the host, when its agent
// comes back, returns to the free inventory.
func TestPoolSelfHealing(t *testing.T) { eachStore(t, testPoolSelfHealing) }

func testPoolSelfHealing(t *testing.T, env ...string) {
	url, admin := server(t, append(env, "PURSER_POOLS_SUSPECT_AFTER", "1s", "PURSER_POOLS_UNHEALTHY_AFTER", "4s", "PURSER_POOLS_SWEEP_EVERY", "250ms")...)
	ctx := context.Background()
	c := client.New(url, admin)
	var tok client.NewJoinToken
	if err := json.Unmarshal([]byte(mustAs(t, url, admin, "join-tokens", "create", "--reusable", "-o", "json")), &tok); err != nil {
		t.Fatal(err)
	}
	agents := map[string]*agent{}
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		agents[n] = startAgent(t, url, tok.Token, n, "--cores", "8", "--memory", "32GiB", "--labels", "rack=1")
	}
	eventually(t, "four hosts registered", func() bool {
		l, err := c.ListHosts(ctx, client.ListOptions{Where: `{"state":"READY"}`})
		return err == nil && len(l.Items) == 4
	})
	out := mustAs(t, url, admin, "pools", "create", "web", "--cores", "24", "--memory", "96GiB", "--spares", "1", "--selector", "rack=1")
	for _, want := range []string{"member  n1", "member  n2", "member  n3", "spare   n4", "Pool web created."} {
		if !strings.Contains(out, want) {
			t.Fatalf("pools create lacks %q:\n%s", want, out)
		}
	}

	agents["n2"].stop() // as a kill -9 would: no more heartbeats
	state := func(name string) string {
		h, err := c.GetHost(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return h.State
	}
	eventually(t, "n2 SUSPECT", func() bool { s := state("n2"); return s == "SUSPECT" || s == "UNHEALTHY" })
	eventually(t, "n2 replaced by n4", func() bool {
		p, err := c.GetPool(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		var members []string
		for _, h := range p.Hosts {
			if !h.Spare {
				members = append(members, h.Name)
			}
		}
		return strings.Join(members, ",") == "n1,n3,n4"
	})
	if h, _ := c.GetHost(ctx, "n2"); h.State != "UNHEALTHY" || h.Pool != "" {
		t.Fatalf("n2 after its replacement: %+v", h)
	}
	events, err := c.ListEvents(ctx, client.ListOptions{Where: `{"target_id":"n2"}`, Sort: "_created"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events.Items {
		actions = append(actions, e.Action)
		if e.Action == "host.suspect" && !strings.Contains(e.After["reason"].(string), "no heartbeat for") {
			t.Fatalf("the suspect event says no reason: %v", e.After)
		}
	}
	// SUSPECT lasts 3 s here; a sweep that comes later (a loaded machine,
	// the leader not elected yet) finds n2 unhealthy at once, which the
	// domain records as one step (host_test.go covers both paths).
	got := strings.Join(actions, " ")
	if !strings.Contains(got, "host.register host.join host.suspect host.unhealthy host.leave") &&
		!strings.Contains(got, "host.register host.join host.unhealthy host.leave") {
		t.Fatalf("n2's events: %s", got)
	}
	eventually(t, "admins told of the replacement", func() bool {
		l, err := c.Inbox(ctx, false, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range l.Items {
			if n.Event == "pool.replace" && strings.Contains(n.Title, "n2 replaced by n4") {
				return true
			}
		}
		return false
	})

	agents["n2"] = startAgent(t, url, tok.Token, "n2", "--cores", "8", "--memory", "32GiB", "--labels", "rack=2")
	eventually(t, "n2 back in the free inventory", func() bool { return state("n2") == "READY" })
	if out := mustAs(t, url, admin, "hosts", "list", "--where", `{"pool":""}`); !strings.Contains(out, "n2") || strings.Contains(out, "n4") {
		t.Fatalf("free hosts:\n%s", out)
	}

	// Two of the pool's three members stop: remediation halts (2 of 3 >
	// 40 %) and pages the admins, rather than burn the inventory.
	agents["n1"].stop()
	agents["n3"].stop()
	eventually(t, "remediation halted", func() bool {
		p, err := c.GetPool(ctx, "web")
		return err == nil && p.Halted && p.Status == "halted: 2 of 3 unhealthy > 40 %"
	})
	eventually(t, "admins paged", func() bool {
		l, err := c.Inbox(ctx, false, client.ListOptions{Where: `{"event":"pool.heal_halted"}`})
		return err == nil && len(l.Items) > 0
	})
	if out := mustAs(t, url, admin, "pools", "get", "web"); !strings.Contains(out, "halted: 2 of 3 unhealthy > 40 %") {
		t.Fatalf("pools get does not say why not:\n%s", out)
	}
}
