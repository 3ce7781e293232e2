package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/driver/sim"
	"github.com/purserhq/purser/internal/storetest"
)

// The upgrade tests need two Purser binaries, an older and a newer one
// whose only difference is one more migration. The older is this test
// binary (re-executed as `purser server`, as in the other process tests);
// the newer is `go build -tags purser_upgradetest ./cmd/purser`: the build
// tag compiles internal/{sqlite,postgres}/upgradetest.go in place of
// release.go, which adds one additive Go migration (a column and a table),
// numbered after the newest embedded one. Release builds never set the
// tag, so no shipped binary carries that migration.

const upgradeBootstrapToken = "pst_upgrade-test-bootstrap-token-0123456789"

var newBinary struct {
	once sync.Once
	path string
	err  error
}

// buildNewBinary builds the newer binary once per test process, or skips
// the test when there is no Go toolchain to build it with.
func buildNewBinary(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the newer binary with")
	}
	newBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "purser-upgrade-")
		if err != nil {
			newBinary.err = err
			return
		}
		newBinary.path = filepath.Join(dir, "purser-new")
		out, err := exec.Command(gobin, "build", "-tags", "purser_upgradetest", "-o", newBinary.path, ".").CombinedOutput()
		if err != nil {
			newBinary.err = fmt.Errorf("go build -tags purser_upgradetest: %v\n%s", err, out)
		}
	})
	if newBinary.err != nil {
		t.Fatal(newBinary.err)
	}
	return newBinary.path
}

// newestMigration is the newest migration this (older) binary embeds.
func newestMigration(t *testing.T) int64 {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("..", "..", "internal", "postgres", "migrations", "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	var v int64
	for _, n := range names {
		var x int64
		if _, err := fmt.Sscanf(filepath.Base(n), "%05d_", &x); err == nil {
			v = max(v, x)
		}
	}
	return v
}

// refused runs the older binary's `purser args...` on the database of env
// and checks that it exits non-zero with the refusal naming both versions.
func refused(t *testing.T, dataDir string, database, known int64, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "PURSER_TEST_AS_BINARY=1", "PURSER_DATA_DIR="+dataDir, "PURSER_LISTEN=127.0.0.1:0"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	want := fmt.Sprintf("purser: the database is at schema %d, this purser knows up to %d: it was upgraded by a newer Purser; run that version or newer", database, known)
	if err == nil || !strings.Contains(stderr.String(), want) {
		t.Fatalf("older `purser %s` on the upgraded database: %v, stderr:\n%s\nwant a non-zero exit and %q", strings.Join(args, " "), err, stderr.String(), want)
	}
	t.Logf("older `purser %s` refuses (%v): %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
}

// stop stops a server as an orchestrator does (SIGTERM: it drains its
// requests and jobs) and waits for it to exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("server stopped with %v", err)
	}
}

// TestConcurrentStartsMigrateOnce starts two servers at the same moment on
// a new PostgreSQL database: both serve, and every migration (Purser's and
// River's) was applied once, under the migration lock.
func TestConcurrentStartsMigrateOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	u := storetest.PostgresURL(t)
	if u == "" {
		t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
	}
	t.Parallel()
	env := []string{"PURSER_DATABASE=" + u, "PURSER_SECRET_KEY=" + testSecretKey, "PURSER_BOOTSTRAP_TOKEN=" + upgradeBootstrapToken}
	a, b := launchChild(t, os.Args[0], t.TempDir(), env...), launchChild(t, os.Args[0], t.TempDir(), env...)
	a.listening(t, false)
	b.listening(t, false)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"SELECT COUNT(*) FROM (SELECT version_id FROM goose_db_version GROUP BY version_id HAVING COUNT(*) > 1) d",
		"SELECT COUNT(*) FROM (SELECT line, version FROM river_migration GROUP BY line, version HAVING COUNT(*) > 1) d",
		"SELECT COUNT(*) - 1 FROM users",
	} {
		var n int
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s = %d, want 0: two replicas started at once did the same work twice", q, n)
		}
	}
	for _, c := range []*child{a, b} {
		if _, err := client.New(c.url, upgradeBootstrapToken).Me(ctx); err != nil {
			t.Errorf("%s: %v", c.url, err)
		}
	}
}

