package purser

import (
	"fmt"
	"time"
)

// The decisions of a provision request's lifecycle. Each takes the
// request, who acts, the time and the facts it needs, moves the request
// and returns the Change it implies; none does I/O. The store loads the
// facts, calls the decision and commits the Change in one transaction.

// messageTime is how times read in messages.
const messageTime = "2006-01-02 15:04 MST"

// maxLastError bounds the driver error a request keeps.
const maxLastError = 2000

// Link returns the request's path in the API, for messages.
func (r *Request) Link() string { return "/api/v1/provisionRequests/" + r.ID }

// Snapshot is what the audit log keeps of a request.
func (r *Request) Snapshot() map[string]any {
	return map[string]any{"status": r.Status, "expires_by": r.ExpiresBy, "reviewed_by": r.ReviewedBy,
		"extended": r.Extended, "footprint": r.Footprint.Doc(), "estimated_cost": r.EstimatedCost}
}

// Doc is the footprint under the API's names, as audit events keep it.
func (f Footprint) Doc() map[string]any {
	return map[string]any{"cores": f.Cores, "memory": f.Memory, "cost_per_hour": f.CostPerHour}
}

func (r *Request) message(user, event, title, desc string) Message {
	return Message{User: user, Event: event, Title: title, Description: desc, Link: r.Link()}
}

// move moves r by the action and returns the change that saves and audits it.
func (r *Request) move(a RequestAction, actingFor string) (Change, error) {
	before := r.Snapshot()
	next, err := r.Status.Next(a)
	if err != nil {
		return Change{}, err
	}
	r.Status = next
	return Change{Rows: []Row{r}, Events: []AuditEvent{{Action: "request." + string(a), TargetType: "provisionRequest",
		TargetID: r.ID, Before: before, After: r.Snapshot(), ActingFor: actingFor}}}, nil
}

// RequestOutputs are an environment's outputs to store (sealed) for its
// request; nil Outputs clears them.
type RequestOutputs struct {
	RequestID string
	Outputs   map[string]string
}

// QuotaFit is how a request fits its requester's quota beside what is
// already held, one check per dimension.
type QuotaFit []QuotaCheck

// Err returns the ECONFLICT error naming what does not fit, or nil.
func (f QuotaFit) Err() error { return QuotaError(f) }

// Beside returns checks (the request's footprint beside everything its
// requester's requests weigh) as the request's own fit: when r holds quota
// itself, its footprint is in Used already and does not count twice.
func (r *Request) Beside(checks []QuotaCheck) QuotaFit {
	if r.Status.Holds() {
		for i := range checks {
			checks[i].Used -= checks[i].Asked
		}
	}
	return checks
}

// Reviewer is who reviews a request: always the caller. An admin may name
// someone in reviewed_by (the seed's field); that name is only recorded
// as ActingFor in the audit and never counts as an approver, so one person
// cannot satisfy a two-approver template alone.
type Reviewer struct {
	User      *User
	ActingFor string
	Comment   string
}

// ReviewFacts are what an approval decides on.
type ReviewFacts struct {
	Requester *User
	Fit       QuotaFit // the request beside what the requester holds
	Needed    int      // approvers the pinned template revision needs (<= 1: one)
	Approvers []string // who approved the request before
}

// Approve records by's approval. The request is APPROVED, and its
// provisioning queued, once the template's number of distinct approvers
// is reached and it still fits the quota; before that, only the approval
// is recorded.
func (r *Request) Approve(by Reviewer, now time.Time, f ReviewFacts) (Change, error) {
	if _, err := r.Status.Next(ActApprove); err != nil {
		return Change{}, err
	}
	if err := CheckReview(by.User, f.Requester, true); err != nil {
		return Change{}, err
	}
	if err := f.Fit.Err(); err != nil {
		return Change{}, err
	}
	r.ReviewedBy, r.ReviewComment = by.User.ID, by.Comment
	var c Change
	if f.Needed > 1 {
		for _, a := range f.Approvers {
			if a == by.User.ID {
				return Change{}, Errorf(ECONFLICT, "you approved provision request %s already; it needs %d different approvers", r.ID, f.Needed)
			}
		}
		c.Rows = append(c.Rows, Approval{RequestID: r.ID, Reviewer: by.User.ID})
		n, enough := CountApprovals(append(f.Approvers, by.User.ID), r.RequestedBy, f.Needed)
		if !enough {
			r.ReviewComment = fmt.Sprintf("approved by %d of the %d approvers needed", n, f.Needed)
			c.Rows = append(c.Rows, r)
			c.Events = append(c.Events, AuditEvent{Action: "request.approval", TargetType: "provisionRequest", TargetID: r.ID,
				After: map[string]any{"approvals": n, "needed": f.Needed}, ActingFor: by.ActingFor})
			return c, nil
		}
	}
	a, err := r.approve(by.ActingFor, userName(by.User))
	c.add(a)
	return c, err
}

