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
		{"UpOnHighWater", busy(22), Pool{}, false, []string{"f2:16:64"}, "f2", "", "", "", false},
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
			if tt.draining {
				hosts[0].State = HostDraining
			}
			p := tt.pool
			p.Name, p.State = "p", PoolActive
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
			if up != tt.up || down != tt.down || drain != tt.drain || (after.LowSince != nil) != tt.lowSince {
				t.Fatalf("up %q down %q drain %q lowSince %v (status %q)", up, down, drain, after.LowSince, after.ScaleStatus)
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
