package purser

import (
	"strings"
	"testing"
	"time"
)

func host(name string, cores int, gibs int64, state HostState, pool string) *Host {
	return &Host{Meta: Meta{ID: name, Created: t0}, Name: name, Cores: cores, Memory: gibs * GiB, State: state, Pool: pool}
}

func TestHostHealth(t *testing.T) {
	t.Parallel()
	at := func(ago time.Duration) *time.Time { x := t0.Add(-ago); return &x }
	short := HealthPolicy{Suspect: 2 * time.Second, Unhealthy: 5 * time.Second}
	tests := []struct {
		name   string
		state  HostState
		last   *time.Time
		policy HealthPolicy
		want   HostState // "" for no change
		action string
	}{
		{"FreshStaysReady", HostReady, at(10 * time.Second), HealthPolicy{}, "", ""},
		{"SuspectAfter50s", HostAssigned, at(50 * time.Second), HealthPolicy{}, HostSuspect, "host.suspect"},
		{"StillSuspect", HostSuspect, at(2 * time.Minute), HealthPolicy{}, "", ""},
		{"UnhealthyAfter5m", HostSuspect, at(5 * time.Minute), HealthPolicy{}, HostUnhealthy, "host.unhealthy"},
		{"StraightToUnhealthy", HostAssigned, at(time.Hour), HealthPolicy{}, HostUnhealthy, "host.unhealthy"},
		{"StaysUnhealthy", HostUnhealthy, at(time.Hour), HealthPolicy{}, "", ""},
		{"NeverSentCountsFromRegistration", HostReady, nil, short, HostUnhealthy, "host.unhealthy"},
		{"ShortPolicySuspect", HostReady, at(3 * time.Second), short, HostSuspect, "host.suspect"},
		{"MaintenanceIgnored", HostMaintenance, at(time.Hour), HealthPolicy{}, "", ""},
		{"RetiredIgnored", HostRetired, at(time.Hour), HealthPolicy{}, "", ""},
		{"DrainingWatched", HostDraining, at(time.Minute), HealthPolicy{}, HostSuspect, "host.suspect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := host("h1", 4, 8, tt.state, "")
			h.Created, h.LastHeartbeat = t0.Add(-time.Minute), tt.last
			after, ch := h.Health(t0, tt.policy)
			if tt.want == "" {
				if after != nil || len(ch.Rows) > 0 {
					t.Fatalf("changed to %v", after.State)
				}
				return
			}
			if after == nil || after.State != tt.want || len(ch.Events) != 1 || ch.Events[0].Action != tt.action {
				t.Fatalf("got %+v %+v, want %s", after, ch.Events, tt.want)
			}
			if !strings.HasPrefix(after.Reason, "no heartbeat for ") {
				t.Fatalf("reason %q", after.Reason)
			}
		})
	}
}

func TestHostHeartbeatRecovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		state HostState
		pool  string
		spare bool
		want  HostState
		event bool
	}{
		{"ReadyStays", HostReady, "", false, HostReady, false},
		{"SuspectMemberAssigned", HostSuspect, "p", false, HostAssigned, true},
		{"UnhealthySpareReady", HostUnhealthy, "p", true, HostReady, true},
		{"ReplacedBackToInventory", HostUnhealthy, "", false, HostReady, true},
		{"MaintenanceStays", HostMaintenance, "", false, HostMaintenance, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := host("h1", 4, 8, tt.state, tt.pool)
			h.Spare = tt.spare
			after, ch := h.Heartbeat(t0)
			if after.State != tt.want || (len(ch.Events) == 1) != tt.event || !after.LastHeartbeat.Equal(t0) {
				t.Fatalf("got %s with %d events", after.State, len(ch.Events))
			}
		})
	}
}

