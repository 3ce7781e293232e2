package purser

import (
	"strings"
	"testing"
	"time"
)

// poolOf puts the hosts named in members into pool p as members.
func poolOf(p string, hosts []*Host, members ...string) []*Host {
	for _, h := range hosts {
		for _, m := range members {
			if h.Name == m {
				h.Pool, h.State = p, HostAssigned
			}
		}
	}
	return hosts
}

func TestPlanResize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		target      Resources
		min, max    int
		add, remove string
		over        Resources
		err         string
	}{
		{"Grow", Resources{40, 160 * GiB}, 0, 0, "f", "", Resources{}, ""},
		{"GrowOvershoot", Resources{36, 160 * GiB}, 0, 0, "f", "", Resources{4, 0}, ""},
		{"GrowAboveMax", Resources{40, 160 * GiB}, 0, 3, "", "", Resources{}, "would need 4 hosts, above its maximum of 3"},
		{"ShrinkLargestFirst", Resources{16, 64 * GiB}, 0, 0, "", "c", Resources{}, ""},
		{"ShrinkOvershoot", Resources{20, 64 * GiB}, 0, 0, "", "a", Resources{4, 32 * GiB}, ""},
		{"ShrinkKeepsMinimum", Resources{8, 32 * GiB}, 3, 0, "", "", Resources{}, "no member can leave"},
		{"BothDirections", Resources{40, 16 * GiB}, 0, 0, "", "", Resources{}, "grows one resource and shrinks the other"},
		{"NoChange", Resources{32, 128 * GiB}, 0, 0, "", "", Resources{}, "nothing to resize"},
		{"GrowBeyondInventory", Resources{400, 160 * GiB}, 0, 0, "", "", Resources{}, "cannot grow"},
		{"KeepMemory", Resources{Cores: 40}, 0, 0, "f", "", Resources{0, 32 * GiB}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hosts := poolOf("p", fleet("a:8:32", "b:8:32", "c:16:64", "f:8:32", "g:4:8"), "a", "b", "c")
			p := &Pool{Name: "p", Cores: 32, Memory: 128 * GiB, MinHosts: tt.min, MaxHosts: tt.max, State: PoolActive}
			plan, err := p.PlanResize(tt.target, hosts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if names(plan.Add) != tt.add || names(plan.Remove) != tt.remove || plan.Overshoot != tt.over {
				t.Fatalf("add %s remove %s over %v", names(plan.Add), names(plan.Remove), plan.Overshoot)
			}
		})
	}
}

func TestResizeNeedsConfirmationToOvershoot(t *testing.T) {
	t.Parallel()
	hosts := poolOf("p", fleet("a:8:32", "b:8:32", "c:16:64", "f:8:32"), "a", "b", "c")
	p := &Pool{Name: "p", Cores: 32, Memory: 128 * GiB, State: PoolActive}
	plan, err := p.PlanResize(Resources{36, 160 * GiB}, hosts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Resize(&Actor{User: ops}, plan, false, t0)
	if ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), "lands on 40 cores and 160 GiB, 4 cores and 0 MiB over: confirm (--yes)") {
		t.Fatalf("unconfirmed overshoot: %v", err)
	}
	ch, err := p.Resize(&Actor{User: ops}, plan, true, t0)
	if err != nil || p.Cores != 36 || len(ch.Rows) != 2 || ch.Rows[1].(*Host).Pool != "p" {
		t.Fatalf("confirmed: %v %+v", err, ch.Rows)
	}
}

func TestNodes(t *testing.T) {
	t.Parallel()
	hosts := poolOf("p", fleet("a:8:32", "b:8:32", "free:8:32", "other:8:32"), "a", "b")
	hosts[3].Pool, hosts[3].State = "q", HostAssigned
	spare := host("spare", 8, 32, HostReady, "p")
	spare.Spare = true
	p := &Pool{Name: "p", Cores: 16, MinHosts: 2, MaxHosts: 3, Selector: nil, State: PoolActive}
	by := &Actor{User: ops}
	if _, err := p.AddNode(by, hosts[3], 2); ErrorCode(err) != ECONFLICT {
		t.Fatalf("another pool's host: %v", err)
	}
	if _, err := p.AddNode(by, hosts[0], 2); ErrorCode(err) != ECONFLICT {
		t.Fatalf("a member again: %v", err)
	}
	if ch, err := p.AddNode(by, spare, 2); err != nil || ch.Rows[0].(*Host).Spare {
		t.Fatalf("promote a spare: %v", err)
	}
	if _, err := p.AddNode(by, hosts[2], 3); ErrorCode(err) != ECONFLICT {
		t.Fatalf("above max: %v", err)
	}
	if _, err := (&Pool{Name: "p", Selector: map[string]string{"gpu": "yes"}}).AddNode(by, hosts[2], 0); ErrorCode(err) != ECONFLICT {
		t.Fatalf("selector: %v", err)
	}
	if _, err := p.RemoveNode(by, hosts[0], 2); ErrorCode(err) != ECONFLICT {
		t.Fatalf("below min: %v", err)
	}
	if _, err := p.RemoveNode(by, hosts[2], 2); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("not in pool: %v", err)
	}
	ch, err := p.Drain(by, hosts[0], t0.Add(time.Hour))
	if err != nil || ch.Rows[0].(*Host).State != HostDraining || !ch.Rows[0].(*Host).DrainDeadline.Equal(t0.Add(time.Hour)) {
		t.Fatalf("drain: %v", err)
	}
	if h := hosts[0].FinishDrain(p, "drained").Rows[0].(*Host); h.State != HostReady || h.Pool != "" {
		t.Fatalf("finish drain: %+v", h)
	}
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	hosts := poolOf("p", fleet("a:8:32", "b:8:32", "c:8:32"), "a", "b", "c")
	p := &Pool{Name: "p", Cores: 16, State: PoolActive}
	ch, err := p.Destroy(&Actor{User: ops}, hosts, t0)
	if err != nil || len(ch.Rows) != 4 || ch.Rows[3] != (DeletedPool{"p"}) {
		t.Fatalf("destroy: %v %v", err, ch.Rows)
	}
	hosts[1].State, hosts[1].Reason = HostUnhealthy, "no heartbeat for 6m0s"
	ch, err = p.Destroy(&Actor{User: ops}, hosts, t0)
	if err != nil {
		t.Fatal(err)
	}
	after := ch.Rows[len(ch.Rows)-1].(*Pool)
	if after.State != PoolDestroyFailed || !strings.Contains(after.Status, "b (UNHEALTHY: no heartbeat for 6m0s) did not leave") || len(ch.ToAdmins) != 1 || len(ch.Rows) != 3 {
		t.Fatalf("destroy with a dead host: %+v %d rows", after, len(ch.Rows))
	}
}
