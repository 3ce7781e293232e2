package sqldb

import (
	"context"
	"fmt"

	"github.com/purserhq/purser"
)

var _ purser.PoolHealthStore = (*HostService)(nil)

// toAdmins returns msg addressed to every active admin.
func (db *DB) toAdmins(ctx context.Context, q Querier, msg purser.Message) ([]purser.Message, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id
		WHERE u.is_active = ? AND ur.role = ? ORDER BY u.id`, true, purser.RoleAdmin)
	if err != nil {
		return nil, fmt.Errorf("admins: %w", err)
	}
	defer rows.Close()
	var out []purser.Message
	for rows.Next() {
		m := msg
		if err := rows.Scan(&m.User); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CheckHostHealth applies Host.Health to every watched host, each in its
// own transaction on the host read again there, so that a heartbeat
// landing meanwhile wins.
func (s *HostService) CheckHostHealth(ctx context.Context, p purser.HealthPolicy) (int, error) {
	if err := purser.Authorize(ctx, purser.ActionHostWrite, ""); err != nil {
		return 0, err
	}
	hosts, err := s.db.hosts(ctx, s.db.Read, "state NOT IN (?, ?)", purser.HostMaintenance, purser.HostRetired)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hosts {
		if _, ch := h.Health(s.db.now(), p); len(ch.Rows) == 0 {
			continue
		}
		// Decide again on the host read (and locked) in the transaction:
		// a heartbeat that landed since the list must win.
		changed := false
		err := s.db.WithTx(ctx, func(tx Tx) error {
			fresh, err := s.db.findHost(ctx, tx, h.Name, true)
			if err != nil {
				return err
			}
			_, ch := fresh.Health(s.db.now(), p)
			changed = len(ch.Rows) > 0
			return s.db.commit(ctx, tx, ch)
		})
		if c := purser.ErrorCode(err); c == purser.ECONFLICT || c == purser.ENOTFOUND || err == nil && !changed {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// HealPools applies Pool.Heal to every active pool, each in its own
// transaction over the whole inventory (a replacement takes a host no
// other pool may take meanwhile: the hosts' versions are checked).
func (s *HostService) HealPools(ctx context.Context) (int, error) {
	return s.eachPool(ctx, func(p *purser.Pool, hosts []*purser.Host) purser.Change { return p.Heal(hosts, s.db.now()) })
}

func (s *HostService) eachPool(ctx context.Context, decide func(p *purser.Pool, hosts []*purser.Host) purser.Change) (int, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolWrite, ""); err != nil {
		return 0, err
	}
	rows, err := s.db.Read.Query(ctx, "SELECT name FROM pools WHERE state = ? ORDER BY name", purser.PoolActive)
	if err != nil {
		return 0, fmt.Errorf("list pools: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return 0, err
		}
		names = append(names, n)
	}
	rows.Close()
	n := 0
	for _, name := range names {
		err := s.db.WithTx(ctx, func(tx Tx) error {
			p, err := s.db.findPool(ctx, tx, name, true)
			if err != nil {
				return err
			}
			hosts, err := s.db.inventory(ctx, tx)
			if err != nil {
				return err
			}
			ch := decide(p, hosts)
			if len(ch.Rows) > 0 {
				n++
			}
			return s.db.commit(ctx, tx, ch)
		})
		if c := purser.ErrorCode(err); c == purser.ECONFLICT || c == purser.ENOTFOUND {
			continue
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// FinishDrains releases every DRAINING host. Until a pool's Kubernetes
// API evicts its pods (issue 14, item 4), a drain has nothing to wait
// for: the next sweep ends it.
func (s *HostService) FinishDrains(ctx context.Context) (int, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolWrite, ""); err != nil {
		return 0, err
	}
	hosts, err := s.db.hosts(ctx, s.db.Read, "state = ?", purser.HostDraining)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hosts {
		err := s.db.WithTx(ctx, func(tx Tx) error {
			p, err := s.db.findPool(ctx, tx, h.Pool, false)
			if err != nil && purser.ErrorCode(err) != purser.ENOTFOUND {
				return err
			}
			return s.db.commit(ctx, tx, h.FinishDrain(p, "drained out of pool "+h.Pool))
		})
		if purser.ErrorCode(err) == purser.ECONFLICT {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
