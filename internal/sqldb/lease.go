package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/purserhq/purser"
)

// A replica's lease says it is alive: a row in replica_leases, keyed by the
// River client ID that River records in river_job.attempted_by on every job
// the replica works. A running job whose last attempted_by has no lease
// alive belongs to a replica that died (kill -9, a lost machine): it is
// rescued at once, instead of after River's rescue_after (15 min).

// rescueBatch bounds the jobs rescued in one transaction.
const rescueBatch = 100

// DatabaseTime returns the database server's clock: the one clock every
// replica of a PostgreSQL database shares, so that a replica whose own
// clock is off does not take the others for dead. SQLite has a single
// process: its clock is this one.
func (db *DB) DatabaseTime(ctx context.Context) (time.Time, error) {
	if db.Name != "postgres" {
		return time.Now(), nil
	}
	var us int64
	if err := db.Read.QueryRow(ctx, "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)").Scan(&us); err != nil {
		return time.Time{}, fmt.Errorf("database time: %w", err)
	}
	return time.UnixMicro(us), nil
}

// RenewLease records that replica is alive until now+ttl, creating its
// lease on the first call.
func (db *DB) RenewLease(ctx context.Context, replica string, now time.Time, ttl time.Duration) error {
	return db.WithTx(ctx, func(tx Tx) error {
		n := micros(now)
		_, err := tx.Exec(ctx, `INSERT INTO replica_leases (replica_id, started_at, renewed_at, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (replica_id) DO UPDATE SET renewed_at = excluded.renewed_at, expires_at = excluded.expires_at`,
			replica, n, n, micros(now.Add(ttl)))
		if err != nil {
			return fmt.Errorf("renew lease of %s: %w", replica, err)
		}
		return nil
	})
}

// DeleteLease ends replica's lease (a graceful stop): any job it left
// running is rescued at the next rescue.
func (db *DB) DeleteLease(ctx context.Context, replica string) error {
	return db.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM replica_leases WHERE replica_id = ?", replica); err != nil {
			return fmt.Errorf("delete lease of %s: %w", replica, err)
		}
		return nil
	})
}

// RescueAbandonedJobs makes every running job whose replica has no lease
// alive at now retryable at once, and deletes the lapsed leases. It returns
// how many jobs it rescued. Several replicas may run it at once: a job is
// rescued once.
func (db *DB) RescueAbandonedJobs(ctx context.Context, now time.Time) (int, error) {
	cond := "NOT EXISTS (SELECT 1 FROM replica_leases l WHERE l.replica_id = " + db.lastAttemptedBy() + " AND l.expires_at > ?)"
	n, err := db.rescueJobs(ctx, now, cond, micros(now))
	if err != nil {
		return n, err
	}
	return n, db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM replica_leases WHERE expires_at <= ?", micros(now))
		return err
	})
}

// RescueJobsExcept makes every running job not attempted by replica
// retryable at once, and deletes every other lease. Only a process that
// knows it is the database's sole server may call it: a SQLite process at
// start-up, whose previous run's jobs were left running by a crash.
func (db *DB) RescueJobsExcept(ctx context.Context, replica string, now time.Time) (int, error) {
	n, err := db.rescueJobs(ctx, now, "COALESCE("+db.lastAttemptedBy()+", '') <> ?", replica)
	if err != nil {
		return n, err
	}
	return n, db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM replica_leases WHERE replica_id <> ?", replica)
		return err
	})
}

