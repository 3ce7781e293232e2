package sqldb

import (
	"context"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

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

// failRestartedRuns fails the host's RUNNING runs, whose agent restarted
// (purser.AgentRestarted), each with what it implies, in tx.
func (db *DB) failRestartedRuns(ctx context.Context, tx Tx, host string) error {
	runs, err := db.hookRuns(ctx, tx, "host = ? AND state = ?", host, purser.HookRunning)
	if err != nil {
		return err
	}
	for _, r := range runs {
		f, err := db.hookFacts(ctx, tx, r)
		if err != nil {
			return err
		}
		if err := db.commit(ctx, tx, purser.AgentRestarted(r, f, db.now())); err != nil {
			return fmt.Errorf("fail run %s of a restarted agent: %w", r.ID, err)
		}
	}
	return nil
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
