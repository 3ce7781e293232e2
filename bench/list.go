package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// seed creates n users in batches, a third of them inactive.
func seed(ctx context.Context, db *sqldb.DB, n int) error {
	const batch = 500
	now := time.Now().UnixMicro()
	for i := 0; i < n; i += batch {
		err := db.WithTx(ctx, func(tx sqldb.Tx) error {
			for j := i; j < i+batch && j < n; j++ {
				id := purser.NewID()
				if _, err := tx.Exec(ctx, "INSERT INTO users (id, username, name, email, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
					id, fmt.Sprintf("user%05d", j), fmt.Sprintf("User %d", j), fmt.Sprintf("user%d@example.com", j), j%3 != 0, now+int64(j), now+int64(j)); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", id, "dev"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

const listWhere = `{"is_active":true,"username":{"$gte":"user02000"}}`

// baselineList serves the same page with the same SQL, by hand: no
// authentication, no validation framework, no builder.
func baselineList(db *sqldb.DB) http.Handler {
	type row struct {
		ID       string   `json:"_id"`
		Username string   `json:"username"`
		Name     string   `json:"name"`
		Email    string   `json:"email"`
		IsActive bool     `json:"is_active"`
		Roles    []string `json:"roles"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var total int
		if err := db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM users u WHERE u.is_active = ? AND u.username >= ?", true, "user02000").Scan(&total); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		rows, err := db.Read.Query(ctx, "SELECT u.id, u.username, u.name, u.email, u.is_active FROM users u WHERE u.is_active = ? AND u.username >= ? ORDER BY u.username DESC LIMIT 50 OFFSET ?",
			true, "user02000", (page-1)*50)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var items []*row
		ids := []any{}
		for rows.Next() {
			var it row
			if err := rows.Scan(&it.ID, &it.Username, &it.Name, &it.Email, &it.IsActive); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			items = append(items, &it)
			ids = append(ids, it.ID)
		}
		rows.Close()
		byID := map[string]*row{}
		for _, it := range items {
			byID[it.ID] = it
		}
		if len(ids) > 0 {
			q := "SELECT user_id, role FROM user_roles WHERE user_id IN (?" + repeat(",?", len(ids)-1) + ")"
			rr, err := db.Read.Query(ctx, q, ids...)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			for rr.Next() {
				var uid, role string
				_ = rr.Scan(&uid, &role)
				byID[uid].Roles = append(byID[uid].Roles, role)
			}
			rr.Close()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"_items": items, "_meta": map[string]int{"page": page, "max_results": 50, "total": total}})
	})
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// load sends GETs of the filtered users page from clients goroutines for
// d, each client walking its own pages.
func load(base, token string, d time.Duration, clients int) (float64, time.Duration) {
	return getLoad(func(c, i int) string {
		page := 1 + (c*31+i)%100
		return base + "?where=" + url.QueryEscape(listWhere) + "&sort=-username&max_results=50&page=" + strconv.Itoa(page)
	}, token, d, clients)
}

// getLoad sends GETs of next(client, i) from clients goroutines for d and
// returns requests per second, and the CPU time the process (server and
// clients) spent on each. Any answer but 200 ends the benchmark.
func getLoad(next func(client, i int) string, token string, d time.Duration, clients int) (float64, time.Duration) {
	var done atomic.Int64
	var failed atomic.Int64
	cpu0 := cpuTime()
	deadline := time.Now().Add(d)
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				req, _ := http.NewRequest(http.MethodGet, next(c, i), nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := hc.Do(req)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					if resp != nil {
						resp.Body.Close()
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	tr.CloseIdleConnections()
	if f := failed.Load(); f > 0 {
		log.Fatalf("%d requests failed", f)
	}
	return float64(done.Load()) / d.Seconds(), (cpuTime() - cpu0) / time.Duration(max(done.Load(), 1))
}

func runList(ctx context.Context, db *sqldb.DB, d time.Duration, clients int) result {
	full, token := newAPI(ctx, db)
	defer full.Close()
	bare := httptest.NewServer(baselineList(db))
	defer bare.Close()
	// Warm both, then alternate rounds so that drift in the machine's load
	// falls on both sides alike.
	load(bare.URL+"/api/v1/users", "", d/5, clients)
	load(full.URL+"/api/v1/users", token, d/5, clients)
	const rounds = 4
	var r result
	for range rounds {
		b, bcpu := load(bare.URL+"/api/v1/users", "", d/rounds, clients)
		p, pcpu := load(full.URL+"/api/v1/users", token, d/rounds, clients)
		r.baseline += b / rounds
		r.purser += p / rounds
		r.baselineCPU += bcpu / rounds
		r.purserCPU += pcpu / rounds
	}
	return r
}

// scratchSchema makes a schema of its own on the server at base.
func scratchSchema(ctx context.Context, base string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("purser_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(ctx)
	}, nil
}

// seedRequests inserts n provision requests by one user from one template,
// one microsecond apart, in batches.
func seedRequests(ctx context.Context, db *sqldb.DB, n int) error {
	uid, now := purser.NewID(), time.Now().UnixMicro()
	if err := db.WithTx(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO users (id, username, created_at, updated_at) VALUES (?, ?, ?, ?)", uid, fmt.Sprintf("requester-%d", now), now, now)
		return err
	}); err != nil {
		return err
	}
	return seedRequestsOf(ctx, db, uid, n)
}

// seedRequestsOf inserts n requests of the user's, of a template of their
// own, in every status the lists show.
func seedRequestsOf(ctx context.Context, db *sqldb.DB, uid string, n int) error {
	tid, now := purser.NewID(), time.Now().UnixMicro()
	if err := db.WithTx(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO templates (id, name, driver, resource_type, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			tid, "bench "+tid, "sim", "KUBERNETES", "{}", now, now)
		return err
	}); err != nil {
		return err
	}
	statuses := []string{"DEPLOYED", "REQUESTED", "EXPIRED", "DEPLOYED"}
	const batch = 1000
	for i := 0; i < n; i += batch {
		err := db.WithTx(ctx, func(tx sqldb.Tx) error {
			for j := i; j < i+batch && j < n; j++ {
				at := now - int64(n) + int64(j)
				if _, err := tx.Exec(ctx, `INSERT INTO requests (id, description, expires_by, requested_by, resource_type, resource_template,
					resource_parameters, request_type, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					purser.NewID(), fmt.Sprintf("request %d", j), at+86_400_000_000, uid, "KUBERNETES", tid, `{"size":"small"}`, "CREATE", statuses[j%len(statuses)], at, at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// depthResult is the median time of one GET of the request list at a
// depth, and the CPU time the process spent on one.
type depthResult struct {
	page                 int
	offset, cursor       time.Duration
	offsetCPU, cursorCPU time.Duration
}

// runListDepth times GET /provisionRequests (25 per page, newest first)
// at each page, by number (page=) and by cursor (after=, the cursor of the
// row before the page, as the previous page's _links.next carries it).
func runListDepth(ctx context.Context, db *sqldb.DB, pages []int, samples int) []depthResult {
	srv, token := newAPI(ctx, db)
	defer srv.Close()
	hc := &http.Client{Timeout: 30 * time.Second}
	get := func(u string) time.Duration {
		req, _ := http.NewRequest("GET", srv.URL+u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 200 {
			log.Fatalf("GET %s: %v %v", u, err, resp)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	median := func(u string) (time.Duration, time.Duration) {
		get(u) // warm
		ds := make([]time.Duration, samples)
		cpu0 := cpuTime()
		for i := range ds {
			ds[i] = get(u)
		}
		cpu := (cpuTime() - cpu0) / time.Duration(samples)
		slices.Sort(ds)
		return ds[len(ds)/2], cpu
	}
	var out []depthResult
	for _, p := range pages {
		r := depthResult{page: p}
		r.offset, r.offsetCPU = median("/api/v1/provisionRequests?page=" + strconv.Itoa(p))
		if p == 1 {
			r.cursor, r.cursorCPU = median("/api/v1/provisionRequests?total=false")
		} else {
			r.cursor, r.cursorCPU = median("/api/v1/provisionRequests?after=" + cursorAt(ctx, db, (p-1)*25-1))
		}
		out = append(out, r)
	}
	return out
}

// cursorAt is the cursor of the request at offset in the default order
// (newest first): what _links.next of the page ending with it carries.
func cursorAt(ctx context.Context, db *sqldb.DB, offset int) string {
	var at int64
	var id string
	if err := db.Read.QueryRow(ctx, "SELECT created_at, id FROM requests ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?", offset).Scan(&at, &id); err != nil {
		log.Fatal(err)
	}
	b, _ := json.Marshal([]any{at, id})
	return base64.RawURLEncoding.EncodeToString(b)
}