// approve moves r to APPROVED, tells its requester (and who approved it:
// reviewer, "" when it was automatic) and queues provisioning.
func (r *Request) approve(actingFor, reviewer string) (Change, error) {
	c, err := r.move(ActApprove, actingFor)
	if err != nil {
		return c, err
	}
	if reviewer != "" {
		reviewer = " by " + reviewer
	}
	c.Messages = append(c.Messages, r.message(r.RequestedBy, EventApproved, "Provision request approved",
		fmt.Sprintf("Your provision request %s (%s) has been APPROVED%s; provisioning starts now.", r.ID, r.ResourceTemplate, reviewer)))
	c.Jobs = append(c.Jobs, ProvisionArgs{RequestID: r.ID})
	return c, nil
}

// Reject refuses the request and tells its requester why.
func (r *Request) Reject(by Reviewer, now time.Time, requester *User) (Change, error) {
	if _, err := r.Status.Next(ActReject); err != nil {
		return Change{}, err
	}
	if err := CheckReview(by.User, requester, false); err != nil {
		return Change{}, err
	}
	r.ReviewedBy, r.ReviewComment = by.User.ID, by.Comment
	c, err := r.move(ActReject, by.ActingFor)
	if err != nil {
		return c, err
	}
	c.Messages = append(c.Messages, r.message(r.RequestedBy, EventRejected, "Provision request rejected",
		fmt.Sprintf("Your provision request %s (%s) has been REJECTED by %s. %s", r.ID, r.ResourceTemplate, userName(by.User), r.ReviewComment)))
	return c, nil
}

// Revoke withdraws a request waiting for review: its requester's (or an
// admin's) decision.
func (r *Request) Revoke(by *Actor, now time.Time) (Change, error) {
	if err := by.Authorize(ActionRequestRevoke, r.RequestedBy); err != nil {
		if ErrorCode(err) == EFORBIDDEN {
			return Change{}, &Error{Code: EFORBIDDEN, Message: "only the requester may revoke a request"}
		}
		return Change{}, err
	}
	return r.move(ActRevoke, "")
}

// Retry starts a failed provisioning or purge again.
func (r *Request) Retry(by *Actor, now time.Time) (Change, error) {
	if err := by.Authorize(ActionRequestRetry, r.RequestedBy); err != nil {
		return Change{}, err
	}
	c, err := r.move(ActRetry, "")
	if err != nil {
		return c, err
	}
	if r.Status == StatusInitiated {
		c.Jobs = append(c.Jobs, ProvisionArgs{RequestID: r.ID})
	} else {
		c.Jobs = append(c.Jobs, PurgeArgs{RequestID: r.ID})
	}
	return c, nil
}

// Purge starts destroying the request's environment, even while it is
// being provisioned: the purge job then cleans up what provisioning made.
func (r *Request) Purge(by *Actor, now time.Time) (Change, error) {
	if err := by.Authorize(ActionRequestPurge, r.RequestedBy); err != nil {
		return Change{}, err
	}
	return r.purge()
}

func (r *Request) purge() (Change, error) {
	c, err := r.move(ActPurge, "")
	if err != nil {
		return c, err
	}
	c.Jobs = append(c.Jobs, PurgeArgs{RequestID: r.ID})
	return c, nil
}

// Analyse decides a new request's fate once estimated: approved at once
// when its template's policy is auto and it fits both the template's
// limits and the quota; otherwise the reviewers are told it waits for
// them, and whether it fits. Only a REQUESTED request is analysed.
func (r *Request) Analyse(now time.Time, t *Template, requester *User, fit QuotaFit) (Change, error) {
	if r.Status != StatusRequested {
		return Change{}, nil
	}
	verdict := "It fits the requester's quota."
	switch err := fit.Err(); {
	case !requester.IsActive:
		verdict = "The requester's account is deactivated: it cannot be approved."
	case err != nil:
		verdict = "It does NOT fit the requester's quota: " + ErrorMessage(err)
	case t.Approval.Mode == ApprovalAuto && r.Footprint.Within(t.Approval.AutoMax):
		r.ReviewComment = "approved automatically: within template " + t.ID + "'s limits and the quota"
		return r.approve("", "")
	}
	title, desc := reviewText(r, t, requester, verdict)
	m := r.message("", EventSubmitted, title, desc)
	return Change{ToReviewers: []ReviewerMessage{{Message: m, Except: r.RequestedBy}}}, nil
}

// Within reports whether f fits inside lim in every dimension.
func (f Footprint) Within(lim Footprint) bool {
	return f.Cores <= lim.Cores && f.Memory <= lim.Memory && f.CostPerHour <= lim.CostPerHour
}
