package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser"
)

// testPoolScaling: the sweep's store steps. Autoscaling commits a
// scale-up (the host joins, the event and the admins' message in one
// transaction), says why not, and drains a busy member with its
// deadline; a drain's wait is recorded on the host and the pool, and a
// drain with nothing left releases the host.
func testPoolScaling(t *testing.T, open Opener) {
	f := newPoolFixture(t, open)
	_, secret, err := f.tokens.CreateJoinToken(f.admin, "", true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.register(secret, "a:8:32", "b:8:32", "c:8:32")
	if _, err := f.pools.CreatePool(f.admin, &purser.Pool{Name: "web", Cores: 8, MinHosts: 1, MaxHosts: 2}, false); err != nil {
		t.Fatal(err)
	}
	sys := purser.SystemContext(context.Background())
	pol := purser.ScalePolicy{DownAfter: time.Minute, Cooldown: time.Minute, DrainDeadline: time.Hour}

	// Pending pods: b joins (best fit, first by name), the admins are told.
	if ok, err := f.hosts.AutoscalePool(sys, "web", &purser.PoolUsage{Pending: 2, Allocatable: purser.Resources{Cores: 8}}, "", pol); err != nil || !ok {
		t.Fatalf("scale up: %v %v", ok, err)
	}
	if h := f.host("b"); h.Pool != "web" || h.State != purser.HostAssigned || h.Reason != "scale-up: 2 pod(s) pending" {
		t.Fatalf("b after the scale-up: %+v", h)
	}
	var n int
	if err := f.db.Read.QueryRow(context.Background(), "SELECT COUNT(*) FROM notifications WHERE event = ?", "pool.scale_up").Scan(&n); err != nil || n == 0 {
		t.Fatalf("admins told of the scale-up: %d %v", n, err)
	}
	// At its maximum now: why not.
	if _, err := f.hosts.AutoscalePool(sys, "web", &purser.PoolUsage{Pending: 1, Allocatable: purser.Resources{Cores: 16}}, "", pol); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.pools.FindPoolByName(f.admin, "web"); p.ScaleStatus != "no scale-up (1 pod(s) pending): at its maximum of 2 hosts" || p.LastScaleUp == nil {
		t.Fatalf("scale status %q", p.ScaleStatus)
	}

	// High utilisation starts its clock, kept by the store (both engines).
	high := purser.PoolUsage{Requested: purser.Resources{Cores: 15}, Allocatable: purser.Resources{Cores: 16}}
	if _, err := f.hosts.AutoscalePool(sys, "web", &high, "", pol); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.pools.FindPoolByName(f.admin, "web"); p.HighSince == nil || !p.HighSince.Equal(f.clock.now()) {
		t.Fatalf("high since %v, want %v", p.HighSince, f.clock.now())
	}

	// Idle: the clock starts, then the cooldown holds, then b drains.
	idle := purser.PoolUsage{Requested: purser.Resources{Cores: 1}, Allocatable: purser.Resources{Cores: 16, Memory: 64 * purser.GiB},
		Pods: map[string]int{"a": 2, "b": 1}}
	f.clock.add(30 * time.Second)
	if _, err := f.hosts.AutoscalePool(sys, "web", &idle, "", pol); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.pools.FindPoolByName(f.admin, "web"); p.HighSince != nil {
		t.Fatalf("the high clock runs on at low utilisation: %v", p.HighSince)
	}
	f.clock.add(time.Minute)
	if _, err := f.hosts.AutoscalePool(sys, "web", &idle, "", pol); err != nil {
		t.Fatal(err)
	}
	b := f.host("b")
	if b.State != purser.HostDraining || b.DrainDeadline == nil || !b.DrainDeadline.Equal(f.clock.now().Add(time.Hour)) {
		t.Fatalf("b after the scale-down: %+v", b)
	}

	// The drain waits on a budget: the host and the pool say so.
	wait := "disruption budget web-pdb refused eviction of default/web-1"
	if ok, err := f.hosts.RecordDrain(sys, "b", purser.DrainStep{Left: 1, Wait: wait}); err != nil || !ok {
		t.Fatalf("record drain: %v %v", ok, err)
	}
	if _, err := f.hosts.HealPools(sys); err != nil {
		t.Fatal(err)
	}
	if b := f.host("b"); b.DrainWait != wait || !strings.HasSuffix(b.Reason, ": "+wait) {
		t.Fatalf("b waiting: %+v", b)
	}
	if p, _ := f.pools.FindPoolByName(f.admin, "web"); p.Status != "drain of b waits: "+wait {
		t.Fatalf("pool status %q", p.Status)
	}
	if ok, err := f.hosts.RecordDrain(sys, "b", purser.DrainStep{Left: 1, Wait: wait}); err != nil || ok {
		t.Fatalf("the same wait again changed something: %v %v", ok, err)
	}
	// Forced at the deadline: b is back in the free inventory.
	if _, err := f.hosts.RecordDrain(sys, "b", purser.DrainStep{Forced: 1}); err != nil {
		t.Fatal(err)
	}
	if b := f.host("b"); b.Pool != "" || b.State != purser.HostReady || b.DrainDeadline != nil || b.DrainWait != "" || !strings.Contains(b.Reason, "deleted by force") {
		t.Fatalf("b after the forced drain: %+v", b)
	}
	// Without usage: why not.
	if _, err := f.hosts.AutoscalePool(sys, "web", nil, "no Kubernetes control plane to read usage from", pol); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.pools.FindPoolByName(f.admin, "web"); p.ScaleStatus != "no autoscaling: no Kubernetes control plane to read usage from" {
		t.Fatalf("scale status %q", p.ScaleStatus)
	}
}
