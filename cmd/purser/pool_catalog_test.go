package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
)

// TestPoolFromCatalog: four agents join; bbb asks for a pool of 24 cores
// and 96 GiB from the example template, under a quota of 40 cores and
// 160 GiB; jjj approves; the environment is DEPLOYED with its pool ACTIVE
// on the best-fitting hosts, ASSIGNED. A second pool that would take bbb
// past the quota is refused, one the inventory cannot hold fails saying
// what is free, and expiry destroys the pool and frees its hosts.
func TestPoolFromCatalog(t *testing.T) { eachStore(t, testPoolFromCatalog) }

func testPoolFromCatalog(t *testing.T, env ...string) {
	var clk testClock
	// Hosts stay healthy across the test's jumps in time: health is not
	// what this test is about.
	url, token := serverHooked(t, hooks{NowFunc: clk.now}, []string{"server"}, append(env, "PURSER_POOLS_SUSPECT_AFTER", "10000h",
		"PURSER_POOLS_UNHEALTHY_AFTER", "20000h", "PURSER_WORKERS_RETRY_BASE", "100ms", "PURSER_WORKERS_MAX_ATTEMPTS", "2")...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := client.New(url, token)
	bbb, err := admin.CreateUser(ctx, client.UserCreate{Username: "bbb", Name: "BBB", Email: "bbb@xyz.com", Roles: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	jjj, _ := admin.CreateUser(ctx, client.UserCreate{Username: "jjj", Name: "JJJ", Email: "jjj@xyz.com", Roles: []string{"devops"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "bbb", User: bbb.ID})
	opsTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "jjj", User: jjj.ID})
	dev := client.New(url, devTok.Token)

	tok, err := admin.CreateJoinToken(ctx, client.JoinTokenCreate{Reusable: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []struct{ name, cores, memory, labels string }{
		{"n1", "16", "64GiB", "purpose=dev"}, {"n2", "8", "32GiB", "purpose=dev"}, {"n3", "8", "32GiB", "purpose=dev"}, {"n4", "32", "128GiB", "purpose=prod"},
	} {
		startAgent(t, url, tok.Token, h.name, "--cores", h.cores, "--memory", h.memory, "--labels", h.labels)
	}
	eventually(t, "four hosts registered", func() bool {
		l, err := admin.ListHosts(ctx, client.ListOptions{Where: `{"state":"READY"}`})
		return err == nil && len(l.Items) == 4
	})

	mustAs(t, url, opsTok.Token, "templates", "create", "-f", filepath.Join("..", "..", "examples", "templates", "pool.yaml"))
	mustAs(t, url, opsTok.Token, "quotas", "create", "--user", "bbb", "--cores", "40", "--memory", "160")
	ask := func(cores, gib int) (*client.Request, error) {
		return dev.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "team-pool", TTLHours: 72,
			ResourceParameters: map[string]any{"cores": cores, "memory_gib": gib}})
	}
	refused := func(what string, err error, want string) {
		t.Helper()
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status != 409 || !strings.Contains(ce.Error(), want) {
			t.Fatalf("%s: got %v, want a 409 saying %q", what, err, want)
		}
	}
	_, err = ask(48, 96)
	refused("a pool over the quota", err, "quota.cores: limit 40, used 0, pending 0, asked 48")

	r, err := ask(24, 96)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "REQUESTED" || r.Footprint.Cores != 24 || r.Footprint.Memory != 96 {
		t.Fatalf("the request: %s, footprint %+v", r.Status, r.Footprint)
	}
	mustAs(t, url, opsTok.Token, "request", "approve", r.ID)
	if r, err = dev.WaitRequest(ctx, r.ID, nil, "DEPLOYED", "FAILED"); err != nil || r.Status != "DEPLOYED" {
		t.Fatalf("provisioning ended %+v: %v", r, err)
	}
	out, err := dev.RequestOutputs(ctx, r.ID)
	name := "env-" + r.ID
	if err != nil || out["pool"] != name || out["members"] != "n1,n2" || out["cores"] != "24" || out["memory"] != "96 GiB" {
		t.Fatalf("outputs %v %v", out, err)
	}
	p, err := admin.GetPool(ctx, name)
	if err != nil || p.State != "ACTIVE" || p.Cores != 24 || p.Selector["purpose"] != "dev" {
		t.Fatalf("pool %+v %v", p, err)
	}
	for _, h := range p.Hosts {
		if h.State != "ASSIGNED" || h.Spare {
			t.Fatalf("member %+v", h)
		}
	}

	// The running pool counts against the quota.
	_, err = ask(24, 32)
	refused("a second pool past the quota", err, "quota.cores: limit 40, used 24, pending 0, asked 24")

	// Within the quota, beyond what the inventory holds: n3 alone is free
	// among the dev hosts.
	big, err := ask(16, 64)
	if err != nil {
		t.Fatal(err)
	}
	mustAs(t, url, opsTok.Token, "request", "approve", big.ID)
	if big, err = dev.WaitRequest(ctx, big.ID, nil, "DEPLOYED", "FAILED"); err != nil || big.Status != "FAILED" ||
		!strings.Contains(big.LastError, "needs 16 cores and 64 GiB; the free hosts that match offer 8 cores and 32 GiB in all") {
		t.Fatalf("a pool the inventory cannot hold: %+v %v", big, err)
	}

	// Expiry destroys the pool: its hosts are back in the free inventory.
	clk.advance(73 * time.Hour)
	if n, err := admin.RunExpiry(ctx); err != nil || n != 1 {
		t.Fatalf("expiry: %d %v", n, err)
	}
	if r, err = dev.WaitRequest(ctx, r.ID, nil, "PURGED", "PURGE_FAILED"); err != nil || r.Status != "PURGED" {
		t.Fatalf("purge ended %+v: %v", r, err)
	}
	var ce *client.Error
	if _, err := admin.GetPool(ctx, name); !errors.As(err, &ce) || ce.Status != 404 {
		t.Fatalf("the pool after the purge: %v", err)
	}
	free, err := admin.ListHosts(ctx, client.ListOptions{Where: `{"state":"READY","pool":""}`})
	if err != nil || len(free.Items) != 4 {
		b, _ := json.Marshal(free)
		t.Fatalf("free hosts after the purge: %s %v", b, err)
	}
	events, err := admin.ListEvents(ctx, client.ListOptions{Where: `{"target_id":"` + name + `"}`, Sort: "_created"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events.Items {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "pool.create pool.destroy" {
		t.Fatalf("the pool's events: %s", got)
	}
}
