package purser

import (
	"context"
	"fmt"
	"time"
)

// Extension request statuses.
const (
	ExtensionRequested = "REQUESTED"
	ExtensionApproved  = "APPROVED"
	ExtensionRejected  = "REJECTED"
	ExtensionRevoked   = "REVOKED"
)

// Extension is a request to push a provision request's expiry back.
type Extension struct {
	Meta
	ProvisionRequest string
	Reason           string
	ExtendBy         int // hours
	RequestedBy      string
	ReviewedBy       string
	ReviewComment    string
	Status           string
}

// ExtensionFields are the fields of extension requests that where and sort may name.
var ExtensionFields = Fields{
	"_id": KindString, "_created": KindTime, "_updated": KindTime, "status": KindString,
	"provision_request": KindString, "requested_by": KindString,
}

// ExtensionService manages extension requests. Every method authorizes
// the actor in ctx.
type ExtensionService interface {
	// FindExtensionByID returns the extension request, or ENOTFOUND: the
	// caller's own, or anyone's with requests:read; EFORBIDDEN otherwise.
	FindExtensionByID(ctx context.Context, id string) (*Extension, error)
	// FindExtensions returns a page of extension requests, and how many
	// match q in all: the caller's own, or every one with requests:read.
	FindExtensions(ctx context.Context, q Query) ([]*Extension, PageInfo, error)
	// CreateExtension asks, for the requester of e.ProvisionRequest only
	// (an admin may name them in e.RequestedBy), for e.ExtendBy more hours,
	// and tells the reviewers. ECONFLICT when
	// the request is not running, was extended already (one extension is
	// granted per request) or has one waiting; EINVALID for hours beyond
	// the template's maximum.
	CreateExtension(ctx context.Context, e *Extension) error
	// ReviewExtension approves (true) or rejects an extension request
	// waiting for review (requests:review, never one's own). Approval
	// moves the request's expires_by and re-arms its reminders. ECONFLICT
	// when the extension or its request is no longer in a state to review.
	ReviewExtension(ctx context.Context, id string, approve bool, r Review) (*Extension, error)
	// RevokeExtension withdraws an extension request waiting for review:
	// its requester's, or anyone's with requests:revoke (EFORBIDDEN
	// otherwise); ECONFLICT once reviewed.
	RevokeExtension(ctx context.Context, id string) (*Extension, error)
}

// The decisions of an extension request's life.

// MaxExtensionHours is the most hours one extension of a request made
// from t may ask for: the template's maximum extension, never beyond
// MaxExtension.
func (t *Template) MaxExtensionHours() int {
	return int(min(t.ExtensionMax, MaxExtension) / time.Hour)
}

// extendable refuses, naming r's status, an extension of a request that
// is not (or not yet) running, or was extended already: at most one
// extension is granted per request.
func (r *Request) extendable() error {
	switch r.Status {
	case StatusApproved, StatusInitiated, StatusDeployed:
	default:
		return Errorf(ECONFLICT, "provision request %s cannot be extended in %s state", r.ID, r.Status)
	}
	if r.Extended {
		return Errorf(ECONFLICT, "provision request %s was extended already; an extension is granted once", r.ID)
	}
	return nil
}

// RequestExtension asks, for owner, to extend r by e.ExtendBy hours (1 to
// the template's maximum) for e.Reason. Only r's requester may ask; the
// reviewers are told. e becomes the new extension request, to insert.
func (r *Request) RequestExtension(e *Extension, owner *User, actingFor string, t *Template, now time.Time) (Change, error) {
	if r.RequestedBy != owner.ID {
		return Change{}, &Error{Code: EFORBIDDEN, Message: "only the requester of a provision request may ask to extend it"}
	}
	maxHours := t.MaxExtensionHours()
	var fe []FieldError
	if e.ExtendBy < 1 || e.ExtendBy > maxHours {
		fe = append(fe, FieldError{Field: "extend_by", Rule: "range", Message: fmt.Sprintf("must be 1 to %d hours", maxHours)})
	}
	if l := len(e.Reason); l < 1 || l > 1000 {
		fe = append(fe, FieldError{Field: "reason", Rule: "length", Message: "must be 1 to 1000 characters"})
	}
	if len(fe) > 0 {
		return Change{}, Invalid(fe...)
	}
	if err := r.extendable(); err != nil {
		return Change{}, err
	}
	e.ID, e.ProvisionRequest, e.RequestedBy, e.Status = NewID(), r.ID, owner.ID, ExtensionRequested
	e.Created, e.Updated, e.Version = now, now, 0
	return Change{
		Rows: []Row{e},
		Events: []AuditEvent{{Action: "extension.create", TargetType: "extensionRequest", TargetID: e.ID,
			After: map[string]any{"provision_request": r.ID, "extend_by": e.ExtendBy}, ActingFor: actingFor}},
		ToReviewers: []ReviewerMessage{{Except: owner.ID, Message: Message{Event: EventExtensionRequested, Title: "Extension to review",
			Description: fmt.Sprintf("%s asks for %d more hours on provision request %s (%s), which expires at %s: %s. Approve with `purser request extensions approve %s` or reject with `purser request extensions reject %s`.",
				userName(owner), e.ExtendBy, r.ID, r.ResourceTemplate, r.ExpiresBy.Format(messageTime), e.Reason, e.ID, e.ID),
			Link: e.Link()}}},
	}, nil
}

