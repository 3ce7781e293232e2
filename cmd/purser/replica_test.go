package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/driver/sim"
	"github.com/purserhq/purser/internal/sqldb"
)

// replicaRescueAfter is River's rescue time in TestReplicas: a job left
// running by a killed replica is done by the other within it.
const replicaRescueAfter = 30 * time.Second

// TestReplicas runs two `purser server` processes on one PostgreSQL of the
// test's own, drives the API through both in turn, and checks what several
// replicas promise: every job runs once; periodic work is enqueued by the
// one leader; a replica killed with -9 mid-provision loses and duplicates
// nothing; a token revoked on one is refused by the other within
// sqldb.AuthCacheTTL; and a PostgreSQL restart under load is answered with
// 503 and Retry-After, then recovered from with nothing lost.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three server processes (about 60 s)")
	}
	pg := startPrivatePostgres(t)
	env := []string{"PURSER_DATABASE=" + pg.URL, "PURSER_SECRET_KEY=" + testSecretKey,
		"PURSER_WORKERS_HEARTBEAT_EVERY=1s", "PURSER_WORKERS_JOB_TIMEOUT=20s", "PURSER_WORKERS_RESCUE_AFTER=" + replicaRescueAfter.String(),
		"PURSER_WORKERS_EXPIRE_EVERY=1s", "PURSER_POOLS_SWEEP_EVERY=1s", "PURSER_REQUESTS_MAX_PENDING=10000"}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { conn.Close(context.Background()) }()

	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	a := startChild(t, dirs[0], true, env...)
	var replicaA string
	if err := conn.QueryRow(ctx, "SELECT replica_id FROM replica_leases").Scan(&replicaA); err != nil {
		t.Fatalf("replica A's lease: %v", err)
	}
	b := startChild(t, dirs[1], false, env...)
	admins := []*client.Client{client.New(a.url, a.token), client.New(b.url, a.token)}

	// Set up through both: the user on A, its token on B, the template on A.
	dev, err := admins[0].CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	devTok, err := admins[1].CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	if err != nil {
		t.Fatal(err)
	}
	for name, delay := range map[string]string{"quick": "300ms", "slow": "4s"} {
		if _, err := admins[0].CreateTemplate(ctx, map[string]any{"_id": name, "name": name, "driver": "sim",
			"config": map[string]any{"delay": delay}}); err != nil {
			t.Fatal(err)
		}
	}
	devs := []*client.Client{client.New(a.url, devTok.Token), client.New(b.url, devTok.Token)}
	request := func(i int, template string) string {
		r, err := devs[i%2].CreateRequest(ctx, client.RequestCreate{ResourceTemplate: template})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admins[(i+1)%2].ActOnRequest(ctx, r.ID, "approve", ""); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}

	// Every job once, workers on both.
	var ids []string
	for i := range 10 {
		ids = append(ids, request(i, "quick"))
	}
	waitAll(t, admins[1], ids, time.Now(), "DEPLOYED", "FAILED")
	var workers int
	if err := conn.QueryRow(ctx, "SELECT COUNT(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'provision'").Scan(&workers); err != nil {
		t.Fatal(err)
	}
	t.Logf("10 provisions, created and approved through both replicas, worked by %d replica(s)", workers)

	// Kill A with -9 while it works provisions: B finishes them.
	var slow []string
	for i := range 6 {
		slow = append(slow, request(i, "slow"))
	}
	waitCount(ctx, t, conn, 1, "SELECT LEAST(COUNT(*), 1) FROM river_job WHERE kind = 'provision' AND state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1", replicaA)
	a.kill9(t)
	killed := time.Now()
	took := waitAll(t, admins[1], slow, killed, "DEPLOYED", "FAILED")
	if took > replicaRescueAfter {
		t.Errorf("replica B took %s to finish killed replica A's provisions, more than the rescue time %s", took, replicaRescueAfter)
	}
	t.Logf("replica B deployed every request of killed replica A %s after the kill", took.Round(100*time.Millisecond))
	ids = append(ids, slow...)

	a2 := startChild(t, dirs[2], false, env...)
	admins[0] = client.New(a2.url, a.token)
	devs[0] = client.New(a2.url, devTok.Token)

	checkLeader(ctx, t, conn, replicaA)
	checkRevocation(ctx, t, admins, dev.ID, a2.url, b.url)
	ids = append(ids, checkPostgresRestart(ctx, t, pg, admins, devs, []string{a2.url, b.url}, devTok.Token, a.token)...)
	if conn, err = pgx.Connect(ctx, pg.URL); err != nil { // the restart cut the old connection
		t.Fatal(err)
	}

	// Nothing ran twice: each request's environment was created once (the
	// sim ledgers of all three processes), and each was deployed once.
	created := map[string]int{}
	for _, dir := range dirs {
		entries, err := sim.ReadLedger(filepath.Join(dir, "sim", "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Result == "created" {
				created[e.Request]++
			}
		}
	}
	deployed := map[string]int{}
	rows, err := conn.Query(ctx, "SELECT target_id, COUNT(*) FROM events WHERE action = 'request.deploy' GROUP BY target_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		deployed[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	dups := 0
	for _, id := range ids {
		if created[id] != 1 || deployed[id] != 1 {
			dups++
			t.Errorf("%s: environment created %d times, deployed %d times; want once each", id, created[id], deployed[id])
		}
	}
	t.Logf("%d requests through two replicas: %d provisions, duplicates %d", len(ids), len(created), dups)
}

