package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/driver/sim"
	"github.com/purserhq/purser/internal/storetest"
)

// TestMain lets the test binary play the real purser binary in a child
// process (PURSER_TEST_AS_BINARY=1), so that a test can kill -9 it.
func TestMain(m *testing.M) {
	if os.Getenv("PURSER_TEST_AS_BINARY") == "1" {
		main()
		return
	}
	code := m.Run()
	if newBinary.path != "" { // the upgrade tests' newer binary
		os.RemoveAll(filepath.Dir(newBinary.path))
	}
	os.Exit(code)
}

type child struct {
	cmd   *exec.Cmd
	out   *bufio.Reader
	url   string
	token string
}

var runningAt = regexp.MustCompile(`running at (http://\S+)`)
var tokenLine = regexp.MustCompile(`^\s+(pst_\S+)$`)

// startChild starts `purser server` in a child process on dataDir, with
// env added to its environment (a database, a secret key), and waits until
// it listens (and, on a first start, printed the admin token). Workers run
// with their default timeouts: rescue_after is 15 min.
func startChild(t *testing.T, dataDir string, firstStart bool, env ...string) *child {
	t.Helper()
	return launchChild(t, os.Args[0], dataDir, env...).listening(t, firstStart)
}

// launchChild starts `bin server` (the test binary by default: bin is
// os.Args[0]; another purser binary in the upgrade tests) without waiting:
// listening waits, so that a test may start several at once.
func launchChild(t *testing.T, bin, dataDir string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(bin, "server")
	cmd.Env = append(os.Environ(), "PURSER_TEST_AS_BINARY=1", "PURSER_DATA_DIR="+dataDir, "PURSER_LISTEN=127.0.0.1:0",
		"PURSER_LOG_LEVEL=warn", "PURSER_WORKERS_RETRY_BASE=200ms")
	cmd.Env = append(append(cmd.Env, runAsEnv(t, dataDir)...), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &child{cmd: cmd, out: bufio.NewReader(out)}
}

// listening waits until the child listens (and, on a first start, printed
// the admin token).
func (c *child) listening(t *testing.T, firstStart bool) *child {
	t.Helper()
	r := c.out
	for c.url == "" || firstStart && c.token == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the child server stopped before listening: %v", err)
		}
		if m := runningAt.FindStringSubmatch(line); m != nil {
			c.url = m[1]
		}
		if m := tokenLine.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			c.token = m[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	return c
}

// runAsEnv is execRunAs for a child process: the run-as user in the
// child's environment rather than the test's (t.Setenv forbids t.Parallel).
func runAsEnv(t *testing.T, dataDir string) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	if _, err := user.Lookup("purser-exec"); err != nil {
		t.Fatal("the tests run as root, so exec commands run as the user purser-exec, which does not exist: run tools/test-user.sh")
	}
	if err := os.Chmod(filepath.Dir(dataDir), 0o711); err != nil {
		t.Fatal(err)
	}
	return []string{"PURSER_EXEC_RUN_AS=purser-exec"}
}

// kill9 kills the child with SIGKILL: no shutdown, no draining.
func (c *child) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// recoveryBound is how soon after a restart (or, with a second replica,
// after the kill) every request caught mid-job must have ended: a dead
// replica's jobs are rescued within its lease (3 heartbeats, 15 s) and one
// rescue tick, not after River's rescue_after (15 min).
const recoveryBound = 30 * time.Second

// TestKill9DuringProvisionAndPurge kills the server while provisions and
// then purges are running, restarts it, and checks that every request ends
// right within recoveryBound of the restart and that the sim driver created
// no environment twice and left none. With SQLite the restarted process
// rescues its previous run's jobs at start; with PostgreSQL, where other
// replicas may be alive, once the dead one's lease lapsed.
func TestKill9DuringProvisionAndPurge(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts servers (about 25 s)")
	}
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		testKill9(t)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		if u == "" {
			t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
		}
		t.Parallel()
		// The restarted replica waits for the dead one's lease to lapse:
		// PostgreSQLSecondReplica proves recovery with the default lease
		// (15 s); here a 1 s heartbeat (3 s lease) keeps the suite short.
		testKill9(t, "PURSER_DATABASE="+u, "PURSER_SECRET_KEY="+testSecretKey, "PURSER_WORKERS_HEARTBEAT_EVERY=1s")
	})
	t.Run("PostgreSQLSecondReplica", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		if u == "" {
			t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
		}
		t.Parallel()
		testKill9SecondReplica(t, u)
	})
}