// balancer is the load balancer in front of the replicas: it sends each
// call to the next replica in service, and an orchestrator takes a replica
// out of service before stopping it.
type balancer struct {
	mu       sync.Mutex
	urls     []string
	n        int
	served   map[string]int // calls per replica
	failures []string       // every call that did not succeed
	ids      []string       // requests created and approved
}

func (b *balancer) next() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	u := b.urls[b.n%len(b.urls)]
	b.served[u]++
	return u
}

func (b *balancer) set(urls ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.urls = urls
}

func (b *balancer) count(url string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.served[url]
}

func (b *balancer) record(id string, err error, what, url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.failures = append(b.failures, fmt.Sprintf("%s through %s: status %d: %v", what, url, client.StatusCode(err), err))
		return
	}
	if id != "" {
		b.ids = append(b.ids, id)
	}
}

// load creates a request through one replica and approves it through the
// next, then lists through a third call, every tick until ctx ends.
func (b *balancer) load(ctx context.Context, devToken, adminToken string) {
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		u := b.next()
		r, err := client.New(u, devToken).CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "quick"})
		if ctx.Err() != nil {
			return
		}
		b.record("", err, "create", u)
		if err != nil {
			continue
		}
		u = b.next()
		_, err = client.New(u, adminToken).ActOnRequest(ctx, r.ID, "approve", "")
		if ctx.Err() != nil {
			return
		}
		b.record(r.ID, err, "approve "+r.ID, u)
		u = b.next()
		_, err = client.New(u, devToken).ListRequests(ctx, client.ListOptions{})
		if ctx.Err() != nil {
			return
		}
		b.record("", err, "list", u)
	}
}

