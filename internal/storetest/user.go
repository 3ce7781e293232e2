package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testUsers(t *testing.T, open Opener) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		ctx, _ := admin(t, db)
		us := sqldb.NewUserService(db)
		u := &purser.User{Username: "bbb", Name: "BBB", Email: "bbb@xyz.com", Roles: []string{"dev", "devops"}, IsActive: true}
		if err := us.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := us.FindUserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u, got); diff != "" {
			t.Fatalf("read back differs (-created +read):\n%s", diff)
		}
	})
	t.Run("ErrConflictDuplicateUsername", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		ctx, _ := admin(t, db)
		us := sqldb.NewUserService(db)
		err := us.CreateUser(ctx, &purser.User{Username: "root", IsActive: true})
		wantCode(t, err, purser.ECONFLICT)
	})
	t.Run("ErrInvalidUnknownRole", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		ctx, _ := admin(t, db)
		us := sqldb.NewUserService(db)
		err := us.CreateUser(ctx, &purser.User{Username: "x", Roles: []string{"dev", "wizard"}, IsActive: true})
		wantCode(t, err, purser.EINVALID)
		if fe := err.(*purser.Error).Fields; len(fe) != 1 || fe[0].Field != "roles[1]" {
			t.Fatalf("fields = %+v, want roles[1]", fe)
		}
		_, n, _ := us.FindUsers(ctx, purser.Query{Page: 1, MaxResults: 10})
		if n.Total != 1 {
			t.Fatalf("%d users after a refused create, want 1", n.Total)
		}
	})
	t.Run("UpdateWithETag", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		ctx, _ := admin(t, db)
		us := sqldb.NewUserService(db)
		_, u := as(t, db, "ccc", "dev")
		name := "Carol"
		got, err := us.UpdateUser(ctx, u.ID, purser.UserUpdate{Name: &name}, u.ETag())
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Carol" || got.ETag() == u.ETag() || got.Version != u.Version+1 {
			t.Fatalf("after update: name %q etag %q (was %q)", got.Name, got.ETag(), u.ETag())
		}
		name = "Stale"
		_, err = us.UpdateUser(ctx, u.ID, purser.UserUpdate{Name: &name}, u.ETag())
		wantCode(t, err, purser.EPRECONDITION)
		again, _ := us.FindUserByID(ctx, u.ID)
		if again.Name != "Carol" {
			t.Fatalf("stale update changed name to %q", again.Name)
		}
	})
	t.Run("Authorization", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		us := sqldb.NewUserService(db)
		devCtx, dev := as(t, db, "dev1", "dev")
		_, other := as(t, db, "dev2", "dev")
		opsCtx, _ := as(t, db, "ops", "devops")
		if _, err := us.FindUserByID(devCtx, dev.ID); err != nil {
			t.Fatalf("dev reading self: %v", err)
		}
		_, err := us.FindUserByID(devCtx, other.ID)
		wantCode(t, err, purser.EFORBIDDEN)
		_, _, err = us.FindUsers(devCtx, purser.Query{Page: 1, MaxResults: 10})
		wantCode(t, err, purser.EFORBIDDEN)
		if _, _, err := us.FindUsers(opsCtx, purser.Query{Page: 1, MaxResults: 10}); err != nil {
			t.Fatalf("devops listing: %v", err)
		}
		roles := []string{"admin"}
		_, err = us.UpdateUser(devCtx, dev.ID, purser.UserUpdate{Roles: &roles}, "")
		wantCode(t, err, purser.EFORBIDDEN)
		_, err = us.DeactivateUser(opsCtx, other.ID, "")
		wantCode(t, err, purser.EFORBIDDEN)
	})
	t.Run("Deactivate", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		ctx, _ := admin(t, db)
		_, u := as(t, db, "ddd", "dev")
		got, err := sqldb.NewUserService(db).DeactivateUser(ctx, u.ID, "")
		if err != nil || got.IsActive {
			t.Fatalf("deactivate: %v, active %v", err, got != nil && got.IsActive)
		}
	})
}

func testRoles(t *testing.T, open Opener) {
	db := open(t)
	ctx, _ := admin(t, db)
	rs := sqldb.NewRoleService(db)
	roles, n, err := rs.FindRoles(ctx, purser.Query{Page: 1, MaxResults: 10})
	if err != nil || n.Total != 3 {
		t.Fatalf("built-in roles: %d, %v", n.Total, err)
	}
	if got := []string{roles[0].Role, roles[1].Role, roles[2].Role}; !cmp.Equal(got, []string{"admin", "dev", "devops"}) {
		t.Fatalf("roles = %v", got)
	}
	t.Run("BuiltInAgainIsIdempotent", func(t *testing.T) {
		created, err := rs.CreateRole(ctx, &purser.Role{Role: "admin", Description: "Admin"})
		if err != nil || created {
			t.Fatalf("created %v, err %v", created, err)
		}
	})
	t.Run("Custom", func(t *testing.T) {
		created, err := rs.CreateRole(ctx, &purser.Role{Role: "qa", Description: "Quality"})
		if err != nil || !created {
			t.Fatalf("created %v, err %v", created, err)
		}
		_, err = rs.CreateRole(ctx, &purser.Role{Role: "qa"})
		wantCode(t, err, purser.ECONFLICT)
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		devCtx, _ := as(t, db, "dev", "dev")
		_, err := rs.CreateRole(devCtx, &purser.Role{Role: "sneaky"})
		wantCode(t, err, purser.EFORBIDDEN)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := rs.FindRoleByName(ctx, "nope")
		wantCode(t, err, purser.ENOTFOUND)
		_, err = rs.UpdateRole(ctx, "nope", purser.RoleUpdate{}, "")
		wantCode(t, err, purser.ENOTFOUND)
		wantCode(t, rs.DeleteRole(ctx, "nope"), purser.ENOTFOUND)
	})
	t.Run("UpdateThenDelete", func(t *testing.T) {
		if _, err := rs.CreateRole(ctx, &purser.Role{Role: "temp"}); err != nil {
			t.Fatal(err)
		}
		off, desc := false, "short-lived"
		r, err := rs.UpdateRole(ctx, "temp", purser.RoleUpdate{Description: &desc, IsActive: &off}, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := rs.FindRoleByName(ctx, "temp")
		if err != nil || got.Description != desc || got.IsActive || got.ETag() != r.ETag() {
			t.Fatalf("read back %+v (ETag %s, answered %s), %v", got, got.ETag(), r.ETag(), err)
		}
		_, err = rs.UpdateRole(ctx, "temp", purser.RoleUpdate{Description: &desc}, `"stale"`)
		wantCode(t, err, purser.EPRECONDITION)
		if err := rs.DeleteRole(ctx, "temp"); err != nil {
			t.Fatal(err)
		}
		_, err = rs.FindRoleByName(ctx, "temp")
		wantCode(t, err, purser.ENOTFOUND)
	})
}
