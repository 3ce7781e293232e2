package purser

import (
	"slices"
	"testing"
	"time"
)

func TestIdentityUsername(t *testing.T) {
	for _, c := range []struct{ preferred, email, subject, want string }{
		{"Alice", "", "", "alice"},
		{"", "bob.smith@example.com", "x", "bob.smith"},
		{"", "", "Sub|123", "sub-123"},
		{"__Carol D", "", "", "carol-d"},
	} {
		if got := IdentityUsername(c.preferred, c.email, c.subject); got != c.want {
			t.Errorf("IdentityUsername(%q, %q, %q) = %q, want %q", c.preferred, c.email, c.subject, got, c.want)
		}
	}
}

func TestGroupRoles(t *testing.T) {
	m := GroupRoles{"ops": RoleDevOps, "admins": RoleAdmin, "sre": RoleDevOps}
	for _, c := range []struct {
		name     string
		m        GroupRoles
		groups   []string
		defaults []string
		want     []string
	}{
		{"Mapped", m, []string{"sre", "ops", "admins", "other"}, nil, []string{RoleAdmin, RoleDevOps}},
		{"Defaults", m, []string{"other"}, []string{RoleDev}, []string{RoleDev}},
		{"NoneNoDefaults", m, nil, nil, []string{}},
		{"NoMapping", nil, []string{"ops"}, []string{RoleDev}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.m.Roles(c.groups, c.defaults)
			if !slices.Equal(got, c.want) || (got == nil) != (c.want == nil) {
				t.Fatalf("Roles = %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestSignInWait(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		failures int
		after    time.Duration
		want     time.Duration
	}{
		{"UnderLimit", SignInFailureLimit - 1, time.Second, 0},
		{"AtLimit", SignInFailureLimit, 15 * time.Second, 45 * time.Second},
		{"WindowEnded", SignInFailureLimit * 3, SignInFailureWindow, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := SignInWait(start, c.failures, start.Add(c.after)); got != c.want {
				t.Fatalf("SignInWait = %v, want %v", got, c.want)
			}
		})
	}
}
