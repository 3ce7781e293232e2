package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

type limitsDoc struct {
	Environments *float64 `json:"environments,omitempty" doc:"Environments at once; absent: no limit."`
	Cores        *float64 `json:"cores,omitempty"`
	Memory       *float64 `json:"memory,omitempty" doc:"GiB."`
	MonthlyCost  *float64 `json:"monthly_cost,omitempty" doc:"Cost per hour of what is held, times 730."`
}

type quotaDoc struct {
	Meta
	User        string     `json:"user,omitempty"`
	Username    string     `json:"username,omitempty" doc:"The user's username (quotas of a user)."`
	Role        string     `json:"role,omitempty"`
	QuotaType   string     `json:"quota_type" enum:"PERMANENT,TEMPORARY"`
	ValidFrom   *time.Time `json:"valid_from,omitempty"`
	ValidUntil  *time.Time `json:"valid_until,omitempty"`
	Limits      limitsDoc  `json:"limits"`
	Active      bool       `json:"active" doc:"Whether it applies now (TEMPORARY quotas lapse by themselves)."`
	Description string     `json:"description,omitempty"`
}

func (s *Server) newQuotaDoc(q *purser.Quota) quotaDoc {
	return quotaDoc{Meta: newMeta(q.ID, q.Created, q.Updated, q.ETag(), "quotas", "quota"), User: q.User, Role: q.Role,
		QuotaType: q.QuotaType, ValidFrom: q.ValidFrom, ValidUntil: q.ValidUntil, Limits: limitsDoc(q.Limits),
		Active: q.ActiveAt(s.now()), Description: q.Description}
}

type quotaBody struct {
	User        string    `json:"user,omitempty" doc:"The user's _id or username; or give role."`
	Role        string    `json:"role,omitempty"`
	QuotaType   string    `json:"quota_type,omitempty" enum:"PERMANENT,TEMPORARY" doc:"Default PERMANENT."`
	ValidFrom   timeValue `json:"valid_from,omitempty" doc:"TEMPORARY only; default now."`
	ValidUntil  timeValue `json:"valid_until,omitempty" doc:"TEMPORARY only."`
	Limits      limitsDoc `json:"limits"`
	Description string    `json:"description,omitempty" maxLength:"500"`
}

func (b quotaBody) domain(now time.Time) (*purser.Quota, error) {
	from, err := b.ValidFrom.parse("valid_from")
	if err != nil {
		return nil, err
	}
	until, err := b.ValidUntil.parse("valid_until")
	if err != nil {
		return nil, err
	}
	q := &purser.Quota{User: b.User, Role: b.Role, QuotaType: b.QuotaType, ValidFrom: from, ValidUntil: until,
		Limits: purser.Limits(b.Limits), Description: b.Description}
	if q.QuotaType == "" {
		q.QuotaType = purser.QuotaPermanent
	}
	if q.QuotaType == purser.QuotaTemporary && q.ValidFrom == nil {
		t := now.UTC()
		q.ValidFrom = &t
	}
	return q, nil
}

// quotaBodyDomain is b's quota, its user resolved to an _id.
func (s *Server) quotaBodyDomain(ctx context.Context, b quotaBody) (*purser.Quota, error) {
	uid, err := s.userID(ctx, "user", b.User, inField)
	if err != nil {
		return nil, err
	}
	b.User = uid
	return b.domain(s.now())
}

// quotaPatch is a JSON merge patch of a quota: the fields given replace
// the quota's, the others stay.
type quotaPatch struct {
	ValidFrom   timeValue           `json:"valid_from,omitempty" doc:"TEMPORARY only."`
	ValidUntil  timeValue           `json:"valid_until,omitempty" doc:"TEMPORARY only."`
	Limits      map[string]*float64 `json:"limits,omitempty" doc:"Limits to change, by name (environments, cores, memory, monthly_cost); null lifts one."`
	Description *string             `json:"description,omitempty" maxLength:"500"`
}

