package purser

import (
	"testing"
	"time"
)

func TestLimitsGenerous(t *testing.T) {
	t.Parallel()
	l := func(env, cores *float64) Limits { return Limits{Environments: env, Cores: cores} }
	tests := []struct {
		name string
		a, b Limits
		want Limits
	}{
		{"HigherWinsEachDimension", l(ptr(2), ptr(8)), l(ptr(5), ptr(4)), l(ptr(5), ptr(8))},
		{"NoLimitWins", l(nil, ptr(8)), l(ptr(5), ptr(4)), l(nil, ptr(8))},
		{"NoLimitWinsOtherSide", l(ptr(2), ptr(8)), l(ptr(5), nil), l(ptr(5), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, got := range []Limits{tt.a.generous(tt.b), tt.b.generous(tt.a)} {
				if !sameLimit(got.Environments, tt.want.Environments) || !sameLimit(got.Cores, tt.want.Cores) ||
					got.Memory != nil || got.MonthlyCost != nil {
					t.Fatalf("got %v %v", got.Environments, got.Cores)
				}
			}
		})
	}
}

func sameLimit(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func TestEffectiveLimitsRoleQuotas(t *testing.T) {
	t.Parallel()
	quotas := []*Quota{
		{Role: RoleDev, QuotaType: QuotaPermanent, Limits: Limits{Cores: ptr(4)}},
		{Role: RoleDevOps, QuotaType: QuotaPermanent, Limits: Limits{Cores: ptr(16)}},
	}
	got, ok := EffectiveLimits(quotas, "u", []string{RoleDev, RoleDevOps}, t0)
	if !ok || got.Cores == nil || *got.Cores != 16 {
		t.Fatalf("a user with two roles gets %v, want the more generous 16 cores", got.Cores)
	}
	own := append(quotas, &Quota{User: "u", QuotaType: QuotaPermanent, Limits: Limits{Cores: ptr(2)}})
	if got, _ := EffectiveLimits(own, "u", []string{RoleDev, RoleDevOps}, t0); *got.Cores != 2 {
		t.Fatalf("the user's own quota gives %v, want 2: it overrides its roles'", *got.Cores)
	}
}

func TestQuotaLapseWarning(t *testing.T) {
	t.Parallel()
	until := t0.Add(12 * time.Hour)
	q := &Quota{Meta: Meta{ID: "q1"}, QuotaType: QuotaTemporary, ValidUntil: &until}
	if !q.LapsesSoon(t0) || q.LapsesSoon(until) || q.LapsesSoon(t0.Add(-13*time.Hour)) {
		t.Fatal("LapsesSoon is wrong about the 24 h before lapse")
	}
	msgs := q.LapseWarning([]string{"a", "b"})
	if len(msgs) != 2 || msgs[1].User != "b" || msgs[0].Link != "/api/v1/quotas/q1" ||
		msgs[0].Description != "A temporary quota grant (q1) lapses at 2026-03-02 00:00 UTC; environments beyond your permanent quota cannot be approved after that." {
		t.Fatalf("messages %+v", msgs)
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	f := Footprint{Cores: 2, Memory: 4, CostPerHour: 1}
	for _, s := range Statuses {
		used, pending := Tally(Usage{}, Usage{}, s, f)
		switch {
		case s == StatusRequested:
			if pending.Cores != 2 || used.Environments != 0 {
				t.Errorf("%s: used %+v pending %+v, want pending", s, used, pending)
			}
		case s == StatusRevoked || s == StatusRejected || s == StatusPurged:
			if used.Environments+pending.Environments != 0 {
				t.Errorf("%s counted", s)
			}
		default:
			if used.Environments != 1 || used.MonthlyCost != HoursPerMonth || pending.Environments != 0 {
				t.Errorf("%s: used %+v, want held", s, used)
			}
		}
	}
}

func TestRequestBeside(t *testing.T) {
	t.Parallel()
	checks := func() []QuotaCheck { return []QuotaCheck{{Dimension: "cores", Used: 5, Asked: 2}} }
	if got := request(StatusDeployed).Beside(checks()); got[0].Used != 3 {
		t.Errorf("a deployed request counted twice: used %g", got[0].Used)
	}
	if got := request(StatusRequested).Beside(checks()); got[0].Used != 5 {
		t.Errorf("a pending request: used %g", got[0].Used)
	}
}
