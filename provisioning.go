package purser

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// The decisions workers make, and the small interfaces they work through.

// ProvisionResult is what a provision job reports: the driver's outputs,
// or its error and whether that attempt was the last.
type ProvisionResult struct {
	RequestID string
	Outputs   map[string]string
	Err       error // nil: provisioned
	Final     bool  // this attempt was the job's last
}

// PurgeResult is what a purge job reports.
type PurgeResult struct {
	RequestID string
	Err       error // nil: nothing is left
	Final     bool  // this attempt was the job's last
}

// StartProvision moves an APPROVED request to INITIATED. proceed is false
// when the request is no longer to be provisioned (purged meanwhile, or
// done); an INITIATED request proceeds unchanged (a retry, or a job
// resumed after a crash).
func (r *Request) StartProvision(now time.Time) (c Change, proceed bool, err error) {
	switch r.Status {
	case StatusApproved:
		c, err = r.move(ActStart, "")
		return c, err == nil, err
	case StatusInitiated:
		return Change{}, true, nil
	}
	return Change{}, false, nil
}

// FinishProvision records a provision job's result. An error that is not
// final is only noted (the job is retried); a final one fails the request
// and tells its owner and DevOps. superseded is true when the request left
// INITIATED while the driver worked (it was purged): what the driver made
// must then be destroyed again, since the purge may have run before it
// existed.
func (r *Request) FinishProvision(now time.Time, res ProvisionResult) (c Change, superseded bool, err error) {
	if r.Status != StatusInitiated {
		return Change{}, true, nil
	}
	if res.Err != nil {
		r.LastError = truncate(res.Err.Error(), maxLastError)
		if !res.Final {
			return Change{Rows: []Row{r}}, false, nil
		}
		if c, err = r.move(ActFail, ""); err != nil {
			return c, false, err
		}
		m := r.message(r.RequestedBy, EventFailed, "Provisioning failed",
			fmt.Sprintf("Provisioning %s (%s) failed after every attempt: %s", r.ID, r.ResourceTemplate, r.LastError))
		c.ToReviewers = append(c.ToReviewers, ReviewerMessage{Message: m, Except: r.RequestedBy})
		c.Messages = append(c.Messages, m)
		return c, false, nil
	}
	r.LastError = ""
	if c, err = r.move(ActDeploy, ""); err != nil {
		return c, false, err
	}
	out := res.Outputs
	if out == nil {
		out = map[string]string{} // provisioned, with nothing to show
	}
	c.Rows = append([]Row{RequestOutputs{RequestID: r.ID, Outputs: out}}, c.Rows...)
	c.Messages = append(c.Messages, r.message(r.RequestedBy, EventDeployed, "Environment ready",
		fmt.Sprintf("Your environment %s (%s) is DEPLOYED until %s. Read its outputs with `purser request get %s --outputs` or GET %s/outputs.",
			r.ID, r.ResourceTemplate, r.ExpiresBy.Format(messageTime), r.ID, r.Link())))
	return c, false, nil
}

// FinishPurge records a purge job's result; only a PURGE_INITIATED
// request moves. A final error fails the purge and tells DevOps that
// something may be left behind.
func (r *Request) FinishPurge(now time.Time, res PurgeResult) (Change, error) {
	if r.Status != StatusPurgeInitiated {
		return Change{}, nil
	}
	if res.Err != nil {
		r.LastError = truncate(res.Err.Error(), maxLastError)
		if !res.Final {
			return Change{Rows: []Row{r}}, nil
		}
		c, err := r.move(ActPurgeFailed, "")
		if err != nil {
			return c, err
		}
		c.ToReviewers = append(c.ToReviewers, ReviewerMessage{Message: r.message("", EventPurgeFailed, "Purge failed",
			fmt.Sprintf("Purging %s (%s) failed after every attempt; something may be left behind: %s", r.ID, r.ResourceTemplate, r.LastError))})
		return c, nil
	}
	r.LastError = ""
	c, err := r.move(ActPurgeDone, "")
	if err != nil {
		return c, err
	}
	c.Rows = append([]Row{RequestOutputs{RequestID: r.ID}}, c.Rows...)
	c.Messages = append(c.Messages, r.message(r.RequestedBy, EventPurged, "Environment purged",
		fmt.Sprintf("Your environment %s (%s) has been purged.", r.ID, r.ResourceTemplate)))
	return c, nil
}

