package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

type probeArgs struct{ Note string }

func (probeArgs) Kind() string { return "storetest_probe" }

func testJobs(t *testing.T, open Opener) {
	db := open(t)
	ctx, _ := admin(t, db)
	count := func() int {
		var n int
		if err := db.Read.QueryRow(context.Background(), "SELECT COUNT(*) FROM river_job WHERE kind = ?", "storetest_probe").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	users := func() int {
		_, n, err := sqldb.NewUserService(db).FindUsers(ctx, purser.Query{Page: 1, MaxResults: 1})
		if err != nil {
			t.Fatal(err)
		}
		return n.Total
	}
	insert := func(tx sqldb.Tx, username string) error {
		now := time.Now().UnixMicro()
		if _, err := tx.Exec(ctx, "INSERT INTO users (id, username, created_at, updated_at) VALUES (?, ?, ?, ?)", purser.NewID(), username, now, now); err != nil {
			return err
		}
		return db.InsertJob(ctx, tx, probeArgs{Note: username}, nil)
	}
	t.Run("RolledBackLeavesNoJob", func(t *testing.T) {
		boom := errors.New("boom")
		err := db.WithTx(ctx, func(tx sqldb.Tx) error {
			if err := insert(tx, "ghost"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if n, u := count(), users(); n != 0 || u != 1 {
			t.Fatalf("after rollback: %d jobs, %d users; want 0 and 1", n, u)
		}
	})
	t.Run("CommittedKeepsBoth", func(t *testing.T) {
		if err := db.WithTx(ctx, func(tx sqldb.Tx) error { return insert(tx, "real") }); err != nil {
			t.Fatal(err)
		}
		if n, u := count(), users(); n != 1 || u != 2 {
			t.Fatalf("after commit: %d jobs, %d users; want 1 and 2", n, u)
		}
	})
}
