package purser

import (
	"context"
	"fmt"
	"time"
)

// Status is a provision request's status, kept from the seed.
type Status string

// Statuses. EXTENDED is not one: a granted extension is recorded on the
// request, which stays DEPLOYED.
const (
	StatusRequested      Status = "REQUESTED"
	StatusRevoked        Status = "REVOKED"
	StatusApproved       Status = "APPROVED"
	StatusRejected       Status = "REJECTED"
	StatusInitiated      Status = "INITIATED"
	StatusDeployed       Status = "DEPLOYED"
	StatusFailed         Status = "FAILED"
	StatusExpired        Status = "EXPIRED"
	StatusPurgeInitiated Status = "PURGE_INITIATED"
	StatusPurged         Status = "PURGED"
	StatusPurgeFailed    Status = "PURGE_FAILED"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusRequested, StatusRevoked, StatusApproved, StatusRejected, StatusInitiated,
	StatusDeployed, StatusFailed, StatusExpired, StatusPurgeInitiated, StatusPurged, StatusPurgeFailed}

// Action moves a request from one status to another.
type RequestAction string

// Request actions: the first five are people's; the rest are workers'.
const (
	ActApprove     RequestAction = "approve"
	ActReject      RequestAction = "reject"
	ActRevoke      RequestAction = "revoke"
	ActRetry       RequestAction = "retry"
	ActPurge       RequestAction = "purge"
	ActStart       RequestAction = "start"  // worker: provisioning begins
	ActDeploy      RequestAction = "deploy" // worker: provisioning succeeded
	ActFail        RequestAction = "fail"   // worker: provisioning failed for good
	ActExpire      RequestAction = "expire" // worker: expires_by passed
	ActPurgeDone   RequestAction = "purged" // worker: nothing is left
	ActPurgeFailed RequestAction = "purge_failed"
)

// Transitions is the state machine of DESIGN.md: action -> from -> to.
// Purge is allowed while provisioning too: the purge job then cleans up
// whatever the provision job created.
var Transitions = map[RequestAction]map[Status]Status{
	ActApprove:     {StatusRequested: StatusApproved},
	ActReject:      {StatusRequested: StatusRejected},
	ActRevoke:      {StatusRequested: StatusRevoked},
	ActRetry:       {StatusFailed: StatusInitiated, StatusPurgeFailed: StatusPurgeInitiated},
	ActPurge:       {StatusApproved: StatusPurgeInitiated, StatusInitiated: StatusPurgeInitiated, StatusFailed: StatusPurgeInitiated, StatusDeployed: StatusPurgeInitiated, StatusExpired: StatusPurgeInitiated},
	ActStart:       {StatusApproved: StatusInitiated},
	ActDeploy:      {StatusInitiated: StatusDeployed},
	ActFail:        {StatusInitiated: StatusFailed},
	ActExpire:      {StatusDeployed: StatusExpired},
	ActPurgeDone:   {StatusPurgeInitiated: StatusPurged},
	ActPurgeFailed: {StatusPurgeInitiated: StatusPurgeFailed},
}

// Next returns the status the action leads to from s, or an ECONFLICT
// error naming the current status.
func (s Status) Next(a RequestAction) (Status, error) {
	to, ok := Transitions[a][s]
	if !ok {
		if a == ActApprove || a == ActReject {
			return s, &Error{Code: ECONFLICT, Message: fmt.Sprintf("provision request cannot be reviewed in %s state", s)}
		}
		return s, &Error{Code: ECONFLICT, Message: fmt.Sprintf("cannot %s a provision request in %s state", a, s)}
	}
	return to, nil
}

// Holds reports whether a request in this status counts against quota:
// from approval until purged.
func (s Status) Holds() bool {
	switch s {
	case StatusRequested, StatusRevoked, StatusRejected, StatusPurged:
		return false
	}
	return true
}

// Request types. Only TEMPORARY is accepted (see PermanentRefused);
// PERMANENT is named to be refused with its reason.
const (
	RequestTemporary = "TEMPORARY"
	RequestPermanent = "PERMANENT"
)

// HoursPerMonth turns an hourly cost into a monthly one.
const HoursPerMonth = 730

// Request is a provision request: someone's ask for one environment.
type Request struct {
	Meta
	Description        string
	ExpiresBy          time.Time
	RequestedBy        string
	ReviewedBy         string
	ReviewComment      string
	ResourceType       string
	ResourceTemplate   string
	TemplateRevision   int // the template's revision the request was made with, and is provisioned and destroyed with
	ResourceParameters map[string]any
	RequestType        string
	Status             Status
	Footprint          Footprint
	EstimatedCost      float64 // cost per hour times the hours until expires_by
	Extended           bool    // an extension was granted
	HasOutputs         bool
	LastError          string
	RemindersSent      int // bit i: Reminders[i] was sent
}

// Reminders are sent this long before expiry (only those inside the TTL).
var Reminders = []time.Duration{48 * time.Hour, 2 * time.Hour, 30 * time.Minute}

