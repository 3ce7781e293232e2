package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testIdentities: an external identity creates its user on first sign-in,
// keeps it up to date (roles only when the provider manages them), links
// an existing user only by the same verified email, and an inactive user
// cannot sign in.
func testIdentities(t *testing.T, open Opener) {
	db := open(t)
	ss := sqldb.NewSessionService(db)
	adminCtx, _ := admin(t, db)
	bg := context.Background()
	id := purser.Identity{Issuer: "https://idp.example", Subject: "s-1", Username: "alice", Name: "Alice", Email: "alice@example.com",
		Roles: []string{purser.RoleDevOps}}

	sess, secret, err := ss.SignInWithIdentity(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := ss.AuthenticateSession(bg, secret)
	if err != nil || a.User.ID != sess.UserID || a.User.Username != "alice" || !slices.Equal(a.User.Roles, []string{purser.RoleDevOps}) {
		t.Fatalf("first sign-in: %+v %v", a, err)
	}
	// Again, with new groups and a new name: the same user, updated.
	id.Name, id.Roles, id.Username = "Alice B", []string{purser.RoleDev}, "renamed-at-idp"
	_, secret, err = ss.SignInWithIdentity(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ = ss.AuthenticateSession(bg, secret)
	if a.User.ID != sess.UserID || a.User.Name != "Alice B" || !slices.Equal(a.User.Roles, []string{purser.RoleDev}) || a.User.Username != "alice" {
		t.Fatalf("second sign-in: %+v", a.User)
	}
	// Roles not managed by the provider: they stay.
	id.Roles = nil
	_, secret, _ = ss.SignInWithIdentity(bg, id)
	if a, _, _ = ss.AuthenticateSession(bg, secret); !slices.Equal(a.User.Roles, []string{purser.RoleDev}) {
		t.Fatalf("roles without a mapping: %v", a.User.Roles)
	}
	// A role that does not exist.
	_, _, err = ss.SignInWithIdentity(bg, purser.Identity{Issuer: id.Issuer, Subject: "s-2", Username: "bob", Roles: []string{"nope"}})
	wantCode(t, err, purser.EINVALID)

	// An existing user of that username: linked only by its verified email.
	_, carol := as(t, db, "carol", purser.RoleDev)
	carolEmail := "carol@example.com"
	if _, err := sqldb.NewUserService(db).UpdateUser(adminCtx, carol.ID, purser.UserUpdate{Email: &carolEmail}, ""); err != nil {
		t.Fatal(err)
	}
	cid := purser.Identity{Issuer: id.Issuer, Subject: "s-3", Username: "carol", Email: "carol@example.com"}
	_, _, err = ss.SignInWithIdentity(bg, cid)
	wantCode(t, err, purser.ECONFLICT)
	cid.EmailVerified = true
	if sess, _, err := ss.SignInWithIdentity(bg, cid); err != nil || sess.UserID != carol.ID {
		t.Fatalf("link carol: %+v %v", sess, err)
	}
	// Another subject cannot take carol then.
	_, _, err = ss.SignInWithIdentity(bg, purser.Identity{Issuer: id.Issuer, Subject: "s-4", Username: "carol", Email: "carol@example.com", EmailVerified: true})
	wantCode(t, err, purser.ECONFLICT)

	// Deactivated: refused.
	if _, err := sqldb.NewUserService(db).DeactivateUser(adminCtx, carol.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = ss.SignInWithIdentity(bg, cid)
	wantCode(t, err, purser.EUNAUTHORIZED)
}

// testSignInLimiter: failures count per key in a window the store keeps;
// past the limit the key waits until the window ends, other keys do not.
func testSignInLimiter(t *testing.T, open Opener) {
	db := open(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	db.NowFunc = func() time.Time { return now }
	l := sqldb.NewSignInLimiter(db)
	bg := context.Background()
	for i := 0; i < purser.SignInFailureLimit; i++ {
		if w, err := l.SignInWait(bg, "addr:10.0.0.1", "user:bbb"); err != nil || w != 0 {
			t.Fatalf("before failure %d: %v %v", i, w, err)
		}
		if err := l.FailSignIn(bg, "addr:10.0.0.1", "user:bbb"); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(20 * time.Second)
	if w, err := l.SignInWait(bg, "addr:10.0.0.2", "user:bbb"); err != nil || w != 40*time.Second {
		t.Fatalf("the user from another address: %v %v", w, err)
	}
	if w, _ := l.SignInWait(bg, "addr:10.0.0.2", "user:jjj"); w != 0 {
		t.Fatalf("another user from another address waits %v", w)
	}
	now = now.Add(41 * time.Second)
	if w, _ := l.SignInWait(bg, "addr:10.0.0.1", "user:bbb"); w != 0 {
		t.Fatalf("after the window: %v", w)
	}
	// A new window starts at the next failure.
	if err := l.FailSignIn(bg, "user:bbb"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Read.QueryRow(bg, "SELECT failures FROM signin_failures WHERE limit_key = ?", "user:bbb").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the new window: %d %v", n, err)
	}
}
