package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testReview(t *testing.T, open Opener) {
	t.Run("AdminAloneCannotBeTwoApprovers", func(t *testing.T) { t.Parallel(); testTwoPersonRule(t, open) })
	t.Run("DeactivatedRequesterCannotBeApproved", func(t *testing.T) { t.Parallel(); testDeactivatedRequester(t, open) })
	t.Run("PendingRequestsCapped", func(t *testing.T) { t.Parallel(); testPendingCap(t, open) })
}

// testTwoPersonRule: an admin approving twice "as" two other reviewers
// (reviewed_by) is still one approver; two distinct reviewers approve.
func testTwoPersonRule(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	sys := purser.SystemContext(context.Background())
	tpl := &purser.Template{Meta: purser.Meta{ID: "prod"}, Name: "Prod", Driver: "sim", IsActive: true,
		Approval: purser.ApprovalPolicy{Mode: purser.ApprovalManual, Approvers: 2}}
	if err := sqldb.NewTemplateService(db).CreateTemplate(sys, tpl); err != nil {
		t.Fatal(err)
	}
	adminCtx, _ := admin(t, db)
	devCtx, _ := as(t, db, "dev", purser.RoleDev)
	opsCtx, ops := as(t, db, "ops", purser.RoleDevOps)
	_, ops2 := as(t, db, "ops2", purser.RoleDevOps)
	reqs := sqldb.NewRequestService(db)
	r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := reqs.ActOnRequest(adminCtx, r.ID, purser.ActApprove, purser.Review{ReviewedBy: ops.ID})
	if err != nil || got.Status != purser.StatusRequested {
		t.Fatalf("first approval: %v %v", got, err)
	}
	_, err = reqs.ActOnRequest(adminCtx, r.ID, purser.ActApprove, purser.Review{ReviewedBy: ops2.ID})
	wantCode(t, err, purser.ECONFLICT)
	if after, _ := reqs.FindRequestByID(adminCtx, r.ID); after.Status != purser.StatusRequested {
		t.Fatalf("one admin acting for two reviewers approved it: %s", after.Status)
	}
	got, err = reqs.ActOnRequest(opsCtx, r.ID, purser.ActApprove, purser.Review{})
	if err != nil || got.Status != purser.StatusApproved {
		t.Fatalf("second, distinct approver: %v %v", got, err)
	}
}

// testDeactivatedRequester: a deactivated user's request cannot be
// approved, nor its extension; it can still be rejected.
func testDeactivatedRequester(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	simTemplate(t, db)
	adminCtx, _ := admin(t, db)
	devCtx, dev := as(t, db, "dev", purser.RoleDev)
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	reqs := sqldb.NewRequestService(db)
	a, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqldb.NewUserService(db).DeactivateUser(adminCtx, dev.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = reqs.ActOnRequest(opsCtx, a.ID, purser.ActApprove, purser.Review{})
	wantCode(t, err, purser.ECONFLICT)
	if !strings.Contains(purser.ErrorMessage(err), "the requester's account is deactivated") {
		t.Fatalf("refusal: %q", purser.ErrorMessage(err))
	}
	if err := reqs.Analyse(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	if after, _ := reqs.FindRequestByID(opsCtx, a.ID); after.Status != purser.StatusRequested {
		t.Fatalf("after a refused approval: %s", after.Status)
	}
	if got, err := reqs.ActOnRequest(opsCtx, b.ID, purser.ActReject, purser.Review{}); err != nil || got.Status != purser.StatusRejected {
		t.Fatalf("reject: %v %v", got, err)
	}
}

// testPendingCap: a user may have at most MaxPending requests waiting for
// review (10 by default); the next is refused with 409 naming the limit,
// and a revoked one frees a place.
func testPendingCap(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	simTemplate(t, db)
	devCtx, _ := as(t, db, "dev", purser.RoleDev)
	otherCtx, _ := as(t, db, "other", purser.RoleDev)
	reqs := sqldb.NewRequestService(db)
	var first string
	for i := range purser.DefaultMaxPending {
		r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if i == 0 {
			first = r.ID
		}
	}
	_, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
	wantCode(t, err, purser.ECONFLICT)
	if !strings.Contains(purser.ErrorMessage(err), "requests.max_pending is 10") {
		t.Fatalf("refusal does not name the limit: %q", purser.ErrorMessage(err))
	}
	if _, err := reqs.CreateRequest(otherCtx, purser.RequestInput{ResourceTemplate: "small"}); err != nil {
		t.Fatalf("another user is not limited by dev's requests: %v", err)
	}
	if _, err := reqs.ActOnRequest(devCtx, first, purser.ActRevoke, purser.Review{}); err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"}); err != nil {
		t.Fatalf("after revoking one: %v", err)
	}
	db.MaxPending = 12
	if _, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"}); err != nil {
		t.Fatalf("with requests.max_pending 12: %v", err)
	}
}
