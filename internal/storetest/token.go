package storetest

import (
	"context"
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
		_, err = ts.FindTokens(devCtx, purser.TokenFilter{All: true})
		wantCode(t, err, purser.EFORBIDDEN)
		all, err := ts.FindTokens(adminCtx, purser.TokenFilter{All: true})
		if err != nil || len(all) < 2 || all[0].Name != "for ops" {
			t.Fatalf("every user's tokens, for an admin: %d %v", len(all), err)
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
