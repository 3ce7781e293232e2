package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// ActualServices returns what the sim target runs on a cluster.
func (s *StackService) ActualServices(ctx context.Context, cluster string) ([]purser.ActualService, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, err
	}
	if err := s.db.clusterExists(ctx, s.db.Read, cluster); err != nil {
		return nil, err
	}
	return s.db.actualServices(ctx, cluster)
}

// actualServices reads what the sim target runs on the cluster.
func (db *DB) actualServices(ctx context.Context, cluster string) ([]purser.ActualService, error) {
	rows, err := db.Read.Query(ctx, "SELECT spec, running_count FROM stack_services_actual WHERE cluster = ? ORDER BY service", cluster)
	if err != nil {
		return nil, fmt.Errorf("actual services of %s: %w", cluster, err)
	}
	defer rows.Close()
	out := []purser.ActualService{}
	for rows.Next() {
		var spec string
		var a purser.ActualService
		if err := rows.Scan(&spec, &a.RunningCount); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(spec), &a.Spec); err != nil {
			return nil, fmt.Errorf("actual service of %s: %w", cluster, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// StackState reads the current revision (its normalised stackfile only)
// and the actual services, for GET services: the cluster is looked up only
// when it has no revision, to tell the two 404s apart.
func (s *StackService) StackState(ctx context.Context, cluster string) (*purser.StackRevision, []purser.ActualService, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, nil, err
	}
	var r purser.StackRevision
	var normalized string
	var created int64
	err := s.db.Read.QueryRow(ctx, `SELECT cluster, number, author, message, status, rollback_of, blocked_by, reason, created_at, normalized
		FROM stack_revisions WHERE cluster = ? ORDER BY number DESC LIMIT 1`, cluster).Scan(
		&r.Cluster, &r.Number, &r.Author, &r.Message, &r.Status, &r.RollbackOf, &r.BlockedBy, &r.Reason, &created, &normalized)
	if err != nil {
		if err := s.db.clusterExists(ctx, s.db.Read, cluster); err != nil {
			return nil, nil, err
		}
		return nil, nil, noStack(err, cluster)
	}
	r.Created, r.Normalized = fromMicros(created), &purser.Stackfile{}
	if err := json.Unmarshal([]byte(normalized), r.Normalized); err != nil {
		return nil, nil, fmt.Errorf("revision %d of %s: %w", r.Number, cluster, err)
	}
	actual, err := s.db.actualServices(ctx, cluster)
	return &r, actual, err
}

// SetActualService records what the sim target runs for one service, or
// that it runs nothing (actual nil). It is the target's state, written on
// every reconcile, so it is not audited: the revision it applies is.
func (s *StackService) SetActualService(ctx context.Context, cluster, service string, actual *purser.ActualService) error {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		if err := s.db.lockCluster(ctx, tx, cluster); err != nil {
			return err
		}
		if actual == nil {
			_, err := tx.Exec(ctx, "DELETE FROM stack_services_actual WHERE cluster = ? AND service = ?", cluster, service)
			return err
		}
		a := *actual
		a.Spec.Name = service
		spec, err := json.Marshal(a.Spec)
		if err != nil {
			return fmt.Errorf("actual service %s: %w", service, err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO stack_services_actual (cluster, service, spec, running_count, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (cluster, service) DO UPDATE SET spec = excluded.spec, running_count = excluded.running_count, updated_at = excluded.updated_at`,
			cluster, service, string(spec), a.RunningCount, micros(s.db.now()))
		return err
	})
}

// secretNames returns the names of a cluster's secrets.
func (db *DB) secretNames(ctx context.Context, q Querier, cluster string) (map[string]bool, error) {
	rows, err := q.Query(ctx, "SELECT name FROM cluster_secrets WHERE cluster = ?", cluster)
	if err != nil {
		return nil, fmt.Errorf("secrets of %s: %w", cluster, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		have[n] = true
	}
	return have, rows.Err()
}

// SetSecret creates or replaces a cluster secret, sealed, and says
// whether it created it. The audit event names the secret, never its
// value.
func (s *StackService) SetSecret(ctx context.Context, cluster, name, value string) (created bool, err error) {
	if err := purser.Authorize(ctx, purser.ActionStackWrite, ""); err != nil {
		return false, err
	}
	if err := purser.ValidateSecret(name, value); err != nil {
		return false, err
	}
	err = s.db.WithTx(ctx, func(tx Tx) error {
		if err := s.db.lockCluster(ctx, tx, cluster); err != nil {
			return err
		}
		now := micros(s.db.now())
		n, err := tx.Exec(ctx, "UPDATE cluster_secrets SET value = ?, updated_at = ? WHERE cluster = ? AND name = ?",
			s.db.Sealer.Seal(value), now, cluster, name)
		if err != nil {
			return fmt.Errorf("set secret %s: %w", name, err)
		}
		created = n == 0
		if created {
			_, err = tx.Exec(ctx, "INSERT INTO cluster_secrets (cluster, name, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
				cluster, name, s.db.Sealer.Seal(value), now, now)
			if err != nil {
				return fmt.Errorf("set secret %s: %w", name, err)
			}
		}
		return s.db.audit(ctx, tx, "cluster_secret.set", "cluster", cluster, nil, map[string]any{"name": name, "created": created}, "")
	})
	return created && err == nil, err
}

// DeleteSecret removes a cluster secret the current revision does not
// refer to.
func (s *StackService) DeleteSecret(ctx context.Context, cluster, name string) error {
	if err := purser.Authorize(ctx, purser.ActionStackWrite, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		if err := s.db.lockCluster(ctx, tx, cluster); err != nil {
			return err
		}
		h, err := s.db.stackHistory(ctx, tx, cluster)
		if err != nil {
			return err
		}
		if err := purser.CheckSecretUnused(h.Current(), name); err != nil {
			return err
		}
		n, err := tx.Exec(ctx, "DELETE FROM cluster_secrets WHERE cluster = ? AND name = ?", cluster, name)
		if err != nil {
			return fmt.Errorf("delete secret %s: %w", name, err)
		}
		if n == 0 {
			return purser.Errorf(purser.ENOTFOUND, "cluster %s has no secret %s", cluster, name)
		}
		return s.db.audit(ctx, tx, "cluster_secret.delete", "cluster", cluster, map[string]any{"name": name}, nil, "")
	})
}

// Secrets lists a cluster's secrets, without their values.
func (s *StackService) Secrets(ctx context.Context, cluster string) ([]purser.ClusterSecret, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, err
	}
	if err := s.db.clusterExists(ctx, s.db.Read, cluster); err != nil {
		return nil, err
	}
	rows, err := s.db.Read.Query(ctx, "SELECT name, created_at, updated_at FROM cluster_secrets WHERE cluster = ? ORDER BY name", cluster)
	if err != nil {
		return nil, fmt.Errorf("secrets of %s: %w", cluster, err)
	}
	defer rows.Close()
	out := []purser.ClusterSecret{}
	for rows.Next() {
		sec := purser.ClusterSecret{Cluster: cluster}
		var created, updated int64
		if err := rows.Scan(&sec.Name, &created, &updated); err != nil {
			return nil, err
		}
		sec.Created, sec.Updated = fromMicros(created), fromMicros(updated)
		out = append(out, sec)
	}
	return out, rows.Err()
}

// ResolveSecrets opens the named secrets of a cluster, for the reconciler
// to apply a revision.
func (s *StackService) ResolveSecrets(ctx context.Context, cluster string, names []string) (map[string]string, error) {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return nil, err
	}
	out := map[string]string{}
	if len(names) == 0 {
		return out, nil
	}
	query, args, err := builder.Select("name", "value").From("cluster_secrets").Where(sq.Eq{"cluster": cluster, "name": names}).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Read.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("resolve secrets of %s: %w", cluster, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, sealed string
		if err := rows.Scan(&name, &sealed); err != nil {
			return nil, err
		}
		v, err := s.db.Sealer.Open(sealed)
		if err != nil {
			return nil, fmt.Errorf("secret %s of %s: %w", name, cluster, err)
		}
		out[name] = v
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range names {
		if _, ok := out[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, purser.Errorf(purser.ENOTFOUND, "cluster %s has no secret %s", cluster, strings.Join(missing, ", "))
	}
	return out, nil
}
