package purser

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var testHooks = PoolHooks{
	Join:   []string{"/bin/join", "--pool={{ pool }}", "{{host}}", "{{ server }}"},
	Leave:  []string{"/bin/leave", "{{ host }}"},
	Reboot: []string{"/sbin/reboot"},
}

func TestPoolHooksValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		hooks PoolHooks
		field string // "" valid
	}{
		{"OK", testHooks, ""},
		{"None", PoolHooks{}, ""},
		{"ErrUnknownPlaceholder", PoolHooks{Join: []string{"/bin/join", "{{ secret }}"}}, "hooks.join[1]"},
		{"ErrPlaceholderAsCommand", PoolHooks{Leave: []string{"{{ host }}"}}, "hooks.leave[0]"},
		{"ErrEmptyCommand", PoolHooks{Reboot: []string{" "}}, "hooks.reboot[0]"},
		{"ErrTooLong", PoolHooks{Join: []string{"/bin/x", strings.Repeat("a", MaxHookArgLen+1)}}, "hooks.join[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := tt.hooks.Validate()
			if tt.field == "" && len(fe) > 0 || tt.field != "" && (len(fe) != 1 || fe[0].Field != tt.field) {
				t.Fatalf("got %v, want field %q", fe, tt.field)
			}
		})
	}
}

// TestRenderHook: a value is text inside one argument, whatever it
// holds: no shell, no template language reads it.
func TestRenderHook(t *testing.T) {
	t.Parallel()
	got := RenderHook([]string{"/bin/join", "--pool={{ pool }}", "{{host}}", "{{ nope }}", "{{ address }}"},
		map[string]string{"pool": "web", "host": "n1; rm -rf / $(x) {{ pool }}", "address": "'a b'"})
	want := []string{"/bin/join", "--pool=web", "n1; rm -rf / $(x) {{ pool }}", "", "'a b'"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
}

func TestPoolCheckCluster(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cluster string
		c       *Cluster
		rule    string
	}{
		{"None", "", nil, ""},
		{"OK", "k", &Cluster{Name: "k", Kind: ClusterKubernetes}, ""},
		{"ErrMissing", "k", nil, "exists"},
		{"ErrKind", "k", &Cluster{Name: "k", Kind: ClusterSim}, "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&Pool{Name: "p", Cluster: tt.cluster}).CheckCluster(tt.c)
			var fe []FieldError
			if e, ok := err.(*Error); ok {
				fe = e.Fields
			}
			if tt.rule == "" && err != nil || tt.rule != "" && (len(fe) != 1 || fe[0].Field != "cluster" || fe[0].Rule != tt.rule) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func runsOf(ch Change) []*HookRun {
	var out []*HookRun
	for _, r := range ch.Rows {
		if v, ok := r.(*HookRun); ok {
			out = append(out, v)
		}
	}
	return out
}

func hostRow(ch Change, name string) *Host {
	var out *Host
	for _, r := range ch.Rows {
		if v, ok := r.(*Host); ok && v.Name == name {
			out = v
		}
	}
	return out
}

// TestHookRunsQueued: members joining run the join hook (spares do not),
// joined members leaving run the leave hook; without hooks a member is
// joined at once.
func TestHookRunsQueued(t *testing.T) {
	t.Parallel()
	hosts := fleet("a:8:32", "b:8:32", "c:8:32")
	p := &Pool{Name: "web", Cores: 16, Spares: 1, Cluster: "k", Hooks: testHooks}
	if _, _, err := CreatePool(&Actor{User: ops}, p, hosts, t0); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("devops set hooks: %v", err) // pools:hooks is the admins'
	}
	_, ch, err := CreatePool(&Actor{User: admin}, p, hosts, t0)
	if err != nil {
		t.Fatal(err)
	}
	runs := runsOf(ch)
	if len(runs) != 2 || runs[0].Kind != HookJoin || runs[0].Host != "a" || runs[1].Host != "b" || runs[0].Params["cluster"] != "k" {
		t.Fatalf("runs %+v", runs)
	}
	if h := hostRow(ch, "a"); h.Joined || h.State != HostAssigned {
		t.Fatalf("a joined before its hook ran: %+v", h)
	}
	if h := hostRow(ch, "c"); !h.Spare || h.Joined {
		t.Fatalf("spare %+v", h)
	}

	member := host("a", 8, 32, HostAssigned, "web")
	member.Joined = true
	joining := host("b", 8, 32, HostAssigned, "web")
	if _, ch := member.leave(p, "removed"); len(runsOf(ch)) != 1 || runsOf(ch)[0].Kind != HookLeave {
		t.Fatalf("a joined member leaving: %+v", ch.Rows)
	}
	if _, ch := joining.leave(p, "removed"); len(runsOf(ch)) != 0 {
		t.Fatalf("a member that never joined runs no leave hook: %+v", ch.Rows)
	}
	bare := &Pool{Name: "bare", Cores: 8}
	if h, ch := host("c", 8, 32, HostReady, "").join(bare, false, "x"); !h.Joined || len(runsOf(ch)) != 0 {
		t.Fatalf("no hooks: %+v", h)
	}
}

func TestClaimHookRuns(t *testing.T) {
	t.Parallel()
	h := host("a", 8, 32, HostAssigned, "web")
	p := &Pool{Name: "web", Cluster: "k", Hooks: testHooks}
	join := p.hookRun(HookJoin, h)
	gone := &HookRun{Meta: Meta{ID: "old"}, Host: "a", Pool: "old", Kind: HookJoin, Argv: []string{"/bin/x"}, State: HookPending}
	server := func(c string) string { return map[string]string{"k": "https://k:6443"}[c] }
	if _, _, err := ClaimHookRuns(&Actor{Host: "b"}, h, []*HookRun{join}, server, t0); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("another host's agent: %v", err)
	}
	if _, _, err := ClaimHookRuns(&Actor{User: ops}, h, []*HookRun{join}, server, t0); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("a user: %v", err)
	}
	got, ch, err := ClaimHookRuns(&Actor{Host: "a"}, h, []*HookRun{gone, join}, server, t0)
	if err != nil || len(got) != 1 || got[0].State != HookRunning {
		t.Fatalf("claim: %v %+v", err, got)
	}
	if want := []string{"/bin/join", "--pool=web", "a", "https://k:6443"}; !slices.Equal(got[0].Argv, want) {
		t.Fatalf("argv %q", got[0].Argv)
	}
	if r := runsOf(ch)[0]; r.ID != "old" || r.State != HookFailed || !strings.Contains(r.Error, "left pool old") {
		t.Fatalf("a join for a pool the host left: %+v", r)
	}
}

