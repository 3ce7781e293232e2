package purser

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	admin   = &User{Meta: Meta{ID: "admin"}, Roles: []string{RoleAdmin}, IsActive: true}
	ops     = &User{Meta: Meta{ID: "ops"}, Roles: []string{RoleDevOps}, IsActive: true}
	ops2    = &User{Meta: Meta{ID: "ops2"}, Roles: []string{RoleDevOps}, IsActive: true}
	dev     = &User{Meta: Meta{ID: "dev"}, Roles: []string{RoleDev}, IsActive: true}
	dev2    = &User{Meta: Meta{ID: "dev2"}, Roles: []string{RoleDev}, IsActive: true}
	fits    = QuotaFit{{Dimension: "cores", Limit: ptr(10.0), Asked: 1}}
	tooBig  = QuotaFit{{Dimension: "cores", Limit: ptr(1.0), Used: 1, Asked: 1}}
	devActs = &Actor{User: dev}
)

// request returns a request of dev's in the status.
func request(s Status) *Request {
	return &Request{Meta: Meta{ID: "r1", Created: t0, Version: 1}, RequestedBy: dev.ID, ResourceTemplate: "small",
		Status: s, ExpiresBy: t0.Add(72 * time.Hour), Footprint: Footprint{Cores: 1, Memory: 1, CostPerHour: 0.5}}
}

// act performs a person's action as the decision does for the store.
func act(r *Request, a RequestAction) (Change, error) {
	by := Reviewer{User: ops, Comment: "ok"}
	switch a {
	case ActApprove:
		return r.Approve(by, t0, ReviewFacts{Requester: dev, Fit: fits, Needed: 1})
	case ActReject:
		return r.Reject(by, t0, dev)
	case ActRevoke:
		return r.Revoke(devActs, t0)
	case ActRetry:
		return r.Retry(devActs, t0)
	case ActPurge:
		return r.Purge(devActs, t0)
	}
	panic(a)
}

func kinds(jobs []JobArgs) string {
	var k []string
	for _, j := range jobs {
		k = append(k, j.Kind())
	}
	return strings.Join(k, ",")
}

func TestRequestActions(t *testing.T) {
	t.Parallel()
	// want: the status each action leads to from each status ("" refused
	// with a 409 naming the status), and the jobs it queues.
	type outcome struct {
		to   Status
		jobs string
	}
	want := map[RequestAction]map[Status]outcome{
		ActApprove: {StatusRequested: {StatusApproved, "provision"}},
		ActReject:  {StatusRequested: {StatusRejected, ""}},
		ActRevoke:  {StatusRequested: {StatusRevoked, ""}},
		ActRetry:   {StatusFailed: {StatusInitiated, "provision"}, StatusPurgeFailed: {StatusPurgeInitiated, "purge"}},
		ActPurge: {StatusApproved: {StatusPurgeInitiated, "purge"}, StatusInitiated: {StatusPurgeInitiated, "purge"},
			StatusFailed: {StatusPurgeInitiated, "purge"}, StatusDeployed: {StatusPurgeInitiated, "purge"}, StatusExpired: {StatusPurgeInitiated, "purge"}},
	}
	for a, byStatus := range want {
		for _, s := range Statuses {
			t.Run(string(a)+"/"+string(s), func(t *testing.T) {
				t.Parallel()
				r := request(s)
				c, err := act(r, a)
				w, ok := byStatus[s]
				if !ok {
					if ErrorCode(err) != ECONFLICT || !strings.Contains(ErrorMessage(err), string(s)) {
						t.Fatalf("err = %v, want a conflict naming %s", err, s)
					}
					if r.Status != s || len(c.Rows)+len(c.Events)+len(c.Jobs) > 0 {
						t.Fatalf("refused action changed something: %s, %+v", r.Status, c)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != w.to || kinds(c.Jobs) != w.jobs {
					t.Fatalf("status %s jobs %q, want %s %q", r.Status, kinds(c.Jobs), w.to, w.jobs)
				}
				if len(c.Events) != 1 || c.Events[0].Action != "request."+string(a) || c.Events[0].Before.(map[string]any)["status"] != s {
					t.Fatalf("audit %+v", c.Events)
				}
				if len(c.Rows) != 1 || c.Rows[0] != r {
					t.Fatalf("rows %+v, want the request", c.Rows)
				}
			})
		}
	}
}

func TestRequestMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status Status
		do     func(r *Request) (Change, error)
		user   string
		title  string
		text   string
	}{
		{"Approved", StatusRequested, func(r *Request) (Change, error) { return act(r, ActApprove) },
			"dev", "Provision request approved", "Your provision request r1 (small) has been APPROVED by ops; provisioning starts now."},
		{"Rejected", StatusRequested, func(r *Request) (Change, error) { return act(r, ActReject) },
			"dev", "Provision request rejected", "Your provision request r1 (small) has been REJECTED by ops. ok"},
		{"Deployed", StatusInitiated, func(r *Request) (Change, error) {
			c, _, err := r.FinishProvision(t0, ProvisionResult{RequestID: "r1", Outputs: map[string]string{"a": "b"}})
			return c, err
		}, "dev", "Environment ready", "Your environment r1 (small) is DEPLOYED until 2026-03-04 12:00 UTC. Read its outputs with `purser request get r1 --outputs` or GET /api/v1/provisionRequests/r1/outputs."},
		{"Purged", StatusPurgeInitiated, func(r *Request) (Change, error) { return r.FinishPurge(t0, PurgeResult{RequestID: "r1"}) },
			"dev", "Environment purged", "Your environment r1 (small) has been purged."},
		{"Expired", StatusDeployed, func(r *Request) (Change, error) {
			c, _, err := r.Sweep(r.ExpiresBy)
			return c, err
		}, "dev", "Environment expired", "Your environment r1 (small) expired at 2026-03-04 12:00 UTC and is being purged."},
		{"Reminder", StatusDeployed, func(r *Request) (Change, error) {
			c, _, err := r.Sweep(r.ExpiresBy.Add(-2 * time.Hour))
			return c, err
		}, "dev", "Environment expiring in 2h0m0s", "Your environment r1 (small) expires at 2026-03-04 12:00 UTC (in 2h0m0s). Ask for an extension if you need it longer."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.do(request(tt.status))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Messages) != 1 {
				t.Fatalf("messages %+v", c.Messages)
			}
			m := c.Messages[0]
			if m.User != tt.user || m.Title != tt.title || m.Description != tt.text || m.Link != "/api/v1/provisionRequests/r1" {
				t.Fatalf("message %+v", m)
			}
		})
	}
}

func TestApproveNeedsDistinctApprovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		by        *User
		approvers []string
		fit       QuotaFit
		status    Status
		code      string
		comment   string
	}{
		{"FirstOfTwo", ops, nil, fits, StatusRequested, "", "approved by 1 of the 2 approvers needed"},
		{"SecondOfTwo", ops2, []string{"ops"}, fits, StatusApproved, "", "ok"},
		{"ErrSameApproverTwice", ops, []string{"ops"}, fits, StatusRequested, ECONFLICT, ""},
		{"ErrQuotaExceeded", ops2, []string{"ops"}, tooBig, StatusRequested, ECONFLICT, ""},
		{"ErrReviewerIsRequester", dev, nil, fits, StatusRequested, EFORBIDDEN, ""},
		{"ErrNotAReviewer", dev2, nil, fits, StatusRequested, EFORBIDDEN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request(StatusRequested)
			c, err := r.Approve(Reviewer{User: tt.by, Comment: "ok"}, t0, ReviewFacts{Requester: dev, Fit: tt.fit, Needed: 2, Approvers: tt.approvers})
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want code %q", err, tt.code)
			}
			if err != nil {
				return
			}
			if r.Status != tt.status || r.ReviewComment != tt.comment {
				t.Fatalf("status %s comment %q", r.Status, r.ReviewComment)
			}
			if a, ok := c.Rows[0].(Approval); !ok || a.Reviewer != tt.by.ID {
				t.Fatalf("first row %+v, want the approval", c.Rows[0])
			}
		})
	}
}

func TestApproveRefusesDeactivatedRequester(t *testing.T) {
	t.Parallel()
	gone := *dev
	gone.IsActive = false
	r := request(StatusRequested)
	if _, err := r.Approve(Reviewer{User: ops}, t0, ReviewFacts{Requester: &gone, Fit: fits}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("err %v", err)
	}
	if _, err := r.Reject(Reviewer{User: ops}, t0, &gone); err != nil {
		t.Fatalf("reject: %v", err)
	}
}

