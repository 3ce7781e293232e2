package purser

import (
	"strings"
	"testing"
	"time"
)

func TestAutoscale(t *testing.T) {
	t.Parallel()
	ago := func(d time.Duration) *time.Time { x := t0.Add(-d); return &x }
	busy := func(cores int) PoolUsage {
		return PoolUsage{Requested: Resources{cores, 0}, Allocatable: Resources{24, 96 * GiB}, Pods: map[string]int{"a": 3, "b": 0, "c": 5}}
	}
	tests := []struct {
		name     string
		usage    PoolUsage
		pool     Pool
		draining bool
		free     []string
		up, down string // host joining, leaving
		drain    string // host starting to drain
		status   string
		lowSince bool
	}{
		{"UpOnPending", PoolUsage{Pending: 2, Allocatable: Resources{24, 96 * GiB}}, Pool{}, false, []string{"f1:8:32", "f2:16:64"}, "f1", "", "", "", false},
		{"UpOnHighWaterHeld", busy(22), Pool{HighSince: ago(time.Minute)}, false, []string{"f2:16:64"}, "f2", "", "", "", false},
		{"HighStartsClock", busy(22), Pool{}, false, []string{"f2:16:64"}, "", "", "", "no scale-up (utilisation 92 % above 80 %): high for 0s of 1m0s", false},
		{"HighNotLongEnough", busy(22), Pool{HighSince: ago(20 * time.Second)}, false, []string{"f2:16:64"}, "", "", "",
			"no scale-up (utilisation 92 % above 80 %): high for 20s of 1m0s", false},
		{"PendingUpAtOnce", PoolUsage{Pending: 1, Requested: Resources{22, 0}, Allocatable: Resources{24, 96 * GiB}}, Pool{HighSince: ago(time.Second)}, false,
			[]string{"f2:16:64"}, "f2", "", "", "", false},
		{"UpWaitsForJoin", PoolUsage{Pending: 1, Allocatable: Resources{24, 96 * GiB}}, Pool{}, false, []string{"f2:16:64"}, "", "", "",
			"no scale-up (1 pod(s) pending): waiting for host c to join (its join hook runs)", false},
		{"DownSkipsJoining", PoolUsage{Requested: Resources{2, 0}, Allocatable: Resources{16, 64 * GiB}, Pods: map[string]int{"a": 3, "b": 1}},
			Pool{LowSince: ago(11 * time.Minute)}, false, nil, "", "", "b", "", false},
		{"UpAtMax", busy(22), Pool{MaxHosts: 3}, false, []string{"f1:8:32"}, "", "", "", "no scale-up (utilisation 92 % above 80 %): at its maximum of 3 hosts", false},
		{"UpNothingFree", PoolUsage{Pending: 1}, Pool{}, false, nil, "", "", "", "no scale-up (1 pod(s) pending): no free host matches the selector", false},
		{"Steady", busy(15), Pool{LowSince: ago(time.Hour)}, false, nil, "", "", "", "", false},
		{"LowStartsClock", busy(6), Pool{}, false, nil, "", "", "", "no scale-down (utilisation 25 % below 50 %): low for 0s of 10m0s", true},
		{"LowNotLongEnough", busy(6), Pool{LowSince: ago(4 * time.Minute)}, false, nil, "", "", "", "no scale-down (utilisation 25 % below 50 %): low for 4m0s of 10m0s", true},
		{"Cooldown", busy(6), Pool{LowSince: ago(11 * time.Minute), LastScaleUp: ago(5 * time.Minute)}, false, nil, "", "", "",
			"no scale-down (utilisation 25 % below 50 %): cooldown after the scale-up at 2026-03-01T11:55:00Z, until 2026-03-01T12:05:00Z", true},
		{"AtMinimum", busy(6), Pool{LowSince: ago(11 * time.Minute), MinHosts: 3}, false, nil, "", "", "", "no scale-down (utilisation 25 % below 50 %): at its minimum of 3 hosts", true},
		{"EmptyNodeLeaves", busy(6), Pool{LowSince: ago(11 * time.Minute)}, false, nil, "", "b", "", "", false},
		{"OneDrainAtATime", busy(6), Pool{LowSince: ago(11 * time.Minute)}, true, nil, "", "", "", "no scale-down (utilisation 25 % below 50 %): host a is still draining (one at a time)", true},
		{"BusyNodeDrains", PoolUsage{Requested: Resources{6, 0}, Allocatable: Resources{24, 96 * GiB}, Pods: map[string]int{"a": 3, "b": 1, "c": 5}},
			Pool{LowSince: ago(11 * time.Minute)}, false, nil, "", "", "b", "", false},
		{"UpWaitsForNode", PoolUsage{Pending: 1, Unready: []string{"c"}}, Pool{}, false, []string{"f1:8:32"}, "", "", "",
			"no scale-up (1 pod(s) pending): waiting for host c to become a Ready node", false},
		{"UpNoneFits", PoolUsage{Pending: 1, PendingNeed: Resources{12, GiB}}, Pool{}, false, []string{"f1:8:32", "f2:4:64"}, "", "", "",
			"no scale-up (1 pod(s) pending): no free host fits: needs 12 cores and 1 GiB, largest free 8 and 64", false},
		{"UpFitsThePod", PoolUsage{Pending: 1, PendingNeed: Resources{12, GiB}}, Pool{}, false, []string{"f1:8:32", "f3:16:64"}, "f3", "", "", "", false},
		{"NotAutoscaled", PoolUsage{Pending: 1}, Pool{MaxHosts: -1}, false, []string{"f1:8:32"}, "", "", "", "", false},
		{"NowhereToGo", PoolUsage{Requested: Resources{17, 0}, Allocatable: Resources{36, 96 * GiB}, Pods: map[string]int{"a": 3, "b": 1, "c": 5}},
			Pool{LowSince: ago(11 * time.Minute)}, false, nil, "", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hosts := append(poolOf("p", fleet("a:8:32", "b:8:32", "c:8:32"), "a", "b", "c"), fleet(tt.free...)...)
			if tt.name == "NowhereToGo" {
				hosts[1].Cores = 20
			}
			for _, h := range hosts[:3] {
				h.Joined = !strings.Contains(tt.name, "Join") || h.Name != "c"
			}
			if tt.draining {
				hosts[0].State = HostDraining
			}
			p := tt.pool
			p.Name, p.State = "p", PoolActive
			switch p.MaxHosts {
			case 0:
				p.MaxHosts = 10
			case -1:
				p.MaxHosts = 0
			}
			ch := p.Autoscale(hosts, tt.usage, t0, ScalePolicy{})
			var up, down, drain string
			after := &p
			for _, r := range ch.Rows {
				switch v := r.(type) {
				case *Host:
					switch {
					case v.Pool == "p" && v.State == HostAssigned:
						up = v.Name
					case v.State == HostDraining:
						drain = v.Name
					case v.Pool == "":
						down = v.Name
					}
				case *Pool:
					after = v
				}
			}
			if up != "" && after.HighSince != nil {
				t.Fatalf("the high-utilisation clock runs on after the scale-up: %v", after.HighSince)
			}
			if up != tt.up || down != tt.down || drain != tt.drain || (after.LowSince != nil) != tt.lowSince {
				t.Fatalf("up %q down %q drain %q lowSince %v (status %q)", up, down, drain, after.LowSince, after.ScaleStatus)
			}
			if moved := up + down + drain; moved != "" && (len(ch.ToAdmins) != 1 || !strings.Contains(ch.ToAdmins[0].Title, moved)) {
				t.Fatalf("the admins are not told of %s: %+v", moved, ch.ToAdmins)
			}
			for _, r := range ch.Rows {
				if h, ok := r.(*Host); ok && h.State == HostDraining && (h.DrainDeadline == nil || !h.DrainDeadline.Equal(t0.Add(DefaultDrainDeadline))) {
					t.Fatalf("a scale-down drain without its deadline: %v", h.DrainDeadline)
				}
			}
			if tt.name == "NowhereToGo" {
				if !strings.Contains(after.ScaleStatus, "pods with nowhere to go (17 cores and 0 MiB requested, 16 cores and 64 GiB left without b)") {
					t.Fatalf("status %q", after.ScaleStatus)
				}
			} else if after.ScaleStatus != tt.status {
				t.Fatalf("status %q, want %q", after.ScaleStatus, tt.status)
			}
		})
	}
}

