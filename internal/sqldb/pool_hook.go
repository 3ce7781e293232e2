package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

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

// ClaimHookRuns hands the host's pending runs to its agent (its own
// host's only), rendered with the server of each run's cluster.
func (s *HookRunService) ClaimHookRuns(ctx context.Context, host string) ([]*purser.HookRun, time.Duration, error) {
	if err := purser.ActorFromContext(ctx).AuthorizeAgent(host); err != nil {
		return nil, 0, err
	}
	// Asked after every heartbeat: a read first, a transaction only when
	// there is something to take.
	var pending int
	if err := s.db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM hook_runs WHERE host = ? AND state = ?", host, purser.HookPending).Scan(&pending); err != nil {
		return nil, 0, fmt.Errorf("pending hook runs: %w", err)
	}
	if pending == 0 {
		return nil, s.Timeout, nil
	}
	var out []*purser.HookRun
	err := s.db.WithTx(ctx, func(tx Tx) error {
		h, err := s.db.findHost(ctx, tx, host, true)
		if err != nil {
			return err
		}
		runs, err := s.db.hookRuns(ctx, tx, "host = ? AND state = ?", host, purser.HookPending)
		if err != nil || len(runs) == 0 {
			return err
		}
		servers := map[string]string{}
		for _, r := range runs {
			c := r.Params["cluster"]
			if _, ok := servers[c]; ok || c == "" {
				continue
			}
			var server string
			if err := tx.QueryRow(ctx, "SELECT server FROM clusters WHERE name = ?", c).Scan(&server); err != nil && err != ErrNoRows {
				return fmt.Errorf("cluster %s: %w", c, err)
			}
			servers[c] = server
		}
		var ch purser.Change
		out, ch, err = purser.ClaimHookRuns(purser.ActorFromContext(ctx), h, runs, func(c string) string { return servers[c] }, s.db.now())
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, ch)
	})
	return out, s.Timeout, err
}

// hookFacts loads what deciding run's end needs.
func (db *DB) hookFacts(ctx context.Context, tx Tx, r *purser.HookRun) (purser.HookFacts, error) {
	var f purser.HookFacts
	var err error
	if f.Pool, err = db.findPool(ctx, tx, r.Pool, true); err != nil && purser.ErrorCode(err) != purser.ENOTFOUND {
		return f, err
	}
	if f.Hosts, err = db.inventory(ctx, tx); err != nil {
		return f, err
	}
	for _, h := range f.Hosts {
		if h.Name == r.Host {
			f.Host = h
		}
	}
	f.Open, err = db.hookRuns(ctx, tx, "pool = ? AND state IN (?, ?)", r.Pool, purser.HookPending, purser.HookRunning)
	return f, err
}

func (db *DB) findHookRun(ctx context.Context, q Querier, host, id string) (*purser.HookRun, error) {
	r, err := scanHookRun(q.QueryRow(ctx, "SELECT "+hookRunSelect+" FROM hook_runs WHERE id = ? AND host = ?", id, host))
	if err != nil {
		return nil, db.translate(err, "hook run "+id)
	}
	return r.domain(), nil
}

// FinishHookRun records the exit the agent reports and commits what it
// implies (FinishHookRun in the domain).
func (s *HookRunService) FinishHookRun(ctx context.Context, host, id string, exit int, errMsg string) (*purser.HookRun, error) {
	if err := purser.ActorFromContext(ctx).AuthorizeAgent(host); err != nil {
		return nil, err
	}
	var out *purser.HookRun
	err := s.db.WithTx(ctx, func(tx Tx) error {
		r, err := s.db.findHookRun(ctx, tx, host, id)
		if err != nil {
			return err
		}
		f, err := s.db.hookFacts(ctx, tx, r)
		if err != nil {
			return err
		}
		ch, err := purser.FinishHookRun(purser.ActorFromContext(ctx), r, exit, errMsg, f, s.db.now())
		if err != nil {
			return err
		}
		out = ch.Rows[0].(*purser.HookRun)
		return s.db.commit(ctx, tx, ch)
	})
	return out, err
}