// checkLeader checks that one replica leads, and that the periodic jobs
// (expiry and the pool sweep, every second here) are enqueued once per
// interval, not once per replica.
func checkLeader(ctx context.Context, t *testing.T, conn *pgx.Conn, dead string) {
	t.Helper()
	// The killed replica led: one of the live ones takes over once its
	// leadership lapsed.
	waitCount(ctx, t, conn, 1, "SELECT COUNT(*) FROM river_leader WHERE leader_id <> $1", dead)
	const window = 6 * time.Second
	<-time.After(window) // a measuring window, not a wait for a condition
	for _, kind := range []string{"expire", "pool_sweep"} {
		var n int
		if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = $1 AND created_at >= now() - $2::interval", kind, window.String()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		// One enqueuer: about 6; one per replica would be about 12.
		if n < 2 || n > int(window/time.Second)+2 {
			t.Errorf("%d %s jobs enqueued in %s at one a second; want one per second from the one leader", n, kind, window)
		}
		t.Logf("%s: %d jobs enqueued in %s with two replicas (interval 1 s)", kind, n, window)
	}
}

// checkRevocation revokes, through the first replica, a token the second
// has just honoured, and checks how soon the second refuses it.
func checkRevocation(ctx context.Context, t *testing.T, admins []*client.Client, userID, urlA, urlB string) {
	t.Helper()
	tok, err := admins[0].CreateToken(ctx, client.TokenCreate{Name: "revoked", User: userID})
	if err != nil {
		t.Fatal(err)
	}
	onA, onB := client.New(urlA, tok.Token), client.New(urlB, tok.Token)
	if _, err := onB.Me(ctx); err != nil {
		t.Fatalf("the new token on replica B: %v", err)
	}
	if err := admins[0].RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	if _, err := onA.Me(ctx); err == nil {
		t.Error("replica A honoured the token it had just revoked")
	}
	bound := sqldb.AuthCacheTTL + 2*time.Second // the request in flight, on a loaded machine
	for {
		if _, err := onB.Me(ctx); err != nil {
			break
		}
		if time.Since(revoked) > bound {
			t.Fatalf("replica B still honours the token %s after its revocation on A (bound %s)", time.Since(revoked), sqldb.AuthCacheTTL)
		}
		<-time.After(100 * time.Millisecond)
	}
	t.Logf("a token revoked on replica A was refused by replica B %s later (cache TTL %s)", time.Since(revoked).Round(10*time.Millisecond), sqldb.AuthCacheTTL)
}

// loadResult is what the load against both replicas saw.
type loadResult struct {
	mu       sync.Mutex
	statuses map[int]int
	noRetry  int      // 503s without Retry-After
	created  []string // requests answered 201
	approved map[string]bool
}

