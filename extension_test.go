package purser

import (
	"testing"
	"time"
)

func TestRequestExtension(t *testing.T) {
	t.Parallel()
	tpl := &Template{Meta: Meta{ID: "small"}, ExtensionMax: 24 * time.Hour}
	tests := []struct {
		name     string
		status   Status
		extended bool
		owner    *User
		tpl      *Template
		hours    int
		reason   string
		code     string
	}{
		{"OK", StatusDeployed, false, dev, tpl, 24, "more", ""},
		{"OKWhileProvisioning", StatusInitiated, false, dev, tpl, 1, "more", ""},
		{"ErrBeyondTemplateMax", StatusDeployed, false, dev, tpl, 25, "more", EINVALID},
		{"ErrZeroHours", StatusDeployed, false, dev, tpl, 0, "more", EINVALID},
		{"OKUpTo720", StatusDeployed, false, dev, &Template{ExtensionMax: 1000 * time.Hour}, 720, "more", ""},
		{"Err721", StatusDeployed, false, dev, &Template{ExtensionMax: 1000 * time.Hour}, 721, "more", EINVALID},
		{"ErrNoReason", StatusDeployed, false, dev, tpl, 1, "", EINVALID},
		{"ErrNotRequester", StatusDeployed, false, dev2, tpl, 1, "more", EFORBIDDEN},
		{"ErrExtendedOnce", StatusDeployed, true, dev, tpl, 1, "more", ECONFLICT},
		{"ErrExpired", StatusExpired, false, dev, tpl, 1, "more", ECONFLICT},
		{"ErrRequested", StatusRequested, false, dev, tpl, 1, "more", ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request(tt.status)
			r.Extended = tt.extended
			e := &Extension{ExtendBy: tt.hours, Reason: tt.reason}
			c, err := r.RequestExtension(e, tt.owner, "", tt.tpl, t0)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want code %q", err, tt.code)
			}
			if err != nil {
				return
			}
			if e.Status != ExtensionRequested || e.Version != 0 || len(c.ToReviewers) != 1 || c.ToReviewers[0].Except != dev.ID {
				t.Fatalf("extension %+v change %+v", e, c)
			}
		})
	}
}

func TestReviewExtension(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  string
		by      *User
		approve bool
		code    string
		expires time.Time
		text    string
	}{
		{"Approved", ExtensionRequested, ops, true, "", t0.Add(72*time.Hour + 5*time.Hour),
			"Your extension request e1 for r1 (5 hours) has been APPROVED by ops. It now expires at 2026-03-04 17:00 UTC."},
		{"Rejected", ExtensionRequested, ops, false, "", t0.Add(72 * time.Hour),
			"Your extension request e1 for r1 (5 hours) has been REJECTED by ops. It now expires at 2026-03-04 12:00 UTC."},
		{"ErrReviewedAlready", ExtensionRejected, ops, true, ECONFLICT, t0.Add(72 * time.Hour), ""},
		{"ErrNotReviewer", ExtensionRequested, dev2, true, EFORBIDDEN, t0.Add(72 * time.Hour), ""},
		{"ErrOwn", ExtensionRequested, dev, true, EFORBIDDEN, t0.Add(72 * time.Hour), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request(StatusDeployed)
			r.RemindersSent = 3
			e := &Extension{Meta: Meta{ID: "e1", Version: 1}, ProvisionRequest: r.ID, ExtendBy: 5, RequestedBy: dev.ID, Status: tt.status}
			c, err := e.Review(Reviewer{User: tt.by}, tt.approve, r, dev, t0)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want code %q", err, tt.code)
			}
			if !r.ExpiresBy.Equal(tt.expires) {
				t.Fatalf("expires %s, want %s", r.ExpiresBy, tt.expires)
			}
			if err != nil {
				return
			}
			if r.Extended != tt.approve || (tt.approve && (r.RemindersSent != 0 || kinds(c.Jobs) != "refresh")) {
				t.Fatalf("extended %v reminders %b jobs %q", r.Extended, r.RemindersSent, kinds(c.Jobs))
			}
			if len(c.Messages) != 1 || c.Messages[0].Description != tt.text {
				t.Fatalf("messages %+v", c.Messages)
			}
			// The history shows what the review changed.
			last := c.Events[len(c.Events)-1]
			before, after := last.Before.(map[string]any), last.After.(map[string]any)
			if before["expires_by"] != t0.Add(72*time.Hour) || after["expires_by"] != tt.expires || after["status"] != e.Status {
				t.Fatalf("extension event %+v", last)
			}
			if tt.approve && r.EstimatedCost != 0.5*5 { // 5 more hours at 0.5 an hour, on top of 0
				t.Fatalf("estimated cost %g", r.EstimatedCost)
			}
		})
	}
	t.Run("ReArmsOnlyRemindersAhead", func(t *testing.T) {
		t.Parallel()
		r := request(StatusDeployed) // expires at t0+72h
		r.RemindersSent = 7
		e := &Extension{Meta: Meta{ID: "e1", Version: 1}, ProvisionRequest: r.ID, ExtendBy: 1, RequestedBy: dev.ID, Status: ExtensionRequested}
		if _, err := e.Review(Reviewer{User: ops}, true, r, dev, t0.Add(71*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// Two hours left: the 48 h and 2 h reminders are past, the 30 min one ahead.
		if r.RemindersSent != 3 {
			t.Fatalf("reminders sent %b, want 11", r.RemindersSent)
		}
	})
	t.Run("ErrSecondGrant", func(t *testing.T) {
		t.Parallel()
		r := request(StatusDeployed)
		r.Extended = true
		e := &Extension{Meta: Meta{ID: "e2"}, ExtendBy: 5, RequestedBy: dev.ID, Status: ExtensionRequested}
		if _, err := e.Review(Reviewer{User: ops}, true, r, dev, t0); ErrorCode(err) != ECONFLICT {
			t.Fatalf("err %v", err)
		}
	})
}

func TestRevokeExtension(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		by     *Actor
		status string
		code   string
	}{
		{"OwnRequest", &Actor{User: dev}, ExtensionRequested, ""},
		{"Admin", &Actor{User: admin}, ExtensionRequested, ""},
		{"ErrOthers", &Actor{User: dev2}, ExtensionRequested, EFORBIDDEN},
		{"ErrDevOpsIsNotRequester", &Actor{User: ops}, ExtensionRequested, EFORBIDDEN},
		{"ErrApproved", &Actor{User: dev}, ExtensionApproved, ECONFLICT},
		{"ErrNoOne", nil, ExtensionRequested, EUNAUTHORIZED},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &Extension{Meta: Meta{ID: "e1"}, RequestedBy: dev.ID, Status: tt.status}
			if _, err := e.Revoke(tt.by, t0); ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want %q", err, tt.code)
			}
		})
	}
}
