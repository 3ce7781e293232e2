package sqldb

import (
	"context"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// QuotaService implements purser.QuotaService.
type QuotaService struct{ db *DB }

// NewQuotaService returns the quota service over db.
func NewQuotaService(db *DB) *QuotaService { return &QuotaService{db: db} }

var _ purser.QuotaService = (*QuotaService)(nil)

var quotaColumns = columns{plain: map[string]string{
	"_id": "id", "_created": "created_at", "_updated": "updated_at", "user": "user_id", "role": "role",
	"quota_type": "quota_type", "valid_until": "valid_until",
},
	fields: purser.QuotaFields, nullable: []string{"user", "role", "valid_until"},
}

const quotaSelect = "id, user_id, role, quota_type, valid_from, valid_until, max_environments, max_cores, max_memory, max_monthly_cost, description, version, created_at, updated_at"

type quotaRow struct {
	purser.Quota
	user, role       *string
	from, until      *int64
	created, updated int64
}

func scanQuota(r Row) (*quotaRow, error) {
	var q quotaRow
	l := &q.Limits
	err := r.Scan(&q.ID, &q.user, &q.role, &q.QuotaType, &q.from, &q.until, &l.Environments, &l.Cores, &l.Memory, &l.MonthlyCost,
		&q.Description, &q.Version, &q.created, &q.updated)
	return &q, err
}

func (r *quotaRow) domain() *purser.Quota {
	q := r.Quota
	if r.user != nil {
		q.User = *r.user
	}
	if r.role != nil {
		q.Role = *r.role
	}
	q.ValidFrom, q.ValidUntil = fromMicrosPtr(r.from), fromMicrosPtr(r.until)
	q.Created, q.Updated = fromMicros(r.created), fromMicros(r.updated)
	return &q
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// FindQuotaByID returns a quota.
func (s *QuotaService) FindQuotaByID(ctx context.Context, id string) (*purser.Quota, error) {
	q, err := scanQuota(s.db.Read.QueryRow(ctx, "SELECT "+quotaSelect+" FROM quotas WHERE id = ?", id))
	if err != nil {
		return nil, s.db.translate(err, "quota "+id)
	}
	out := q.domain()
	if err := purser.Authorize(ctx, purser.ActionQuotaRead, out.User); err != nil {
		if a := purser.ActorFromContext(ctx); out.Role == "" || a == nil || a.User == nil || !a.User.HasRole(out.Role) {
			return nil, err
		}
	}
	return out, nil
}

// FindQuotas lists quotas: all for devops and admins, one's own otherwise.
func (s *QuotaService) FindQuotas(ctx context.Context, q purser.Query) ([]*purser.Quota, purser.PageInfo, error) {
	where, err := quotaColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if err := purser.Authorize(ctx, purser.ActionQuotaRead, ""); err != nil {
		a := purser.ActorFromContext(ctx)
		if a == nil || a.User == nil {
			return nil, purser.PageInfo{}, err
		}
		roles := make([]any, len(a.User.Roles))
		for i, r := range a.User.Roles {
			roles[i] = r
		}
		own := sq.Or{sq.Eq{"user_id": a.User.ID}}
		if len(roles) > 0 {
			own = append(own, sq.Eq{"role": roles})
		}
		where = append(where, own)
	}
	return list(ctx, s.db, listSpec[quotaRow, purser.Quota]{
		from: "quotas", selectCols: quotaSelect, where: where,
		orderBy: quotaColumns.orderBy(q.Sort, "id"), query: q, scan: scanQuota, domain: (*quotaRow).domain,
	})
}

// CreateQuota creates a quota (devops and admins).
func (s *QuotaService) CreateQuota(ctx context.Context, q *purser.Quota) error {
	if err := purser.Authorize(ctx, purser.ActionQuotaWrite, ""); err != nil {
		return err
	}
	if err := q.Validate(); err != nil {
		return err
	}
	now := s.db.now()
	q.ID, q.Created, q.Updated, q.Version = purser.NewID(), now, now, 1
	return s.db.WithTx(ctx, func(tx Tx) error {
		if err := s.checkTarget(ctx, tx, q); err != nil {
			return err
		}
		l := q.Limits
		_, err := tx.Exec(ctx, "INSERT INTO quotas ("+quotaSelect+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			q.ID, nullable(q.User), nullable(q.Role), q.QuotaType, microsPtr(q.ValidFrom), microsPtr(q.ValidUntil),
			l.Environments, l.Cores, l.Memory, l.MonthlyCost, q.Description, q.Version, micros(now), micros(now))
		if err != nil {
			if s.db.UniqueViolation(err) {
				return &purser.Error{Code: purser.ECONFLICT, Message: "that user or role already has a PERMANENT quota; change it instead",
					Fields: []purser.FieldError{{Field: "quota_type", Rule: "unique", Message: "one PERMANENT quota per user or role"}}}
			}
			return fmt.Errorf("insert quota: %w", err)
		}
		return s.db.audit(ctx, tx, "quota.create", "quota", q.ID, nil, quotaDoc(q), "")
	})
}

func quotaDoc(q *purser.Quota) map[string]any {
	return map[string]any{"user": q.User, "role": q.Role, "quota_type": q.QuotaType, "limits": q.Limits.Doc(),
		"valid_from": q.ValidFrom, "valid_until": q.ValidUntil, "description": q.Description}
}

func (s *QuotaService) checkTarget(ctx context.Context, tx Tx, q *purser.Quota) error {
	var n int
	if q.User != "" {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE id = ?", q.User).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return purser.Invalid(purser.FieldError{Field: "user", Rule: "exists", Message: "names no user"})
		}
	}
	if q.Role != "" {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM roles WHERE role = ?", q.Role).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return purser.Invalid(purser.FieldError{Field: "role", Rule: "exists", Message: "names no role"})
		}
	}
	return nil
}

