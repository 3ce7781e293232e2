package pool_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/driver/pool"
	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/storetest"
)

// eachStore runs f on a fresh SQLite store and, when
// PURSER_TEST_POSTGRES_URL is set, a fresh PostgreSQL one.
func eachStore(t *testing.T, f func(t *testing.T, db *sqldb.DB)) {
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "purser.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, storetest.Equip(t, s.DB))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		t.Parallel()
		u := storetest.PostgresURL(t)
		if u == "" {
			t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
		}
		s, err := postgres.Open(context.Background(), u, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, storetest.Equip(t, s.DB))
	})
}

// fixture is a store with hosts registered by their agents, a clock the
// test moves, and the driver over the store's services.
type fixture struct {
	t      *testing.T
	db     *sqldb.DB
	hosts  *sqldb.HostService
	driver *pool.Driver
	agents map[string]context.Context
	mu     sync.Mutex
	now    time.Time
}

var sys = purser.SystemContext(context.Background())

func newFixture(t *testing.T, db *sqldb.DB, specs ...string) *fixture {
	f := &fixture{t: t, db: db, hosts: sqldb.NewHostService(db), agents: map[string]context.Context{}, now: time.Now().UTC().Truncate(time.Second)}
	db.NowFunc = f.clock
	f.driver = &pool.Driver{Pools: sqldb.NewPoolService(db), Hosts: f.hosts}
	_, secret, err := sqldb.NewJoinTokenService(db).CreateJoinToken(sys, "test", true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		var name string
		var cores, gib int
		if _, err := fmt.Sscanf(strings.ReplaceAll(s, ":", " "), "%s %d %d", &name, &cores, &gib); err != nil {
			t.Fatal(err)
		}
		_, cred, err := f.hosts.RegisterHost(context.Background(), secret, purser.Host{Name: name, Address: "10.0.0.1", Cores: cores,
			Memory: int64(gib) * purser.GiB, Labels: map[string]string{"rack": fmt.Sprint(cores % 3)}})
		if err != nil {
			t.Fatalf("register %s: %v", s, err)
		}
		a, err := sqldb.NewTokenService(db).Authenticate(context.Background(), cred)
		if err != nil {
			t.Fatal(err)
		}
		f.agents[name] = purser.NewContextWithActor(context.Background(), a)
	}
	return f
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fixture) advance(d time.Duration) { f.mu.Lock(); defer f.mu.Unlock(); f.now = f.now.Add(d) }

