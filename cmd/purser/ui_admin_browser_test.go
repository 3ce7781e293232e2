package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/oidc/oidctest"
)

// submit clicks sel, a form's button, and waits (a minute at most) for
// the page the form brings: the mark set on the current page is gone.
// Evaluating while the page navigates fails; that is waited through.
func (b *browser) submit(what, sel string) {
	b.t.Helper()
	b.do(what, chromedp.Evaluate[chromedp.Void]("window.beforeSubmit = true"), chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		stay, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.beforeSubmit === true || document.readyState !== "complete"`))
		if err == nil && !stay {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: %s: no new page after a minute (%v)", b.name, what, err)
		}
	}
}

// setEnv sets name, value pairs for the test.
func setEnv(t *testing.T, env ...string) {
	for i := 0; i+1 < len(env); i += 2 {
		t.Setenv(env[i], env[i+1])
	}
}

func TestUIAdminAuditOIDC(t *testing.T) { eachStore(t, testUIAdminAuditOIDC) }

// testUIAdminAuditOIDC drives real Chromium through OpenID Connect sign-in
// at an in-process provider (olive, in a group mapped to admin, is created
// on the way), the admin pages (users filtered, a user created after a
// refused one, a one-time sign-in link made and used, roles, every token)
// and the audit log with filters; a developer gets the 403 page. Every
// page is checked for console errors and with axe-core.
func testUIAdminAuditOIDC(t *testing.T, env ...string) {
	axe := axeSource(t)
	p := oidctest.New("purser-ui", "ui-client-secret")
	t.Cleanup(p.Close)
	p.AddUser(oidctest.User{Subject: "idp-olive", PreferredUsername: "olive", Name: "Olive (IdP admin)", Email: "olive@example.com",
		EmailVerified: true, Groups: []string{"platform-admins"}})
	setEnv(t, append(env, "PURSER_UI_OIDC_ISSUER", p.URL, "PURSER_UI_OIDC_CLIENT_ID", "purser-ui",
		"PURSER_UI_OIDC_CLIENT_SECRET", "ui-client-secret", "PURSER_UI_OIDC_NAME", "Test IdP",
		"PURSER_UI_OIDC_GROUP_ROLES", "platform-admins=admin,staff=dev")...)
	url, tokens := demoServer(t)
	shots, err := os.MkdirTemp("", "purser-ui-admin-shots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	alloc := newAllocator(t)
	olive := newBrowser(t, alloc, "olive", axe, shots, true)
	olive.do("open the sign-in page", chromedp.Navigate(url+"/signin"), chromedp.WaitVisible(chromedp.CSS("#oidc-signin")))
	if s := olive.text("#oidc-signin"); s != "Sign in with Test IdP" {
		t.Fatalf("the provider's button: %q", s)
	}
	olive.check("signin-oidc")
	olive.do("sign in at the provider", chromedp.Click(chromedp.CSS("#oidc-signin")), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SetValue(chromedp.CSS("#login"), "olive"), chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS(".tiles")))
	if who := olive.text(".who"); who != "olive" {
		t.Fatalf("signed in as %q", who)
	}
	olive.check("oidc-dashboard")

	olive.do("users", chromedp.Navigate(url+"/admin/users?role=dev"), chromedp.WaitVisible(chromedp.CSS("#users")))
	if list := olive.text("#users"); !strings.Contains(list, "bbb") || strings.Contains(list, "jjj") {
		t.Fatalf("developers: %q", list)
	}
	olive.check("admin-users")
	olive.do("a refused user", chromedp.SetValue(chromedp.CSS("#username"), "Not Valid"))
	olive.submit("send it", `#new-user button[type="submit"]`)
	olive.do("its message", chromedp.WaitVisible(chromedp.CSS("#username-error")))
	olive.check("admin-users-422", 422)
	olive.do("a new user", chromedp.SetValue(chromedp.CSS("#username"), "newbie"), chromedp.SetValue(chromedp.CSS("#name"), "New Bie"),
		chromedp.Click(chromedp.CSS("#new-role-dev")))
	olive.submit("create newbie", `#new-user button[type="submit"]`)
	olive.do("newbie's page", chromedp.Click(chromedp.CSS("#role-devops")))
	olive.submit("save roles", "#save-roles")
	if roles := olive.text("dl.facts"); !strings.Contains(roles, "New Bie") {
		t.Fatalf("newbie's page: %q", roles)
	}
	olive.submit("a sign-in link", "#make-link")
	olive.do("the link", chromedp.WaitVisible(chromedp.CSS("#signin-link")))
	link := olive.text("#signin-link")
	olive.check("admin-user")

	olive.do("roles", chromedp.Navigate(url+"/admin/roles"), chromedp.WaitVisible(chromedp.CSS("#roles")))
	olive.check("admin-roles")
	if _, err := client.New(url, tokens["bbb"]).CreateToken(context.Background(), client.TokenCreate{Name: "bbb's laptop"}); err != nil {
		t.Fatal(err)
	}
	olive.do("every token", chromedp.Navigate(url+"/admin/tokens"), chromedp.WaitVisible(chromedp.CSS("#all-tokens")))
	if list := olive.text("#all-tokens"); !strings.Contains(list, "bbb's laptop") {
		t.Fatalf("every token: %q", list)
	}
	olive.check("admin-tokens")
	olive.do("the audit log", chromedp.Navigate(url+"/audit"), chromedp.WaitVisible(chromedp.CSS("#events")))
	olive.check("audit")
	olive.do("filter", chromedp.SetValue(chromedp.CSS("#actor"), "olive"), chromedp.SetValue(chromedp.CSS("#kind"), "user."))
	olive.submit("filtered", `form[action="/audit"] button[type="submit"]`)
	events := olive.text("#events")
	if !strings.Contains(events, "user.create") || !strings.Contains(events, "user.update") || !strings.Contains(events, "user.signin_link") ||
		strings.Contains(events, "token.create") || strings.Contains(events, "system") {
		t.Fatalf("olive's user events: %q", events)
	}
	olive.check("audit-filtered")
	olive.do("phone width", chromedp.EmulateViewport(375, 812), chromedp.Navigate(url+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("#users")))
	olive.check("admin-users-phone")
	noScroll(olive, "users")
	olive.do("the audit log at phone width", chromedp.Navigate(url+"/audit"), chromedp.WaitVisible(chromedp.CSS("#events")))
	olive.check("audit-phone")
	noScroll(olive, "audit")
	olive.do("desktop width", chromedp.EmulateViewport(1280, 900))

	// The link signs newbie in once they choose a password.
	newbie := newBrowser(t, olive.ctx, "newbie", axe, shots, false)
	newbie.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	newbie.check("signin-link")
	newbie.do("choose a password", chromedp.SetValue(chromedp.CSS("#password"), uiPassword), chromedp.SetValue(chromedp.CSS("#confirm"), uiPassword),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".tiles")))
	if who := newbie.text(".who"); who != "newbie" {
		t.Fatalf("the link signed in %q", who)
	}
	newbie.do("the admin pages", chromedp.Navigate(url+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("main .error")))
	newbie.check("admin-403", 403)
}
