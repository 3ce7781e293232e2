package sqldb

import (
	"context"
	"encoding/json"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// RequestService implements purser.RequestService, and the transitions
// workers make.
type RequestService struct{ db *DB }

// NewRequestService returns the provision request service over db.
func NewRequestService(db *DB) *RequestService { return &RequestService{db: db} }

var _ purser.RequestService = (*RequestService)(nil)

var requestColumns = columns{plain: map[string]string{
	"_id": "id", "_created": "created_at", "_updated": "updated_at", "status": "status",
	"requested_by": "requested_by", "reviewed_by": "reviewed_by", "resource_template": "resource_template",
	"resource_type": "resource_type", "request_type": "request_type", "expires_by": "expires_by",
},
	fields: purser.RequestFields, nullable: []string{"reviewed_by"},
}

const requestSelect = `id, description, expires_by, requested_by, reviewed_by, review_comment, resource_type, resource_template,
	resource_parameters, request_type, status, cores, memory, cost_per_hour, estimated_cost, extended, outputs IS NOT NULL,
	last_error, reminders_sent, version, created_at, updated_at, template_revision`

type requestRow struct {
	purser.Request
	params                    string
	reviewedBy                *string
	expires, created, updated int64
}

func scanRequest(r Row) (*requestRow, error) {
	var q requestRow
	f := &q.Footprint
	err := r.Scan(&q.ID, &q.Description, &q.expires, &q.RequestedBy, &q.reviewedBy, &q.ReviewComment, &q.ResourceType, &q.ResourceTemplate,
		&q.params, &q.RequestType, &q.Status, &f.Cores, &f.Memory, &f.CostPerHour, &q.EstimatedCost, &q.Extended, &q.HasOutputs,
		&q.LastError, &q.RemindersSent, &q.Version, &q.created, &q.updated, &q.TemplateRevision)
	return &q, err
}

func (r *requestRow) domain() *purser.Request {
	q := r.Request
	if r.reviewedBy != nil {
		q.ReviewedBy = *r.reviewedBy
	}
	q.ExpiresBy, q.Created, q.Updated = fromMicros(r.expires), fromMicros(r.created), fromMicros(r.updated)
	_ = json.Unmarshal([]byte(r.params), &q.ResourceParameters)
	return &q
}

func (s *RequestService) find(ctx context.Context, q Querier, id string) (*purser.Request, error) {
	r, err := scanRequest(q.QueryRow(ctx, "SELECT "+requestSelect+" FROM requests WHERE id = ?", id))
	if err != nil {
		return nil, s.db.translate(err, "provision request "+id)
	}
	return r.domain(), nil
}

// FindRequestByID returns a request: one's own, or any for reviewers.
func (s *RequestService) FindRequestByID(ctx context.Context, id string) (*purser.Request, error) {
	r, err := s.find(ctx, s.db.Read, id)
	if err != nil {
		return nil, err
	}
	if err := purser.Authorize(ctx, purser.ActionRequestRead, r.RequestedBy); err != nil {
		return nil, err
	}
	return r, nil
}

// FindRequests lists requests: one's own, or all for reviewers.
func (s *RequestService) FindRequests(ctx context.Context, q purser.Query) ([]*purser.Request, purser.PageInfo, error) {
	where, err := requestColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if where, err = ownUnlessReviewer(ctx, where); err != nil {
		return nil, purser.PageInfo{}, err
	}
	return list(ctx, s.db, listSpec[requestRow, purser.Request]{
		from: "requests", selectCols: requestSelect, where: where,
		orderBy: requestColumns.orderBy(q.Sort, "id"), query: q, scan: scanRequest, domain: (*requestRow).domain,
	})
}

// onBehalf resolves who a body names (requested_by, reviewed_by): the
// caller, or someone the caller may act for (purser.Actor.CanActFor).
// It returns the user and, when acting for another, that user's id for the audit.
func (s *RequestService) onBehalf(ctx context.Context, q Querier, named, field string) (*purser.User, string, error) {
	a := purser.ActorFromContext(ctx)
	actingFor, err := a.CanActFor(named, field)
	if err != nil || actingFor == "" {
		if err != nil {
			return nil, "", err
		}
		return a.User, "", nil
	}
	u, err := NewUserService(s.db).findUser(ctx, q, "u.id = ?", named)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		return nil, "", purser.Invalid(purser.FieldError{Field: field, Rule: "exists", Message: "names no user"})
	} else if err != nil {
		return nil, "", err
	}
	if !u.IsActive {
		return nil, "", purser.Invalid(purser.FieldError{Field: field, Rule: "active", Message: "names an inactive user"})
	}
	return u, actingFor, nil
}

