package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testLeases checks replica leases and the rescue of jobs left running by
// a replica whose lease lapsed.
func testLeases(t *testing.T, open Opener) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	const ttl = 15 * time.Second

	t.Run("RenewKeepsStartedAt", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		if err := db.RenewLease(ctx, "a", now, ttl); err != nil {
			t.Fatal(err)
		}
		if err := db.RenewLease(ctx, "a", now.Add(5*time.Second), ttl); err != nil {
			t.Fatal(err)
		}
		var started, renewed, expires int64
		if err := db.Read.QueryRow(ctx, "SELECT started_at, renewed_at, expires_at FROM replica_leases WHERE replica_id = ?", "a").Scan(&started, &renewed, &expires); err != nil {
			t.Fatal(err)
		}
		if started != now.UnixMicro() || renewed != now.Add(5*time.Second).UnixMicro() || expires != now.Add(20*time.Second).UnixMicro() {
			t.Fatalf("lease = started %d renewed %d expires %d", started, renewed, expires)
		}
	})

	t.Run("DatabaseTimeIsNow", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		got, err := db.DatabaseTime(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(got); d < -time.Minute || d > time.Minute {
			t.Fatalf("database time %v is %v away from this machine's", got, d)
		}
	})

	t.Run("OnlyLapsedReplicasJobsRescued", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		mustRenew(t, db, "alive", now, ttl)
		mustRenew(t, db, "lapsed", now.Add(-time.Minute), ttl)
		alive := runningJob(t, db, "alive", 1, 5)
		lapsed := runningJob(t, db, "lapsed", 1, 5)
		absent := runningJob(t, db, "never-leased", 2, 5)
		spent := runningJobArgs(t, db, purser.ProvisionArgs{RequestID: "r-spent"}, "lapsed", 5, 5)
		n, err := db.RescueAbandonedJobs(ctx, now)
		if err != nil || n != 2 {
			t.Fatalf("rescued %d, %v; want 2", n, err)
		}
		wantJob(t, db, alive, "running", 0, "")
		wantJob(t, db, lapsed, "available", 1, "replica lapsed stopped heartbeating")
		wantJob(t, db, absent, "available", 1, "replica never-leased stopped heartbeating")
		// On its last attempt: left for its request to be told, then discarded.
		wantJob(t, db, spent, "running", 0, "")
		last, err := db.AbandonedLastAttempts(ctx, now)
		want := []purser.AbandonedJob{{ID: spent, Kind: "provision", RequestID: "r-spent", Replica: "lapsed"}}
		if err != nil || !reflect.DeepEqual(last, want) {
			t.Fatalf("abandoned last attempts = %+v, %v; want %+v", last, err, want)
		}
		if err := db.DiscardJob(ctx, last[0], now); err != nil {
			t.Fatal(err)
		}
		wantJob(t, db, spent, "discarded", 1, "replica lapsed stopped during the last attempt")
		if last, err := db.AbandonedLastAttempts(ctx, now); err != nil || len(last) != 0 {
			t.Fatalf("after the discard: %+v, %v; want none", last, err)
		}
		if leases := leaseIDs(t, db); len(leases) != 1 || leases[0] != "alive" {
			t.Fatalf("leases after the rescue = %v, want only the live one", leases)
		}
		if n, err := db.RescueAbandonedJobs(ctx, now); err != nil || n != 0 {
			t.Fatalf("second rescue: %d, %v; want nothing left to rescue", n, err)
		}
	})

	t.Run("DeletedLeaseRescuedAtOnce", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		mustRenew(t, db, "stopping", now, ttl)
		id := runningJob(t, db, "stopping", 1, 5)
		if err := db.DeleteLease(ctx, "stopping"); err != nil {
			t.Fatal(err)
		}
		if n, err := db.RescueAbandonedJobs(ctx, now); err != nil || n != 1 {
			t.Fatalf("rescued %d, %v; want 1", n, err)
		}
		wantJob(t, db, id, "available", 1, "replica stopping stopped heartbeating")
	})

	t.Run("ConcurrentRescuersRescueOnce", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		var ids []int64
		for range 30 {
			ids = append(ids, runningJob(t, db, "dead", 1, 5))
		}
		var wg sync.WaitGroup
		counts := make([]int, 4)
		for i := range counts {
			wg.Go(func() {
				n, err := db.RescueAbandonedJobs(ctx, now)
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		if sum := counts[0] + counts[1] + counts[2] + counts[3]; sum != len(ids) {
			t.Fatalf("rescuers rescued %v jobs, %d in all; want %d", counts, sum, len(ids))
		}
		for _, id := range ids {
			wantJob(t, db, id, "available", 1, "replica dead stopped heartbeating")
		}
	})

	t.Run("RescuedProvisionRunsAgain", func(t *testing.T) {
		t.Parallel()
		testProvisionRerun(t, open)
	})

	t.Run("StartUpRescuesEveryOtherReplica", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		mustRenew(t, db, "previous-run", now, ttl) // killed a moment ago: its lease still runs
		mustRenew(t, db, "me", now, ttl)
		old := runningJob(t, db, "previous-run", 1, 5)
		mine := runningJob(t, db, "me", 1, 5)
		spent := runningJobArgs(t, db, purser.PurgeArgs{RequestID: "r-spent"}, "previous-run", 5, 5)
		if n, err := db.RescueJobsExcept(ctx, "me", now); err != nil || n != 1 {
			t.Fatalf("rescued %d, %v; want 1", n, err)
		}
		last, err := db.LastAttemptsExcept(ctx, "me")
		if err != nil || len(last) != 1 || last[0].ID != spent || last[0].Kind != "purge" || last[0].RequestID != "r-spent" {
			t.Fatalf("last attempts of the previous run = %+v, %v; want the purge of r-spent", last, err)
		}
		wantJob(t, db, old, "available", 1, "replica previous-run stopped heartbeating")
		wantJob(t, db, mine, "running", 0, "")
		if leases := leaseIDs(t, db); len(leases) != 1 || leases[0] != "me" {
			t.Fatalf("leases after start-up = %v, want only mine", leases)
		}
	})
}