// TestRollingUpgrade upgrades two replicas on one PostgreSQL one at a time
// under load, the way a Deployment's rolling update does (a new replica
// starts before an old one stops): old A and B serve; new A' starts and
// migrates forward (an additive migration) while old A and B keep serving;
// A is stopped; old B and new A' serve together on the new schema; new B'
// starts and B is stopped. Every call succeeds, every request is deployed
// once. Then the older binary, started on the upgraded database, refuses
// with the message naming both versions, and changes nothing.
func TestRollingUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and runs four server processes")
	}
	u := storetest.PostgresURL(t)
	if u == "" {
		t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
	}
	newBin := buildNewBinary(t)
	known := newestMigration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	schema := func() (v int64) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT MAX(version_id) FROM goose_db_version WHERE is_applied").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	env := []string{"PURSER_DATABASE=" + u, "PURSER_SECRET_KEY=" + testSecretKey, "PURSER_BOOTSTRAP_TOKEN=" + upgradeBootstrapToken,
		"PURSER_WORKERS_HEARTBEAT_EVERY=1s", "PURSER_REQUESTS_MAX_PENDING=10000"}
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()}

	a := startChild(t, dirs[0], false, env...)
	b := startChild(t, dirs[1], false, env...)
	if v := schema(); v != known {
		t.Fatalf("the older binary migrated to %d, want %d (run the tests without -tags purser_upgradetest)", v, known)
	}
	admin := client.New(a.url, upgradeBootstrapToken)
	dev, err := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	devTok, err := client.New(b.url, upgradeBootstrapToken).CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "quick", "name": "quick", "driver": "sim",
		"config": map[string]any{"delay": "300ms"}}); err != nil {
		t.Fatal(err)
	}

	lb := &balancer{urls: []string{a.url, b.url}, served: map[string]int{}}
	lctx, stopLoad := context.WithCancel(ctx)
	loaded := make(chan struct{})
	go func() { defer close(loaded); lb.load(lctx, devTok.Token, upgradeBootstrapToken) }()
	servedAtLeast := func(url string, n int) {
		t.Helper()
		from := lb.count(url)
		eventually(t, fmt.Sprintf("%d calls served by %s", n, url), func() bool { return lb.count(url) >= from+n })
	}
	servedAtLeast(b.url, 6)

	// Surge: new A' starts beside old A and B and migrates forward.
	a2 := launchChild(t, newBin, dirs[2], env...).listening(t, false)
	if v := schema(); v != known+1 {
		t.Fatalf("after the newer binary started, the schema is at %d, want %d", v, known+1)
	}
	lb.set(a.url, b.url, a2.url)
	servedAtLeast(a2.url, 6)
	lb.set(b.url, a2.url)
	a.stop(t)
	// Overlap: old B and new A' serve together on the new schema.
	servedAtLeast(b.url, 9)
	servedAtLeast(a2.url, 9)
	b2 := launchChild(t, newBin, dirs[3], env...).listening(t, false)
	lb.set(b.url, a2.url, b2.url)
	servedAtLeast(b2.url, 6)
	lb.set(a2.url, b2.url)
	b.stop(t)
	servedAtLeast(b2.url, 6)
	stopLoad()
	<-loaded

	for _, f := range lb.failures {
		t.Error(f)
	}
	took := waitAll(t, client.New(a2.url, upgradeBootstrapToken), lb.ids, time.Now(), "DEPLOYED", "FAILED")
	created := map[string]int{}
	for _, dir := range dirs {
		entries, err := sim.ReadLedger(filepath.Join(dir, "sim", "ledger.jsonl"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Result == "created" {
				created[e.Request]++
			}
		}
	}
	var deployedTwice int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT target_id FROM events WHERE action = 'request.deploy' GROUP BY target_id HAVING COUNT(*) > 1) d").Scan(&deployedTwice); err != nil {
		t.Fatal(err)
	}
	dups := deployedTwice
	for _, id := range lb.ids {
		if created[id] != 1 {
			dups++
			t.Errorf("%s: environment created %d times, want once", id, created[id])
		}
	}
	if dups > 0 {
		t.Errorf("%d duplicates", dups)
	}
	lb.mu.Lock()
	t.Logf("rolling upgrade %d -> %d: %d calls (A %d, B %d, A' %d, B' %d), %d failed; %d requests all deployed (%s after the load), duplicates %d",
		known, known+1, lb.n, lb.served[a.url], lb.served[b.url], lb.served[a2.url], lb.served[b2.url], len(lb.failures), len(lb.ids), took.Round(10*time.Millisecond), dups)
	lb.mu.Unlock()

	// The older binary refuses the upgraded database, and changes nothing.
	var gooseRows, riverRows int
	rows := func() (g, r int) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM goose_db_version), (SELECT COUNT(*) FROM river_migration)").Scan(&g, &r); err != nil {
			t.Fatal(err)
		}
		return g, r
	}
	gooseRows, riverRows = rows()
	refused(t, t.TempDir(), known+1, known, env, "server")
	refused(t, t.TempDir(), known+1, known, env, "backup", filepath.Join(t.TempDir(), "b.tar.gz"))
	if g, r := rows(); g != gooseRows || r != riverRows {
		t.Errorf("the refused start changed the schema tables: goose %d -> %d rows, River %d -> %d", gooseRows, g, riverRows, r)
	}
}

// TestUpgradeSQLite: a SQLite file migrated by the newer binary is refused
// by the older one, by the server and by every command that opens it.
func TestUpgradeSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	newBin := buildNewBinary(t)
	known := newestMigration(t)
	dir := t.TempDir()
	env := []string{"PURSER_SECRET_KEY=" + testSecretKey, "PURSER_BOOTSTRAP_TOKEN=" + upgradeBootstrapToken}
	n := launchChild(t, newBin, dir, env...).listening(t, false)
	if _, err := client.New(n.url, upgradeBootstrapToken).Me(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.stop(t)
	refused(t, dir, known+1, known, env, "server")
	refused(t, dir, known+1, known, env, "backup", filepath.Join(t.TempDir(), "b.tar.gz"))
}
