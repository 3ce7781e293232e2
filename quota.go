package purser

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Quota types.
const (
	QuotaPermanent = "PERMANENT"
	QuotaTemporary = "TEMPORARY"
)

// Limits caps environments, cores, memory (GiB) and monthly cost. A nil
// limit is no limit.
type Limits struct {
	Environments *float64
	Cores        *float64
	Memory       *float64
	MonthlyCost  *float64
}

// Quota limits a user, or every user holding a role. PERMANENT quotas stand
// until changed; TEMPORARY ones add to the permanent limit between
// ValidFrom and ValidUntil, then lapse by themselves.
type Quota struct {
	Meta
	User        string
	Role        string
	QuotaType   string
	ValidFrom   *time.Time
	ValidUntil  *time.Time
	Limits      Limits
	Description string
}

// Validate checks the quota's fields.
func (q *Quota) Validate() error {
	var fe []FieldError
	if (q.User == "") == (q.Role == "") {
		fe = append(fe, FieldError{"user", "one_of", "a quota targets exactly one of user or role"})
	}
	switch q.QuotaType {
	case QuotaPermanent:
		if q.ValidFrom != nil || q.ValidUntil != nil {
			fe = append(fe, FieldError{"valid_until", "forbidden", "a PERMANENT quota has no validity window"})
		}
	case QuotaTemporary:
		if q.ValidFrom == nil || q.ValidUntil == nil {
			fe = append(fe, FieldError{"valid_until", "required", "a TEMPORARY quota needs valid_from and valid_until"})
		} else if !q.ValidUntil.After(*q.ValidFrom) {
			fe = append(fe, FieldError{"valid_until", "range", "must be after valid_from"})
		}
	default:
		fe = append(fe, FieldError{"quota_type", "enum", "must be PERMANENT or TEMPORARY"})
	}
	for name, v := range map[string]*float64{"environments": q.Limits.Environments, "cores": q.Limits.Cores, "memory": q.Limits.Memory, "monthly_cost": q.Limits.MonthlyCost} {
		if v != nil && (*v < 0 || math.IsNaN(*v)) {
			fe = append(fe, FieldError{name, "minimum", "must be at least 0"})
		}
	}
	if len(fe) > 0 {
		sortFields(fe)
		return Invalid(fe...)
	}
	return nil
}

// ActiveAt reports whether the quota applies at t.
func (q *Quota) ActiveAt(t time.Time) bool {
	if q.QuotaType == QuotaPermanent {
		return true
	}
	return q.ValidFrom != nil && q.ValidUntil != nil && !t.Before(*q.ValidFrom) && t.Before(*q.ValidUntil)
}

// Usage is what a user's environments take, summed.
type Usage struct {
	Environments float64
	Cores        float64
	Memory       float64
	MonthlyCost  float64
}

// Add returns u plus one environment of footprint f.
func (u Usage) Add(f Footprint) Usage {
	return Usage{u.Environments + 1, u.Cores + f.Cores, u.Memory + f.Memory, u.MonthlyCost + f.CostPerHour*HoursPerMonth}
}

// Tally counts a request of status s and footprint f in the usage it
// weighs on: pending while it waits for review, used while it holds quota
// (Status.Holds), neither once revoked, rejected or purged.
func Tally(used, pending Usage, s Status, f Footprint) (Usage, Usage) {
	switch {
	case s == StatusRequested:
		pending = pending.Add(f)
	case s.Holds():
		used = used.Add(f)
	}
	return used, pending
}

