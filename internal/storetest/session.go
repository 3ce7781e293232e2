package storetest

import (
	"context"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testSessions: passwords are set by their owner or an admin, checked at
// sign-in with one answer for every mismatch, open sessions that
// authenticate, end at sign-out and at a password change; a one-time link
// signs in once.
func testSessions(t *testing.T, open Opener) {
	db := open(t)
	ss := sqldb.NewSessionService(db)
	devCtx, dev := as(t, db, "dev", "dev")
	opsCtx, ops := as(t, db, "ops", "devops")
	adminCtx, _ := admin(t, db)
	bg := context.Background()
	const pw = "correct horse battery"

	wantCode(t, ss.SetPassword(devCtx, dev.ID, "short"), purser.EINVALID)
	wantCode(t, ss.SetPassword(devCtx, ops.ID, pw), purser.EFORBIDDEN)
	if err := ss.SetPassword(devCtx, dev.ID, pw); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"dev", pw + "x"}, {"nobody", pw}, {"ops", pw}} {
		_, _, err := ss.SignIn(bg, c[0], c[1])
		wantCode(t, err, purser.EUNAUTHORIZED)
	}
	sess, secret, err := ss.SignIn(bg, "dev", pw)
	if err != nil || sess.UserID != dev.ID || sess.CSRFToken == "" {
		t.Fatalf("sign in: %+v %v", sess, err)
	}
	a, got, err := ss.AuthenticateSession(bg, secret)
	if err != nil || a.User.ID != dev.ID || got.CSRFToken != sess.CSRFToken || len(a.User.Roles) != 1 {
		t.Fatalf("authenticate: %+v %+v %v", a, got, err)
	}
	var n int
	if err := db.Read.QueryRow(bg, "SELECT COUNT(*) FROM sessions WHERE hash = ?", secret).Scan(&n); err != nil || n != 0 {
		t.Fatalf("session secret stored: %d %v", n, err)
	}
	if err := ss.SignOut(bg, secret); err != nil {
		t.Fatal(err)
	}
	_, _, err = ss.AuthenticateSession(bg, secret)
	wantCode(t, err, purser.EUNAUTHORIZED)

	// An admin's password change ends the user's sessions.
	_, secret, _ = ss.SignIn(bg, "dev", pw)
	if err := ss.SetPassword(adminCtx, dev.ID, pw+"2"); err != nil {
		t.Fatal(err)
	}
	_, _, err = ss.AuthenticateSession(bg, secret)
	wantCode(t, err, purser.EUNAUTHORIZED)

	// A one-time link: admins only, once.
	_, _, err = ss.CreateSignInLink(opsCtx, ops.ID)
	wantCode(t, err, purser.EFORBIDDEN)
	link, _, err := ss.CreateSignInLink(adminCtx, ops.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ss.SignInWithLink(bg, link, "short")
	wantCode(t, err, purser.EINVALID)
	if s, _, err := ss.SignInWithLink(bg, link, pw); err != nil || s.UserID != ops.ID {
		t.Fatalf("link: %+v %v", s, err)
	}
	_, _, err = ss.SignInWithLink(bg, link, pw)
	wantCode(t, err, purser.EUNAUTHORIZED)
	if _, _, err := ss.SignIn(bg, "ops", pw); err != nil {
		t.Fatalf("sign in with the password the link set: %v", err)
	}
}
