package sqldb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/purserhq/purser"
)

var _ purser.StackDriftStore = (*StackService)(nil)

// StacksToScan returns the clusters whose current revision is applied.
func (s *StackService) StacksToScan(ctx context.Context) ([]string, error) {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return nil, err
	}
	rows, err := s.db.Read.Query(ctx, `SELECT r.cluster FROM stack_revisions r
		WHERE r.status = ? AND r.number = (SELECT MAX(number) FROM stack_revisions m WHERE m.cluster = r.cluster) ORDER BY r.cluster`,
		purser.RevisionApplied)
	if err != nil {
		return nil, fmt.Errorf("stacks to scan: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ScanDrift runs a drift scan's decision on the cluster's facts and
// commits what it decided, in one transaction that holds the stack.
func (s *StackService) ScanDrift(ctx context.Context, cluster string,
	scan func(c *purser.Cluster, r *purser.StackRevision, prev *purser.DriftState) (*purser.DriftState, purser.Change, error)) error {
	return s.stackWrite(ctx, purser.ActionStackApply, cluster, func(tx Tx, h purser.StackHistory) (purser.Change, error) {
		cur := h.Current()
		if cur == nil || cur.Status != purser.RevisionApplied {
			return purser.Change{}, nil
		}
		r, err := scanCluster(tx.QueryRow(ctx, "SELECT "+clusterSelect+" FROM clusters WHERE name = ?", cluster))
		if err != nil {
			return purser.Change{}, s.db.translate(err, "cluster "+cluster)
		}
		prev, err := s.db.drift(ctx, tx, cluster)
		if purser.ErrorCode(err) == purser.ENOTFOUND {
			prev, err = nil, nil
		}
		if err != nil {
			return purser.Change{}, err
		}
		st, c, err := scan(&r.Cluster, cur, prev)
		if err != nil || st == nil {
			return c, err
		}
		services, _ := json.Marshal(st.Services)
		_, err = tx.Exec(ctx, `INSERT INTO stack_drift (cluster, revision, drifted, services, fingerprint, since, checked_at, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (cluster) DO UPDATE SET revision = excluded.revision, drifted = excluded.drifted, services = excluded.services,
			fingerprint = excluded.fingerprint, since = excluded.since, checked_at = excluded.checked_at, error = excluded.error`,
			cluster, st.Revision, st.Drifted, string(services), st.Fingerprint, microsPtr(st.Since), micros(st.CheckedAt), st.Error)
		if err != nil {
			return c, fmt.Errorf("record drift of %s: %w", cluster, err)
		}
		return c, nil
	})
}

const driftSelect = "cluster, revision, drifted, services, fingerprint, since, checked_at, error"

func scanDrift(r Row) (*purser.DriftState, error) {
	var st purser.DriftState
	var services string
	var since *int64
	var checked int64
	if err := r.Scan(&st.Cluster, &st.Revision, &st.Drifted, &services, &st.Fingerprint, &since, &checked, &st.Error); err != nil {
		return nil, err
	}
	st.CheckedAt = fromMicros(checked)
	if since != nil {
		t := fromMicros(*since)
		st.Since = &t
	}
	return &st, json.Unmarshal([]byte(services), &st.Services)
}

func (db *DB) drift(ctx context.Context, q Querier, cluster string) (*purser.DriftState, error) {
	st, err := scanDrift(q.QueryRow(ctx, "SELECT "+driftSelect+" FROM stack_drift WHERE cluster = ?", cluster))
	if err != nil {
		return nil, db.translate(err, "drift scan of cluster "+cluster)
	}
	return st, nil
}

// Drift returns the last drift scan of the cluster's stack.
func (s *StackService) Drift(ctx context.Context, cluster string) (*purser.DriftState, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, err
	}
	if err := s.db.clusterExists(ctx, s.db.Read, cluster); err != nil {
		return nil, err
	}
	return s.db.drift(ctx, s.db.Read, cluster)
}

// DriftStates returns every cluster's last drift scan.
func (s *StackService) DriftStates(ctx context.Context) ([]purser.DriftState, error) {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return nil, err
	}
	rows, err := s.db.Read.Query(ctx, "SELECT "+driftSelect+" FROM stack_drift ORDER BY cluster")
	if err != nil {
		return nil, fmt.Errorf("drift states: %w", err)
	}
	defer rows.Close()
	var out []purser.DriftState
	for rows.Next() {
		st, err := scanDrift(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, rows.Err()
}

// ReplaceActualServices records what a real target runs: the table the
// sim target keeps, here a snapshot that GET services reads.
func (s *StackService) ReplaceActualServices(ctx context.Context, cluster string, actual []purser.ActualService) error {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return err
	}
	now := micros(s.db.now())
	return s.db.WithTx(ctx, func(tx Tx) error {
		if err := s.db.lockCluster(ctx, tx, cluster); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM stack_services_actual WHERE cluster = ?", cluster); err != nil {
			return err
		}
		for _, a := range actual {
			spec, err := json.Marshal(a.Spec)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO stack_services_actual (cluster, service, spec, running_count, updated_at) VALUES (?, ?, ?, ?, ?)",
				cluster, a.Spec.Name, string(spec), a.RunningCount, now); err != nil {
				return fmt.Errorf("actual service %s: %w", a.Spec.Name, err)
			}
		}
		return nil
	})
}

// ScanStackNow enqueues a drift scan of the cluster.
func (s *StackService) ScanStackNow(ctx context.Context, cluster string) error {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		if err := s.db.clusterExists(ctx, tx, cluster); err != nil {
			return err
		}
		return s.db.commit(ctx, tx, purser.Change{Jobs: []purser.JobArgs{purser.StackDriftArgs{Cluster: cluster, Requested: s.db.now().UnixMicro()}}})
	})
}
