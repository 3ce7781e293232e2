package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
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
		rows, err := db.Read.Query(ctx, "SELECT u.id, u.username, u.name, u.email, u.is_active FROM users u WHERE u.is_active = ? AND u.username >= ? ORDER BY u.username DESC, u.id LIMIT 50 OFFSET ?",
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

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// load sends GETs from clients goroutines for d and returns requests per second.
func load(base, token string, d time.Duration, clients int) float64 {
	var done atomic.Int64
	var failed atomic.Int64
	deadline := time.Now().Add(d)
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				page := 1 + (c*31+i)%100
				u := base + "?where=" + url.QueryEscape(listWhere) + "&sort=-username&max_results=50&page=" + strconv.Itoa(page)
				req, _ := http.NewRequest("GET", u, nil)
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
	return float64(done.Load()) / d.Seconds()
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
	var b, p float64
	for range rounds {
		b += load(bare.URL+"/api/v1/users", "", d/rounds, clients)
		p += load(full.URL+"/api/v1/users", token, d/rounds, clients)
	}
	return result{purser: p / rounds, baseline: b / rounds}
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
