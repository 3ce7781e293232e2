package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// clock is a store's clock that a test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// poolFixture is a store with a join token and agents registered.
type poolFixture struct {
	t      *testing.T
	db     *sqldb.DB
	clock  *clock
	hosts  *sqldb.HostService
	pools  *sqldb.PoolService
	tokens *sqldb.JoinTokenService
	admin  context.Context
	agents map[string]context.Context // by host: the agent's actor
	creds  map[string]string          // by host: the agent's credential
}

func newPoolFixture(t *testing.T, open Opener) *poolFixture {
	db := open(t)
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	db.NowFunc = c.now
	adminCtx, _ := admin(t, db)
	return &poolFixture{t: t, db: db, clock: c, hosts: sqldb.NewHostService(db), pools: sqldb.NewPoolService(db),
		tokens: sqldb.NewJoinTokenService(db), admin: adminCtx, agents: map[string]context.Context{}, creds: map[string]string{}}
}

// register registers name:cores:GiB hosts with the join secret, as agents.
func (f *poolFixture) register(secret string, specs ...string) {
	f.t.Helper()
	for _, s := range specs {
		parts := strings.Split(s, ":")
		h := purser.Host{Name: parts[0], Address: "10.0.0.1", Cores: atoi(parts[1]), Memory: int64(atoi(parts[2])) * purser.GiB}
		got, cred, err := f.hosts.RegisterHost(context.Background(), secret, h)
		if err != nil {
			f.t.Fatalf("register %s: %v", s, err)
		}
		a, err := sqldb.NewTokenService(f.db).Authenticate(context.Background(), cred)
		if err != nil || a.Host != got.Name || a.User != nil {
			f.t.Fatalf("agent credential of %s: %+v %v", s, a, err)
		}
		f.agents[got.Name] = purser.NewContextWithActor(context.Background(), a)
		f.creds[got.Name] = cred
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func (f *poolFixture) host(name string) *purser.Host {
	f.t.Helper()
	h, err := f.hosts.FindHostByName(f.admin, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func testPools(t *testing.T, open Opener) {
	f := newPoolFixture(t, open)
	devCtx, _ := as(t, f.db, "dev", purser.RoleDev)
	_, _, err := f.tokens.CreateJoinToken(devCtx, "", true, 0)
	wantCode(t, err, purser.EFORBIDDEN)
	_, secret, err := f.tokens.CreateJoinToken(f.admin, "rack 1", true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.register(secret, "a:16:64", "b:8:32", "c:8:32", "d:16:64", "e:8:32", "f:16:64")

	t.Run("JoinTokens", func(t *testing.T) { testJoinTokens(t, f) })
	t.Run("AgentsHeartbeatTheirOwnHostOnly", func(t *testing.T) {
		if _, err := f.hosts.Heartbeat(f.agents["a"], "b"); purser.ErrorCode(err) != purser.EFORBIDDEN {
			t.Fatalf("a's agent for b: %v", err)
		}
		if _, err := f.hosts.Heartbeat(f.admin, "a"); purser.ErrorCode(err) != purser.EFORBIDDEN {
			t.Fatalf("an admin heartbeating: %v", err)
		}
		if _, err := f.hosts.FindHostByName(f.agents["a"], "a"); err != nil {
			t.Fatalf("an agent reads its own host: %v", err)
		}
		if _, _, err := f.hosts.FindHosts(f.agents["a"], purser.Query{Page: 1, MaxResults: 10}); purser.ErrorCode(err) != purser.EFORBIDDEN {
			t.Fatalf("an agent lists hosts: %v", err)
		}
	})

	plan, err := f.pools.CreatePool(f.admin, &purser.Pool{Name: "web", Cores: 40, Memory: 160 * purser.GiB, Spares: 1}, true)
	if err != nil || len(plan.Members) != 3 {
		t.Fatalf("dry run: %+v %v", plan, err)
	}
	if _, err := f.pools.FindPoolByName(f.admin, "web"); purser.ErrorCode(err) != purser.ENOTFOUND {
		t.Fatalf("a dry run created the pool: %v", err)
	}
	p := &purser.Pool{Name: "web", Cores: 40, Memory: 160 * purser.GiB, Spares: 1}
	plan, err = f.pools.CreatePool(f.admin, p, false)
	if err != nil {
		t.Fatal(err)
	}
	// Best fit: a, d and f (16) cover the largest share, a first by name,
	// then d; b (8, first by name) fits the rest exactly; the spare must be
	// as large as the largest member: f.
	if got := hostNames(plan.Members) + "+" + hostNames(plan.Spares); got != "a,b,d+f" {
		t.Fatalf("placed %s", got)
	}
	if h := f.host("f"); h.Pool != "web" || !h.Spare || h.State != purser.HostReady {
		t.Fatalf("spare %+v", h)
	}
	_, err = f.pools.CreatePool(f.admin, &purser.Pool{Name: "web", Cores: 1}, false)
	wantCode(t, err, purser.ECONFLICT)

	t.Run("HealthAndHealing", func(t *testing.T) { testPoolHealing(t, f) })
	t.Run("ResizeNodesDestroy", func(t *testing.T) { testPoolLifecycle(t, f) })
}

func hostNames(hs []*purser.Host) string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return strings.Join(out, ",")
}

func testJoinTokens(t *testing.T, f *poolFixture) {
	tok, once, err := f.tokens.CreateJoinToken(f.admin, "one host", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := f.db.Read.QueryRow(context.Background(), "SELECT COUNT(*) FROM join_tokens WHERE hash = ?", once).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a join token's secret is stored: %d %v", n, err)
	}
	f.register(once, "x:4:8")
	_, _, err = f.hosts.RegisterHost(context.Background(), once, purser.Host{Name: "y", Cores: 4, Memory: 8 * purser.GiB})
	wantCode(t, err, purser.EUNAUTHORIZED)
	_, _, err = f.hosts.RegisterHost(context.Background(), "psj_nonsense", purser.Host{Name: "y", Cores: 4, Memory: 8 * purser.GiB})
	wantCode(t, err, purser.EUNAUTHORIZED)
	_, reusable, _ := f.tokens.CreateJoinToken(f.admin, "", true, 0)
	r, err := f.tokens.RevokeJoinToken(f.admin, tok.ID)
	if err != nil || r.RevokedAt == nil || r.Uses != 1 {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	toks, info, err := f.tokens.FindJoinTokens(f.admin, purser.Query{Page: 1, MaxResults: 10})
	if err != nil || info.Total != 3 || len(toks) != 3 {
		t.Fatalf("list: %d %v", len(toks), err)
	}
	// x is retired: its agent's credential stops working, its name cannot come back.
	if _, err := f.hosts.RetireHost(f.admin, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqldb.NewTokenService(f.db).Authenticate(context.Background(), f.creds["x"]); purser.ErrorCode(err) != purser.EUNAUTHORIZED {
		t.Fatalf("a retired host's agent: %v", err)
	}
	if _, aerr := sqldb.NewTokenService(f.db).Authenticate(context.Background(), "psa_unknown"); purser.ErrorCode(aerr) != purser.EUNAUTHORIZED {
		t.Fatalf("unknown agent: %v", aerr)
	}
	_, _, err = f.hosts.RegisterHost(context.Background(), reusable, purser.Host{Name: "x", Cores: 4, Memory: 8 * purser.GiB})
	wantCode(t, err, purser.ECONFLICT)
}

func testPoolHealing(t *testing.T, f *poolFixture) {
	sys := purser.SystemContext(context.Background())
	policy := purser.HealthPolicy{Suspect: 50 * time.Second, Unhealthy: 5 * time.Minute}
	f.clock.add(time.Minute)
	for _, h := range []string{"a", "c", "d", "e", "f"} {
		if _, err := f.hosts.Heartbeat(f.agents[h], h); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.hosts.CheckHostHealth(sys, policy); err != nil || n != 1 || f.host("b").State != purser.HostSuspect {
		t.Fatalf("suspect: %d %v %s", n, err, f.host("b").State)
	}
	f.clock.add(5 * time.Minute)
	for _, h := range []string{"a", "c", "d", "e", "f"} {
		if _, err := f.hosts.Heartbeat(f.agents[h], h); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.hosts.CheckHostHealth(sys, policy); err != nil || n != 1 || f.host("b").State != purser.HostUnhealthy {
		t.Fatalf("unhealthy: %d %v", n, err)
	}
	if n, err := f.hosts.HealPools(sys); err != nil || n != 1 {
		t.Fatalf("heal: %d %v", n, err)
	}
	if b, s := f.host("b"), f.host("f"); b.Pool != "" || s.Pool != "web" || s.Spare || s.State != purser.HostAssigned {
		t.Fatalf("after healing b %+v f %+v", b, s)
	}
	var n int
	err := f.db.Read.QueryRow(context.Background(), "SELECT COUNT(*) FROM notifications WHERE event = ? AND title LIKE ?", "pool.replace", "%b replaced by f%").Scan(&n)
	if err != nil || n == 0 {
		t.Fatalf("admins told of the replacement: %d %v", n, err)
	}
	if _, err := f.hosts.Heartbeat(f.agents["b"], "b"); err != nil || f.host("b").State != purser.HostReady {
		t.Fatalf("b comes back to the free inventory: %v %s", err, f.host("b").State)
	}
}

func testPoolLifecycle(t *testing.T, f *poolFixture) {
	// web is a, d and f (16 each): 48 cores; b, c and e (8 each) are free.
	_, err := f.pools.ResizePool(f.admin, "web", purser.Resources{Cores: 52}, false, false)
	if purser.ErrorCode(err) != purser.ECONFLICT || !strings.Contains(err.Error(), "over") {
		t.Fatalf("an unconfirmed overshoot: %v", err)
	}
	plan, err := f.pools.ResizePool(f.admin, "web", purser.Resources{Cores: 52}, true, false)
	if err != nil || hostNames(plan.Add) != "b" {
		t.Fatalf("resize: %+v %v", plan, err)
	}
	if p, _ := f.pools.FindPoolByName(f.admin, "web"); p.Cores != 52 {
		t.Fatalf("pool after resize: %+v", p)
	}
	if h, err := f.pools.AddNode(f.admin, "web", "c"); err != nil || h.State != purser.HostAssigned {
		t.Fatalf("add-node: %v", err)
	}
	if h, err := f.pools.RemoveNode(f.admin, "web", "c"); err != nil || h.Pool != "" || h.State != purser.HostReady {
		t.Fatalf("remove-node: %+v %v", h, err)
	}
	if h, err := f.pools.DrainNode(f.admin, "web", "b", time.Hour); err != nil || h.State != purser.HostDraining {
		t.Fatalf("drain: %v", err)
	}
	if n, err := f.hosts.FinishDrains(purser.SystemContext(context.Background())); err != nil || n != 1 || f.host("b").Pool != "" {
		t.Fatalf("finish drains: %d %v", n, err)
	}
	hosts, info, err := f.hosts.FindHosts(f.admin, purser.Query{Page: 1, MaxResults: 10, Where: []purser.Cond{{Field: "pool", Op: "$eq", Value: "web"}}})
	if err != nil || info.Total != 3 || hostNames(hosts) != "a,d,f" {
		t.Fatalf("web's hosts: %s %v", hostNames(hosts), err)
	}
	// a stops answering: the destroy cannot release it.
	f.clock.add(10 * time.Minute)
	for _, h := range []string{"b", "c", "d", "e", "f"} {
		if _, err := f.hosts.Heartbeat(f.agents[h], h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.hosts.CheckHostHealth(purser.SystemContext(context.Background()), purser.HealthPolicy{}); err != nil {
		t.Fatal(err)
	}
	p, err := f.pools.DestroyPool(f.admin, "web")
	if err != nil || p == nil || p.State != purser.PoolDestroyFailed || !strings.Contains(p.Status, "a (UNHEALTHY") || f.host("d").Pool != "" {
		t.Fatalf("destroy with a dead host: %+v %v", p, err)
	}
	if _, err := f.pools.RemoveNode(f.admin, "web", "a"); err != nil {
		t.Fatal(err)
	}
	if p, err := f.pools.DestroyPool(f.admin, "web"); err != nil || p != nil {
		t.Fatalf("destroy again: %+v %v", p, err)
	}
	if _, err := f.pools.FindPoolByName(f.admin, "web"); purser.ErrorCode(err) != purser.ENOTFOUND {
		t.Fatalf("destroyed pool: %v", err)
	}
}
