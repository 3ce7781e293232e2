package purser

import (
	"strings"
	"testing"
)

// healFleet is a pool p of n members (8 cores, 32 GiB) of which the first
// sick are UNHEALTHY, with spares and free hosts given as name:cores:GiB.
func healFleet(n, sick int, spares, free []string) []*Host {
	var hosts []*Host
	for i := range n {
		h := host(string(rune('a'+i)), 8, 32, HostAssigned, "p")
		if i < sick {
			h.State, h.Reason = HostUnhealthy, "no heartbeat for 5m0s"
		}
		hosts = append(hosts, h)
	}
	for _, h := range fleet(spares...) {
		h.Pool, h.Spare = "p", true
		hosts = append(hosts, h)
	}
	return append(hosts, fleet(free...)...)
}

func TestHeal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n, sick  int
		spares   []string
		free     []string
		halted   bool
		replaced string // "failed>replacement ..."
		status   string
		messages string
	}{
		{"Healthy", 3, 0, []string{"s1:8:32"}, nil, false, "", "", ""},
		{"ReplacedFromSpare", 3, 1, []string{"s1:16:64", "s2:8:32"}, []string{"f1:8:32"}, false, "a>s2", "", "pool.replace"},
		{"SpareMustBeAsLarge", 3, 1, []string{"s1:4:16"}, []string{"f1:8:64"}, false, "a>f1", "", "pool.replace"},
		{"LastSpareUsed", 3, 1, []string{"s1:8:32"}, nil, false, "a>s1", "", "pool.replace pool.spares_exhausted"},
		{"NoSpareFits", 3, 1, []string{"s1:4:16"}, []string{"f1:2:8"}, false, "", "no spare fits: needs 8 cores and 32 GiB, largest free 4 and 16", "pool.spares_exhausted"},
		{"HaltedOver40Percent", 5, 3, []string{"s1:8:32", "s2:8:32", "s3:8:32"}, nil, true, "", "halted: 3 of 5 unhealthy > 40 %", "pool.heal_halted"},
		{"TwoOfFiveHeals", 5, 2, []string{"s1:8:32", "s2:8:32"}, nil, false, "a>s1 b>s2", "", "pool.replace pool.replace pool.spares_exhausted"},
		{"HaltedOver3Hosts", 20, 4, []string{"s1:8:32"}, nil, true, "", "halted: 4 of 20 unhealthy > 3 hosts", "pool.heal_halted"},
		{"ThreeOfTwentyHeals", 20, 3, []string{"s1:8:32", "s2:8:32", "s3:8:32", "s4:8:32"}, nil, false, "a>s1 b>s2 c>s3", "", "pool.replace pool.replace pool.replace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hosts := healFleet(tt.n, tt.sick, tt.spares, tt.free)
			p := &Pool{Name: "p", Cores: 8 * tt.n, Spares: len(tt.spares), State: PoolActive}
			ch := p.Heal(hosts, t0)
			var replaced, msgs []string
			for _, e := range ch.Events {
				if e.Action == "pool.replace" {
					replaced = append(replaced, e.Before.(map[string]any)["host"].(string)+">"+e.After.(map[string]any)["host"].(string))
				}
			}
			for _, m := range ch.ToAdmins {
				msgs = append(msgs, m.Event)
			}
			status, halted := p.Status, p.Halted
			for _, r := range ch.Rows {
				if a, ok := r.(*Pool); ok {
					status, halted = a.Status, a.Halted
				}
			}
			if strings.Join(replaced, " ") != tt.replaced || status != tt.status || halted != tt.halted || strings.Join(msgs, " ") != tt.messages {
				t.Fatalf("replaced %v status %q halted %v messages %v", replaced, status, halted, msgs)
			}
		})
	}
}

func TestHealOnceHaltedPagesOnce(t *testing.T) {
	t.Parallel()
	hosts := healFleet(5, 3, []string{"s1:8:32"}, nil)
	p := &Pool{Name: "p", Cores: 40, State: PoolActive, Halted: true, Status: "halted: 3 of 5 unhealthy > 40 %"}
	if ch := p.Heal(hosts, t0); len(ch.Rows)+len(ch.ToAdmins)+len(ch.Events) != 0 {
		t.Fatalf("halted again: %+v", ch)
	}
	hosts[0].State, hosts[1].State = HostAssigned, HostAssigned // two came back
	ch := p.Heal(hosts, t0)
	if len(ch.Events) == 0 || ch.Events[len(ch.Events)-1].Action != "pool.heal_resumed" {
		t.Fatalf("resumed: %+v", ch.Events)
	}
	if r := ch.Rows[0].(*Host); r.Name != "c" || r.Pool != "" || r.State != HostUnhealthy {
		t.Fatalf("the failed host leaves the pool in its state: %+v", r)
	}
}

func TestHaltReason(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		u, n int
		want string
	}{{0, 1, ""}, {1, 3, ""}, {1, 2, "halted: 1 of 2 unhealthy > 40 %"}, {2, 5, ""}, {3, 10, ""}, {4, 10, "halted: 4 of 10 unhealthy > 3 hosts"}, {5, 10, "halted: 5 of 10 unhealthy > 40 %"}, {4, 100, "halted: 4 of 100 unhealthy > 3 hosts"}} {
		if got := haltReason(tt.u, tt.n); got != tt.want {
			t.Errorf("%d of %d: %q, want %q", tt.u, tt.n, got, tt.want)
		}
	}
}

// TestHealJoiningMember: healing reads no utilisation, only health. An
// UNHEALTHY member still joining is replaced like any other, but queues
// no leave hook (nothing joined yet: the end of its open join run decides
// the cleanup, FinishHookRun and ExpireHookRun); a joined one's leave is
// queued for when its agent answers. The replacements' joins are queued.
func TestHealJoiningMember(t *testing.T) {
	t.Parallel()
	hosts := healFleet(5, 2, []string{"s1:8:32", "s2:8:32"}, nil)
	hosts[1].Joined = true // a is joining, b joined
	p := &Pool{Name: "p", Cores: 40, Spares: 2, State: PoolActive, Hooks: testHooks}
	ch := p.Heal(hosts, t0)
	var runs []string
	for _, r := range runsOf(ch) {
		runs = append(runs, string(r.Kind)+":"+r.Host)
	}
	if got := strings.Join(runs, " "); got != "join:s1 leave:b join:s2" {
		t.Fatalf("runs %s, want join:s1 leave:b join:s2 (no leave for a, which never joined)", got)
	}
}
