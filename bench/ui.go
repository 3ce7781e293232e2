package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/ui"
)

// uiPage is one web page's time to answer with the store full: the median
// and the slowest of samples GETs by a signed-in browser, on loopback.
type uiPage struct {
	who, path string
	p50, max  time.Duration
	bytes     int
}

// runUI seeds n provision requests of one developer's (a quarter waiting
// for review) and times each page of the web UI the developer and a DevOps
// user open, signed in with a password as a browser is; the target is
// 100 ms of server time per page (issue 15).
func runUI(ctx context.Context, db *sqldb.DB, n, samples int) ([]uiPage, error) {
	sys := purser.SystemContext(ctx)
	sessions := sqldb.NewSessionService(db)
	stamp := time.Now().UnixNano()
	users := map[string]*purser.User{}
	for _, role := range []string{purser.RoleDev, purser.RoleDevOps} {
		u := &purser.User{Username: fmt.Sprintf("ui-%s-%d", role, stamp), Roles: []string{role}, IsActive: true}
		if err := sqldb.NewUserService(db).CreateUser(sys, u); err != nil {
			return nil, err
		}
		if err := sessions.SetPassword(sys, u.ID, "bench-password-1234"); err != nil {
			return nil, err
		}
		users[role] = u
	}
	if err := seedRequestsOf(ctx, db, users[purser.RoleDev].ID, n); err != nil {
		return nil, err
	}
	web := &ui.Server{Sessions: sessions, Tokens: sqldb.NewTokenService(db), Templates: sqldb.NewTemplateService(db),
		Requests: sqldb.NewRequestService(db), Quotas: sqldb.NewQuotaService(db),
		Notifications: sqldb.NewNotificationService(db), Events: sqldb.NewEventService(db), Names: sqldb.NewNameService(db)}
	// as the API hands / to browsers
	home := mountFunc(func(mux *http.ServeMux) { mux.Handle("GET /{$}", web.Dashboard()) })
	srv := httptest.NewServer((&httpserver.Server{Tokens: sqldb.NewTokenService(db)}).Handler(web, home))
	defer srv.Close()
	defer web.Shutdown()

	var out []uiPage
	for _, p := range []struct{ role, path string }{
		{purser.RoleDev, "/dashboard"}, {purser.RoleDev, "/requests"}, {purser.RoleDev, "/catalog"},
		{purser.RoleDev, "/quotas"}, {purser.RoleDev, "/inbox"}, {purser.RoleDev, "/tokens"},
		{purser.RoleDevOps, "/dashboard"}, {purser.RoleDevOps, "/reviews"}, {purser.RoleDevOps, "/quotas"},
	} {
		c, err := uiSignIn(srv.URL, users[p.role].Username)
		if err != nil {
			return nil, err
		}
		page := uiPage{who: p.role, path: p.path}
		var times []time.Duration
		for range samples {
			t := time.Now()
			size, err := uiGet(c, srv.URL+p.path)
			if err != nil {
				return nil, err
			}
			times = append(times, time.Since(t))
			page.bytes = size
		}
		slices.Sort(times)
		page.p50, page.max = times[len(times)/2], times[len(times)-1]
		out = append(out, page)
	}
	return out, nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// uiSignIn signs a cookie-keeping client in through the sign-in form.
func uiSignIn(base, username string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/signin")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("sign-in page has no CSRF token")
	}
	resp, err = c.PostForm(base+"/signin", url.Values{"username": {username}, "password": {"bench-password-1234"}, "csrf": {string(m[1])}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sign in as %s: %s", username, resp.Status)
	}
	return c, nil
}

func uiGet(c *http.Client, u string) (int, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return len(b), err
}

// mountFunc registers routes on the server's mux.
type mountFunc func(mux *http.ServeMux)

// Register calls f.
func (f mountFunc) Register(mux *http.ServeMux) { f(mux) }