// EffectiveLimits combines the quotas that apply to a user with the roles
// at t: the user's permanent quota, else the most generous permanent quota
// of its roles, plus every active temporary grant to the user or its roles.
// The second result is false when no quota applies (no limit).
func EffectiveLimits(quotas []*Quota, userID string, roles []string, t time.Time) (Limits, bool) {
	hasRole := func(r string) bool {
		for _, x := range roles {
			if x == r {
				return true
			}
		}
		return false
	}
	var userPerm *Quota
	var rolePerms []*Quota
	var grants []*Quota
	for _, q := range quotas {
		applies := q.User == userID || (q.Role != "" && hasRole(q.Role))
		if !applies || !q.ActiveAt(t) {
			continue
		}
		switch {
		case q.QuotaType == QuotaTemporary:
			grants = append(grants, q)
		case q.User == userID:
			userPerm = q
		default:
			rolePerms = append(rolePerms, q)
		}
	}
	var base Limits
	found := false
	if userPerm != nil {
		base, found = userPerm.Limits, true
	} else if len(rolePerms) > 0 {
		base, found = rolePerms[0].Limits, true
		for _, q := range rolePerms[1:] {
			base = base.generous(q.Limits)
		}
	}
	for _, g := range grants {
		if !found {
			// A grant with no permanent quota under it would turn "no
			// limit" into a limit: grants only add.
			continue
		}
		base = base.plus(g.Limits)
	}
	return base, found
}

// Doc is the limits that are set, under the API's names, as audit events
// keep them.
func (l Limits) Doc() map[string]float64 {
	m := map[string]float64{}
	for name, v := range map[string]*float64{"environments": l.Environments, "cores": l.Cores, "memory": l.Memory, "monthly_cost": l.MonthlyCost} {
		if v != nil {
			m[name] = *v
		}
	}
	return m
}

func (l Limits) generous(o Limits) Limits {
	pick := func(a, b *float64) *float64 {
		if a == nil || b == nil {
			return nil
		}
		return ptr(math.Max(*a, *b))
	}
	return Limits{pick(l.Environments, o.Environments), pick(l.Cores, o.Cores), pick(l.Memory, o.Memory), pick(l.MonthlyCost, o.MonthlyCost)}
}

func (l Limits) plus(o Limits) Limits {
	add := func(a, b *float64) *float64 {
		if a == nil {
			return nil
		}
		if b == nil {
			return a
		}
		return ptr(*a + *b)
	}
	return Limits{add(l.Environments, o.Environments), add(l.Cores, o.Cores), add(l.Memory, o.Memory), add(l.MonthlyCost, o.MonthlyCost)}
}

func ptr(f float64) *float64 { return &f }

// QuotaCheck is the breakdown a refused request shows, per dimension.
type QuotaCheck struct {
	Dimension string
	Limit     *float64
	Used      float64
	Pending   float64
	Asked     float64
}

// Fits reports whether asking fits the limit beside what is used.
func (c QuotaCheck) Fits() bool { return c.Limit == nil || c.Used+c.Asked <= *c.Limit+1e-9 }

// CheckQuota compares one more environment of footprint f with the limits,
// given the usage and what is pending review.
func CheckQuota(l Limits, used, pending Usage, f Footprint) []QuotaCheck {
	return []QuotaCheck{
		{"environments", l.Environments, used.Environments, pending.Environments, 1},
		{"cores", l.Cores, used.Cores, pending.Cores, f.Cores},
		{"memory", l.Memory, used.Memory, pending.Memory, f.Memory},
		{"monthly_cost", l.MonthlyCost, used.MonthlyCost, pending.MonthlyCost, f.CostPerHour * HoursPerMonth},
	}
}