func runningHook(kind HookKind, host, pool string) *HookRun {
	return &HookRun{Meta: Meta{ID: string(kind) + host, Created: t0}, Host: host, Pool: pool, Kind: kind, State: HookRunning}
}

func actions(ch Change) string {
	var out []string
	for _, e := range ch.Events {
		out = append(out, e.Action+":"+e.TargetID)
	}
	return strings.Join(out, " ")
}

// TestFinishHookRun: the outcomes of a run, table-tested on the facts.
func TestFinishHookRun(t *testing.T) {
	t.Parallel()
	p := &Pool{Name: "web", Cores: 16, Hooks: testHooks, State: PoolActive}
	joining := func() *Host { return host("a", 8, 32, HostAssigned, "web") }
	joined := func() *Host { h := joining(); h.Joined = true; return h }
	destroying := &Pool{Name: "web", Hooks: testHooks, State: PoolDestroying}
	tests := []struct {
		name    string
		run     *HookRun
		exit    int
		facts   HookFacts
		actions string
		check   func(t *testing.T, ch Change)
	}{
		{"JoinSucceeds", runningHook(HookJoin, "a", "web"), 0, HookFacts{Host: joining(), Pool: p}, "hook.succeed:a host.joined:a",
			func(t *testing.T, ch Change) {
				if !hostRow(ch, "a").Joined {
					t.Fatal("not joined")
				}
			}},
		{"JoinFailsAnotherPlaced", runningHook(HookJoin, "a", "web"), 2,
			HookFacts{Host: joining(), Pool: p, Hosts: []*Host{joining(), joined2("b"), host("f1", 16, 64, HostReady, ""), host("f2", 8, 32, HostReady, "")}},
			"hook.fail:a host.join_failed:a host.join:f2 hook.queue:f2 hook.queue:a",
			func(t *testing.T, ch Change) {
				if runs := runsOf(ch); len(runs) != 3 || runs[2].Kind != HookLeave || runs[2].Host != "a" || runs[2].State != HookPending {
					t.Fatalf("no leave queued on the half-joined a: %+v", runs)
				}
				if h := hostRow(ch, "a"); h.Pool != "" || h.State != HostReady || !strings.Contains(h.Reason, "join hook exited 2") {
					t.Fatalf("a %+v", h)
				}
				if len(ch.ToAdmins) != 1 || !strings.Contains(ch.ToAdmins[0].Description, "f2 joins in its place") {
					t.Fatalf("admins %+v", ch.ToAdmins)
				}
			}},
		{"JoinFailsNothingFits", runningHook(HookJoin, "a", "web"), 1,
			HookFacts{Host: joining(), Pool: p, Hosts: []*Host{joining(), joined2("b")}},
			"hook.fail:a host.join_failed:a pool.status:web hook.queue:a",
			func(t *testing.T, ch Change) {
				for _, r := range ch.Rows {
					if v, ok := r.(*Pool); ok && strings.HasPrefix(v.Status, "short after a failed to join") {
						return
					}
				}
				t.Fatal("no status")
			}},
		{"JoinFailsAfterLeavingLeaves", runningHook(HookJoin, "a", "web"), 3, HookFacts{Host: host("a", 8, 32, HostReady, ""), Pool: p},
			"hook.fail:a hook.queue:a", nil},
		{"JoinFailsPoolGone", runningHook(HookJoin, "a", "web"), 3, HookFacts{Host: host("a", 8, 32, HostReady, "")}, "hook.fail:a", nil},
		{"JoinedAfterLeavingLeaves", runningHook(HookJoin, "a", "web"), 0, HookFacts{Host: host("a", 8, 32, HostReady, ""), Pool: p},
			"hook.succeed:a hook.queue:a", nil},
		{"LastLeaveRemovesPool", runningHook(HookLeave, "a", "web"), 0,
			HookFacts{Host: host("a", 8, 32, HostReady, ""), Pool: destroying, Open: []*HookRun{runningHook(HookLeave, "a", "web")}},
			"hook.succeed:a pool.destroy:web", nil},
		{"LeaveWaitsForOthers", runningHook(HookLeave, "a", "web"), 0,
			HookFacts{Host: host("a", 8, 32, HostReady, ""), Pool: destroying, Open: []*HookRun{runningHook(HookLeave, "b", "web")}},
			"hook.succeed:a", nil},
		{"LeaveFailsOnDestroy", runningHook(HookLeave, "a", "web"), 1,
			HookFacts{Host: host("a", 8, 32, HostReady, ""), Pool: destroying},
			"hook.fail:a host.leave_failed:a pool.destroy_failed:web",
			func(t *testing.T, ch Change) {
				if h := hostRow(ch, "a"); h.State != HostMaintenance {
					t.Fatalf("a %+v", h)
				}
				if len(ch.ToAdmins) != 1 || !strings.Contains(ch.ToAdmins[0].Description, "a did not leave (leave hook exited 1)") {
					t.Fatalf("admins %+v", ch.ToAdmins)
				}
			}},
		{"LeaveFailsOnASilentHost", runningHook(HookLeave, "a", "web"), 1,
			HookFacts{Host: host("a", 8, 32, HostUnhealthy, ""), Pool: p},
			"hook.fail:a",
			func(t *testing.T, ch Change) {
				// Not put under maintenance (it does not answer): the message
				// says where it stands instead.
				if len(ch.ToAdmins) != 1 || !strings.Contains(ch.ToAdmins[0].Description, "it stays UNHEALTHY") ||
					strings.Contains(ch.ToAdmins[0].Description, "under maintenance") {
					t.Fatalf("admins %+v", ch.ToAdmins)
				}
			}},
		{"RebootFailsTold", runningHook(HookReboot, "a", "web"), 1, HookFacts{Host: joined(), Pool: p}, "hook.fail:a",
			func(t *testing.T, ch Change) {
				if len(ch.ToAdmins) != 1 || ch.ToAdmins[0].Event != "host.reboot_failed" {
					t.Fatalf("admins %+v", ch.ToAdmins)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := FinishHookRun(&Actor{Host: "a"}, tt.run, tt.exit, "", tt.facts, t0)
			if err != nil || actions(ch) != tt.actions {
				t.Fatalf("got %s (%v), want %s", actions(ch), err, tt.actions)
			}
			if tt.check != nil {
				tt.check(t, ch)
			}
		})
	}
	if _, err := FinishHookRun(&Actor{Host: "b"}, runningHook(HookJoin, "a", "web"), 0, "", HookFacts{}, t0); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("another agent: %v", err)
	}
	done := runningHook(HookJoin, "a", "web")
	done.State = HookFailed
	if _, err := FinishHookRun(&Actor{Host: "a"}, done, 0, "", HookFacts{}, t0); ErrorCode(err) != ECONFLICT {
		t.Fatalf("finished already: %v", err)
	}
}