// testProvisionRerun: a provision job rescued from a dead replica finds its
// request INITIATED (the dead run started it) and runs the driver again;
// once DEPLOYED, a late duplicate run does nothing.
func testProvisionRerun(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	simTemplate(t, db)
	devCtx, _ := as(t, db, "dev", purser.RoleDev)
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	reqs := sqldb.NewRequestService(db)
	r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "small"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.ActOnRequest(opsCtx, r.ID, purser.ActApprove, purser.Review{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for run := 1; run <= 2; run++ { // the dead replica's run, then the rescued one
		got, proceed, err := reqs.StartProvision(ctx, r.ID)
		if err != nil || !proceed || got.Status != purser.StatusInitiated {
			t.Fatalf("run %d: StartProvision = %v, proceed %v, %v; want INITIATED and proceed", run, got, proceed, err)
		}
	}
	if _, err := reqs.FinishProvision(ctx, purser.ProvisionResult{RequestID: r.ID, Outputs: map[string]string{"endpoint": "x"}}); err != nil {
		t.Fatal(err)
	}
	got, proceed, err := reqs.StartProvision(ctx, r.ID)
	if err != nil || proceed || got.Status != purser.StatusDeployed {
		t.Fatalf("after DEPLOYED: StartProvision = %v, proceed %v, %v; want DEPLOYED and no run", got, proceed, err)
	}
}

func mustRenew(t *testing.T, db *sqldb.DB, replica string, now time.Time, ttl time.Duration) {
	t.Helper()
	if err := db.RenewLease(context.Background(), replica, now, ttl); err != nil {
		t.Fatal(err)
	}
}

// runningJob inserts a job and marks it running on replica at its
// attempt-th attempt of maxAttempts, as River's fetch would.
func runningJob(t *testing.T, db *sqldb.DB, replica string, attempt, maxAttempts int) int64 {
	t.Helper()
	return runningJobArgs(t, db, probeArgs{Note: replica}, replica, attempt, maxAttempts)
}

// runningJobArgs is runningJob for a job of args.
func runningJobArgs(t *testing.T, db *sqldb.DB, args river.JobArgs, replica string, attempt, maxAttempts int) int64 {
	t.Helper()
	ctx := context.Background()
	set := "attempted_at = datetime('now', 'subsec'), attempted_by = jsonb(json_array(?))"
	if db.Name == "postgres" {
		set = "attempted_at = now(), attempted_by = ARRAY[CAST(? AS text)]"
	}
	var id int64
	err := db.WithTx(ctx, func(tx sqldb.Tx) error {
		if err := db.InsertJob(ctx, tx, args, nil); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT MAX(id) FROM river_job").Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE river_job SET state = 'running', attempt = ?, max_attempts = ?, "+set+" WHERE id = ?",
			attempt, maxAttempts, replica, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// wantJob checks a job's state, how many errors it records and the last one.
func wantJob(t *testing.T, db *sqldb.DB, id int64, state string, errs int, lastErr string) {
	t.Helper()
	q := "SELECT state, COALESCE(json_array_length(errors), 0), COALESCE(json_extract(errors, '$[#-1].error'), ''), scheduled_at <= datetime('now', 'subsec') FROM river_job WHERE id = ?"
	if db.Name == "postgres" {
		q = "SELECT state::text, COALESCE(array_length(errors, 1), 0), COALESCE(errors[array_length(errors, 1)]->>'error', ''), scheduled_at <= now() FROM river_job WHERE id = ?"
	}
	var gotState, gotErr string
	var n int
	var due bool
	if err := db.Read.QueryRow(context.Background(), q, id).Scan(&gotState, &n, &gotErr, &due); err != nil {
		t.Fatal(err)
	}
	if gotState != state || n != errs || gotErr != lastErr {
		t.Fatalf("job %d: state %q, %d errors, last %q; want %q, %d, %q", id, gotState, n, gotErr, state, errs, lastErr)
	}
	if state == "available" && !due {
		t.Fatalf("job %d is available but not due yet: a rescued job must run at once", id)
	}
}

func leaseIDs(t *testing.T, db *sqldb.DB) []string {
	t.Helper()
	rows, err := db.Read.Query(context.Background(), "SELECT replica_id FROM replica_leases ORDER BY replica_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}
