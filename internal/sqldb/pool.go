package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/purserhq/purser"
)

// PoolService implements purser.PoolService: it loads the pool and the
// inventory, calls the domain's decision and commits the Change.
type PoolService struct{ db *DB }

// NewPoolService returns the pool service over db.
func NewPoolService(db *DB) *PoolService { return &PoolService{db: db} }

var _ purser.PoolService = (*PoolService)(nil)

var poolColumns = columns{plain: map[string]string{
	"_id": "id", "name": "name", "state": "state", "cores": "cores", "memory": "memory", "_created": "created_at",
},
	fields: purser.PoolFields,
	unique: []string{"_id", "name"},
}

const poolSelect = "id, name, cores, memory, spares, selector, min_hosts, max_hosts, cluster, hooks, state, status, scale_status, halted, last_scale_up, low_since, high_since, version, created_at, updated_at"

type poolRow struct {
	purser.Pool
	selector, hooks    string
	scaleUp, low, high *int64
	created, updated   int64
}

func scanPool(row Row) (*poolRow, error) {
	var r poolRow
	err := row.Scan(&r.ID, &r.Name, &r.Cores, &r.Memory, &r.Spares, &r.selector, &r.MinHosts, &r.MaxHosts, &r.Cluster, &r.hooks, &r.State, &r.Status, &r.ScaleStatus,
		&r.Halted, &r.scaleUp, &r.low, &r.high, &r.Version, &r.created, &r.updated)
	return &r, err
}

func (r *poolRow) domain() *purser.Pool {
	p := r.Pool
	_ = json.Unmarshal([]byte(r.selector), &p.Selector)
	p.Hooks = decodeHooks(r.hooks)
	p.LastScaleUp, p.LowSince, p.HighSince = fromMicrosPtr(r.scaleUp), fromMicrosPtr(r.low), fromMicrosPtr(r.high)
	p.Created, p.Updated = fromMicros(r.created), fromMicros(r.updated)
	return &p
}

func (db *DB) findPool(ctx context.Context, q Querier, name string, lock bool) (*purser.Pool, error) {
	sql := "SELECT " + poolSelect + " FROM pools WHERE name = ?"
	if lock && db.Name == "postgres" {
		sql += " FOR UPDATE"
	}
	r, err := scanPool(q.QueryRow(ctx, sql, name))
	if err != nil {
		return nil, db.translate(err, "pool "+name)
	}
	return r.domain(), nil
}