// Link returns the extension request's path in the API, for messages.
func (e *Extension) Link() string { return "/api/v1/extensionRequests/" + e.ID }

// Review approves or rejects the extension of r. Approval moves r's
// expiry, re-arms its reminders and has its credentials issued anew;
// either way the requester is told.
func (e *Extension) Review(by Reviewer, approve bool, r *Request, requester *User, now time.Time) (Change, error) {
	if err := CheckReview(by.User, requester, approve); err != nil {
		return Change{}, err
	}
	if e.Status != ExtensionRequested {
		return Change{}, Errorf(ECONFLICT, "extension request %s cannot be reviewed in %s state", e.ID, e.Status)
	}
	var c Change
	expiresBefore := r.ExpiresBy
	e.Status, e.ReviewedBy, e.ReviewComment = ExtensionRejected, by.User.ID, by.Comment
	event, title, verb := EventExtensionRejected, "Extension rejected", "reject"
	if approve {
		if err := r.extendable(); err != nil {
			return Change{}, err
		}
		before := r.Snapshot()
		e.Status, event, title, verb = ExtensionApproved, EventExtensionApproved, "Extension approved", "approve"
		extra := time.Duration(e.ExtendBy) * time.Hour
		r.ExpiresBy = r.ExpiresBy.Add(extra)
		r.EstimatedCost += r.Footprint.CostPerHour * extra.Hours()
		r.Extended, r.RemindersSent = true, r.remindersPast(now)
		c.Rows = append(c.Rows, r)
		c.Events = append(c.Events, AuditEvent{Action: "request.extend", TargetType: "provisionRequest", TargetID: r.ID,
			Before: before, After: r.Snapshot(), ActingFor: by.ActingFor})
		c.Jobs = append(c.Jobs, RefreshArgs{RequestID: r.ID})
	}
	c.Rows = append(c.Rows, e)
	// The extension's own event says what it changed, so that its history
	// shows "expires_by 12:00 -> 17:00" as well as the status.
	c.Events = append(c.Events, AuditEvent{Action: "extension." + verb, TargetType: "extensionRequest", TargetID: e.ID,
		Before:    map[string]any{"status": ExtensionRequested, "expires_by": expiresBefore},
		After:     map[string]any{"status": e.Status, "expires_by": r.ExpiresBy, "provision_request": r.ID, "extend_by": e.ExtendBy},
		ActingFor: by.ActingFor})
	c.Messages = append(c.Messages, r.message(r.RequestedBy, event, title,
		fmt.Sprintf("Your extension request %s for %s (%d hours) has been %s by %s. It now expires at %s.",
			e.ID, r.ID, e.ExtendBy, e.Status, userName(by.User), r.ExpiresBy.Format(messageTime))))
	return c, nil
}

// Revoke withdraws an extension request waiting for review: its
// requester's (or an admin's) decision.
func (e *Extension) Revoke(by *Actor, now time.Time) (Change, error) {
	if err := by.Authorize(ActionRequestRevoke, e.RequestedBy); err != nil {
		if ErrorCode(err) == EFORBIDDEN {
			return Change{}, &Error{Code: EFORBIDDEN, Message: "only the requester may revoke an extension request"}
		}
		return Change{}, err
	}
	if e.Status != ExtensionRequested {
		return Change{}, Errorf(ECONFLICT, "extension request %s cannot be revoked in %s state", e.ID, e.Status)
	}
	e.Status = ExtensionRevoked
	return Change{Rows: []Row{e}, Events: []AuditEvent{{Action: "extension.revoke", TargetType: "extensionRequest",
		TargetID: e.ID, After: map[string]any{"status": e.Status}}}}, nil
}
