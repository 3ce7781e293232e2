package purser

import (
	"testing"
	"time"
)

// TestDrained: one pass of a drain releases the host when no pod is left
// (saying when some were forced), and otherwise records why it waits,
// once: the pool's status then names the budget that refused.
func TestDrained(t *testing.T) {
	t.Parallel()
	deadline := t0.Add(time.Hour)
	budget := "disruption budget web-pdb refused eviction of default/web-1"
	tests := []struct {
		name   string
		wait   string // the host's DrainWait before
		step   DrainStep
		state  HostState
		reason string
		event  string // "" when nothing changes
	}{
		{"Done", "", DrainStep{}, HostReady, "drained out of pool p", "host.leave"},
		{"Forced", budget, DrainStep{Forced: 2}, HostReady, "drained out of pool p: the drain deadline passed, 2 pod(s) deleted by force", "host.leave"},
		{"RefusedByBudget", "", DrainStep{Left: 1, Wait: budget}, HostDraining, "draining out of pool p until 2026-03-01T13:00:00Z: " + budget, "host.drain_wait"},
		{"StillRefused", budget, DrainStep{Left: 1, Wait: budget}, HostDraining, "", ""},
		{"OnTheirWayOut", budget, DrainStep{Left: 2}, HostDraining, "draining out of pool p until 2026-03-01T13:00:00Z: 2 pod(s) on their way out", "host.drain_wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := poolOf("p", fleet("a:8:32"), "a")[0]
			h.State, h.DrainDeadline, h.DrainWait = HostDraining, &deadline, tt.wait
			ch := h.Drained(&Pool{Name: "p"}, tt.step)
			if tt.event == "" {
				if len(ch.Rows) != 0 {
					t.Fatalf("changed: %+v", ch.Rows[0])
				}
				return
			}
			after := ch.Rows[0].(*Host)
			if after.State != tt.state || after.Reason != tt.reason || ch.Events[0].Action != tt.event {
				t.Fatalf("%s %q %s", after.State, after.Reason, ch.Events[0].Action)
			}
			if tt.state == HostReady && (after.Pool != "" || after.DrainDeadline != nil || after.DrainWait != "") {
				t.Fatalf("a released host keeps its drain: %+v", after)
			}
			if tt.state == HostDraining {
				if after.DrainWait == "" || !after.DrainDeadline.Equal(deadline) {
					t.Fatalf("wait %q deadline %v", after.DrainWait, after.DrainDeadline)
				}
				p := Pool{Name: "p", State: PoolActive}
				members := poolOf("p", fleet("b:8:32", "c:8:32"), "b", "c")
				pc := p.Heal(append(members, after), t0)
				if got := pc.Rows[0].(*Pool).Status; got != "drain of a waits: "+after.DrainWait {
					t.Fatalf("pool status %q", got)
				}
			}
		})
	}
	h := &Host{State: HostDraining, DrainDeadline: &deadline}
	if h.DrainDue(t0) || !h.DrainDue(deadline) || !(&Host{State: HostDraining}).DrainDue(t0) {
		t.Fatal("DrainDue")
	}
}