// states maps each host to "STATE pool" (pool "-" when free).
func (f *fixture) states() map[string]string {
	f.t.Helper()
	hs, _, err := f.hosts.FindHosts(sys, purser.Query{Page: 1, MaxResults: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range hs {
		p := h.Pool
		if p == "" {
			p = "-"
		} else if h.Spare {
			p += " spare"
		}
		out[h.Name] = string(h.State) + " " + p
	}
	return out
}

// env is a request's environment from a template of cores and
// memory_gib parameters with the footprint the catalog fills in.
func env(id string, cores, gib, spares int) purser.Environment {
	return purser.Environment{RequestID: id, Owner: "bbb", Template: "pool", ResourceType: pool.ResourceType,
		Params:    map[string]any{"cores": int64(cores), "memory_gib": int64(gib), "spares": int64(spares)},
		Footprint: purser.Footprint{Cores: float64(cores), Memory: float64(gib)}}
}

func TestProvisionDestroy(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, "a:16:64", "b:8:32", "c:8:32", "d:16:64", "e:4:16")
		d := f.driver
		e := env("65a1b2c3d4e5f60718293a4b", 24, 96, 1)
		out, err := d.Provision(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		name := "env-65a1b2c3d4e5f60718293a4b"
		want := map[string]string{"pool": name, "members": "a,b", "spares": "d", "cores": "24", "memory": "96 GiB"}
		if diff := cmp.Diff(want, out); diff != "" {
			t.Fatalf("outputs (-want +got):\n%s", diff)
		}

		t.Run("RetryConverges", func(t *testing.T) {
			again, err := d.Provision(context.Background(), e)
			if err != nil || !cmp.Equal(out, again) {
				t.Fatalf("a retried Provision: %v %v", again, err)
			}
			pools, _, err := sqldb.NewPoolService(db).FindPools(sys, purser.Query{Page: 1, MaxResults: 10})
			if err != nil || len(pools) != 1 {
				t.Fatalf("pools after a retry: %d %v", len(pools), err)
			}
		})
		t.Run("ErrInventory", func(t *testing.T) {
			_, err := d.Provision(context.Background(), env("big", 200, 1, 0))
			if purser.ErrorCode(err) != purser.ECONFLICT ||
				!strings.Contains(err.Error(), "needs 200 cores and 1 GiB; the free hosts that match offer 12 cores and 48 GiB in all") {
				t.Fatalf("an oversized pool: %v", err)
			}
		})
		t.Run("ErrFootprintShort", func(t *testing.T) {
			short := env("short", 4, 16, 0)
			short.Footprint = purser.Footprint{Cores: 0, Memory: 16}
			_, err := d.Provision(context.Background(), short)
			if purser.ErrorCode(err) != purser.EINVALID || !strings.Contains(err.Error(), "4 cores (footprint.cores counted 0)") {
				t.Fatalf("a pool the quota did not count: %v", err)
			}
		})

		if err := d.Destroy(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		for h, s := range f.states() {
			if s != "READY -" {
				t.Errorf("after destroy, %s is %s", h, s)
			}
		}
		if err := d.Destroy(context.Background(), e); err != nil {
			t.Fatalf("destroying what is gone: %v", err)
		}
	})
}

// TestProvisionAfterCrash: the pool a crashed attempt made (committed
// before the worker recorded anything) is found, not made twice.
func TestProvisionAfterCrash(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, "a:8:32", "b:8:32", "c:8:32")
		e := env("r1", 16, 64, 0)
		first, err := pool.Spec(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sqldb.NewPoolService(db).CreatePool(sys, first, false); err != nil {
			t.Fatal(err)
		}
		out, err := f.driver.Provision(context.Background(), e)
		if err != nil || out["pool"] != "env-r1" || out["members"] != "a,b" {
			t.Fatalf("after a crash: %v %v", out, err)
		}
		if got := f.states()["c"]; got != "READY -" {
			t.Fatalf("c was taken by a second pool: %s", got)
		}
	})
}

// TestDestroyFailed: a member that does not answer leaves the pool
// DESTROY_FAILED; the purge fails with the pool's reason, Provision
// refuses to hand it out, and once the host answers a retried purge
// frees every host.
func TestDestroyFailed(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, "a:8:32", "b:8:32", "c:8:32")
		e := env("r2", 16, 64, 0)
		if _, err := f.driver.Provision(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		f.advance(time.Minute)
		for _, h := range []string{"a", "c"} {
			if _, err := f.hosts.Heartbeat(f.agents[h], h); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.hosts.CheckHostHealth(sys, purser.HealthPolicy{Suspect: 50 * time.Second, Unhealthy: 5 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		err := f.driver.Destroy(context.Background(), e)
		if err == nil || !strings.Contains(err.Error(), "pool env-r2 is DESTROY_FAILED: destroy failed: b (SUSPECT") {
			t.Fatalf("destroy with b silent: %v", err)
		}
		if _, err := f.driver.Provision(context.Background(), e); err == nil || !strings.Contains(err.Error(), "DESTROY_FAILED") {
			t.Fatalf("provision of a DESTROY_FAILED pool: %v", err)
		}
		if _, err := f.hosts.Heartbeat(f.agents["b"], "b"); err != nil {
			t.Fatal(err)
		}
		if err := f.driver.Destroy(context.Background(), e); err != nil {
			t.Fatalf("destroy once b answers: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"a": "READY -", "b": "READY -", "c": "READY -"}, f.states()); diff != "" {
			t.Fatalf("hosts (-want +got):\n%s", diff)
		}
	})
}