func joined2(name string) *Host {
	h := host(name, 8, 32, HostAssigned, "web")
	h.Joined = true
	return h
}

// TestExpireHookRun: a join not done within the timeout fails; the host
// that does not answer leaves the pool in its state.
func TestExpireHookRun(t *testing.T) {
	t.Parallel()
	p := &Pool{Name: "web", Cores: 8, Hooks: testHooks, State: PoolActive}
	r := runningHook(HookJoin, "a", "web")
	r.State = HookPending
	silent := host("a", 8, 32, HostUnhealthy, "web")
	f := HookFacts{Host: silent, Pool: p, Hosts: []*Host{silent, host("f", 8, 32, HostReady, "")}}
	if ch := ExpireHookRun(r, 10*time.Minute, f, t0.Add(9*time.Minute)); len(ch.Rows) != 0 {
		t.Fatalf("expired early: %s", actions(ch))
	}
	ch := ExpireHookRun(r, 10*time.Minute, f, t0.Add(10*time.Minute))
	if got := actions(ch); got != "hook.fail:a host.join_failed:a host.join:f hook.queue:f" {
		t.Fatalf("got %s", got)
	}
	if h := hostRow(ch, "a"); h.State != HostUnhealthy || h.Pool != "" {
		t.Fatalf("silent host %+v", h)
	}
	if run := runsOf(ch)[0]; !strings.Contains(run.Error, "not started within 10m0s (pools.join_timeout)") {
		t.Fatalf("why %q", run.Error)
	}
}

