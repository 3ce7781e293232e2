package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/purserhq/purser"
)

// ExtensionService implements purser.ExtensionService.
type ExtensionService struct {
	db       *DB
	requests *RequestService
}

// NewExtensionService returns the extension service over db.
func NewExtensionService(db *DB) *ExtensionService {
	return &ExtensionService{db: db, requests: NewRequestService(db)}
}

var _ purser.ExtensionService = (*ExtensionService)(nil)

var extensionColumns = columns{plain: map[string]string{
	"_id": "id", "_created": "created_at", "_updated": "updated_at", "status": "status",
	"provision_request": "provision_request", "requested_by": "requested_by",
}}

const extensionSelect = "id, provision_request, reason, extend_by, requested_by, reviewed_by, review_comment, status, version, created_at, updated_at"

type extensionRow struct {
	purser.Extension
	reviewedBy       *string
	created, updated int64
}

func scanExtension(r Row) (*extensionRow, error) {
	var e extensionRow
	err := r.Scan(&e.ID, &e.ProvisionRequest, &e.Reason, &e.ExtendBy, &e.RequestedBy, &e.reviewedBy, &e.ReviewComment, &e.Status,
		&e.Version, &e.created, &e.updated)
	return &e, err
}

func (e *extensionRow) domain() *purser.Extension {
	out := e.Extension
	if e.reviewedBy != nil {
		out.ReviewedBy = *e.reviewedBy
	}
	out.Created, out.Updated = fromMicros(e.created), fromMicros(e.updated)
	return &out
}

func (s *ExtensionService) find(ctx context.Context, q Querier, id string) (*purser.Extension, error) {
	e, err := scanExtension(q.QueryRow(ctx, "SELECT "+extensionSelect+" FROM extensions WHERE id = ?", id))
	if err != nil {
		return nil, s.db.translate(err, "extension request "+id)
	}
	return e.domain(), nil
}

// FindExtensionByID returns an extension request: one's own, or any for reviewers.
func (s *ExtensionService) FindExtensionByID(ctx context.Context, id string) (*purser.Extension, error) {
	e, err := s.find(ctx, s.db.Read, id)
	if err != nil {
		return nil, err
	}
	return e, purser.Authorize(ctx, purser.ActionRequestReview, e.RequestedBy)
}

// FindExtensions lists extension requests: one's own, or all for reviewers.
func (s *ExtensionService) FindExtensions(ctx context.Context, q purser.Query) ([]*purser.Extension, int, error) {
	where, err := extensionColumns.where(q.Where)
	if err != nil {
		return nil, 0, err
	}
	if where, err = ownUnlessReviewer(ctx, where); err != nil {
		return nil, 0, err
	}
	return list(ctx, s.db, listSpec[extensionRow, purser.Extension]{
		from: "extensions", selectCols: extensionSelect, where: where,
		orderBy: extensionColumns.orderBy(q.Sort, "id"), query: q, scan: scanExtension, domain: (*extensionRow).domain,
	})
}

