package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testTokens(t *testing.T, open Opener) {
	db := open(t)
	ts := sqldb.NewTokenService(db)
	devCtx, dev := as(t, db, "dev", "dev")
	adminCtx, _ := admin(t, db)
	bg := context.Background()

	tok, secret, err := ts.CreateToken(devCtx, "", "laptop", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Authenticates", func(t *testing.T) {
		a, err := ts.Authenticate(bg, secret)
		if err != nil || a.User.ID != dev.ID || a.TokenID != tok.ID {
			t.Fatalf("actor %+v, err %v", a, err)
		}
		toks, _ := ts.FindTokens(devCtx, purser.TokenFilter{})
		if len(toks) != 1 || toks[0].LastUsedAt == nil || toks[0].Hint != secret[:8] {
			t.Fatalf("tokens after use = %+v", toks)
		}
	})
	t.Run("SecretIsNotStored", func(t *testing.T) {
		var n int
		if err := db.Read.QueryRow(bg, "SELECT COUNT(*) FROM tokens WHERE hash = ? OR name = ?", secret, secret).Scan(&n); err != nil || n != 0 {
			t.Fatalf("secret found in tokens table: %d, %v", n, err)
		}
	})
	t.Run("ErrUnauthorizedUnknown", func(t *testing.T) {
		_, err := ts.Authenticate(bg, secret+"x")
		wantCode(t, err, purser.EUNAUTHORIZED)
	})
	t.Run("ErrForbiddenOtherUsersTokens", func(t *testing.T) {
		_, ops := as(t, db, "ops", "devops")
		_, _, err := ts.CreateToken(devCtx, ops.ID, "steal", nil)
		wantCode(t, err, purser.EFORBIDDEN)
		_, err = ts.FindTokens(devCtx, purser.TokenFilter{UserID: ops.ID})
		wantCode(t, err, purser.EFORBIDDEN)
		if _, _, err := ts.CreateToken(adminCtx, ops.ID, "for ops", nil); err != nil {
			t.Fatalf("admin creating a token for another user: %v", err)
		}
	})
	t.Run("Revoked", func(t *testing.T) {
		_, s2, err := ts.CreateToken(devCtx, "", "ci", nil)
		if err != nil {
			t.Fatal(err)
		}
		toks, _ := ts.FindTokens(devCtx, purser.TokenFilter{})
		if err := ts.RevokeToken(devCtx, toks[0].ID); err != nil {
			t.Fatal(err)
		}
		_, err = ts.Authenticate(bg, s2)
		wantCode(t, err, purser.EUNAUTHORIZED)
		if _, err := ts.Authenticate(bg, secret); err != nil {
			t.Fatalf("revoking one token broke another: %v", err)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		exp := time.Now().Add(time.Hour)
		_, s3, err := ts.CreateToken(devCtx, "", "short", &exp)
		if err != nil {
			t.Fatal(err)
		}
		db.NowFunc = func() time.Time { return exp.Add(time.Second) }
		defer func() { db.NowFunc = time.Now }()
		_, err = ts.Authenticate(bg, s3)
		wantCode(t, err, purser.EUNAUTHORIZED)
	})
	t.Run("ErrInvalidPastExpiry", func(t *testing.T) {
		past := time.Now().Add(-time.Hour)
		_, _, err := ts.CreateToken(devCtx, "", "old", &past)
		wantCode(t, err, purser.EINVALID)
	})
	t.Run("DeactivatedUser", func(t *testing.T) {
		if _, err := sqldb.NewUserService(db).DeactivateUser(adminCtx, dev.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err := ts.Authenticate(bg, secret)
		wantCode(t, err, purser.EUNAUTHORIZED)
	})
}

func testQuery(t *testing.T, open Opener) {
	db := open(t)
	ctx, _ := admin(t, db)
	us := sqldb.NewUserService(db)
	for i := range 30 {
		roles := []string{"dev"}
		if i%3 == 0 {
			roles = []string{"devops"}
		}
		u := &purser.User{Username: fmt.Sprintf("u%02d", i), Name: fmt.Sprintf("User %02d", 29-i), Roles: roles, IsActive: i%5 != 0}
		if err := us.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, where, sort string
		page, max         int
		wantTotal         int
		wantFirst         string
	}{
		{"Equality", `{"username":"u07"}`, "", 1, 25, 1, "u07"},
		{"Bool", `{"is_active":false}`, "username", 1, 25, 6, "u00"},
		{"In", `{"username":{"$in":["u01","u02","nobody"]}}`, "-username", 1, 25, 2, "u02"},
		{"Range", `{"username":{"$gte":"u10","$lt":"u20"}}`, "username", 1, 25, 10, "u10"},
		{"Ne", `{"username":{"$ne":"root"}}`, "name", 1, 25, 30, "u29"},
		{"RoleMembership", `{"roles":"devops"}`, "username", 1, 25, 10, "u00"},
		{"SecondPage", `{"roles":"dev"}`, "-username", 2, 5, 20, "u22"},
		{"CreatedRange", `{"_created":{"$gt":"2000-01-01T00:00:00Z"}}`, "username", 1, 25, 31, "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := purser.ParseQuery(tt.where, tt.sort, tt.page, tt.max, purser.UserFields)
			if err != nil {
				t.Fatal(err)
			}
			got, total, err := us.FindUsers(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if total != tt.wantTotal || len(got) == 0 || got[0].Username != tt.wantFirst {
				first := ""
				if len(got) > 0 {
					first = got[0].Username
				}
				t.Fatalf("total %d first %q, want %d %q", total, first, tt.wantTotal, tt.wantFirst)
			}
		})
	}
}

type probeArgs struct{ Note string }

func (probeArgs) Kind() string { return "storetest_probe" }

func testJobs(t *testing.T, open Opener) {
	db := open(t)
	ctx, _ := admin(t, db)
	count := func() int {
		var n int
		if err := db.Read.QueryRow(context.Background(), "SELECT COUNT(*) FROM river_job WHERE kind = ?", "storetest_probe").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	users := func() int {
		_, n, err := sqldb.NewUserService(db).FindUsers(ctx, purser.Query{Page: 1, MaxResults: 1})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(tx sqldb.Tx, username string) error {
		now := time.Now().UnixMicro()
		if _, err := tx.Exec(ctx, "INSERT INTO users (id, username, created_at, updated_at) VALUES (?, ?, ?, ?)", purser.NewID(), username, now, now); err != nil {
			return err
		}
		return db.InsertJob(ctx, tx, probeArgs{Note: username}, nil)
	}
	t.Run("RolledBackLeavesNoJob", func(t *testing.T) {
		boom := errors.New("boom")
		err := db.WithTx(ctx, func(tx sqldb.Tx) error {
			if err := insert(tx, "ghost"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if n, u := count(), users(); n != 0 || u != 1 {
			t.Fatalf("after rollback: %d jobs, %d users; want 0 and 1", n, u)
		}
	})
	t.Run("CommittedKeepsBoth", func(t *testing.T) {
		if err := db.WithTx(ctx, func(tx sqldb.Tx) error { return insert(tx, "real") }); err != nil {
			t.Fatal(err)
		}
		if n, u := count(), users(); n != 1 || u != 2 {
			t.Fatalf("after commit: %d jobs, %d users; want 1 and 2", n, u)
		}
	})
}

func testBootstrap(t *testing.T, open Opener) {
	db := open(t)
	bg := context.Background()
	given := purser.TokenPrefix + "bootstrap-secret-0123456789"
	secret, err := sqldb.Bootstrap(bg, db, given)
	if err != nil || secret != given {
		t.Fatalf("bootstrap: %q, %v", secret, err)
	}
	a, err := sqldb.NewTokenService(db).Authenticate(bg, secret)
	if err != nil || !a.User.HasRole(purser.RoleAdmin) || a.User.Username != "admin" {
		t.Fatalf("bootstrap token: %+v, %v", a, err)
	}
	again, err := sqldb.Bootstrap(bg, db, "")
	if err != nil || again != "" {
		t.Fatalf("second bootstrap: %q, %v; want nothing", again, err)
	}
}
