package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testProvisioning(t *testing.T, open Opener) {
	t.Run("ConcurrentApprovalsNeverOverCommit", func(t *testing.T) { t.Parallel(); testConcurrentApprovals(t, open) })
	t.Run("Transitions", func(t *testing.T) { t.Parallel(); testTransitions(t, open) })
	t.Run("Review", func(t *testing.T) { t.Parallel(); testReview(t, open) })
}

func simTemplate(t *testing.T, db *sqldb.DB) {
	t.Helper()
	tpl := &purser.Template{Meta: purser.Meta{ID: "small"}, Name: "Small", Driver: "sim", IsActive: true,
		Params:    []purser.Param{{Name: "size", Type: purser.ParamInteger, Default: float64(1)}},
		Footprint: purser.FootprintExprs{Cores: "size", Memory: "size * 2", CostPerHour: "0.1"}}
	if err := sqldb.NewTemplateService(db).CreateTemplate(purser.SystemContext(context.Background()), tpl); err != nil {
		t.Fatal(err)
	}
}

// testConcurrentApprovals: 200 reviewers approve 200 requests at once
// against a quota that fits 10; exactly 10 go through.
func testConcurrentApprovals(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	simTemplate(t, db)
	devCtx, dev := as(t, db, "dev", purser.RoleDev)
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	ten := 10.0
	if err := sqldb.NewQuotaService(db).CreateQuota(opsCtx, &purser.Quota{User: dev.ID, QuotaType: purser.QuotaPermanent, Limits: purser.Limits{Cores: &ten}}); err != nil {
		t.Fatal(err)
	}
	reqs := sqldb.NewRequestService(db)
	const n = 200
	db.MaxPending = n
	ids := make([]string, n)
	for i := range ids {
		r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		ids[i] = r.ID
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := reqs.ActOnRequest(opsCtx, id, purser.ActApprove, purser.Review{})
			mu.Lock()
			outcomes[purser.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if outcomes[""] != 10 || outcomes[purser.ECONFLICT] != n-10 {
		t.Fatalf("outcomes %v: want 10 approved and %d refused for quota", outcomes, n-10)
	}
	var approved int
	if err := db.Read.QueryRow(context.Background(), "SELECT COUNT(*) FROM requests WHERE status = ?", purser.StatusApproved).Scan(&approved); err != nil || approved != 10 {
		t.Fatalf("%d approved in the database (%v)", approved, err)
	}
	var jobs int
	if err := db.Read.QueryRow(context.Background(), "SELECT COUNT(*) FROM river_job WHERE kind = 'provision' AND max_attempts = 5").Scan(&jobs); err != nil || jobs != 10 {
		t.Fatalf("%d provision jobs with 5 attempts, want 10 (%v)", jobs, err)
	}
}

// testTransitions tries every action on a request in every status: what
// the state machine allows moves it, everything else is refused with 409
// naming the status, and changes nothing.
func testTransitions(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	simTemplate(t, db)
	devCtx, _ := as(t, db, "dev", purser.RoleDev)
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	reqs := sqldb.NewRequestService(db)
	for _, from := range purser.Statuses {
		for _, a := range []purser.RequestAction{purser.ActApprove, purser.ActReject, purser.ActRevoke, purser.ActRetry, purser.ActPurge} {
			t.Run(fmt.Sprintf("%s/%s", from, a), func(t *testing.T) {
				r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
				if err != nil {
					t.Fatal(err)
				}
				force(t, db, r.ID, from)
				ctx := opsCtx
				if a == purser.ActRevoke {
					ctx = devCtx
				}
				got, err := reqs.ActOnRequest(ctx, r.ID, a, purser.Review{})
				want, allowed := purser.Transitions[a][from]
				if allowed {
					if err != nil || got.Status != want {
						t.Fatalf("%s from %s: %v, %v; want %s", a, from, got, err, want)
					}
					return
				}
				wantCode(t, err, purser.ECONFLICT)
				if !strings.Contains(purser.ErrorMessage(err), string(from)) {
					t.Fatalf("refusal does not name the status: %q", purser.ErrorMessage(err))
				}
				after, _ := reqs.FindRequestByID(opsCtx, r.ID)
				if after.Status != from {
					t.Fatalf("a refused %s moved %s to %s", a, from, after.Status)
				}
			})
		}
	}
}

// force puts a request in a status directly, as a fixture.
func force(t *testing.T, db *sqldb.DB, id string, st purser.Status) {
	t.Helper()
	err := db.WithTx(context.Background(), func(tx sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), "UPDATE requests SET status = ? WHERE id = ?", st, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
