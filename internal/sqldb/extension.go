package sqldb

import (
	"context"
	"fmt"

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
},
	fields: purser.ExtensionFields,
}

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
	return e, purser.Authorize(ctx, purser.ActionRequestRead, e.RequestedBy)
}

// FindExtensions lists extension requests: one's own, or all for reviewers.
func (s *ExtensionService) FindExtensions(ctx context.Context, q purser.Query) ([]*purser.Extension, purser.PageInfo, error) {
	where, err := extensionColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if where, err = ownUnlessReviewer(ctx, where); err != nil {
		return nil, purser.PageInfo{}, err
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
		t, err := s.requests.template(ctx, tx, r)
		if err != nil {
			return err
		}
		c, err := r.RequestExtension(e, owner, actingFor, t, s.db.now())
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, c)
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
		by, requester, err := s.requests.reviewer(ctx, tx, r, rv, approve)
		if err != nil {
			return err
		}
		c, err := e.Review(by, approve, r, requester, s.db.now())
		if err != nil {
			return err
		}
		out = e
		return s.db.commit(ctx, tx, c)
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
		c, err := e.Revoke(purser.ActorFromContext(ctx), s.db.now())
		if err != nil {
			return err
		}
		out = e
		return s.db.commit(ctx, tx, c)
	})
	return out, err
}

// saveExtension inserts a new extension request (version 0), or writes an
// existing one's review, checking its version.
func (db *DB) saveExtension(ctx context.Context, tx Tx, e *purser.Extension) error {
	if e.Version == 0 {
		e.Version = 1
		_, err := tx.Exec(ctx, `INSERT INTO extensions (id, provision_request, reason, extend_by, requested_by, status, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.ProvisionRequest, e.Reason, e.ExtendBy, e.RequestedBy, e.Status, e.Version, micros(e.Created), micros(e.Updated))
		if err != nil {
			if db.UniqueViolation(err) {
				return purser.Errorf(purser.ECONFLICT, "provision request %s already has an extension request waiting for review", e.ProvisionRequest)
			}
			return fmt.Errorf("insert extension: %w", err)
		}
		return nil
	}
	e.Updated = db.now()
	n, err := tx.Exec(ctx, "UPDATE extensions SET status = ?, reviewed_by = ?, review_comment = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
		e.Status, nullable(e.ReviewedBy), e.ReviewComment, micros(e.Updated), e.ID, e.Version)
	if err != nil {
		return db.translate(err, "extension request")
	}
	if n == 0 {
		return purser.Errorf(purser.ECONFLICT, "extension request %s changed meanwhile; try again", e.ID)
	}
	e.Version++
	return nil
}