func TestHostMaintenanceRetireRelabel(t *testing.T) {
	t.Parallel()
	free, member := host("h1", 4, 8, HostReady, ""), host("h2", 4, 8, HostAssigned, "p")
	if _, _, err := member.Maintenance(true); ErrorCode(err) != ECONFLICT {
		t.Fatalf("member under maintenance: %v", err)
	}
	m, ch, err := free.Maintenance(true)
	if err != nil || m.State != HostMaintenance || len(ch.Events) != 1 {
		t.Fatalf("maintenance: %v %v", m, err)
	}
	back, _, _ := m.Maintenance(false)
	if back.State != HostReady {
		t.Fatalf("back from maintenance: %s", back.State)
	}
	if _, _, err := member.Retire(); ErrorCode(err) != ECONFLICT {
		t.Fatalf("retire a member: %v", err)
	}
	r, _, err := free.Retire()
	if err != nil || r.State != HostRetired {
		t.Fatalf("retire: %v", err)
	}
	l, _, err := free.Relabel(map[string]string{"zone": "a", "gone": ""})
	if err != nil || l.Labels["zone"] != "a" || free.Labels != nil {
		t.Fatalf("relabel: %v %v (the original changed: %v)", l.Labels, err, free.Labels)
	}
	if _, _, err := free.Relabel(map[string]string{"bad key!": "x"}); ErrorCode(err) != EINVALID {
		t.Fatalf("bad label: %v", err)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	reported := Host{Name: "node-1", Address: "10.0.0.1", Cores: 8, Memory: 32 * GiB, Labels: map[string]string{"zone": "a"}}
	once := &JoinToken{ID: "t1", ExpiresAt: t0.Add(time.Hour)}
	h, secret, ch, err := Register(once, nil, reported, t0)
	if err != nil || h.State != HostReady || !strings.HasPrefix(secret, AgentPrefix) || len(ch.Rows) != 3 || ch.Events[0].Action != "host.register" {
		t.Fatalf("register: %+v %q %v", h, secret, err)
	}
	used := ch.Rows[0].(*JoinToken)
	if _, _, _, err := Register(used, nil, reported, t0); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("one-time token twice: %v", err)
	}
	reusable := &JoinToken{ID: "t2", Reusable: true, Uses: 5, ExpiresAt: t0.Add(time.Hour)}
	sick := host("node-1", 4, 8, HostUnhealthy, "p")
	again, _, ch, err := Register(reusable, sick, reported, t0)
	if err != nil || again.State != HostAssigned || again.Pool != "p" || again.Cores != 8 || ch.Events[0].Action != "host.register_again" {
		t.Fatalf("register again: %+v %v", again, err)
	}
	if _, _, _, err := Register(reusable, host("node-1", 4, 8, HostRetired, ""), reported, t0); ErrorCode(err) != ECONFLICT {
		t.Fatalf("retired name: %v", err)
	}
	expired := &JoinToken{Reusable: true, ExpiresAt: t0}
	if _, _, _, err := Register(expired, nil, reported, t0); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("expired token: %v", err)
	}
	revoked := &JoinToken{Reusable: true, ExpiresAt: t0.Add(time.Hour), RevokedAt: &t0}
	if _, _, _, err := Register(revoked, nil, reported, t0); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("revoked token: %v", err)
	}
	bad := reported
	bad.Cores = 0
	if _, _, _, err := Register(reusable, nil, bad, t0); ErrorCode(err) != EINVALID {
		t.Fatalf("no cores: %v", err)
	}
}

func TestParseAndFormatBytes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"128GiB": 128 * GiB, "128Gi": 128 * GiB, "64G": 64 * GiB, "512 MiB": 512 * MiB, "1.5TiB": 3 * TiB / 2, "1GB": 1e9, "4096": 4096} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "12 parsecs", "-1GiB"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) took it", in)
		}
	}
	if got := FormatBytes(31*GiB + GiB/2); got != "31.5 GiB" {
		t.Errorf("FormatBytes: %q", got)
	}
}

func TestJoinTokens(t *testing.T) {
	t.Parallel()
	tok, secret, ch, err := NewJoinToken(&Actor{User: ops}, "rack 3", false, 0, t0)
	if err != nil || !strings.HasPrefix(secret, JoinTokenPrefix) || !tok.ExpiresAt.Equal(t0.Add(DefaultJoinTokenTTL)) || tok.Hint != secret[:8] {
		t.Fatalf("new token: %+v %v", tok, err)
	}
	if row := ch.Rows[0].(NewJoinTokenRow); row.Hash != HashToken(secret) {
		t.Fatalf("stored hash %q", row.Hash)
	}
	if _, _, _, err := NewJoinToken(&Actor{User: ops}, "", true, 40*24*time.Hour, t0); ErrorCode(err) != EINVALID {
		t.Fatalf("40 days: %v", err)
	}
	if _, _, _, err := NewJoinToken(&Actor{User: dev}, "", true, 0, t0); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("dev: %v", err)
	}
	r, ch, err := tok.Revoke(&Actor{User: admin}, t0)
	if err != nil || r.RevokedAt == nil || len(ch.Events) != 1 || r.Usable(t0) != "revoked" {
		t.Fatalf("revoke: %v", err)
	}
	if _, ch, _ := r.Revoke(&Actor{User: admin}, t0); len(ch.Rows) != 0 {
		t.Fatalf("revoking twice wrote %v", ch.Rows)
	}
}
