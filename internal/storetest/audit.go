package storetest

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"unicode"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testAuditNames: audit events keep documents under the API's snake_case
// names (cores, cost_per_hour, limits.monthly_cost), never Go's field
// names, and an extension's events carry the expiry it moved.
func testAuditNames(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	simTemplate(t, db)
	ctx := purser.SystemContext(context.Background())
	devCtx, dev := as(t, db, "dev", purser.RoleDev)
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	ten, hundred := 10.0, 100.0
	if err := sqldb.NewQuotaService(db).CreateQuota(opsCtx, &purser.Quota{User: dev.ID, QuotaType: purser.QuotaPermanent,
		Limits: purser.Limits{Cores: &ten, MonthlyCost: &hundred}}); err != nil {
		t.Fatal(err)
	}
	reqs := sqldb.NewRequestService(db)
	r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.ActOnRequest(opsCtx, r.ID, purser.ActApprove, purser.Review{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reqs.StartProvision(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.FinishProvision(ctx, purser.ProvisionResult{RequestID: r.ID, Final: true}); err != nil {
		t.Fatal(err)
	}
	exts := sqldb.NewExtensionService(db)
	e := &purser.Extension{ProvisionRequest: r.ID, ExtendBy: 6, Reason: "demo"}
	if err := exts.CreateExtension(devCtx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := exts.ReviewExtension(opsCtx, e.ID, true, purser.Review{}); err != nil {
		t.Fatal(err)
	}
	// The estimate follows the extension: 6 more hours at 0.1 an hour.
	got, err := reqs.FindRequestByID(devCtx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.EstimatedCost-(r.EstimatedCost+0.6)) > 1e-9 {
		t.Fatalf("estimated cost after the extension: %g, want %g", got.EstimatedCost, r.EstimatedCost+0.6)
	}

	events, _, err := sqldb.NewEventService(db).FindEvents(ctx, purser.Query{Page: 1, MaxResults: purser.MaxMaxResults})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range events {
		seen[ev.Action] = true
		for _, doc := range []map[string]any{ev.Before, ev.After} {
			if k := goName(doc); k != "" {
				b, _ := json.Marshal(doc)
				t.Errorf("%s keeps the Go name %q: %s", ev.Action, k, b)
			}
		}
		switch ev.Action {
		case "request.create":
			if fp, _ := ev.After["footprint"].(map[string]any); fp["cost_per_hour"] != 0.1 || fp["cores"] != 1.0 {
				t.Errorf("request.create footprint %v", ev.After["footprint"])
			}
		case "quota.create":
			if l, _ := ev.After["limits"].(map[string]any); l["monthly_cost"] != 100.0 || len(l) != 2 {
				t.Errorf("quota.create limits %v", ev.After["limits"])
			}
		case "extension.approve":
			if ev.Before["expires_by"] == nil || ev.After["expires_by"] == ev.Before["expires_by"] || ev.After["status"] != "APPROVED" {
				t.Errorf("extension.approve does not carry the expiry it moved: %v -> %v", ev.Before, ev.After)
			}
		}
	}
	for _, a := range []string{"template.create", "quota.create", "request.create", "request.approve", "extension.approve", "request.extend"} {
		if !seen[a] {
			t.Errorf("no %s event among %d", a, len(events))
		}
	}
}

// goName returns a key of v, at any depth, that starts with a capital
// letter (a Go field name), or "".
func goName(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k != "" && unicode.IsUpper(rune(k[0])) {
				return k
			}
			if k == "config" {
				continue // a template's config is the operator's own document
			}
			if n := goName(x); n != "" {
				return n
			}
		}
	case []any:
		for _, x := range v {
			if n := goName(x); n != "" {
				return n
			}
		}
	}
	return ""
}
