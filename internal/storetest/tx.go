package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testTxPanic: a panic inside a transaction rolls it back and hands its
// connection back, so that a handler's panic cannot, repeated, starve the
// pool (PostgreSQL) or the single writer (SQLite).
func testTxPanic(t *testing.T, open Opener) {
	db := open(t)
	// Past the PostgreSQL pool's size (16, or 4 per CPU) and SQLite's one writer.
	n := 40
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var pids []int64
	for i := range n {
		var insertErr error
		r := recovered(func() {
			_ = db.WithTx(ctx, func(tx sqldb.Tx) error {
				if _, insertErr = tx.Exec(ctx, "INSERT INTO roles (role, description, created_at, updated_at) VALUES (?, '', 0, 0)", "panic-"+purser.NewID()); insertErr != nil {
					return insertErr
				}
				if db.Name == "postgres" {
					var pid int64
					if insertErr = tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); insertErr != nil {
						return insertErr
					}
					pids = append(pids, pid)
				}
				panic("boom")
			})
		})
		if insertErr != nil || r != "boom" {
			t.Fatalf("transaction %d: recovered %v (error %v), want fn's panic", i, r, insertErr)
		}
	}
	for i := range n {
		// A leaked transaction would make Begin wait until ctx's deadline.
		err := db.WithTx(ctx, func(tx sqldb.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO roles (role, description, created_at, updated_at) VALUES (?, '', 0, 0)", "ok-"+purser.NewID())
			return err
		})
		if err != nil {
			t.Fatalf("transaction %d after %d panicking ones: %v", i, n, err)
		}
	}
	// An error rolls back too: nothing of the failed transactions stays.
	failed := errors.New("failed")
	if err := db.WithTx(ctx, func(tx sqldb.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO roles (role, description, created_at, updated_at) VALUES ('rolled-back', '', 0, 0)"); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("WithTx = %v, want fn's error", err)
	}
	var panicked, rolledBack int
	if err := db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM roles WHERE role LIKE 'panic-%'").Scan(&panicked); err != nil {
		t.Fatal(err)
	}
	if err := db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM roles WHERE role = 'rolled-back'").Scan(&rolledBack); err != nil {
		t.Fatal(err)
	}
	if panicked != 0 || rolledBack != 0 {
		t.Fatalf("%d rows of panicking and %d of failed transactions were kept", panicked, rolledBack)
	}
	if db.Name == "postgres" {
		var idle int
		err := db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY(?) AND state LIKE 'idle in transaction%'", pids).Scan(&idle)
		if err != nil {
			t.Fatal(err)
		}
		if idle != 0 {
			t.Fatalf("%d connections are idle in transaction after panics", idle)
		}
	}
}

// recovered runs f and returns what it panicked with, or nil.
func recovered(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}