// savePool inserts a new pool (Version 0) or updates one, checking its version.
func (db *DB) savePool(ctx context.Context, tx Tx, p *purser.Pool) error {
	now := db.now()
	if p.Version == 0 {
		p.Created, p.Updated, p.Version = now, now, 1
		_, err := tx.Exec(ctx, `INSERT INTO pools (id, name, cores, memory, spares, selector, min_hosts, max_hosts, cluster, hooks, state, status, scale_status, halted,
			last_scale_up, low_since, high_since, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
			p.ID, p.Name, p.Cores, p.Memory, p.Spares, jsonObject(p.Selector), p.MinHosts, p.MaxHosts, p.Cluster, encodeHooks(p.Hooks), p.State, p.Status, p.ScaleStatus, p.Halted,
			microsPtr(p.LastScaleUp), microsPtr(p.LowSince), microsPtr(p.HighSince), micros(now), micros(now))
		if db.UniqueViolation != nil && db.UniqueViolation(err) {
			return &purser.Error{Code: purser.ECONFLICT, Message: "pool " + p.Name + " already exists",
				Fields: []purser.FieldError{{Field: "name", Rule: "unique", Message: "already exists"}}}
		}
		return db.translate(err, "pool "+p.Name)
	}
	p.Updated = now
	n, err := tx.Exec(ctx, `UPDATE pools SET cores = ?, memory = ?, spares = ?, selector = ?, min_hosts = ?, max_hosts = ?, cluster = ?, hooks = ?, state = ?, status = ?,
		scale_status = ?, halted = ?, last_scale_up = ?, low_since = ?, high_since = ?, version = version + 1, updated_at = ? WHERE name = ? AND version = ?`,
		p.Cores, p.Memory, p.Spares, jsonObject(p.Selector), p.MinHosts, p.MaxHosts, p.Cluster, encodeHooks(p.Hooks), p.State, p.Status, p.ScaleStatus, p.Halted,
		microsPtr(p.LastScaleUp), microsPtr(p.LowSince), microsPtr(p.HighSince), micros(now), p.Name, p.Version)
	if err != nil {
		return fmt.Errorf("save pool: %w", err)
	}
	if n == 0 {
		return purser.Errorf(purser.ECONFLICT, "pool %s changed meanwhile; try again", p.Name)
	}
	p.Version++
	return nil
}

// FindPoolByName returns a pool (pools:read).
func (s *PoolService) FindPoolByName(ctx context.Context, name string) (*purser.Pool, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolRead, ""); err != nil {
		return nil, err
	}
	return s.db.findPool(ctx, s.db.Read, name, false)
}

// FindPools lists pools.
func (s *PoolService) FindPools(ctx context.Context, q purser.Query) ([]*purser.Pool, purser.PageInfo, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolRead, ""); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := poolColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if len(q.Sort) == 0 {
		q.Sort = []purser.Sort{{Field: "name"}}
	}
	return list(ctx, s.db, listSpec[poolRow, purser.Pool]{
		from: "pools", selectCols: poolSelect, where: where,
		orderBy: poolColumns.orderBy(q.Sort, "name"), query: q,
		scan: scanPool, domain: (*poolRow).domain,
	})
}

// inventory reads every host in tx. Placement and healing decide over the
// whole inventory, so that two pools never take the same host: each
// host's version is checked when its move is written.
func (db *DB) inventory(ctx context.Context, tx Tx) ([]*purser.Host, error) {
	return db.hosts(ctx, tx, "")
}

// CreatePool places and creates a pool (pools:write); dryRun only plans.
func (s *PoolService) CreatePool(ctx context.Context, p *purser.Pool, dryRun bool) (*purser.Placement, error) {
	var plan *purser.Placement
	err := s.db.WithTx(ctx, func(tx Tx) error {
		hosts, err := s.db.inventory(ctx, tx)
		if err != nil {
			return err
		}
		if err := purser.Authorize(ctx, purser.ActionPoolRead, ""); err != nil {
			return err
		}
		if err := s.db.checkPoolCluster(ctx, tx, p); err != nil {
			return err
		}
		if dryRun {
			if err := purser.Authorize(ctx, purser.ActionPoolRead, ""); err != nil {
				return err
			}
			if err := p.Validate(); err != nil {
				return err
			}
			plan, err = purser.PlanPool(p, hosts)
			return err
		}
		var ch purser.Change
		plan, ch, err = purser.CreatePool(purser.ActorFromContext(ctx), p, hosts, s.db.now())
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, ch)
	})
	return plan, err
}

// poolTx loads a pool and the inventory in a transaction and commits what
// decide returns.
func (s *PoolService) poolTx(ctx context.Context, name string, decide func(p *purser.Pool, hosts []*purser.Host) (purser.Change, error)) error {
	return s.db.WithTx(ctx, func(tx Tx) error {
		p, err := s.db.findPool(ctx, tx, name, true)
		if err != nil {
			return err
		}
		hosts, err := s.db.inventory(ctx, tx)
		if err != nil {
			return err
		}
		ch, err := decide(p, hosts)
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, ch)
	})
}

// ResizePool resizes a pool to an absolute target (pools:write).
func (s *PoolService) ResizePool(ctx context.Context, name string, target purser.Resources, confirm, dryRun bool) (*purser.ResizePlan, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolRead, ""); err != nil {
		return nil, err
	}
	var plan *purser.ResizePlan
	err := s.poolTx(ctx, name, func(p *purser.Pool, hosts []*purser.Host) (purser.Change, error) {
		var err error
		if plan, err = p.PlanResize(target, hosts); err != nil || dryRun {
			return purser.Change{}, err
		}
		return p.Resize(purser.ActorFromContext(ctx), plan, confirm, s.db.now())
	})
	return plan, err
}

// DestroyPool destroys a pool (pools:write): nil when it is gone, the
// pool DESTROY_FAILED when a host did not leave.
func (s *PoolService) DestroyPool(ctx context.Context, name string) (*purser.Pool, error) {
	var out *purser.Pool
	err := s.poolTx(ctx, name, func(p *purser.Pool, hosts []*purser.Host) (purser.Change, error) {
		ch, err := p.Destroy(purser.ActorFromContext(ctx), hosts, s.db.now())
		for _, r := range ch.Rows {
			if v, ok := r.(*purser.Pool); ok {
				out = v
			}
		}
		return ch, err
	})
	return out, err
}

// nodeTx runs a node decision on one host of the inventory.
func (s *PoolService) nodeTx(ctx context.Context, pool, host string, decide func(p *purser.Pool, h *purser.Host, members int) (purser.Change, error)) (*purser.Host, error) {
	var out *purser.Host
	err := s.poolTx(ctx, pool, func(p *purser.Pool, hosts []*purser.Host) (purser.Change, error) {
		members, _ := purser.PoolHosts(p.Name, hosts)
		for _, h := range hosts {
			if h.Name == host {
				ch, err := decide(p, h, len(members))
				if err == nil {
					out = ch.Rows[0].(*purser.Host)
				}
				return ch, err
			}
		}
		return purser.Change{}, purser.Errorf(purser.ENOTFOUND, "host %s not found", host)
	})
	return out, err
}

// AddNode makes a free host (or a spare) a member (pools:write).
func (s *PoolService) AddNode(ctx context.Context, pool, host string) (*purser.Host, error) {
	return s.nodeTx(ctx, pool, host, func(p *purser.Pool, h *purser.Host, n int) (purser.Change, error) {
		return p.AddNode(purser.ActorFromContext(ctx), h, n)
	})
}

// RemoveNode releases a host to the free inventory (pools:write).
func (s *PoolService) RemoveNode(ctx context.Context, pool, host string) (*purser.Host, error) {
	return s.nodeTx(ctx, pool, host, func(p *purser.Pool, h *purser.Host, n int) (purser.Change, error) {
		return p.RemoveNode(purser.ActorFromContext(ctx), h, n)
	})
}

// DrainNode starts draining a member (pools:write).
func (s *PoolService) DrainNode(ctx context.Context, pool, host string, deadline time.Duration) (*purser.Host, error) {
	if deadline == 0 {
		deadline = purser.DefaultDrainDeadline
	}
	return s.nodeTx(ctx, pool, host, func(p *purser.Pool, h *purser.Host, _ int) (purser.Change, error) {
		return p.Drain(purser.ActorFromContext(ctx), h, s.db.now().Add(deadline))
	})
}

// SetPoolHooks changes a pool's hooks (pools:write).
func (s *PoolService) SetPoolHooks(ctx context.Context, name string, hooks purser.PoolHooks) (*purser.Pool, error) {
	var out *purser.Pool
	err := s.poolTx(ctx, name, func(p *purser.Pool, _ []*purser.Host) (purser.Change, error) {
		ch, err := p.SetHooks(purser.ActorFromContext(ctx), hooks, s.db.now())
		if err == nil {
			out = ch.Rows[0].(*purser.Pool)
		}
		return ch, err
	})
	return out, err
}

// deletePool removes a destroyed pool.
func (db *DB) deletePool(ctx context.Context, tx Tx, name string) error {
	_, err := tx.Exec(ctx, "DELETE FROM pools WHERE name = ?", name)
	return db.translate(err, "pool "+name)
}

// commitPoolRow writes a Row of the pools' domain: hosts, their agents'
// credentials, join tokens and pools.
func (db *DB) commitPoolRow(ctx context.Context, tx Tx, row purser.Row) error {
	switch v := row.(type) {
	case *purser.Host:
		return db.saveHost(ctx, tx, v)
	case purser.HostCredential:
		return db.saveCredential(ctx, tx, v)
	case purser.HostHeartbeat:
		_, err := tx.Exec(ctx, "UPDATE hosts SET last_heartbeat = ?, updated_at = ? WHERE name = ?", micros(v.At), micros(db.now()), v.Host)
		return db.translate(err, "host "+v.Host)
	case *purser.JoinToken:
		return db.saveJoinToken(ctx, tx, v)
	case purser.NewJoinTokenRow:
		return db.insertJoinToken(ctx, tx, v)
	case *purser.Pool:
		return db.savePool(ctx, tx, v)
	case purser.DeletedPool:
		return db.deletePool(ctx, tx, v.Name)
	case *purser.HookRun:
		return db.saveHookRun(ctx, tx, v)
	}
	return fmt.Errorf("commit: no table for %T", row)
}