// TestAutoscaleOff: a pool whose usage cannot be read says why, and its
// low-utilisation clock stops; a pool without max_hosts says nothing.
func TestAutoscaleOff(t *testing.T) {
	t.Parallel()
	low := t0.Add(-time.Minute)
	p := Pool{Name: "p", State: PoolActive, MaxHosts: 3, LowSince: &low}
	ch := p.AutoscaleOff("no Kubernetes control plane to read usage from", t0)
	if len(ch.Rows) != 1 || ch.Rows[0].(*Pool).ScaleStatus != "no autoscaling: no Kubernetes control plane to read usage from" || ch.Rows[0].(*Pool).LowSince != nil {
		t.Fatalf("off: %+v", ch.Rows)
	}
	p.MaxHosts, p.LowSince = 0, nil
	if ch := p.AutoscaleOff("no Kubernetes control plane to read usage from", t0); len(ch.Rows) != 0 {
		t.Fatalf("a pool that is not autoscaled changed: %+v", ch.Rows[0])
	}
}

// TestUsageMembers: only the members that joined and are ASSIGNED count
// in a pool's usage; one whose join hook runs, a draining one, a spare and
// another pool's host do not.
func TestUsageMembers(t *testing.T) {
	t.Parallel()
	hosts := poolOf("p", fleet("a:8:32", "b:8:32", "c:8:32", "d:8:32", "e:8:32"), "a", "b", "c", "d")
	hosts[0].Joined, hosts[2].Joined, hosts[3].Joined = true, true, true
	hosts[2].State = HostDraining
	hosts[3].Spare, hosts[3].State = true, HostReady
	if got := UsageMembers("p", hosts); strings.Join(got, ",") != "a" {
		t.Fatalf("usage members %v, want a (b joins, c drains, d is a spare, e is free)", got)
	}
}
