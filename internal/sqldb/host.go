package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/purserhq/purser"
)

// HostService implements purser.HostService and purser.PoolHealthStore.
type HostService struct{ db *DB }

// NewHostService returns the host service over db.
func NewHostService(db *DB) *HostService { return &HostService{db: db} }

var _ purser.HostService = (*HostService)(nil)

var hostColumns = columns{plain: map[string]string{
	"_id": "id", "name": "name", "state": "state", "pool": "pool", "cores": "cores", "memory": "memory",
	"spare": "spare", "_created": "created_at", "last_heartbeat": "last_heartbeat",
},
	fields:   purser.HostFields,
	unique:   []string{"_id", "name"},
	nullable: []string{"last_heartbeat"},
}

const hostSelect = "id, name, address, cores, memory, labels, state, pool, spare, joined, reason, last_heartbeat, drain_deadline, drain_wait, version, created_at, updated_at"

type hostRow struct {
	purser.Host
	labels           string
	heartbeat, drain *int64
	created, updated int64
}

func scanHost(row Row) (*hostRow, error) {
	var r hostRow
	err := row.Scan(&r.ID, &r.Name, &r.Address, &r.Cores, &r.Memory, &r.labels, &r.State, &r.Pool, &r.Spare, &r.Joined, &r.Reason,
		&r.heartbeat, &r.drain, &r.DrainWait, &r.Version, &r.created, &r.updated)
	return &r, err
}

func (r *hostRow) domain() *purser.Host {
	h := r.Host
	_ = json.Unmarshal([]byte(r.labels), &h.Labels)
	h.LastHeartbeat, h.Created, h.Updated = fromMicrosPtr(r.heartbeat), fromMicros(r.created), fromMicros(r.updated)
	h.DrainDeadline = fromMicrosPtr(r.drain)
	return &h
}

