package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/purserhq/purser"
)

// HookRunService implements purser.HookRunService: it hands a host's
// pending hook runs to its agent, keeps their output and decides their
// end through the domain (ClaimHookRuns, FinishHookRun).
type HookRunService struct {
	db *DB
	// Timeout is how long a run may take from when it was queued
	// (pools.join_timeout); 0 means purser.DefaultJoinTimeout.
	Timeout time.Duration
}

// NewHookRunService returns the hook run service over db.
func NewHookRunService(db *DB, timeout time.Duration) *HookRunService {
	if timeout <= 0 {
		timeout = purser.DefaultJoinTimeout
	}
	return &HookRunService{db: db, Timeout: timeout}
}

var _ purser.HookRunService = (*HookRunService)(nil)

func encodeHooks(h purser.PoolHooks) string {
	b, _ := json.Marshal(hooksJSON{h.Join, h.Leave, h.Reboot})
	return string(b)
}

func decodeHooks(s string) purser.PoolHooks {
	var h hooksJSON
	_ = json.Unmarshal([]byte(s), &h)
	return purser.PoolHooks{Join: h.Join, Leave: h.Leave, Reboot: h.Reboot}
}

type hooksJSON struct {
	Join   []string `json:"join,omitempty"`
	Leave  []string `json:"leave,omitempty"`
	Reboot []string `json:"reboot,omitempty"`
}

// checkPoolCluster reads the pool's cluster and lets the domain judge it.
func (db *DB) checkPoolCluster(ctx context.Context, q Querier, p *purser.Pool) error {
	if p.Cluster == "" {
		return nil
	}
	r, err := scanCluster(q.QueryRow(ctx, "SELECT "+clusterSelect+" FROM clusters WHERE name = ?", p.Cluster))
	if err == ErrNoRows {
		return p.CheckCluster(nil)
	}
	if err != nil {
		return fmt.Errorf("pool cluster: %w", err)
	}
	return p.CheckCluster(r.domain())
}

var hookRunColumns = columns{plain: map[string]string{
	"_id": "id", "host": "host", "pool": "pool", "kind": "kind", "state": "state", "_created": "created_at",
},
	fields: purser.HookRunFields,
	unique: []string{"_id"},
}

const hookRunSelect = "id, host, pool, kind, argv, params, state, exit_code, error, version, created_at, updated_at, started_at, finished_at"

type hookRunRow struct {
	purser.HookRun
	argv, params      string
	created, updated  int64
	started, finished *int64
}

func scanHookRun(row Row) (*hookRunRow, error) {
	var r hookRunRow
	err := row.Scan(&r.ID, &r.Host, &r.Pool, &r.Kind, &r.argv, &r.params, &r.State, &r.ExitCode, &r.Error, &r.Version,
		&r.created, &r.updated, &r.started, &r.finished)
	return &r, err
}

func (r *hookRunRow) domain() *purser.HookRun {
	h := r.HookRun
	_ = json.Unmarshal([]byte(r.argv), &h.Argv)
	_ = json.Unmarshal([]byte(r.params), &h.Params)
	h.Created, h.Updated = fromMicros(r.created), fromMicros(r.updated)
	h.Started, h.Finished = fromMicrosPtr(r.started), fromMicrosPtr(r.finished)
	return &h
}

func (db *DB) hookRuns(ctx context.Context, q Querier, where string, args ...any) ([]*purser.HookRun, error) {
	rows, err := q.Query(ctx, "SELECT "+hookRunSelect+" FROM hook_runs WHERE "+where+" ORDER BY created_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("hook runs: %w", err)
	}
	defer rows.Close()
	var out []*purser.HookRun
	for rows.Next() {
		r, err := scanHookRun(rows)
		if err != nil {
			return nil, fmt.Errorf("scan hook run: %w", err)
		}
		out = append(out, r.domain())
	}
	return out, rows.Err()
}

// saveHookRun inserts a queued run (Version 0) or updates one, checking
// its version.
func (db *DB) saveHookRun(ctx context.Context, tx Tx, r *purser.HookRun) error {
	now := db.now()
	argv, _ := json.Marshal(r.Argv)
	if r.Version == 0 {
		r.Created, r.Updated, r.Version = now, now, 1
		_, err := tx.Exec(ctx, `INSERT INTO hook_runs (id, host, pool, kind, argv, params, state, exit_code, error, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, r.ID, r.Host, r.Pool, r.Kind, string(argv), jsonObject(r.Params), r.State, r.ExitCode, r.Error,
			micros(now), micros(now))
		return db.translate(err, "hook run "+r.ID)
	}
	n, err := tx.Exec(ctx, `UPDATE hook_runs SET argv = ?, state = ?, exit_code = ?, error = ?, started_at = ?, finished_at = ?, version = version + 1,
		updated_at = ? WHERE id = ? AND version = ?`, string(argv), r.State, r.ExitCode, r.Error, microsPtr(r.Started), microsPtr(r.Finished),
		micros(now), r.ID, r.Version)
	if err != nil {
		return fmt.Errorf("save hook run: %w", err)
	}
	if n == 0 {
		return purser.Errorf(purser.ECONFLICT, "hook run %s changed meanwhile; try again", r.ID)
	}
	r.Version++
	r.Updated = now
	return nil
}