// RequestFields are the fields of provision requests that where and sort may name.
var RequestFields = Fields{
	"_id": KindString, "_created": KindTime, "_updated": KindTime, "status": KindString,
	"requested_by": KindString, "reviewed_by": KindString, "resource_template": KindString,
	"resource_type": KindString, "request_type": KindString, "expires_by": KindTime,
}

// RequestInput is what a person submits.
type RequestInput struct {
	Description        string
	ExpiresBy          *time.Time
	TTL                time.Duration // alternative to ExpiresBy
	RequestedBy        string        // "" for the caller
	ResourceType       string
	ResourceTemplate   string
	ResourceParameters map[string]any
	RequestType        string
}

// Review is an approve or reject decision.
type Review struct {
	ReviewedBy string // "" for the caller
	Comment    string
}

// RequestService manages provision requests. Every method authorizes the
// actor in ctx; a change of status, its audit event and the jobs and
// messages it implies are committed together.
type RequestService interface {
	// FindRequestByID returns the request, or ENOTFOUND: the caller's
	// own, or anyone's with requests:read (devops and admins); EFORBIDDEN
	// otherwise.
	FindRequestByID(ctx context.Context, id string) (*Request, error)
	// FindRequests returns a page of requests, and how many match q in
	// all: the caller's own, or every request with requests:read.
	FindRequests(ctx context.Context, q Query) ([]*Request, PageInfo, error)
	// CreateRequest submits a request in status REQUESTED and enqueues its
	// analysis. The parameters are checked against the template (EINVALID),
	// the footprint estimated, and the request refused (ECONFLICT) when it
	// cannot fit the requester's quota beside what is held, or when the
	// requester has too many requests waiting for review.
	CreateRequest(ctx context.Context, in RequestInput) (*Request, error)
	// ActOnRequest performs a person's action: approve, reject, revoke,
	// retry or purge, and returns the request in its new status. ECONFLICT
	// when the action does not apply to the request's status (see
	// Transitions) or an approval would exceed the quota; EFORBIDDEN when
	// the caller may not act: a review needs requests:review and is never
	// of one's own request; revoking, retrying or purging another's
	// request needs requests:revoke, requests:retry or requests:purge.
	ActOnRequest(ctx context.Context, id string, a RequestAction, r Review) (*Request, error)
	// RequestOutputs returns the environment's outputs, secrets opened:
	// to the requester and admins only (EFORBIDDEN for others); an empty
	// map while there are none.
	RequestOutputs(ctx context.Context, id string) (map[string]string, error)
	// RequestQuota returns, per quota dimension, whether the request fits
	// its requester's quota beside what the requester already holds;
	// readable by whoever may read the request.
	RequestQuota(ctx context.Context, id string) ([]QuotaCheck, error)
	// ExpireDue expires every DEPLOYED request past its expires_by (and
	// starts its purge), sends the reminders now due, and returns how many
	// requests expired. The workers call it on a schedule as the system;
	// a person needs expiry:run (admins).
	ExpireDue(ctx context.Context) (int, error)
}

// CheckReview decides whether reviewer may review a request of requester:
// a devops or admin user who is not the requester. An approval also needs
// the requester's account to be active: a deactivated user's environment
// must not be built.
func CheckReview(reviewer, requester *User, approve bool) error {
	if !reviewer.HasRole(RoleDevOps) && !reviewer.HasRole(RoleAdmin) {
		return Errorf(EFORBIDDEN, "only devops and admin users review provision requests")
	}
	if reviewer.ID == requester.ID {
		return Errorf(EFORBIDDEN, "you cannot review your own request")
	}
	if approve && !requester.IsActive {
		return Errorf(ECONFLICT, "the requester's account is deactivated: the request cannot be approved")
	}
	return nil
}

// CountApprovals counts the distinct people who approved a request and
// reports whether needed is reached. approvers are the identities that
// actually made each approval (never someone an admin named in
// reviewed_by); the requester never counts.
func CountApprovals(approvers []string, requester string, needed int) (int, bool) {
	seen := map[string]bool{}
	for _, a := range approvers {
		if a != "" && a != requester {
			seen[a] = true
		}
	}
	return len(seen), len(seen) >= needed
}

// DefaultMaxPending is how many requests a user may have waiting for
// review (REQUESTED) at once, unless configured otherwise.
const DefaultMaxPending = 10

// CheckPending refuses a new request from a user who already has pending
// requests waiting for review when max (DefaultMaxPending if not
// positive) is reached: one user must not flood the reviewers' queue.
// It is a conflict (409) with the user's state, like a quota refusal.
func CheckPending(pending, max int) error {
	if max <= 0 {
		max = DefaultMaxPending
	}
	if pending < max {
		return nil
	}
	return &Error{Code: ECONFLICT,
		Message: fmt.Sprintf("you have %d provision requests waiting for review, the most allowed (requests.max_pending is %d): revoke one or wait for a review", pending, max),
		Fields:  []FieldError{{Field: "requested_by", Rule: "max_pending", Message: fmt.Sprintf("has %d requests waiting for review; the limit is %d", pending, max)}}}
}