// checkPostgresRestart restarts PostgreSQL under load through both
// replicas and returns the requests the load created.
func checkPostgresRestart(ctx context.Context, t *testing.T, pg *privatePostgres, admins, devs []*client.Client, urls []string, devToken, adminToken string) []string {
	t.Helper()
	res := &loadResult{statuses: map[int]int{}, approved: map[string]bool{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				url := urls[(i+w)%2]
				if st, body := res.do(ctx, http.MethodPost, url+"/api/v1/provisionRequests", devToken, `{"resource_template":"quick"}`); st == http.StatusCreated {
					var doc struct {
						ID string `json:"_id"`
					}
					_ = json.Unmarshal(body, &doc)
					if st, _ := res.do(ctx, http.MethodPost, urls[(i+w+1)%2]+"/api/v1/provisionRequests/"+doc.ID+"/approve", adminToken, `{}`); st == http.StatusOK {
						res.mu.Lock()
						res.approved[doc.ID] = true
						res.mu.Unlock()
					}
				}
				res.do(ctx, http.MethodGet, url+"/api/v1/provisionRequests?max_results=5", devToken, "")
				<-time.After(20 * time.Millisecond) // the load's pace
			}
		}()
	}
	ok := func() bool { res.mu.Lock(); defer res.mu.Unlock(); return len(res.created) >= 4 }
	eventually(t, "the load created requests", ok)
	pg.Stop(t)
	stopped := time.Now()
	// Down longer than a replica's lease (3 s here): when it is back every
	// lease looks lapsed, and no replica may take over another's jobs.
	eventually(t, "503s while PostgreSQL is down", func() bool {
		res.mu.Lock()
		defer res.mu.Unlock()
		return res.statuses[503] >= 10 && time.Since(stopped) > 4*time.Second
	})
	pg.Start(t)
	started := time.Now()
	var recovered time.Duration
	eventually(t, "both replicas answer again", func() bool {
		for _, u := range urls {
			if st, _ := res.do(ctx, http.MethodGet, u+"/api/v1/provisionRequests?max_results=1", devToken, ""); st != http.StatusOK {
				return false
			}
		}
		recovered = time.Since(started)
		return true
	})
	n := len(res.created)
	eventually(t, "the load creates requests again", func() bool { res.mu.Lock(); defer res.mu.Unlock(); return len(res.created) >= n+4 })
	close(stop)
	wg.Wait()
	t.Logf("PostgreSQL down %s under load through both replicas: answers %v; both answered again %s after it was back; %d requests created, %d approved under load",
		started.Sub(stopped).Round(100*time.Millisecond), res.statuses, recovered.Round(100*time.Millisecond), len(res.created), len(res.approved))
	if res.noRetry > 0 {
		t.Errorf("%d answers 503 without Retry-After", res.noRetry)
	}
	if res.statuses[500] > 0 {
		t.Errorf("%d answers 500 while PostgreSQL restarted; want 503", res.statuses[500])
	}
	// Nothing lost: every request answered 201 exists, and deploys once
	// approved (through either replica).
	for i, id := range res.created {
		if res.approved[id] {
			continue
		}
		if _, err := admins[i%2].ActOnRequest(ctx, id, "approve", ""); err != nil {
			// An approval answered 503 may have committed all the same.
			if r, gerr := admins[i%2].GetRequest(ctx, id); gerr != nil || r.Status == "REQUESTED" {
				t.Fatalf("approve %s, created under load: %v", id, err)
			}
		}
	}
	waitAll(t, devs[1], res.created, time.Now(), "DEPLOYED", "FAILED")
	return res.created
}

// do sends one request and records its answer.
func (l *loadResult) do(ctx context.Context, method, url, token, body string) (int, []byte) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewBufferString(body))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.statuses[resp.StatusCode]++
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		l.noRetry++
	}
	if resp.StatusCode == http.StatusCreated {
		var doc struct {
			ID string `json:"_id"`
		}
		if json.Unmarshal(buf.Bytes(), &doc) == nil && doc.ID != "" {
			l.created = append(l.created, doc.ID)
		}
	}
	return resp.StatusCode, buf.Bytes()
}