// Num writes a quantity for a person: rounded to two decimals, without
// trailing zeros (4.9 × 730 hours is 3577, not 3576.9999999999995).
func Num(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// Hours writes a span for a person in hours, with days when it is at least
// two: "720 hours (30 days)", "36 hours", "0.5 hours".
func Hours(d time.Duration) string {
	h := d.Hours()
	s := Num(h) + " hours"
	if h == 1 {
		s = "1 hour"
	}
	if h >= 48 {
		s += " (" + Num(h/24) + " days)"
	}
	return s
}

// QuotaError returns ECONFLICT naming every dimension that does not fit,
// or nil when all fit.
func QuotaError(checks []QuotaCheck) error {
	var fe []FieldError
	var parts []string
	for _, c := range checks {
		if c.Fits() {
			continue
		}
		msg := fmt.Sprintf("limit %s, used %s, pending %s, asked %s", Num(*c.Limit), Num(c.Used), Num(c.Pending), Num(c.Asked))
		fe = append(fe, FieldError{Field: "quota." + c.Dimension, Rule: "quota", Message: msg})
		parts = append(parts, c.Dimension+" ("+msg+")")
	}
	if len(fe) == 0 {
		return nil
	}
	return &Error{Code: ECONFLICT, Message: "the request does not fit the quota: " + strings.Join(parts, "; "), Fields: fe}
}

// QuotaFields are the fields of quotas that where and sort may name.
var QuotaFields = Fields{
	"_id": KindString, "_created": KindTime, "_updated": KindTime, "user": KindString,
	"role": KindString, "quota_type": KindString, "valid_until": KindTime,
}

// UserUsage is one user's limits, usage and pending requests.
type UserUsage struct {
	User    *User
	Limited bool
	Limits  Limits
	Used    Usage
	Pending Usage
}

// QuotaService manages quotas. Every method authorizes the actor in ctx:
// devops and admins read and change every quota (quotas:read,
// quotas:write); others read the quotas that apply to them.
type QuotaService interface {
	// FindQuotaByID returns the quota, or ENOTFOUND; EFORBIDDEN when it
	// neither is the caller's nor applies to one of its roles, unless the
	// caller may read every quota.
	FindQuotaByID(ctx context.Context, id string) (*Quota, error)
	// FindQuotas returns a page of quotas, and how many match q in all:
	// every quota for devops and admins, the caller's own and its roles'
	// otherwise.
	FindQuotas(ctx context.Context, q Query) ([]*Quota, PageInfo, error)
	// CreateQuota validates and creates q, filling its id and times
	// (devops and admins); ECONFLICT when its user or role already has a
	// PERMANENT quota.
	CreateQuota(ctx context.Context, q *Quota) error
	// UpdateQuota replaces the quota's limits, window and description with
	// q's when ifMatch is "" or its current ETag (EPRECONDITION otherwise),
	// and returns it; ENOTFOUND when there is none.
	UpdateQuota(ctx context.Context, id string, q *Quota, ifMatch string) (*Quota, error)
	// DeleteQuota removes a quota (devops and admins); ENOTFOUND when
	// there is none.
	DeleteQuota(ctx context.Context, id string) error
	// Usage returns limits, usage and pending per user: one user's (the
	// caller's own, or anyone's for devops and admins), or every user's
	// when userID is "".
	Usage(ctx context.Context, userID string) ([]*UserUsage, error)
}

// QuotaLapseWarning is how long before a temporary quota lapses its
// holders are told.
const QuotaLapseWarning = 24 * time.Hour

// LapsesSoon reports whether q is a temporary quota that lapses within
// QuotaLapseWarning of now (and has not lapsed yet).
func (q *Quota) LapsesSoon(now time.Time) bool {
	return q.QuotaType == QuotaTemporary && q.ValidUntil != nil &&
		q.ValidUntil.After(now) && !q.ValidUntil.After(now.Add(QuotaLapseWarning))
}

// LapseWarning returns the message telling each holder (the quota's user,
// or every active user of its role) that the temporary quota lapses soon.
func (q *Quota) LapseWarning(holders []string) []Message {
	var msgs []Message
	for _, uid := range holders {
		msgs = append(msgs, Message{User: uid, Event: EventQuotaLapsing, Title: "Temporary quota lapsing",
			Description: fmt.Sprintf("A temporary quota grant (%s) lapses at %s; environments beyond your permanent quota cannot be approved after that.",
				q.ID, q.ValidUntil.Format(messageTime)), Link: "/api/v1/quotas/" + q.ID})
	}
	return msgs
}
