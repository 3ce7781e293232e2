package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testPoolAgentRestart: an agent that registers again (a restart) has the
// join run its old self had taken failed at once, in the registration's
// transaction, with the reason; the host leaves the pool, another is
// placed, and the pool's leave hook is queued on the restarted host to
// clean up the half-done join, for the new agent to claim.
func testPoolAgentRestart(t *testing.T, open Opener) {
	f := newPoolFixture(t, open)
	_, secret, err := f.tokens.CreateJoinToken(f.admin, "", true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.register(secret, "a:8:32", "b:8:32")
	hooks := purser.PoolHooks{Join: []string{"/bin/join", "{{ host }}"}, Leave: []string{"/bin/leave", "{{ host }}"}}
	if _, err := f.pools.CreatePool(f.admin, &purser.Pool{Name: "web", Cores: 8, Hooks: hooks}, false); err != nil {
		t.Fatal(err)
	}
	runs := sqldb.NewHookRunService(f.db, time.Minute)
	taken, _, err := runs.ClaimHookRuns(f.agents["a"], "a")
	if err != nil || len(taken) != 1 || taken[0].Kind != purser.HookJoin {
		t.Fatalf("a's agent claims its join: %+v %v", taken, err)
	}
	f.clock.add(time.Second)
	f.register(secret, "a:8:32") // the agent restarted

	list, _, err := runs.FindHookRuns(f.admin, "a", purser.Query{Page: 1, MaxResults: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("a's runs: %+v %v", list, err)
	}
	if j := list[0]; j.State != purser.HookFailed || j.Error != purser.ReasonAgentRestarted {
		t.Fatalf("the join the old agent took: %+v", j)
	}
	if l := list[1]; l.Kind != purser.HookLeave || l.State != purser.HookPending {
		t.Fatalf("no leave queued to clean up: %+v", l)
	}
	if a := f.host("a"); a.Pool != "" || a.State != purser.HostReady {
		t.Fatalf("a after its restart: %+v", a)
	}
	if b := f.host("b"); b.Pool != "web" {
		t.Fatalf("b not placed in a's stead: %+v", b)
	}
	// The new agent takes the leave; the old agent's report is refused.
	taken, _, err = runs.ClaimHookRuns(f.agents["a"], "a")
	if err != nil || len(taken) != 1 || taken[0].Kind != purser.HookLeave {
		t.Fatalf("the new agent claims the leave: %+v %v", taken, err)
	}
	if _, err := runs.FinishHookRun(purser.SystemContext(context.Background()), "a", list[0].ID, 0, ""); purser.ErrorCode(err) != purser.ECONFLICT {
		t.Fatalf("a late report of the failed join: %v", err)
	}
}