// apply merges p into q.
func (p quotaPatch) apply(q *purser.Quota) error {
	var err error
	if p.ValidFrom != "" {
		if q.ValidFrom, err = p.ValidFrom.parse("valid_from"); err != nil {
			return err
		}
	}
	if p.ValidUntil != "" {
		if q.ValidUntil, err = p.ValidUntil.parse("valid_until"); err != nil {
			return err
		}
	}
	if p.Description != nil {
		q.Description = *p.Description
	}
	var fe []purser.FieldError
	for name, v := range p.Limits {
		dst := map[string]**float64{"environments": &q.Limits.Environments, "cores": &q.Limits.Cores,
			"memory": &q.Limits.Memory, "monthly_cost": &q.Limits.MonthlyCost}[name]
		if dst == nil {
			fe = append(fe, purser.FieldError{Field: "limits." + name, Rule: "known", Message: "is not a limit: environments, cores, memory or monthly_cost"})
			continue
		}
		*dst = v
	}
	if len(fe) > 0 {
		return purser.Invalid(fe...)
	}
	return nil
}

type quotaOutput struct {
	ETag string `header:"ETag"`
	Body quotaDoc
}

type usageDoc struct {
	User     string    `json:"user"`
	Username string    `json:"username"`
	Limited  bool      `json:"limited" doc:"False: no quota applies to this user."`
	Limits   limitsDoc `json:"limits"`
	Used     usageNums `json:"used" doc:"What the user's requests hold, from approval until purged."`
	Pending  usageNums `json:"pending" doc:"What the user's requests waiting for review would add."`
}

type usageNums struct {
	Environments float64 `json:"environments"`
	Cores        float64 `json:"cores"`
	Memory       float64 `json:"memory"`
	MonthlyCost  float64 `json:"monthly_cost"`
}

func (s *Server) registerQuotas() {
	huma.Register(s.api, op(http.MethodGet, "/quotas", "list-quotas", "quotas", "List quotas (yours; all for devops and admins)", http.StatusBadRequest), s.listQuotas)

	huma.Register(s.api, op(http.MethodGet, "/quotas/usage", "quota-usage", "quotas", "Limits, usage and pending per user (yours; everyone's for devops and admins)", http.StatusNotFound), s.quotaUsage)

	create := op(http.MethodPost, "/quotas", "create-quota", "quotas", "Create a quota (devops, admins)", http.StatusConflict)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, s.createQuota)

	huma.Register(s.api, cacheable(op(http.MethodGet, "/quotas/{id}", "get-quota", "quotas", "Get a quota", http.StatusNotFound)), s.getQuota)

	huma.Register(s.api, op(http.MethodPut, "/quotas/{id}", "replace-quota", "quotas", "Replace a quota's limits and window (devops, admins)",
		http.StatusNotFound, http.StatusPreconditionFailed), s.replaceQuota)

	patch := op(http.MethodPatch, "/quotas/{id}", "update-quota", "quotas", "Change some of a quota's limits and window (JSON merge patch; devops, admins)",
		http.StatusNotFound, http.StatusPreconditionFailed)
	huma.Register(s.api, patch, s.updateQuota)

	del := op(http.MethodDelete, "/quotas/{id}", "delete-quota", "quotas", "Delete a quota (devops, admins)", http.StatusNotFound)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, s.deleteQuota)
}