// TestExpireRunningJoin: a join the agent took but never reported fails
// at the timeout, and the pool's leave hook is queued on the host, to run
// when its agent answers (it may have half joined).
func TestExpireRunningJoin(t *testing.T) {
	t.Parallel()
	p := &Pool{Name: "web", Cores: 8, Hooks: testHooks, State: PoolActive}
	silent := host("a", 8, 32, HostSuspect, "web")
	f := HookFacts{Host: silent, Pool: p, Hosts: []*Host{silent}}
	ch := ExpireHookRun(runningHook(HookJoin, "a", "web"), 10*time.Minute, f, t0.Add(10*time.Minute))
	if got := actions(ch); got != "hook.fail:a host.join_failed:a pool.status:web hook.queue:a" {
		t.Fatalf("got %s", got)
	}
	if run := runsOf(ch)[1]; run.Kind != HookLeave || run.Host != "a" || run.State != HookPending {
		t.Fatalf("leave %+v", run)
	}
}

// TestAgentRestarted: when a host's agent registers again, the runs it
// had taken fail at once with the reason, with a failed run's
// consequences; pending runs wait for the new agent.
func TestAgentRestarted(t *testing.T) {
	t.Parallel()
	p := &Pool{Name: "web", Cores: 8, Hooks: testHooks, State: PoolActive}
	joining := host("a", 8, 32, HostAssigned, "web")
	tests := []struct {
		name    string
		run     *HookRun
		actions string
	}{
		{"JoinFailsAnotherPlaced", runningHook(HookJoin, "a", "web"), "hook.fail:a host.join_failed:a host.join:f hook.queue:f hook.queue:a"},
		{"LeaveFailsMaintenance", runningHook(HookLeave, "a", "web"), "hook.fail:a host.leave_failed:a"},
		{"RebootFailsTold", runningHook(HookReboot, "a", "web"), "hook.fail:a"},
		{"PendingWaits", func() *HookRun { r := runningHook(HookJoin, "a", "web"); r.State = HookPending; return r }(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := joining
			if tt.run.Kind == HookLeave {
				h = host("a", 8, 32, HostReady, "")
			}
			f := HookFacts{Host: h, Pool: p, Hosts: []*Host{h, host("f", 8, 32, HostReady, "")}}
			ch := AgentRestarted(tt.run, f, t0)
			if got := actions(ch); got != tt.actions {
				t.Fatalf("got %s, want %s", got, tt.actions)
			}
			if tt.actions != "" && runsOf(ch)[0].Error != ReasonAgentRestarted {
				t.Fatalf("why %q", runsOf(ch)[0].Error)
			}
		})
	}
}

// TestDestroyWithLeaveHooks: the pool is DESTROYING while leave hooks run.
func TestDestroyWithLeaveHooks(t *testing.T) {
	t.Parallel()
	p := &Pool{Name: "web", Hooks: testHooks, State: PoolActive}
	hosts := []*Host{joined2("a"), joined2("b")}
	ch, err := p.Destroy(&Actor{User: ops}, hosts, t0)
	if err != nil || actions(ch) != "host.leave:a hook.queue:a host.leave:b hook.queue:b pool.destroying:web" {
		t.Fatalf("got %s %v", actions(ch), err)
	}
}