func TestAnalyse(t *testing.T) {
	t.Parallel()
	auto := &Template{Meta: Meta{ID: "small"}, Approval: ApprovalPolicy{Mode: ApprovalAuto, AutoMax: Footprint{Cores: 2, Memory: 2, CostPerHour: 1}}}
	manual := &Template{Meta: Meta{ID: "small"}, Approval: ApprovalPolicy{Mode: "manual"}}
	gone := *dev
	gone.IsActive = false
	tests := []struct {
		name      string
		status    Status
		tpl       *Template
		requester *User
		fit       QuotaFit
		want      Status
		verdict   string // the end of the reviewers' message; "" for none
	}{
		{"AutoApproved", StatusRequested, auto, dev, fits, StatusApproved, ""},
		{"ManualFits", StatusRequested, manual, dev, fits, StatusRequested, "It fits the requester's quota."},
		{"AutoButOverQuota", StatusRequested, auto, dev, tooBig, StatusRequested, "It does NOT fit the requester's quota: "},
		{"AutoButDeactivated", StatusRequested, auto, &gone, nil, StatusRequested, "The requester's account is deactivated: it cannot be approved."},
		{"AutoButBeyondTemplateLimits", StatusRequested, &Template{Meta: Meta{ID: "small"}, Approval: ApprovalPolicy{Mode: ApprovalAuto}}, dev, fits, StatusRequested, "It fits the requester's quota."},
		{"NotRequestedAnyMore", StatusRevoked, auto, dev, fits, StatusRevoked, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request(tt.status)
			c, err := r.Analyse(t0, tt.tpl, tt.requester, tt.fit)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.want {
				t.Fatalf("status %s, want %s", r.Status, tt.want)
			}
			if tt.verdict == "" {
				if len(c.ToReviewers) != 0 {
					t.Fatalf("reviewers told %+v", c.ToReviewers)
				}
				return
			}
			if len(c.ToReviewers) != 1 || c.ToReviewers[0].Except != dev.ID || !strings.Contains(c.ToReviewers[0].Description, tt.verdict) ||
				!strings.HasPrefix(c.ToReviewers[0].Description, "dev asks for small with no parameters, until 2026-03-04 12:00 UTC. It takes 1 cores and 1 GiB at 0.50 per hour: estimated cost 0.00. ") {
				t.Fatalf("reviewers told %+v", c.ToReviewers)
			}
		})
	}
}

func TestProvisionAndPurgeResults(t *testing.T) {
	t.Parallel()
	boom := errors.New("cloud down\nmore")
	tests := []struct {
		name       string
		status     Status
		finish     func(r *Request) (Change, bool, error)
		want       Status
		superseded bool
		lastError  string
		reviewers  int
	}{
		{"ProvisionRetried", StatusInitiated, func(r *Request) (Change, bool, error) {
			return r.FinishProvision(t0, ProvisionResult{Err: boom})
		}, StatusInitiated, false, boom.Error(), 0},
		{"ProvisionFailed", StatusInitiated, func(r *Request) (Change, bool, error) {
			return r.FinishProvision(t0, ProvisionResult{Err: boom, Final: true})
		}, StatusFailed, false, boom.Error(), 1},
		{"ProvisionSupersededByPurge", StatusPurgeInitiated, func(r *Request) (Change, bool, error) {
			return r.FinishProvision(t0, ProvisionResult{})
		}, StatusPurgeInitiated, true, "", 0},
		{"PurgeRetried", StatusPurgeInitiated, func(r *Request) (Change, bool, error) {
			c, err := r.FinishPurge(t0, PurgeResult{Err: boom})
			return c, false, err
		}, StatusPurgeInitiated, false, boom.Error(), 0},
		{"PurgeFailed", StatusPurgeInitiated, func(r *Request) (Change, bool, error) {
			c, err := r.FinishPurge(t0, PurgeResult{Err: boom, Final: true})
			return c, false, err
		}, StatusPurgeFailed, false, boom.Error(), 1},
		{"PurgeOfOtherStatusIgnored", StatusDeployed, func(r *Request) (Change, bool, error) {
			c, err := r.FinishPurge(t0, PurgeResult{})
			return c, false, err
		}, StatusDeployed, false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request(tt.status)
			c, superseded, err := tt.finish(r)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.want || superseded != tt.superseded || r.LastError != tt.lastError || len(c.ToReviewers) != tt.reviewers {
				t.Fatalf("status %s superseded %v last error %q reviewers %d", r.Status, superseded, r.LastError, len(c.ToReviewers))
			}
		})
	}
	t.Run("LongErrorKeepsItsStartAndEnd", func(t *testing.T) {
		t.Parallel()
		r := request(StatusInitiated)
		msg := "sh failed (exit status 1); last output:\n" + strings.Repeat("é", 1500) + "\nPermission denied"
		r.FinishProvision(t0, ProvisionResult{Err: errors.New(msg)})
		if len(r.LastError) > maxLastError+5 || !strings.HasPrefix(r.LastError, "sh failed (exit status 1)") ||
			!strings.HasSuffix(r.LastError, "\nPermission denied") || !strings.Contains(r.LastError, "\n...\n") || !utf8.ValidString(r.LastError) {
			t.Fatalf("last error of %d bytes: %q", len(r.LastError), r.LastError)
		}
	})
	t.Run("StartProvision", func(t *testing.T) {
		t.Parallel()
		for s, proceed := range map[Status]bool{StatusApproved: true, StatusInitiated: true, StatusPurgeInitiated: false, StatusDeployed: false} {
			r := request(s)
			if _, ok, err := r.StartProvision(t0); ok != proceed || err != nil {
				t.Errorf("%s: proceed %v, %v", s, ok, err)
			}
			if proceed && r.Status != StatusInitiated {
				t.Errorf("%s: now %s", s, r.Status)
			}
		}
	})
}