// UpdateQuota replaces a quota's limits, window and description.
func (s *QuotaService) UpdateQuota(ctx context.Context, id string, upd *purser.Quota, ifMatch string) (*purser.Quota, error) {
	if err := purser.Authorize(ctx, purser.ActionQuotaWrite, ""); err != nil {
		return nil, err
	}
	var out *purser.Quota
	err := s.db.WithTx(ctx, func(tx Tx) error {
		r, err := scanQuota(tx.QueryRow(ctx, "SELECT "+quotaSelect+" FROM quotas WHERE id = ?", id))
		if err != nil {
			return s.db.translate(err, "quota "+id)
		}
		q := r.domain()
		if err := checkETag(ifMatch, q.Meta, "quota "+id); err != nil {
			return err
		}
		before := quotaDoc(q)
		q.Limits, q.ValidFrom, q.ValidUntil, q.Description = upd.Limits, upd.ValidFrom, upd.ValidUntil, upd.Description
		if err := q.Validate(); err != nil {
			return err
		}
		q.Updated = s.db.now()
		l := q.Limits
		if _, err := tx.Exec(ctx, `UPDATE quotas SET valid_from = ?, valid_until = ?, max_environments = ?, max_cores = ?, max_memory = ?,
			max_monthly_cost = ?, description = ?, lapse_notified = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			microsPtr(q.ValidFrom), microsPtr(q.ValidUntil), l.Environments, l.Cores, l.Memory, l.MonthlyCost, q.Description, false, micros(q.Updated), id); err != nil {
			return fmt.Errorf("update quota: %w", err)
		}
		q.Version++
		out = q
		return s.db.audit(ctx, tx, "quota.update", "quota", id, before, quotaDoc(q), "")
	})
	return out, err
}

// DeleteQuota removes a quota.
func (s *QuotaService) DeleteQuota(ctx context.Context, id string) error {
	if err := purser.Authorize(ctx, purser.ActionQuotaWrite, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, "DELETE FROM quotas WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n == 0 {
			return purser.Errorf(purser.ENOTFOUND, "quota %s not found", id)
		}
		return s.db.audit(ctx, tx, "quota.delete", "quota", id, nil, nil, "")
	})
}

// limitsFor returns the limits that apply to the user now.
func (db *DB) limitsFor(ctx context.Context, q Querier, u *purser.User) (purser.Limits, bool, error) {
	args := []any{u.ID}
	cond := "user_id = ?"
	if len(u.Roles) > 0 {
		cond += " OR role IN (" + sq.Placeholders(len(u.Roles)) + ")"
		for _, r := range u.Roles {
			args = append(args, r)
		}
	}
	rows, err := q.Query(ctx, "SELECT "+quotaSelect+" FROM quotas WHERE "+cond, args...)
	if err != nil {
		return purser.Limits{}, false, fmt.Errorf("quotas: %w", err)
	}
	defer rows.Close()
	var quotas []*purser.Quota
	for rows.Next() {
		r, err := scanQuota(rows)
		if err != nil {
			return purser.Limits{}, false, err
		}
		quotas = append(quotas, r.domain())
	}
	if err := rows.Err(); err != nil {
		return purser.Limits{}, false, err
	}
	l, ok := purser.EffectiveLimits(quotas, u.ID, u.Roles, db.now())
	return l, ok, nil
}

// usage sums the user's requests: held (approved until purged) and pending review.
func (db *DB) usage(ctx context.Context, q Querier, userID string) (used, pending purser.Usage, err error) {
	rows, err := q.Query(ctx, "SELECT status, cores, memory, cost_per_hour FROM requests WHERE requested_by = ? AND status NOT IN (?, ?, ?)",
		userID, purser.StatusRevoked, purser.StatusRejected, purser.StatusPurged)
	if err != nil {
		return used, pending, fmt.Errorf("usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st purser.Status
		var f purser.Footprint
		if err := rows.Scan(&st, &f.Cores, &f.Memory, &f.CostPerHour); err != nil {
			return used, pending, err
		}
		used, pending = purser.Tally(used, pending, st, f)
	}
	return used, pending, rows.Err()
}

// quotaChecks compares one more environment of footprint f with the user's quota.
func (db *DB) quotaChecks(ctx context.Context, q Querier, u *purser.User, f purser.Footprint) ([]purser.QuotaCheck, error) {
	l, _, err := db.limitsFor(ctx, q, u)
	if err != nil {
		return nil, err
	}
	used, pending, err := db.usage(ctx, q, u.ID)
	if err != nil {
		return nil, err
	}
	return purser.CheckQuota(l, used, pending, f), nil
}

// Usage returns limits, usage and pending for one user or (devops and
// admins, userID "") every active user.
func (s *QuotaService) Usage(ctx context.Context, userID string) ([]*purser.UserUsage, error) {
	if err := purser.Authorize(ctx, purser.ActionQuotaRead, userID); err != nil {
		return nil, err
	}
	users := NewUserService(s.db)
	var list []*purser.User
	if userID != "" {
		u, err := users.findUser(ctx, s.db.Read, "u.id = ?", userID)
		if err != nil {
			return nil, err
		}
		list = []*purser.User{u}
	} else {
		var err error
		list, _, err = users.FindUsers(ctx, purser.Query{Where: []purser.Cond{{Field: "is_active", Op: "$eq", Value: true}},
			Sort: []purser.Sort{{Field: "username"}}, Page: 1, MaxResults: 10_000})
		if err != nil {
			return nil, err
		}
	}
	out := make([]*purser.UserUsage, 0, len(list))
	for _, u := range list {
		l, ok, err := s.db.limitsFor(ctx, s.db.Read, u)
		if err != nil {
			return nil, err
		}
		used, pending, err := s.db.usage(ctx, s.db.Read, u.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, &purser.UserUsage{User: u, Limited: ok, Limits: l, Used: used, Pending: pending})
	}
	return out, nil
}
