package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// runCreate creates users one after another for d through the API, then
// for d with bare INSERTs (user and role row in one transaction), and
// returns both rates and the CPU time the process spent on each create.
func runCreate(ctx context.Context, db *sqldb.DB, d time.Duration) result {
	full, token := newAPI(ctx, db)
	defer full.Close()
	hc := &http.Client{Timeout: 10 * time.Second}
	n := 0
	cpu0 := cpuTime()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		body := fmt.Sprintf(`{"username":"api%07d","email":"api%d@example.com","roles":["dev"]}`, n, n)
		req, _ := http.NewRequest("POST", full.URL+"/api/v1/users", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 201 {
			log.Fatalf("create through the API: %v %v", err, resp)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		n++
	}
	p := float64(n) / d.Seconds()
	pcpu := (cpuTime() - cpu0) / time.Duration(max(n, 1))

	n = 0
	cpu0 = cpuTime()
	deadline = time.Now().Add(d)
	for time.Now().Before(deadline) {
		err := db.WithTx(ctx, func(tx sqldb.Tx) error {
			id, now := purser.NewID(), time.Now().UnixMicro()
			if _, err := tx.Exec(ctx, "INSERT INTO users (id, username, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
				id, fmt.Sprintf("raw%07d", n), fmt.Sprintf("raw%d@example.com", n), now, now); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", id, "dev")
			return err
		})
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	return result{purser: p, baseline: float64(n) / d.Seconds(), purserCPU: pcpu, baselineCPU: (cpuTime() - cpu0) / time.Duration(max(n, 1))}
}