// CreateRequest submits a request (purser.NewRequest, then
// purser.Request.Submit under the requester's lock).
func (s *RequestService) CreateRequest(ctx context.Context, in purser.RequestInput) (*purser.Request, error) {
	var out *purser.Request
	err := s.db.WithTx(ctx, func(tx Tx) error {
		owner, actingFor, err := s.onBehalf(ctx, tx, in.RequestedBy, "requested_by")
		if err != nil {
			return err
		}
		t, err := NewTemplateService(s.db).find(ctx, tx, in.ResourceTemplate)
		if purser.ErrorCode(err) == purser.ENOTFOUND {
			return purser.Invalid(purser.FieldError{Field: "resource_template", Rule: "exists", Message: "names no template"})
		} else if err != nil {
			return err
		}
		r, secrets, err := purser.NewRequest(in, t, owner, s.db.Evaluator, s.db.now())
		if err != nil {
			return err
		}
		f := purser.SubmitFacts{MaxPending: s.db.MaxPending, ActingFor: actingFor}
		if err := s.db.Lock(ctx, tx, "quota:"+owner.ID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM requests WHERE requested_by = ? AND status = ?", owner.ID, purser.StatusRequested).Scan(&f.Pending); err != nil {
			return fmt.Errorf("count pending requests: %w", err)
		}
		if f.Fit, err = s.db.quotaChecks(ctx, tx, owner, r.Footprint); err != nil {
			return err
		}
		c, err := r.Submit(secrets, f)
		if err != nil {
			return err
		}
		out = r
		return s.db.commit(ctx, tx, c)
	})
	return out, err
}