// listQuotas serves GET /api/v1/quotas: List quotas (yours; all for devops and admins).
func (s *Server) listQuotas(ctx context.Context, in *ListParams) (*struct{ Body collection[quotaDoc] }, error) {
	find := func(ctx context.Context, q purser.Query) ([]*purser.Quota, purser.PageInfo, error) {
		if err := s.resolveWhere(ctx, &q, []string{"user"}, nil); err != nil {
			return nil, purser.PageInfo{}, err
		}
		return s.Quotas.FindQuotas(ctx, q)
	}
	out, err := listOf(ctx, s, in, "quotas", purser.QuotaFields, find, s.newQuotaDoc)
	if err == nil {
		err = s.nameQuotas(ctx, out.Body.Items)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return out, nil
}

// nameQuotas names the user of each user's quota.
func (s *Server) nameQuotas(ctx context.Context, docs []quotaDoc) error {
	return nameUsers(ctx, s, docs, func(d *quotaDoc) (string, *string) { return d.User, &d.Username })
}

// quotaOut is a quota's answer, its user named.
func (s *Server) quotaOut(ctx context.Context, q *purser.Quota) (*quotaOutput, error) {
	d := []quotaDoc{s.newQuotaDoc(q)}
	if err := s.nameQuotas(ctx, d); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &quotaOutput{ETag: etagOf(d[0].ETag), Body: d[0]}, nil
}

// quotaUsage serves GET /api/v1/quotas/usage: Limits, usage and pending per user (yours; everyone's for devops and admins).
func (s *Server) quotaUsage(ctx context.Context, in *struct {
	User string `query:"user" doc:"One user's _id or username; default everyone (devops, admins) or yourself."`
}) (*struct{ Body []usageDoc }, error) {
	uid, err := s.userID(ctx, "user", in.User, inField)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if uid == "" {
		if err := purser.Authorize(ctx, purser.ActionQuotaRead, ""); err != nil {
			if a := purser.ActorFromContext(ctx); a != nil && a.User != nil {
				uid = a.User.ID
			}
		}
	}
	list, err := s.Quotas.Usage(ctx, uid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body []usageDoc }{Body: []usageDoc{}}
	for _, u := range list {
		out.Body = append(out.Body, usageDoc{User: u.User.ID, Username: u.User.Username, Limited: u.Limited,
			Limits: limitsDoc(u.Limits), Used: usageNums(u.Used), Pending: usageNums(u.Pending)})
	}
	return out, nil
}

// createQuota serves POST /api/v1/quotas: Create a quota (devops, admins).
func (s *Server) createQuota(ctx context.Context, in *struct{ Body quotaBody }) (*quotaOutput, error) {
	q, err := s.quotaBodyDomain(ctx, in.Body)
	if err == nil {
		err = s.Quotas.CreateQuota(ctx, q)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.quotaOut(ctx, q)
}

// getQuota serves GET /api/v1/quotas/{id}: Get a quota.
func (s *Server) getQuota(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*quotaOutput, error) {
	q, err := s.Quotas.FindQuotaByID(ctx, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.quotaOut(ctx, q)
}

// replaceQuota serves PUT /api/v1/quotas/{id}: Replace a quota's limits and window (devops, admins).
func (s *Server) replaceQuota(ctx context.Context, in *struct {
	ID      string `path:"id"`
	IfMatch string `header:"If-Match"`
	Body    quotaBody
}) (*quotaOutput, error) {
	q, err := s.quotaBodyDomain(ctx, in.Body)
	if err == nil {
		q, err = s.Quotas.UpdateQuota(ctx, in.ID, q, in.IfMatch)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.quotaOut(ctx, q)
}

// updateQuota serves PATCH /api/v1/quotas/{id}: Change some of a quota's
// limits and window. Without If-Match, the change applies to the quota as
// read here: a concurrent change answers 412 rather than being overwritten.
func (s *Server) updateQuota(ctx context.Context, in *struct {
	ID      string     `path:"id"`
	IfMatch string     `header:"If-Match" doc:"The _etag you read; 412 if the quota changed since."`
	Body    quotaPatch `contentType:"application/merge-patch+json"`
}) (*quotaOutput, error) {
	q, err := s.Quotas.FindQuotaByID(ctx, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ifMatch := in.IfMatch
	if ifMatch == "" {
		ifMatch = etagOf(q.ETag())
	}
	if err := in.Body.apply(q); err != nil {
		return nil, s.problem(ctx, err)
	}
	if q, err = s.Quotas.UpdateQuota(ctx, in.ID, q, ifMatch); err != nil {
		return nil, s.problem(ctx, err)
	}
	d := s.newQuotaDoc(q)
	return &quotaOutput{ETag: etagOf(d.ETag), Body: d}, nil
}

// deleteQuota serves DELETE /api/v1/quotas/{id}: Delete a quota (devops, admins).
func (s *Server) deleteQuota(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*struct{}, error) {
	if err := s.Quotas.DeleteQuota(ctx, in.ID); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}