// Sweep is the expiry sweep's decision for one request at now: a
// DEPLOYED request past its expires_by expires and its purge starts
// (expired is true); before that, the reminders now due are sent, once
// each.
func (r *Request) Sweep(now time.Time) (c Change, expired bool, err error) {
	if r.Status != StatusDeployed {
		return Change{}, false, nil
	}
	if now.Before(r.ExpiresBy) {
		return r.remind(now), false, nil
	}
	if c, err = r.move(ActExpire, ""); err != nil {
		return c, false, err
	}
	c.Messages = append(c.Messages, r.message(r.RequestedBy, EventExpired, "Environment expired",
		fmt.Sprintf("Your environment %s (%s) expired at %s and is being purged.", r.ID, r.ResourceTemplate, r.ExpiresBy.Format(messageTime))))
	p, err := r.purge()
	c.add(p)
	return c, true, err
}

// remind sends the reminders whose time has come, once each (one message
// however many fell due together), skipping those at or beyond the TTL
// (they lie at or before the request's creation): a 48 h reminder of a 48
// h environment would arrive as it is deployed.
func (r *Request) remind(now time.Time) Change {
	sent := r.RemindersSent
	due := false
	for i, before := range Reminders {
		at := r.ExpiresBy.Add(-before)
		if sent&(1<<i) != 0 || now.Before(at) {
			continue
		}
		sent |= 1 << i
		due = due || at.After(r.Created)
	}
	if sent == r.RemindersSent {
		return Change{}
	}
	r.RemindersSent = sent
	c := Change{Rows: []Row{r}}
	if !due {
		return c
	}
	left := r.ExpiresBy.Sub(now).Round(time.Minute)
	c.Messages = append(c.Messages, r.message(r.RequestedBy, EventExpiring, "Environment expiring in "+left.String(),
		fmt.Sprintf("Your environment %s (%s) expires at %s (in %s). Ask for an extension if you need it longer.",
			r.ID, r.ResourceTemplate, r.ExpiresBy.Format(messageTime), left)))
	return c
}

// remindersPast returns RemindersSent's bits for the reminders whose time
// is past at now: an extension re-arms only the reminders still ahead, as
// its approval message already says when the environment expires.
func (r *Request) remindersPast(now time.Time) int {
	sent := 0
	for i, before := range Reminders {
		if !now.Before(r.ExpiresBy.Add(-before)) {
			sent |= 1 << i
		}
	}
	return sent
}

// truncate bounds s to about n bytes, keeping its start (what failed) and
// its end (the last lines of output, which tell why): "start\n...\nend".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	head, tail := n/4, len(s)-(n-n/4)
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + "\n...\n" + s[tail:]
}

// ProvisionStore is what the provision and purge workers need of the
// store: each method is one transaction running a decision above.
type ProvisionStore interface {
	// StartProvision moves an APPROVED request to INITIATED and returns
	// it; proceed is false when it is no longer to be provisioned.
	StartProvision(ctx context.Context, id string) (r *Request, proceed bool, err error)
	// Environment returns what a driver needs to act on r's environment,
	// with the template revision r pinned (secret parameters unsealed).
	Environment(ctx context.Context, r *Request) (Environment, *Template, error)
	// FinishProvision records a provision job's result; superseded is
	// true when the request was purged meanwhile, and what was made must
	// be destroyed by the caller.
	FinishProvision(ctx context.Context, res ProvisionResult) (superseded bool, err error)
	// PurgeTarget returns the request a purge job acts on; proceed is
	// false unless it is PURGE_INITIATED.
	PurgeTarget(ctx context.Context, id string) (r *Request, proceed bool, err error)
	// FinishPurge records a purge job's result.
	FinishPurge(ctx context.Context, res PurgeResult) error
}

// RefreshStore is what the refresh worker needs of the store.
type RefreshStore interface {
	// FindRequestByID returns a request (any, to the system actor).
	FindRequestByID(ctx context.Context, id string) (*Request, error)
	// Environment is ProvisionStore's.
	Environment(ctx context.Context, r *Request) (Environment, *Template, error)
	// RefreshOutputs stores a DEPLOYED request's outputs again; it does
	// nothing to a request in another status.
	RefreshOutputs(ctx context.Context, id string, outputs map[string]string) error
}

// Analyser runs a new request's analysis (Request.Analyse) in one transaction.
type Analyser interface {
	// Analyse approves the request when its template allows it, or tells
	// the reviewers it waits for them; it does nothing unless REQUESTED.
	Analyse(ctx context.Context, id string) error
}

// ExpirySweeper runs the expiry sweep (Request.Sweep over every request
// due, then the quota lapse warnings).
type ExpirySweeper interface {
	// ExpireDue expires what is past its time, sends the reminders due
	// and returns how many requests expired.
	ExpireDue(ctx context.Context) (int, error)
}