// testKill9SecondReplica kills replica A with -9 while it provisions, and
// checks that replica B, alive beside it, rescues A's jobs (once A's lease
// lapsed) and deploys every request within recoveryBound of the kill.
func testKill9SecondReplica(t *testing.T, dbURL string) {
	env := []string{"PURSER_DATABASE=" + dbURL, "PURSER_SECRET_KEY=" + testSecretKey}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	a := startChild(t, t.TempDir(), true, env...)
	var replicaA string
	if err := conn.QueryRow(ctx, "SELECT replica_id FROM replica_leases").Scan(&replicaA); err != nil {
		t.Fatalf("replica A's lease: %v", err)
	}
	admin := client.New(a.url, a.token)
	const n = 6
	ids := slowRequests(ctx, t, admin, a.url, n, "4s")
	// Every provision job runs on A (the only replica yet); then B starts.
	waitCount(ctx, t, conn, n, "SELECT COUNT(*) FROM river_job WHERE kind = 'provision' AND state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1", replicaA)
	b := startChild(t, t.TempDir(), false, env...)
	a.kill9(t)
	killed := time.Now()
	took := waitAll(t, client.New(b.url, a.token), ids, killed, "DEPLOYED", "FAILED")
	t.Logf("replica B deployed every request of killed replica A %s after the kill", took.Round(100*time.Millisecond))
	waitCount(ctx, t, conn, n, "SELECT COUNT(*) FROM river_job WHERE kind = 'provision' AND errors[1]->>'error' = 'replica ' || $1 || ' stopped heartbeating'", replicaA)
}

// waitCount waits until the query, a count, answers want.
func waitCount(ctx context.Context, t *testing.T, conn *pgx.Conn, want int, query string, args ...any) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var got int
		if err := conn.QueryRow(ctx, query, args...).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %d, want %d", query, got, want)
		case <-tick.C:
		}
	}
}

const testSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// slowRequests creates a dev user, a template whose sim environments take
// delay, and n approved requests of it.
func slowRequests(ctx context.Context, t *testing.T, admin *client.Client, url string, n int, delay string) []string {
	t.Helper()
	dev, _ := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "slow", "name": "Slow", "driver": "sim",
		"config": map[string]any{"delay": delay}}); err != nil {
		t.Fatal(err)
	}
	devc := client.New(url, devTok.Token)
	ids := make([]string, n)
	for i := range ids {
		r, err := devc.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "slow"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
		if _, err := admin.ActOnRequest(ctx, r.ID, "approve", ""); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// waitAll waits until every request is in status want (failing on one
// in failed), at most recoveryBound from start, and returns how long it took.
func waitAll(t *testing.T, c *client.Client, ids []string, start time.Time, want, failed string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(recoveryBound))
	defer cancel()
	for _, id := range ids {
		if r, err := c.WaitRequest(ctx, id, nil, want, failed); err != nil || r.Status != want {
			t.Fatalf("%s not %s within %s: %v %v", id, want, recoveryBound, r, err)
		}
	}
	return time.Since(start)
}

// waitLog waits until request id's job log has a line starting with prefix.
func waitLog(ctx context.Context, t *testing.T, c *client.Client, id, prefix string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		l, err := c.RequestLogs(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range l.Items {
			if strings.HasPrefix(line.Line, prefix) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: no log line %q: %v", id, prefix, ctx.Err())
		case <-tick.C:
		}
	}
}

func testKill9(t *testing.T, env ...string) {
	dataDir := t.TempDir()
	first := startChild(t, dataDir, true, env...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	admin := client.New(first.url, first.token)
	const n = 6
	ids := slowRequests(ctx, t, admin, first.url, n, "2s")
	// Kill as soon as the last request's provision job runs: every one is
	// mid-way (they run at once, 2 s each).
	waitLog(ctx, t, admin, ids[n-1], "provision: attempt 1")
	first.kill9(t)

	second := startChild(t, dataDir, false, env...)
	admin = client.New(second.url, first.token)
	took := waitAll(t, admin, ids, time.Now(), "DEPLOYED", "FAILED")
	t.Logf("every provision ended %s after the restart", took.Round(100*time.Millisecond))
	for _, id := range ids {
		if _, err := admin.ActOnRequest(ctx, id, "purge", ""); err != nil {
			t.Fatal(err)
		}
	}
	ledger := filepath.Join(dataDir, "sim", "ledger.jsonl")
	// Kill as soon as the last request's purge job runs: every purge is
	// mid-way.
	waitLog(ctx, t, admin, ids[n-1], "purge: attempt 1")
	second.kill9(t)

	third := startChild(t, dataDir, false, env...)
	admin = client.New(third.url, first.token)
	took = waitAll(t, admin, ids, time.Now(), "PURGED", "PURGE_FAILED")
	t.Logf("every purge ended %s after the second restart", took.Round(100*time.Millisecond))
	entries, err := sim.ReadLedger(ledger)
	if err != nil {
		t.Fatal(err)
	}
	created, destroyed := map[string]int{}, map[string]int{}
	for _, e := range entries {
		switch e.Result {
		case "created":
			created[e.Request]++
		case "destroyed":
			destroyed[e.Request]++
		}
	}
	for _, id := range ids {
		if created[id] != 1 || destroyed[id] != 1 {
			t.Errorf("%s: created %d times, destroyed %d times; want once each", id, created[id], destroyed[id])
		}
	}
	t.Logf("ledger: %d entries for %d requests", len(entries), n)
}