// ExpireHookRuns fails every run still open past the timeout, each in
// its own transaction (ExpireHookRun in the domain); it returns how many.
func (s *HostService) ExpireHookRuns(ctx context.Context, timeout time.Duration) (int, error) {
	if err := purser.Authorize(ctx, purser.ActionPoolWrite, ""); err != nil {
		return 0, err
	}
	cutoff := micros(s.db.now().Add(-timeout))
	runs, err := s.db.hookRuns(ctx, s.db.Read, "state IN (?, ?) AND created_at <= ?", purser.HookPending, purser.HookRunning, cutoff)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range runs {
		err := s.db.WithTx(ctx, func(tx Tx) error {
			fresh, err := s.db.findHookRun(ctx, tx, r.Host, r.ID)
			if err != nil {
				return err
			}
			f, err := s.db.hookFacts(ctx, tx, fresh)
			if err != nil {
				return err
			}
			ch := purser.ExpireHookRun(fresh, timeout, f, s.db.now())
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

// AppendHookLog appends lines the agent streams to its run's log (its
// own host's runs only, while they run); lines past the job log's limits
// are dropped.
func (s *HookRunService) AppendHookLog(ctx context.Context, host, id string, lines []purser.LogLine) error {
	if err := purser.ActorFromContext(ctx).AuthorizeAgent(host); err != nil {
		return err
	}
	r, err := s.db.findHookRun(ctx, s.db.Read, host, id)
	if err != nil {
		return err
	}
	if r.State != purser.HookRunning {
		return purser.Errorf(purser.ECONFLICT, "hook run %s is %s: its log is closed", id, r.State)
	}
	now := s.db.now()
	for i := range lines {
		if lines[i].Time.IsZero() {
			lines[i].Time = now
		}
	}
	return s.db.appendLogsTo(ctx, hookRunLogs, id, lines)
}

// FindHookRuns lists a host's runs (hosts:read, or its own agent).
func (s *HookRunService) FindHookRuns(ctx context.Context, host string, q purser.Query) ([]*purser.HookRun, purser.PageInfo, error) {
	if err := purser.ActorFromContext(ctx).AuthorizeHostRead(host); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := hookRunColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	where = append(where, sq.Eq{"host": host})
	if len(q.Sort) == 0 {
		q.Sort = []purser.Sort{{Field: "_created"}}
	}
	return list(ctx, s.db, listSpec[hookRunRow, purser.HookRun]{
		from: "hook_runs", selectCols: hookRunSelect, where: where,
		orderBy: hookRunColumns.orderBy(q.Sort, "id"), query: q,
		scan: scanHookRun, domain: (*hookRunRow).domain,
	})
}

// FindHookRunLogs returns a run's log after seq (hosts:read, or its own agent).
func (s *HookRunService) FindHookRunLogs(ctx context.Context, host, id string, afterSeq int64, limit int) ([]purser.LogLine, error) {
	if err := purser.ActorFromContext(ctx).AuthorizeHostRead(host); err != nil {
		return nil, err
	}
	if _, err := s.db.findHookRun(ctx, s.db.Read, host, id); err != nil {
		return nil, err
	}
	return s.db.findLogsIn(ctx, hookRunLogs, id, afterSeq, limit)
}

// RebootHost queues the reboot hook of the host's pool (hosts:write).
func (s *HookRunService) RebootHost(ctx context.Context, host string) (*purser.HookRun, error) {
	var out *purser.HookRun
	err := s.db.WithTx(ctx, func(tx Tx) error {
		h, err := s.db.findHost(ctx, tx, host, true)
		if err != nil {
			return err
		}
		p := &purser.Pool{}
		if h.Pool != "" {
			if p, err = s.db.findPool(ctx, tx, h.Pool, false); err != nil {
				return err
			}
		}
		ch, err := p.Reboot(purser.ActorFromContext(ctx), h)
		if err != nil {
			return err
		}
		out = ch.Rows[0].(*purser.HookRun)
		return s.db.commit(ctx, tx, ch)
	})
	return out, err
}
