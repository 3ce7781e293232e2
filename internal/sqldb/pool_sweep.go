package sqldb

import (
	"context"

	"github.com/purserhq/purser"
)

// PoolsToSweep returns the active pools and the whole inventory, for the
// sweep to read each pool's Kubernetes API between the store's calls,
// outside any transaction.
func (s *HostService) PoolsToSweep(ctx context.Context) ([]*purser.Pool, []*purser.Host, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolWrite, ""); err != nil {
		return nil, nil, err
	}
	rows, err := s.db.Read.Query(ctx, "SELECT "+poolSelect+" FROM pools WHERE state = ? ORDER BY name", purser.PoolActive)
	if err != nil {
		return nil, nil, err
	}
	var pools []*purser.Pool
	for rows.Next() {
		r, err := scanPool(rows)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		pools = append(pools, r.domain())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	hosts, err := s.db.hosts(ctx, s.db.Read, "")
	return pools, hosts, err
}

// RecordDrain applies Host.Drained to the host read again (and locked) in
// the transaction; a host that changed meanwhile is left to the next
// sweep.
func (s *HostService) RecordDrain(ctx context.Context, host string, step purser.DrainStep) (bool, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolWrite, ""); err != nil {
		return false, err
	}
	changed := false
	err := s.db.WithTx(ctx, func(tx Tx) error {
		h, err := s.db.findHost(ctx, tx, host, true)
		if err != nil {
			return err
		}
		if h.State != purser.HostDraining {
			return nil
		}
		p, err := s.db.findPool(ctx, tx, h.Pool, false)
		if err != nil && purser.ErrorCode(err) != purser.ENOTFOUND {
			return err
		}
		ch := h.Drained(p, step) // a pool gone: no leave hook to queue
		changed = len(ch.Rows) > 0
		return s.db.commit(ctx, tx, ch)
	})
	if c := purser.ErrorCode(err); c == purser.ECONFLICT || c == purser.ENOTFOUND {
		return false, nil
	}
	return changed, err
}

// AutoscalePool applies Pool.Autoscale (or, without usage, AutoscaleOff)
// to the pool and the inventory read in one transaction: a host that
// joins is taken by no other pool meanwhile (the hosts' versions are
// checked).
func (s *HostService) AutoscalePool(ctx context.Context, pool string, u *purser.PoolUsage, why string, pol purser.ScalePolicy) (bool, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolWrite, ""); err != nil {
		return false, err
	}
	changed := false
	err := s.db.WithTx(ctx, func(tx Tx) error {
		p, err := s.db.findPool(ctx, tx, pool, true)
		if err != nil {
			return err
		}
		var ch purser.Change
		if u == nil {
			ch = p.AutoscaleOff(why, s.db.now())
		} else {
			hosts, err := s.db.inventory(ctx, tx)
			if err != nil {
				return err
			}
			ch = p.Autoscale(hosts, *u, s.db.now(), pol)
		}
		changed = len(ch.Rows) > 0
		return s.db.commit(ctx, tx, ch)
	})
	if c := purser.ErrorCode(err); c == purser.ECONFLICT || c == purser.ENOTFOUND {
		return false, nil
	}
	return changed, err
}