// insertRequest inserts a submitted request, its secret parameters sealed.
func (db *DB) insertRequest(ctx context.Context, tx Tx, sr purser.SubmittedRequest) error {
	sealed := ""
	if len(sr.Secrets) > 0 {
		b, _ := json.Marshal(sr.Secrets)
		sealed = db.Sealer.Seal(string(b))
	}
	r := sr.Request
	r.Version = 1
	params, _ := json.Marshal(r.ResourceParameters)
	_, err := tx.Exec(ctx, `INSERT INTO requests (id, description, expires_by, requested_by, resource_type, resource_template, template_revision,
		resource_parameters, secret_parameters, request_type, status, cores, memory, cost_per_hour, estimated_cost, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Description, micros(r.ExpiresBy), r.RequestedBy, r.ResourceType, r.ResourceTemplate, r.TemplateRevision, string(params), sealed, r.RequestType,
		r.Status, r.Footprint.Cores, r.Footprint.Memory, r.Footprint.CostPerHour, r.EstimatedCost, r.Version, micros(r.Created), micros(r.Updated))
	if err != nil {
		return fmt.Errorf("insert request: %w", err)
	}
	return nil
}

// ActOnRequest performs a person's action on a request: it loads the
// facts the action's decision needs and commits its change.
func (s *RequestService) ActOnRequest(ctx context.Context, id string, a purser.RequestAction, rv purser.Review) (*purser.Request, error) {
	var out *purser.Request
	err := s.db.WithTx(ctx, func(tx Tx) error {
		r, err := s.find(ctx, tx, id)
		if err != nil {
			return err
		}
		now, actor := s.db.now(), purser.ActorFromContext(ctx)
		var c purser.Change
		switch a {
		case purser.ActApprove, purser.ActReject:
			c, err = s.review(ctx, tx, r, a == purser.ActApprove, rv)
		case purser.ActRevoke:
			c, err = r.Revoke(actor, now)
		case purser.ActRetry:
			c, err = r.Retry(actor, now)
		case purser.ActPurge:
			c, err = r.Purge(actor, now)
		default:
			return purser.Errorf(purser.EBADREQUEST, "unknown action %q", a)
		}
		if err != nil {
			return err
		}
		out = r
		return s.db.commit(ctx, tx, c)
	})
	return out, err
}

// review loads what a review of r decides on and decides it.
func (s *RequestService) review(ctx context.Context, tx Tx, r *purser.Request, approve bool, rv purser.Review) (purser.Change, error) {
	by, requester, err := s.reviewer(ctx, tx, r, rv, approve)
	if err != nil {
		return purser.Change{}, err
	}
	now := s.db.now()
	if !approve {
		return r.Reject(by, now, requester)
	}
	f := purser.ReviewFacts{Requester: requester}
	if f.Fit, err = s.fit(ctx, tx, requester, r); err != nil {
		return purser.Change{}, err
	}
	t, err := s.template(ctx, tx, r)
	if err != nil {
		return purser.Change{}, err
	}
	if f.Needed = t.Approval.Approvers; f.Needed > 1 {
		if f.Approvers, err = s.db.approvers(ctx, tx, r.ID); err != nil {
			return purser.Change{}, err
		}
	}
	return r.Approve(by, now, f)
}

// reviewer loads who reviews r (purser.Actor.CanReview) and its
// requester. An admin naming someone in reviewed_by only records that
// name as acting_for.
func (s *RequestService) reviewer(ctx context.Context, tx Tx, r *purser.Request, rv purser.Review, approve bool) (purser.Reviewer, *purser.User, error) {
	a := purser.ActorFromContext(ctx)
	if err := a.Authorize(purser.ActionRequestReview, ""); err != nil {
		return purser.Reviewer{}, nil, err
	}
	named, actingFor, err := s.onBehalf(ctx, tx, rv.ReviewedBy, "reviewed_by")
	if err != nil {
		return purser.Reviewer{}, nil, err
	}
	requester, err := NewUserService(s.db).findUser(ctx, tx, "u.id = ?", r.RequestedBy)
	if err != nil {
		return purser.Reviewer{}, nil, err
	}
	u, err := a.CanReview(named, requester, approve)
	if err != nil {
		return purser.Reviewer{}, nil, err
	}
	return purser.Reviewer{User: u, ActingFor: actingFor, Comment: rv.Comment}, requester, nil
}

// fit checks, under the requester's lock, how r fits its quota beside
// everything already approved. Concurrent approvals serialise here.
func (s *RequestService) fit(ctx context.Context, tx Tx, owner *purser.User, r *purser.Request) (purser.QuotaFit, error) {
	if err := s.db.Lock(ctx, tx, "quota:"+r.RequestedBy); err != nil {
		return nil, err
	}
	return s.db.quotaChecks(ctx, tx, owner, r.Footprint)
}

// RequestOutputs returns an environment's outputs to its owner or an admin.
func (s *RequestService) RequestOutputs(ctx context.Context, id string) (map[string]string, error) {
	var sealed *string
	var owner string
	if err := s.db.Read.QueryRow(ctx, "SELECT requested_by, outputs FROM requests WHERE id = ?", id).Scan(&owner, &sealed); err != nil {
		return nil, s.db.translate(err, "provision request "+id)
	}
	if err := purser.Authorize(ctx, purser.ActionOutputsAny, owner); err != nil {
		return nil, &purser.Error{Code: purser.EFORBIDDEN, Message: "outputs are shown only to the requester and admins"}
	}
	out := map[string]string{}
	if sealed == nil {
		return out, nil
	}
	plain, err := s.db.Sealer.Open(*sealed)
	if err != nil {
		return nil, fmt.Errorf("open outputs of %s: %w", id, err)
	}
	return out, json.Unmarshal([]byte(plain), &out)
}

// RequestQuota shows whether a request fits its requester's quota beside
// what the requester already holds.
func (s *RequestService) RequestQuota(ctx context.Context, id string) ([]purser.QuotaCheck, error) {
	r, err := s.FindRequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	owner, err := NewUserService(s.db).findUser(ctx, s.db.Read, "u.id = ?", r.RequestedBy)
	if err != nil {
		return nil, err
	}
	checks, err := s.db.quotaChecks(ctx, s.db.Read, owner, r.Footprint)
	if err != nil {
		return nil, err
	}
	return r.Beside(checks), nil
}

// template returns r's template as it was when r was made: the revision
// r pinned. Reviews, provisioning, destruction and extensions follow it,
// never the template's current revision.
func (s *RequestService) template(ctx context.Context, q Querier, r *purser.Request) (*purser.Template, error) {
	return NewTemplateService(s.db).findRevision(ctx, q, r.ResourceTemplate, r.TemplateRevision)
}

// ownUnlessReviewer narrows a list to the caller's own requests, unless
// the caller may read everyone's (requests:read).
func ownUnlessReviewer(ctx context.Context, where sq.And) (sq.And, error) {
	scope, err := purser.ActorFromContext(ctx).ListScope(purser.ActionRequestRead)
	if err != nil || scope.All {
		return where, err
	}
	return append(where, sqExpr("requested_by = ?", scope.User)), nil
}

// sealSecrets takes the values of r's secret parameters out of
// r.ResourceParameters, leaving purser.SecretMask in their place, and
// returns them sealed ("" when there are none).
func (s *RequestService) sealSecrets(t *purser.Template, r *purser.Request) string {
	public, secret := t.SplitSecrets(r.ResourceParameters)
	r.ResourceParameters = public
	if len(secret) == 0 {
		return ""
	}
	b, _ := json.Marshal(secret)
	return s.db.Sealer.Seal(string(b))
}