func jsonObject(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// findHost reads a host in q (a transaction locks it on PostgreSQL).
func (db *DB) findHost(ctx context.Context, q Querier, name string, lock bool) (*purser.Host, error) {
	sql := "SELECT " + hostSelect + " FROM hosts WHERE name = ?"
	if lock && db.Name == "postgres" {
		sql += " FOR UPDATE"
	}
	r, err := scanHost(q.QueryRow(ctx, sql, name))
	if err != nil {
		return nil, db.translate(err, "host "+name)
	}
	return r.domain(), nil
}

// hosts reads every host (the inventory, for placement and healing).
func (db *DB) hosts(ctx context.Context, q Querier, where string, args ...any) ([]*purser.Host, error) {
	sql := "SELECT " + hostSelect + " FROM hosts"
	if where != "" {
		sql += " WHERE " + where
	}
	rows, err := q.Query(ctx, sql+" ORDER BY name", args...)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	var out []*purser.Host
	for rows.Next() {
		r, err := scanHost(rows)
		if err != nil {
			return nil, fmt.Errorf("scan host: %w", err)
		}
		out = append(out, r.domain())
	}
	return out, rows.Err()
}

// saveHost inserts a new host (Version 0) or updates one, checking its version.
func (db *DB) saveHost(ctx context.Context, tx Tx, h *purser.Host) error {
	now := db.now()
	if h.Version == 0 {
		h.Created, h.Updated, h.Version = now, now, 1
		_, err := tx.Exec(ctx, `INSERT INTO hosts (id, name, address, cores, memory, labels, state, pool, spare, joined, reason, last_heartbeat, drain_deadline, drain_wait,
			version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, h.ID, h.Name, h.Address, h.Cores, h.Memory, jsonObject(h.Labels),
			h.State, h.Pool, h.Spare, h.Joined, h.Reason, microsPtr(h.LastHeartbeat), microsPtr(h.DrainDeadline), h.DrainWait, micros(now), micros(now))
		return db.translate(err, "host "+h.Name)
	}
	h.Updated = now
	n, err := tx.Exec(ctx, `UPDATE hosts SET address = ?, cores = ?, memory = ?, labels = ?, state = ?, pool = ?, spare = ?, joined = ?, reason = ?, last_heartbeat = ?,
		drain_deadline = ?, drain_wait = ?, version = version + 1, updated_at = ? WHERE name = ? AND version = ?`, h.Address, h.Cores, h.Memory,
		jsonObject(h.Labels), h.State, h.Pool, h.Spare, h.Joined, h.Reason, microsPtr(h.LastHeartbeat), microsPtr(h.DrainDeadline), h.DrainWait, micros(now), h.Name, h.Version)
	if err != nil {
		return fmt.Errorf("save host: %w", err)
	}
	if n == 0 {
		return purser.Errorf(purser.ECONFLICT, "host %s changed meanwhile; try again", h.Name)
	}
	h.Version++
	return nil
}

// FindHostByName returns a host (hosts:read, or its own agent).
func (s *HostService) FindHostByName(ctx context.Context, name string) (*purser.Host, error) {
	if err := purser.ActorFromContext(ctx).AuthorizeHostRead(name); err != nil {
		return nil, err
	}
	return s.db.findHost(ctx, s.db.Read, name, false)
}

// FindHosts lists hosts.
func (s *HostService) FindHosts(ctx context.Context, q purser.Query) ([]*purser.Host, purser.PageInfo, error) {
	if err := purser.Authorize(ctx, purser.ActionHostRead, ""); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := hostColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if len(q.Sort) == 0 {
		q.Sort = []purser.Sort{{Field: "name"}}
	}
	return list(ctx, s.db, listSpec[hostRow, purser.Host]{
		from: "hosts", selectCols: hostSelect, where: where,
		orderBy: hostColumns.orderBy(q.Sort, "name"), query: q,
		scan: scanHost, domain: (*hostRow).domain,
	})
}

// RegisterHost registers a host with a join token (no actor needed: the
// token is the credential). A host registering again (its agent
// restarted) has the runs its old agent had taken failed in the same
// transaction (purser.AgentRestarted).
func (s *HostService) RegisterHost(ctx context.Context, joinSecret string, reported purser.Host) (*purser.Host, string, error) {
	unauth := purser.Errorf(purser.EUNAUTHORIZED, "the join token is invalid, revoked, expired or already used")
	if !strings.HasPrefix(joinSecret, purser.JoinTokenPrefix) {
		return nil, "", unauth
	}
	var out *purser.Host
	var secret string
	err := s.db.WithTx(ctx, func(tx Tx) error {
		tok, err := s.db.findJoinToken(ctx, tx, "hash = ?", purser.HashToken(joinSecret))
		if purser.ErrorCode(err) == purser.ENOTFOUND {
			return unauth
		}
		if err != nil {
			return err
		}
		existing, err := s.db.findHost(ctx, tx, reported.Name, true)
		if err != nil && purser.ErrorCode(err) != purser.ENOTFOUND {
			return err
		}
		h, sec, ch, err := purser.Register(tok, existing, reported, s.db.now())
		if err != nil {
			return err
		}
		out, secret = h, sec
		if err := s.db.commit(ctx, tx, ch); err != nil || existing == nil {
			return err
		}
		return s.db.failRestartedRuns(ctx, tx, h.Name)
	})
	if err != nil {
		return nil, "", err
	}
	return out, secret, nil
}

// update loads a host in a transaction, applies the decision and commits it.
func (s *HostService) update(ctx context.Context, name string, decide func(h *purser.Host) (*purser.Host, purser.Change, error)) (*purser.Host, error) {
	var out *purser.Host
	err := s.db.WithTx(ctx, func(tx Tx) error {
		h, err := s.db.findHost(ctx, tx, name, true)
		if err != nil {
			return err
		}
		after, ch, err := decide(h)
		if err != nil {
			return err
		}
		out = after
		return s.db.commit(ctx, tx, ch)
	})
	return out, err
}

// Heartbeat records the agent's report (its own host only).
func (s *HostService) Heartbeat(ctx context.Context, name string) (*purser.Host, error) {
	if err := purser.ActorFromContext(ctx).AuthorizeAgent(name); err != nil {
		return nil, err
	}
	return s.update(ctx, name, func(h *purser.Host) (*purser.Host, purser.Change, error) {
		after, ch := h.Heartbeat(s.db.now())
		return after, ch, nil
	})
}

// LabelHost sets a host's labels (hosts:write).
func (s *HostService) LabelHost(ctx context.Context, name string, set map[string]string) (*purser.Host, error) {
	if err := purser.Authorize(ctx, purser.ActionHostWrite, ""); err != nil {
		return nil, err
	}
	return s.update(ctx, name, func(h *purser.Host) (*purser.Host, purser.Change, error) { return h.Relabel(set) })
}

// SetMaintenance puts a free host under maintenance or back (hosts:write).
func (s *HostService) SetMaintenance(ctx context.Context, name string, on bool) (*purser.Host, error) {
	if err := purser.Authorize(ctx, purser.ActionHostWrite, ""); err != nil {
		return nil, err
	}
	return s.update(ctx, name, func(h *purser.Host) (*purser.Host, purser.Change, error) { return h.Maintenance(on) })
}

// RetireHost retires a free host (hosts:write); its agent's credential
// stops working.
func (s *HostService) RetireHost(ctx context.Context, name string) (*purser.Host, error) {
	if err := purser.Authorize(ctx, purser.ActionHostWrite, ""); err != nil {
		return nil, err
	}
	return s.update(ctx, name, func(h *purser.Host) (*purser.Host, purser.Change, error) { return h.Retire() })
}

// saveCredential stores the hash of an agent's new credential.
func (db *DB) saveCredential(ctx context.Context, tx Tx, c purser.HostCredential) error {
	_, err := tx.Exec(ctx, "UPDATE hosts SET credential_hash = ? WHERE name = ?", c.Hash, c.Host)
	return db.translate(err, "host "+c.Host)
}

// authenticateAgent returns the agent actor an agent credential stands
// for: the host's, unless it is retired.
func (db *DB) authenticateAgent(ctx context.Context, secret string) (*purser.Actor, error) {
	var name string
	var state purser.HostState
	err := db.Read.QueryRow(ctx, "SELECT name, state FROM hosts WHERE credential_hash = ?", purser.HashToken(secret)).Scan(&name, &state)
	if err == ErrNoRows || err == nil && state == purser.HostRetired {
		return nil, purser.Errorf(purser.EUNAUTHORIZED, "the agent credential is invalid or its host retired")
	}
	if err != nil {
		return nil, fmt.Errorf("find agent: %w", err)
	}
	return &purser.Actor{Host: name}, nil
}
