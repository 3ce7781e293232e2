package purser

import "testing"

// TestAuthorization is the one table of who may do what: every operation
// × every role × on its own documents or another's. Each operation is
// decided by the same domain function the store calls.
func TestAuthorization(t *testing.T) {
	t.Parallel()
	other := &User{Meta: Meta{ID: "other"}, Roles: []string{RoleDev}, IsActive: true}
	users := map[string]*User{"admin": admin, "ops": ops, "dev": dev, "other": other}
	plain := func(action Action) func(*Actor, string) error {
		return func(a *Actor, owner string) error { return a.Authorize(action, "") }
	}
	owned := func(action Action) func(*Actor, string) error {
		return func(a *Actor, owner string) error { return a.Authorize(action, owner) }
	}
	sees := func(action Action) func(*Actor, string) error {
		return func(a *Actor, owner string) error {
			s, err := a.ListScope(action)
			if err == nil && !s.All && s.User != owner {
				err = Errorf(EFORBIDDEN, "not in scope")
			}
			return err
		}
	}
	onRequest := func(s Status, do func(r *Request, a *Actor) (Change, error)) func(*Actor, string) error {
		return func(a *Actor, owner string) error {
			r := request(s)
			r.RequestedBy = owner
			_, err := do(r, a)
			return err
		}
	}
	// want: for admin, devops, dev and agent in turn, two cells: on its
	// own documents, then on another's ("y" allowed, "-" refused).
	tests := []struct {
		op   string
		do   func(a *Actor, owner string) error
		want string
	}{
		{"users.read", owned(ActionUserRead), "yy yy y- --"},
		{"users.write", owned(ActionUserWrite), "yy y- y- --"},
		{"users.act_for", func(a *Actor, owner string) error { _, err := a.CanActFor(owner, "requested_by"); return err }, "yy y- y- --"},
		{"roles.read", plain(ActionRoleRead), "yy yy yy --"},
		{"roles.write", plain(ActionRoleWrite), "yy -- -- --"},
		{"tokens.manage", owned(ActionTokenAnyUser), "yy y- y- --"},
		{"templates.read", plain(ActionTemplateRead), "yy yy yy --"},
		{"templates.write", plain(ActionTemplateWrite), "yy yy -- --"},
		{"templates.exec", plain(ActionTemplateExec), "yy -- -- --"},
		{"requests.read", owned(ActionRequestRead), "yy yy y- --"},
		{"requests.list", sees(ActionRequestRead), "yy yy y- --"},
		{"requests.review", func(a *Actor, owner string) error { _, err := a.CanReview(nil, users[owner], true); return err }, "-y -y -- --"},
		{"requests.revoke", onRequest(StatusRequested, func(r *Request, a *Actor) (Change, error) { return r.Revoke(a, t0) }), "yy y- y- --"},
		{"requests.retry", onRequest(StatusFailed, func(r *Request, a *Actor) (Change, error) { return r.Retry(a, t0) }), "yy yy y- --"},
		{"requests.purge", onRequest(StatusDeployed, func(r *Request, a *Actor) (Change, error) { return r.Purge(a, t0) }), "yy yy y- --"},
		{"requests.outputs", owned(ActionOutputsAny), "yy y- y- --"},
		{"extensions.revoke", func(a *Actor, owner string) error {
			_, err := (&Extension{RequestedBy: owner, Status: ExtensionRequested}).Revoke(a, t0)
			return err
		}, "yy y- y- --"},
		{"expiry.run", plain(ActionExpiryRun), "yy -- -- --"},
		{"quotas.read", owned(ActionQuotaRead), "yy yy y- --"},
		{"quotas.write", plain(ActionQuotaWrite), "yy yy -- --"},
		{"events.list", sees(ActionEventsRead), "yy yy y- --"},
		{"preferences.read", owned(ActionPreferencesRead), "yy y- y- --"},
		{"preferences.write", owned(ActionPreferencesWrite), "yy y- y- --"},
		{"clusters.read", plain(ActionClusterRead), "yy yy -- --"},
		{"clusters.write", plain(ActionClusterWrite), "yy yy -- --"},
		{"stacks.read", plain(ActionStackRead), "yy yy yy --"},
		{"stacks.write", plain(ActionStackWrite), "yy yy -- --"},
		{"stacks.apply", plain(ActionStackApply), "-- -- -- --"},
		{"hosts.read", func(a *Actor, owner string) error { return a.AuthorizeHostRead(owner) }, "yy yy -- y-"},
		{"hosts.write", plain(ActionHostWrite), "yy yy -- --"},
		{"hosts.heartbeat", func(a *Actor, owner string) error { return a.AuthorizeAgent(owner) }, "-- -- -- y-"},
		{"pools.read", plain(ActionPoolRead), "yy yy -- --"},
		{"pools.write", func(a *Actor, owner string) error {
			_, _, err := CreatePool(a, &Pool{Name: "p", Cores: 1}, []*Host{{Name: "h", Cores: 1, State: HostReady}}, t0)
			return err
		}, "yy yy -- --"},
		{"join_tokens.write", func(a *Actor, owner string) error { _, _, _, err := NewJoinToken(a, "", false, 0, t0); return err }, "yy yy -- --"},
		{"hooks.set", func(a *Actor, owner string) error {
			_, err := (&Pool{Name: "p"}).SetHooks(a, PoolHooks{Reboot: []string{"/sbin/reboot"}}, t0)
			return err
		}, "yy -- -- --"}, // admins only: hooks run on every member's machine
		{"pool.create_with_hooks", func(a *Actor, owner string) error {
			_, _, err := CreatePool(a, &Pool{Name: "p", Cores: 8, Hooks: PoolHooks{Join: []string{"/opt/join.sh"}}}, fleet("a:8:32"), t0)
			return err
		}, "yy -- -- --"},
		{"hooks.reboot", func(a *Actor, owner string) error {
			_, err := (&Pool{Name: "p", Hooks: PoolHooks{Reboot: []string{"/sbin/reboot"}}}).Reboot(a, &Host{Name: owner, Pool: "p"})
			return err
		}, "yy yy -- --"},
		{"hooks.claim", func(a *Actor, owner string) error {
			_, _, err := ClaimHookRuns(a, &Host{Name: owner}, nil, func(string) string { return "" }, t0)
			return err
		}, "-- -- -- y-"},
		{"hooks.finish", func(a *Actor, owner string) error {
			_, err := FinishHookRun(a, &HookRun{Host: owner, State: HookRunning}, 0, "", HookFacts{}, t0)
			return err
		}, "-- -- -- y-"},
	}
	actors := []struct {
		name  string
		actor *Actor
		own   string
	}{
		{"admin", &Actor{User: admin}, admin.ID},
		{"devops", &Actor{User: ops}, ops.ID},
		{"dev", &Actor{User: dev}, dev.ID},
		{"agent", &Actor{Host: "h1"}, "h1"},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			got := ""
			for i, a := range actors {
				if i > 0 {
					got += " "
				}
				for _, owner := range []string{a.own, other.ID} {
					if err := tt.do(a.actor, owner); err == nil {
						got += "y"
					} else if c := ErrorCode(err); c != EFORBIDDEN && c != EUNAUTHORIZED {
						t.Fatalf("%s on %s's: %v, want a 401 or 403", a.name, owner, err)
					} else {
						got += "-"
					}
				}
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q (admin devops dev agent; own, other's)", got, tt.want)
			}
		})
	}
	t.Run("EveryActionInTheTable", func(t *testing.T) {
		t.Parallel()
		if len(Rules) != 32 {
			t.Fatalf("Rules has %d actions: give the new one a row above", len(Rules))
		}
	})
}

func TestAuthorizationOfNoOneInactiveAndSystem(t *testing.T) {
	t.Parallel()
	gone := &User{Meta: Meta{ID: "gone"}, Roles: []string{RoleAdmin}}
	for action := range Rules {
		for name, tt := range map[string]struct {
			actor *Actor
			code  string
		}{
			"NoOne":    {nil, EUNAUTHORIZED},
			"Inactive": {&Actor{User: gone}, EFORBIDDEN},
			"System":   {&Actor{System: true}, ""},
		} {
			if err := tt.actor.Authorize(action, "gone"); ErrorCode(err) != tt.code {
				t.Errorf("%s %s: %v, want %q", name, action, err, tt.code)
			}
		}
	}
	if !(&Actor{Host: "h1"}).IsAgentFor("h1") || (&Actor{Host: "h1"}).IsAgentFor("h2") || (&Actor{User: dev}).IsAgentFor("") {
		t.Error("an agent acts for its own host only")
	}
	if s, err := (&Actor{System: true}).ListScope(ActionRequestRead); err != nil || !s.All {
		t.Errorf("the system sees %+v, %v", s, err)
	}
}
