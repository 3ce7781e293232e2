package main

import (
	"context"
	"crypto/rand"
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
	"github.com/purserhq/purser/internal/driver/kubernetes"
	"github.com/purserhq/purser/internal/httpserver"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/stackfile"
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
	cluster, pool := fmt.Sprintf("ui-sim-%d", stamp%1_000_000), fmt.Sprintf("ui-pool-%d", stamp%1_000_000)
	if err := seedInfra(sys, db, cluster, pool, 20); err != nil {
		return nil, err
	}
	web := &ui.Server{Sessions: sessions, Tokens: sqldb.NewTokenService(db), Templates: sqldb.NewTemplateService(db),
		Requests: sqldb.NewRequestService(db), Quotas: sqldb.NewQuotaService(db),
		Notifications: sqldb.NewNotificationService(db), Events: sqldb.NewEventService(db), Names: sqldb.NewNameService(db),
		Clusters: &kubernetes.Clusters{ClusterStore: sqldb.NewClusterService(db), Probe: kubernetes.Probe},
		Stacks:   sqldb.NewStackService(db), StackList: sqldb.NewStackService(db),
		Pools: sqldb.NewPoolService(db), Hosts: sqldb.NewHostService(db)}
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
		{purser.RoleDevOps, "/stacks"}, {purser.RoleDevOps, "/stacks/" + cluster}, {purser.RoleDevOps, "/stacks/" + cluster + "/edit"},
		{purser.RoleDevOps, "/stacks/" + cluster + "/revisions/1"}, {purser.RoleDevOps, "/stacks/" + cluster + "/services/user-service"},
		{purser.RoleDevOps, "/clusters"}, {purser.RoleDevOps, "/clusters/" + cluster},
		{purser.RoleDevOps, "/pools"}, {purser.RoleDevOps, "/pools/" + pool},
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

// seedInfra registers a sim cluster with the desired-state seed's stack,
// running, and n hosts of which a pool takes half.
func seedInfra(sys context.Context, db *sqldb.DB, cluster, pool string, n int) error {
	if db.Sealer == nil { // credentials are sealed, as the server seals them
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		s, err := sqldb.NewSealer(key)
		if err != nil {
			return err
		}
		db.Sealer = s
	}
	c := &purser.Cluster{Name: cluster, Kind: purser.ClusterSim}
	c.RecordCheck(purser.SimulatedVersion, nil, time.Now().UTC().Truncate(time.Microsecond))
	if err := sqldb.NewClusterService(db).CreateCluster(sys, c); err != nil {
		return err
	}
	sf, err := stackfile.Parse(stackfile.SeedExample)
	if err != nil {
		return err
	}
	stacks := sqldb.NewStackService(db)
	if _, err := stacks.ProposeRevision(sys, cluster, purser.StackProposal{Source: string(stackfile.SeedExample), Stackfile: sf}); err != nil {
		return err
	}
	for _, sv := range sf.Normalize().Services {
		if err := stacks.SetActualService(sys, cluster, sv.Name, &purser.ActualService{Spec: sv, RunningCount: sv.Count()}); err != nil {
			return err
		}
	}
	_, secret, err := sqldb.NewJoinTokenService(db).CreateJoinToken(sys, "bench", true, time.Hour)
	if err != nil {
		return err
	}
	for i := range n {
		h := purser.Host{Name: fmt.Sprintf("%s-h%d", pool, i), Address: "10.0.0.1", Cores: 8, Memory: 32 << 30, Labels: map[string]string{"pool": pool}}
		if _, _, err := sqldb.NewHostService(db).RegisterHost(context.Background(), secret, h); err != nil {
			return err
		}
	}
	_, err = sqldb.NewPoolService(db).CreatePool(sys, &purser.Pool{Name: pool, Cores: 8 * n / 2, Spares: 1, Selector: map[string]string{"pool": pool}}, false)
	return err
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
