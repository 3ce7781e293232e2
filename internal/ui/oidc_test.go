package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/oidc"
	"github.com/purserhq/purser/internal/oidc/oidctest"
	"github.com/purserhq/purser/internal/sqldb"
)

// oidcBrowser is a cookie-keeping client that follows redirects through
// the provider and back.
func (e *env) oidcBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar}}
}

// signInAt starts at /signin/oidc, fills the provider's form as login and
// returns where it ended and the page.
func (b *browser) signInAt(login string) (int, string, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + "/signin/oidc?next=/requests")
	if err != nil {
		b.e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/authorize" {
		b.e.t.Fatalf("not at the provider's form: %d %s", resp.StatusCode, resp.Request.URL)
	}
	provider := resp.Request.URL
	resp, err = b.c.PostForm(provider.Scheme+"://"+provider.Host+"/authorize", url.Values{"query": {provider.RawQuery}, "login": {login}})
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.Path, string(data)
}

// TestOIDCSignIn: through a real (test) provider, a new person signs in,
// is created with the roles their groups map to, and lands where they
// were going; the sign-in page offers the provider; a person the provider
// refuses, a forged state and a deactivated user are turned away.
func TestOIDCSignIn(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := oidctest.New("purser", "client-secret")
		t.Cleanup(p.Close)
		p.AddUser(oidctest.User{Subject: "u-1", PreferredUsername: "Alice", Name: "Alice A", Email: "alice@example.com", EmailVerified: true,
			Groups: []string{"platform", "staff"}})
		e.web.OIDC = oidc.New(oidc.Config{Name: "Test IdP", Issuer: p.URL, ClientID: "purser", ClientSecret: "client-secret",
			RedirectURL: e.srv.URL + "/signin/oidc/callback", GroupRoles: purser.GroupRoles{"platform": purser.RoleDevOps}})

		b := e.oidcBrowser()
		if body := b.get("/signin", http.StatusOK); !strings.Contains(body, "Sign in with Test IdP") {
			t.Fatalf("the sign-in page: %s", body)
		}
		status, path, body := b.signInAt("Alice")
		if status != http.StatusOK || path != "/requests" || !strings.Contains(body, `<span class="who">alice</span>`) {
			t.Fatalf("after the provider: %d %s %s", status, path, body)
		}
		us, _, err := sqldb.NewUserService(db).FindUsers(purser.SystemContext(context.Background()), purser.Query{Where: []purser.Cond{{Field: "username", Op: "$eq", Value: "alice"}}, Page: 1, MaxResults: 1})
		if err != nil || len(us) != 1 || strings.Join(us[0].Roles, ",") != purser.RoleDevOps || us[0].Name != "Alice A" {
			t.Fatalf("the user made: %+v %v", us, err)
		}

		if status, _, body := e.oidcBrowser().signInAt("nobody"); status != http.StatusUnauthorized || !strings.Contains(body, "refused the sign-in") {
			t.Fatalf("a person the provider refuses: %d %s", status, body)
		}
		// A callback that did not start here (no state cookie, or another state).
		forged := e.oidcBrowser()
		if body := forged.get("/signin/oidc/callback?code=x&state=y", http.StatusBadRequest); !strings.Contains(body, "did not start here") {
			t.Fatalf("a forged callback: %s", body)
		}

		// Deactivated: the provider signs them in, Purser does not.
		sys := purser.SystemContext(context.Background())
		if _, err := sqldb.NewUserService(db).DeactivateUser(sys, us[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		if status, _, body := e.oidcBrowser().signInAt("Alice"); status != http.StatusUnauthorized || !strings.Contains(body, "deactivated") {
			t.Fatalf("a deactivated user: %d %s", status, body)
		}
	})
}