func TestSweep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ttl      time.Duration // from creation to expiry
		sent     int
		at       time.Duration // before expiry
		expired  bool
		messages int
		sentNow  int
	}{
		{"NothingDue", 72 * time.Hour, 0, 49 * time.Hour, false, 0, 0},
		{"First", 72 * time.Hour, 0, 48 * time.Hour, false, 1, 1},
		{"FirstSentAlready", 72 * time.Hour, 1, 47 * time.Hour, false, 0, 1},
		{"Second", 72 * time.Hour, 1, 2 * time.Hour, false, 1, 3},
		{"MissedTwoSendOne", 72 * time.Hour, 0, time.Hour, false, 1, 3},
		{"Third", 72 * time.Hour, 3, 30 * time.Minute, false, 1, 7},
		{"BeyondTTLSkipped", 24 * time.Hour, 0, 24 * time.Hour, false, 0, 1},
		{"ExactlyTTLSkipped", 48 * time.Hour, 0, 48 * time.Hour, false, 0, 1},
		{"WithinTTLSent", 48*time.Hour + time.Minute, 0, 48 * time.Hour, false, 1, 1},
		{"Expired", 72 * time.Hour, 7, 0, true, 1, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request(StatusDeployed)
			r.Created, r.RemindersSent = r.ExpiresBy.Add(-tt.ttl), tt.sent
			c, expired, err := r.Sweep(r.ExpiresBy.Add(-tt.at))
			if err != nil {
				t.Fatal(err)
			}
			if expired != tt.expired || len(c.Messages) != tt.messages || r.RemindersSent != tt.sentNow {
				t.Fatalf("expired %v messages %d sent %b", expired, len(c.Messages), r.RemindersSent)
			}
			if expired && (r.Status != StatusPurgeInitiated || kinds(c.Jobs) != "purge" || len(c.Events) != 2) {
				t.Fatalf("expired to %s jobs %q events %d", r.Status, kinds(c.Jobs), len(c.Events))
			}
		})
	}
	t.Run("OnlyDeployed", func(t *testing.T) {
		t.Parallel()
		r := request(StatusFailed)
		if c, expired, _ := r.Sweep(r.ExpiresBy); expired || len(c.Rows) > 0 {
			t.Fatalf("swept a FAILED request: %+v", c)
		}
	})
}

// TestWorkerActions: every status × what a worker reports. A worker's
// decision never fails on a status: it moves the request, or leaves it be
// when it has moved on (purged meanwhile, done already).
func TestWorkerActions(t *testing.T) {
	t.Parallel()
	actions := map[string]struct {
		do   func(r *Request) error
		from map[Status]Status // where it moves; any other status is left be
	}{
		"start": {func(r *Request) error { _, _, err := r.StartProvision(t0); return err },
			map[Status]Status{StatusApproved: StatusInitiated}},
		"deploy": {func(r *Request) error { _, _, err := r.FinishProvision(t0, ProvisionResult{}); return err },
			map[Status]Status{StatusInitiated: StatusDeployed}},
		"fail": {func(r *Request) error {
			_, _, err := r.FinishProvision(t0, ProvisionResult{Err: errors.New("x"), Final: true})
			return err
		}, map[Status]Status{StatusInitiated: StatusFailed}},
		"purged": {func(r *Request) error { _, err := r.FinishPurge(t0, PurgeResult{}); return err },
			map[Status]Status{StatusPurgeInitiated: StatusPurged}},
		"purge_failed": {func(r *Request) error {
			_, err := r.FinishPurge(t0, PurgeResult{Err: errors.New("x"), Final: true})
			return err
		},
			map[Status]Status{StatusPurgeInitiated: StatusPurgeFailed}},
		"expire": {func(r *Request) error { _, _, err := r.Sweep(r.ExpiresBy); return err },
			map[Status]Status{StatusDeployed: StatusPurgeInitiated}},
	}
	for name, a := range actions {
		for _, s := range Statuses {
			t.Run(name+"/"+string(s), func(t *testing.T) {
				t.Parallel()
				r := request(s)
				if err := a.do(r); err != nil {
					t.Fatal(err)
				}
				want, ok := a.from[s]
				if !ok {
					want = s
				}
				if r.Status != want {
					t.Fatalf("%s from %s: now %s, want %s", name, s, r.Status, want)
				}
			})
		}
	}
}
