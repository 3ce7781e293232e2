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