// CreateExtension asks for more time: once granted per provision request,
// one pending at a time, within the template's maximum extension.
func (s *ExtensionService) CreateExtension(ctx context.Context, e *purser.Extension) error {
	return s.db.WithTx(ctx, func(tx Tx) error {
		owner, actingFor, err := s.requests.onBehalf(ctx, tx, e.RequestedBy, "requested_by")
		if err != nil {
			return err
		}
		r, err := s.requests.find(ctx, tx, e.ProvisionRequest)
		if purser.ErrorCode(err) == purser.ENOTFOUND {
			return purser.Invalid(purser.FieldError{Field: "provision_request", Rule: "exists", Message: "names no provision request"})
		} else if err != nil {
			return err
		}
		if r.RequestedBy != owner.ID {
			return &purser.Error{Code: purser.EFORBIDDEN, Message: "only the requester of a provision request may ask to extend it"}
		}
		t, err := s.requests.template(ctx, tx, r)
		if err != nil {
			return err
		}
		maxHours := int(min(t.ExtensionMax, purser.MaxExtension) / time.Hour)
		var fe []purser.FieldError
		if e.ExtendBy < 1 || e.ExtendBy > maxHours {
			fe = append(fe, purser.FieldError{Field: "extend_by", Rule: "range", Message: fmt.Sprintf("must be 1 to %d hours", maxHours)})
		}
		if l := len(e.Reason); l < 1 || l > 1000 {
			fe = append(fe, purser.FieldError{Field: "reason", Rule: "length", Message: "must be 1 to 1000 characters"})
		}
		if len(fe) > 0 {
			return purser.Invalid(fe...)
		}
		switch r.Status {
		case purser.StatusApproved, purser.StatusInitiated, purser.StatusDeployed:
		default:
			return purser.Errorf(purser.ECONFLICT, "provision request %s cannot be extended in %s state", r.ID, r.Status)
		}
		if r.Extended {
			return purser.Errorf(purser.ECONFLICT, "provision request %s was extended already; an extension is granted once", r.ID)
		}
		now := s.db.now()
		e.ID, e.RequestedBy, e.Status, e.Created, e.Updated, e.Version = purser.NewID(), owner.ID, purser.ExtensionRequested, now, now, 1
		_, err = tx.Exec(ctx, `INSERT INTO extensions (id, provision_request, reason, extend_by, requested_by, status, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, r.ID, e.Reason, e.ExtendBy, owner.ID, e.Status, e.Version, micros(now), micros(now))
		if err != nil {
			if s.db.UniqueViolation(err) {
				return purser.Errorf(purser.ECONFLICT, "provision request %s already has an extension request waiting for review", r.ID)
			}
			return fmt.Errorf("insert extension: %w", err)
		}
		if err := s.db.audit(ctx, tx, "extension.create", "extensionRequest", e.ID, nil, map[string]any{"provision_request": r.ID, "extend_by": e.ExtendBy}, actingFor); err != nil {
			return err
		}
		msgs, err := s.db.toReviewers(ctx, tx, owner.ID, purser.Message{Event: purser.EventExtensionRequested, Title: "Extension to review",
			Description: fmt.Sprintf("Extension request %s asks for %d more hours on %s: %s", e.ID, e.ExtendBy, r.ID, e.Reason),
			Link:        "/api/v1/extensionRequests/" + e.ID})
		if err != nil {
			return err
		}
		return s.db.enqueue(ctx, tx, msgs...)
	})
}

// ReviewExtension approves or rejects an extension request. Approval
// moves the provision request's expiry and re-arms its reminders.
func (s *ExtensionService) ReviewExtension(ctx context.Context, id string, approve bool, rv purser.Review) (*purser.Extension, error) {
	var out *purser.Extension
	err := s.db.WithTx(ctx, func(tx Tx) error {
		e, err := s.find(ctx, tx, id)
		if err != nil {
			return err
		}
		r, err := s.requests.find(ctx, tx, e.ProvisionRequest)
		if err != nil {
			return err
		}
		reviewer, actingFor, err := s.requests.reviewer(ctx, tx, r, rv.ReviewedBy, approve)
		if err != nil {
			return err
		}
		if e.Status != purser.ExtensionRequested {
			return purser.Errorf(purser.ECONFLICT, "extension request %s cannot be reviewed in %s state", id, e.Status)
		}
		e.Status, e.ReviewedBy, e.ReviewComment = purser.ExtensionRejected, reviewer.ID, rv.Comment
		event, title := purser.EventExtensionRejected, "Extension rejected"
		if approve {
			switch r.Status {
			case purser.StatusApproved, purser.StatusInitiated, purser.StatusDeployed:
			default:
				return purser.Errorf(purser.ECONFLICT, "provision request %s cannot be extended in %s state", r.ID, r.Status)
			}
			before := snapshot(r)
			e.Status, event, title = purser.ExtensionApproved, purser.EventExtensionApproved, "Extension approved"
			r.ExpiresBy = r.ExpiresBy.Add(time.Duration(e.ExtendBy) * time.Hour)
			r.Extended, r.RemindersSent = true, 0
			if err := s.requests.save(ctx, tx, r); err != nil {
				return err
			}
			if err := s.db.audit(ctx, tx, "request.extend", "provisionRequest", r.ID, before, snapshot(r), actingFor); err != nil {
				return err
			}
			if err := s.db.insertJob(ctx, tx, RefreshArgs{RequestID: r.ID}, unique); err != nil {
				return err
			}
		}
		e.Updated = s.db.now()
		if _, err := tx.Exec(ctx, "UPDATE extensions SET status = ?, reviewed_by = ?, review_comment = ?, version = version + 1, updated_at = ? WHERE id = ?",
			e.Status, e.ReviewedBy, e.ReviewComment, micros(e.Updated), id); err != nil {
			return s.db.translate(err, "extension request")
		}
		e.Version++
		out = e
		if err := s.db.audit(ctx, tx, "extension."+map[bool]string{true: "approve", false: "reject"}[approve], "extensionRequest", id, nil, map[string]any{"status": e.Status}, actingFor); err != nil {
			return err
		}
		return s.db.enqueue(ctx, tx, purser.Message{User: r.RequestedBy, Event: event, Title: title,
			Description: fmt.Sprintf("Your extension request %s for %s (%d hours) has been %s. It now expires at %s.", id, r.ID, e.ExtendBy, e.Status, r.ExpiresBy.Format("2006-01-02 15:04 MST")),
			Link:        link(r)})
	})
	return out, err
}

// RevokeExtension withdraws a pending extension request (its requester).
func (s *ExtensionService) RevokeExtension(ctx context.Context, id string) (*purser.Extension, error) {
	var out *purser.Extension
	err := s.db.WithTx(ctx, func(tx Tx) error {
		e, err := s.find(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := purser.Authorize(ctx, purser.ActionUserWrite, e.RequestedBy); err != nil {
			return &purser.Error{Code: purser.EFORBIDDEN, Message: "only the requester may revoke an extension request"}
		}
		if e.Status != purser.ExtensionRequested {
			return purser.Errorf(purser.ECONFLICT, "extension request %s cannot be revoked in %s state", id, e.Status)
		}
		e.Status, e.Updated = purser.ExtensionRevoked, s.db.now()
		if _, err := tx.Exec(ctx, "UPDATE extensions SET status = ?, version = version + 1, updated_at = ? WHERE id = ?", e.Status, micros(e.Updated), id); err != nil {
			return err
		}
		e.Version++
		out = e
		return s.db.audit(ctx, tx, "extension.revoke", "extensionRequest", id, nil, map[string]any{"status": e.Status}, "")
	})
	return out, err
}
