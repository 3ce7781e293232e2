package storetest

import (
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testTemplates(t *testing.T, open Opener) {
	t.Run("ExecNeedsTemplatesExec", func(t *testing.T) { testExecTemplates(t, open) })
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
