package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testTemplates(t *testing.T, open Opener) {
	t.Run("ExecNeedsTemplatesExec", func(t *testing.T) { t.Parallel(); testExecTemplates(t, open) })
	t.Run("RequestsKeepTheirRevision", func(t *testing.T) { t.Parallel(); testTemplateRevisions(t, open) })
	t.Run("SecretParametersSealed", func(t *testing.T) { t.Parallel(); testSecretParameters(t, open) })
	t.Run("DeletedWithRevisions", func(t *testing.T) { t.Parallel(); testTemplateDelete(t, open) })
}

// testTemplateDelete: a template never used goes with its revisions, so
// that one of the same id starts again at revision 1.
func testTemplateDelete(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	ctx, _ := admin(t, db)
	tpls := sqldb.NewTemplateService(db)
	mk := func() *purser.Template {
		return &purser.Template{Meta: purser.Meta{ID: "t1"}, Name: "T1", Driver: "sim", IsActive: true}
	}
	if err := tpls.CreateTemplate(ctx, mk()); err != nil {
		t.Fatal(err)
	}
	desc := "second"
	if _, err := tpls.UpdateTemplate(ctx, "t1", purser.TemplateUpdate{Description: &desc}, ""); err != nil {
		t.Fatal(err)
	}
	if err := tpls.DeleteTemplate(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	_, err := tpls.FindTemplateRevision(ctx, "t1", 2)
	wantCode(t, err, purser.ENOTFOUND)
	wantCode(t, tpls.DeleteTemplate(ctx, "t1"), purser.ENOTFOUND)
	again := mk()
	if err := tpls.CreateTemplate(ctx, again); err != nil || again.Revision != 1 {
		t.Fatalf("the same id again: revision %d, %v", again.Revision, err)
	}
	if revs, err := tpls.FindTemplateRevisions(ctx, "t1"); err != nil || len(revs) != 1 {
		t.Fatalf("revisions after creating it again: %d, %v", len(revs), err)
	}
}

// testExecTemplates: exec templates are templates:exec, admins' by default
// and configurable through ExecTemplateRoles; changing one is too.
func testExecTemplates(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	db.Drivers["exec"] = []string{"OTHER"}
	adminCtx, _ := admin(t, db)
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	tpls := sqldb.NewTemplateService(db)
	exec := func(id string) *purser.Template {
		return &purser.Template{Meta: purser.Meta{ID: id}, Name: id, Driver: purser.DriverExec, IsActive: true}
	}
	wantCode(t, tpls.CreateTemplate(opsCtx, exec("by-ops")), purser.EFORBIDDEN)
	if err := tpls.CreateTemplate(adminCtx, exec("by-admin")); err != nil {
		t.Fatal(err)
	}
	desc := "changed"
	_, err := tpls.UpdateTemplate(opsCtx, "by-admin", purser.TemplateUpdate{Description: &desc}, "")
	wantCode(t, err, purser.EFORBIDDEN)
	db.ExecTemplateRoles = []string{purser.RoleDevOps}
	if err := tpls.CreateTemplate(opsCtx, exec("by-ops")); err != nil {
		t.Fatalf("devops granted templates:exec: %v", err)
	}
	wantCode(t, tpls.CreateTemplate(adminCtx, exec("by-admin-2")), purser.EFORBIDDEN)
}

// testTemplateRevisions: every change makes a new immutable revision; a
// request pins the one it was made with, and its review, environment
// (driver, config, params) and extensions follow that revision, not the
// template's later edits. The audit keeps the whole before and after.
func testTemplateRevisions(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	ctx, _ := admin(t, db)
	devCtx, _ := as(t, db, "dev", purser.RoleDev)
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	tpls, reqs := sqldb.NewTemplateService(db), sqldb.NewRequestService(db)
	tpl := &purser.Template{Meta: purser.Meta{ID: "web"}, Name: "Web", Driver: "sim", IsActive: true,
		Params:    []purser.Param{{Name: "size", Type: purser.ParamInteger, Default: float64(1)}},
		Footprint: purser.FootprintExprs{Cores: "size"}, Config: map[string]any{"delay": "1s"}}
	if err := tpls.CreateTemplate(ctx, tpl); err != nil || tpl.Revision != 1 {
		t.Fatalf("create: revision %d, %v", tpl.Revision, err)
	}
	r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "web"})
	if err != nil || r.TemplateRevision != 1 {
		t.Fatalf("request: revision %d, %v", r.TemplateRevision, err)
	}
	cfg := map[string]any{"delay": "1h", "failure_rate": 1.0}
	params := []purser.Param{{Name: "size", Type: purser.ParamInteger, Default: float64(1)}, {Name: "extra", Type: purser.ParamString, Default: "x"}}
	two := purser.ApprovalPolicy{Mode: purser.ApprovalManual, Approvers: 2}
	upd, err := tpls.UpdateTemplate(ctx, "web", purser.TemplateUpdate{Config: &cfg, Params: &params, Approval: &two}, "")
	if err != nil || upd.Revision != 2 {
		t.Fatalf("update: revision %v, %v", upd, err)
	}
	if got, err := tpls.FindTemplateByID(devCtx, "web"); err != nil || got.Revision != 2 {
		t.Fatalf("current template: %v %v", got, err)
	}
	old, err := tpls.FindTemplateRevision(devCtx, "web", 1)
	if err != nil || old.Config["delay"] != "1s" || len(old.Params) != 1 || old.Revision != 1 {
		t.Fatalf("revision 1: %+v %v", old, err)
	}
	_, err = tpls.FindTemplateRevision(devCtx, "web", 3)
	wantCode(t, err, purser.ENOTFOUND)
	if all, err := tpls.FindTemplateRevisions(devCtx, "web"); err != nil || len(all) != 2 || all[1].Config["delay"] != "1h" {
		t.Fatalf("revisions: %v %v", all, err)
	}

	// The request made under revision 1 is approved by one reviewer (its
	// revision's policy) and provisioned with revision 1's config.
	got, err := reqs.ActOnRequest(opsCtx, r.ID, purser.ActApprove, purser.Review{})
	if err != nil || got.Status != purser.StatusApproved {
		t.Fatalf("approve under revision 1's policy: %v %v", got, err)
	}
	env, et, err := reqs.Environment(context.Background(), got)
	if err != nil || env.Config["delay"] != "1s" || et.Revision != 1 || len(et.Params) != 1 {
		t.Fatalf("environment: %+v %+v %v", env, et, err)
	}
	// A request made now pins revision 2.
	r2, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "web"})
	if err != nil || r2.TemplateRevision != 2 || r2.ResourceParameters["extra"] != "x" {
		t.Fatalf("request under revision 2: %+v %v", r2, err)
	}

	events, _, err := sqldb.NewEventService(db).FindEvents(ctx, purser.Query{Where: []purser.Cond{{Field: "action", Op: "$eq", Value: "template.update"}}, Page: 1, MaxResults: 10})
	if err != nil || len(events) != 1 {
		t.Fatalf("update events: %v %v", events, err)
	}
	b, _ := json.Marshal(events[0])
	if events[0].Before["revision"] != float64(1) || events[0].After["revision"] != float64(2) ||
		events[0].Before["spec"] == nil || events[0].After["driver"] != "sim" {
		t.Fatalf("the audit does not keep the whole template: %s", b)
	}
}