// rescueJobs rescues the running jobs that match cond and have attempts
// left, a batch per transaction, as River's JobRescuer would: available
// now, with an attempt error naming the replica. River's JobRetry cannot
// do it: it leaves running jobs alone. Jobs on their last attempt are left
// to AbandonedLastAttempts: their request must be told before they go.
func (db *DB) rescueJobs(ctx context.Context, now time.Time, cond string, args ...any) (int, error) {
	sel := "SELECT id, attempt, max_attempts, " + db.lastAttemptedBy() + " FROM river_job WHERE state = 'running' AND attempt < max_attempts AND " + cond + " ORDER BY id LIMIT ?"
	upd := "UPDATE river_job SET state = ?, scheduled_at = ?, finalized_at = ?, errors = " + db.appendJobError() + " WHERE id = ? AND state = 'running'"
	if db.Name == "postgres" {
		// Skip what another replica's rescuer holds; state is an enum there.
		sel += " FOR UPDATE SKIP LOCKED"
		upd = "UPDATE river_job SET state = CAST(? AS text)::river_job_state, scheduled_at = ?, finalized_at = ?, errors = " + db.appendJobError() + " WHERE id = ? AND state = 'running'"
	}
	total := 0
	for {
		n := 0
		err := db.WithTx(ctx, func(tx Tx) error {
			type stuck struct {
				id                   int64
				attempt, maxAttempts int
				replica              *string
			}
			var jobs []stuck
			rows, err := tx.Query(ctx, sel, append(args, rescueBatch)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var j stuck
				if err := rows.Scan(&j.id, &j.attempt, &j.maxAttempts, &j.replica); err != nil {
					rows.Close()
					return err
				}
				jobs = append(jobs, j)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			n = len(jobs)
			for _, j := range jobs {
				who := "(none)"
				if j.replica != nil {
					who = *j.replica
				}
				e, err := json.Marshal(rivertype.AttemptError{At: now.UTC(), Attempt: max(j.attempt, 0),
					Error: "replica " + who + " stopped heartbeating"})
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, upd, "available", db.riverTime(now), nil, string(e), j.id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("rescue jobs: %w", err)
		}
		total += n
		if n < rescueBatch {
			return total, nil
		}
	}
}

// AbandonedLastAttempts returns the running jobs on their last attempt
// whose replica has no lease alive at now. Nothing retries them, so the
// caller records their failure on their request, then discards them
// (DiscardJob): otherwise the request would wait in INITIATED or
// PURGE_INITIATED for ever.
func (db *DB) AbandonedLastAttempts(ctx context.Context, now time.Time) ([]purser.AbandonedJob, error) {
	return db.lastAttempts(ctx, "NOT EXISTS (SELECT 1 FROM replica_leases l WHERE l.replica_id = "+db.lastAttemptedBy()+" AND l.expires_at > ?)", micros(now))
}

// LastAttemptsExcept returns the running jobs on their last attempt not
// attempted by replica: for a process that knows it is the database's only
// server (SQLite at start-up), as RescueJobsExcept.
func (db *DB) LastAttemptsExcept(ctx context.Context, replica string) ([]purser.AbandonedJob, error) {
	return db.lastAttempts(ctx, "COALESCE("+db.lastAttemptedBy()+", '') <> ?", replica)
}

func (db *DB) lastAttempts(ctx context.Context, cond string, args ...any) ([]purser.AbandonedJob, error) {
	argsCol := "json(args)" // River keeps SQLite's args as JSONB, a binary form
	if db.Name == "postgres" {
		argsCol = "args"
	}
	rows, err := db.Read.Query(ctx, "SELECT id, kind, "+argsCol+", "+db.lastAttemptedBy()+
		" FROM river_job WHERE state = 'running' AND attempt >= max_attempts AND "+cond+" ORDER BY id LIMIT ?", append(args, rescueBatch)...)
	if err != nil {
		return nil, fmt.Errorf("abandoned last attempts: %w", err)
	}
	defer rows.Close()
	var jobs []purser.AbandonedJob
	for rows.Next() {
		var (
			j       purser.AbandonedJob
			args    []byte
			replica *string
		)
		if err := rows.Scan(&j.ID, &j.Kind, &args, &replica); err != nil {
			return nil, fmt.Errorf("abandoned last attempts: %w", err)
		}
		var a struct {
			RequestID string `json:"request_id"`
		}
		_ = json.Unmarshal(args, &a) // jobs of other kinds name no request
		j.RequestID = a.RequestID
		if replica != nil {
			j.Replica = *replica
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// DiscardJob finishes an abandoned job on its last attempt as River's
// rescuer would: discarded, with an attempt error naming its replica. A
// job no longer running (another replica got there first) is left alone.
func (db *DB) DiscardJob(ctx context.Context, job purser.AbandonedJob, now time.Time) error {
	upd := "UPDATE river_job SET state = ?, finalized_at = ?, errors = " + db.appendJobError() + " WHERE id = ? AND state = 'running'"
	if db.Name == "postgres" {
		upd = "UPDATE river_job SET state = CAST(? AS text)::river_job_state, finalized_at = ?, errors = " + db.appendJobError() + " WHERE id = ? AND state = 'running'"
	}
	e, err := json.Marshal(rivertype.AttemptError{At: now.UTC(), Error: "replica " + job.Replica + " stopped during the last attempt"})
	if err != nil {
		return err
	}
	return db.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, upd, "discarded", db.riverTime(now), string(e), job.ID); err != nil {
			return fmt.Errorf("discard job %d: %w", job.ID, err)
		}
		return nil
	})
}

// lastAttemptedBy is the SQL for the replica working a job: the last of
// river_job.attempted_by, a text[] on PostgreSQL and a JSON array on SQLite.
func (db *DB) lastAttemptedBy() string {
	if db.Name == "postgres" {
		return "river_job.attempted_by[array_length(river_job.attempted_by, 1)]"
	}
	return "json_extract(river_job.attempted_by, '$[#-1]')"
}

// appendJobError is the SQL that appends the JSON parameter to a job's
// errors, a jsonb[] on PostgreSQL and a JSON array on SQLite.
func (db *DB) appendJobError() string {
	if db.Name == "postgres" {
		return "array_append(errors, CAST(? AS jsonb))"
	}
	return "jsonb(json_insert(json(COALESCE(errors, jsonb('[]'))), '$[#]', json(?)))"
}

// riverTime is t as River stores it: a timestamptz on PostgreSQL, on
// SQLite text in the one format its comparisons work with.
func (db *DB) riverTime(t time.Time) any {
	if db.Name == "postgres" {
		return t.UTC()
	}
	return t.UTC().Round(time.Millisecond).Format("2006-01-02 15:04:05.000")
}
