package oidc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/oidc"
	"github.com/purserhq/purser/internal/oidc/oidctest"
)

// code drives the provider's form for login and returns the code the
// callback would receive.
func code(t *testing.T, authURL, login string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u, _ := url.Parse(authURL)
	resp, err := c.PostForm(u.Scheme+"://"+u.Host+"/authorize", url.Values{"query": {u.RawQuery}, "login": {login}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code: %s", resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// TestExchange: a code is traded for a verified identity whose groups
// map to roles; a wrong PKCE verifier, a wrong nonce and a reused code are
// refused (ErrRefused).
func TestExchange(t *testing.T) {
	p := oidctest.New("purser", "s3cret")
	defer p.Close()
	p.AddUser(oidctest.User{Subject: "sub-1", PreferredUsername: "Bob.Smith", Email: "bob@example.com", EmailVerified: true, Groups: []string{"ops"}})
	pr := oidc.New(oidc.Config{Issuer: p.URL, ClientID: "purser", ClientSecret: "s3cret", RedirectURL: "http://127.0.0.1/cb",
		GroupRoles: purser.GroupRoles{"ops": purser.RoleDevOps}, DefaultRoles: []string{purser.RoleDev}})
	ctx := context.Background()

	f := oidc.NewFlow()
	au, err := pr.AuthURL(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	c := code(t, au, "Bob.Smith")
	id, err := pr.Exchange(ctx, f, c)
	if err != nil {
		t.Fatal(err)
	}
	if id.Issuer != p.URL || id.Subject != "sub-1" || id.Username != "bob.smith" || !id.EmailVerified || len(id.Roles) != 1 || id.Roles[0] != purser.RoleDevOps {
		t.Fatalf("identity: %+v", id)
	}
	if _, err := pr.Exchange(ctx, f, c); !errors.Is(err, oidc.ErrRefused) {
		t.Fatalf("the code again: %v", err)
	}

	for name, spoil := range map[string]func(*oidc.Flow){
		"verifier": func(f *oidc.Flow) { f.Verifier = oidc.NewFlow().Verifier },
		"nonce":    func(f *oidc.Flow) { f.Nonce = "other" },
	} {
		f := oidc.NewFlow()
		au, _ := pr.AuthURL(ctx, f)
		c := code(t, au, "Bob.Smith")
		spoil(&f)
		if _, err := pr.Exchange(ctx, f, c); !errors.Is(err, oidc.ErrRefused) {
			t.Fatalf("a wrong %s: %v", name, err)
		}
	}
}
