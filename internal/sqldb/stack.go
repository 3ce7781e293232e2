package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// StackService implements purser.StackStore.
type StackService struct{ db *DB }

// NewStackService returns the stack store over db.
func NewStackService(db *DB) *StackService { return &StackService{db: db} }

var _ purser.StackStore = (*StackService)(nil)

var stackRevisionColumns = columns{plain: map[string]string{"number": "number", "status": "status", "author": "author", "_created": "created_at"},
	fields: purser.StackRevisionFields, unique: []string{"number"},
}

const stackRevisionSelect = "cluster, number, author, message, source, stackfile, normalized, status, rollback_of, blocked_by, reason, created_at"

type stackRevisionRow struct {
	purser.StackRevision
	stackfile, normalized string
	created               int64
}

func scanStackRevision(r Row) (*stackRevisionRow, error) {
	var s stackRevisionRow
	err := r.Scan(&s.Cluster, &s.Number, &s.Author, &s.Message, &s.Source, &s.stackfile, &s.normalized, &s.Status,
		&s.RollbackOf, &s.BlockedBy, &s.Reason, &s.created)
	return &s, err
}

func (r *stackRevisionRow) domain() *purser.StackRevision {
	s := r.StackRevision
	s.Created = fromMicros(r.created)
	s.Stackfile, s.Normalized = &purser.Stackfile{}, &purser.Stackfile{}
	_ = json.Unmarshal([]byte(r.stackfile), s.Stackfile)
	_ = json.Unmarshal([]byte(r.normalized), s.Normalized)
	return &s
}

// lockCluster makes tx the only stack writer of the cluster until it
// ends (a write that changes nothing still takes the row's lock on
// PostgreSQL; SQLite has one writer), so that a decision sees the history
// it changes; ENOTFOUND when there is no such cluster.
func (db *DB) lockCluster(ctx context.Context, tx Tx, cluster string) error {
	n, err := tx.Exec(ctx, "UPDATE clusters SET version = version WHERE name = ?", cluster)
	if err != nil {
		return fmt.Errorf("lock cluster %s: %w", cluster, err)
	}
	if n == 0 {
		return purser.Errorf(purser.ENOTFOUND, "cluster %s not found", cluster)
	}
	return nil
}

// clusterExists returns ENOTFOUND when there is no such cluster.
func (db *DB) clusterExists(ctx context.Context, q Querier, cluster string) error {
	var name string
	return db.translate(q.QueryRow(ctx, "SELECT name FROM clusters WHERE name = ?", cluster).Scan(&name), "cluster "+cluster)
}

// stackHistory loads every revision of the cluster.
func (db *DB) stackHistory(ctx context.Context, q Querier, cluster string) (purser.StackHistory, error) {
	h := purser.StackHistory{Cluster: cluster}
	rows, err := q.Query(ctx, "SELECT "+stackRevisionSelect+" FROM stack_revisions WHERE cluster = ? ORDER BY number", cluster)
	if err != nil {
		return h, fmt.Errorf("stack history of %s: %w", cluster, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanStackRevision(rows)
		if err != nil {
			return h, err
		}
		h.Revisions = append(h.Revisions, r.domain())
	}
	return h, rows.Err()
}

// saveStackRevision writes a revision: a new one whole, an existing one's
// status, blocker and reason (nothing else of a revision ever changes).
func (db *DB) saveStackRevision(ctx context.Context, tx Tx, r *purser.StackRevision) error {
	now := micros(db.now())
	n, err := tx.Exec(ctx, "UPDATE stack_revisions SET status = ?, blocked_by = ?, reason = ?, updated_at = ? WHERE cluster = ? AND number = ?",
		r.Status, r.BlockedBy, r.Reason, now, r.Cluster, r.Number)
	if err != nil {
		return fmt.Errorf("save revision %d: %w", r.Number, err)
	}
	if n > 0 {
		return nil
	}
	sf, _ := json.Marshal(r.Stackfile)
	norm, _ := json.Marshal(r.Normalized)
	_, err = tx.Exec(ctx, "INSERT INTO stack_revisions ("+stackRevisionSelect+", updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.Cluster, r.Number, r.Author, r.Message, r.Source, string(sf), string(norm), r.Status, r.RollbackOf, r.BlockedBy, r.Reason, micros(r.Created), now)
	if err != nil && db.UniqueViolation(err) {
		return purser.Errorf(purser.EPRECONDITION, "another change to the stack of %s landed first; reload and try again", r.Cluster)
	}
	if err != nil {
		return fmt.Errorf("insert revision %d: %w", r.Number, err)
	}
	return nil
}

// stackWrite runs decide on the cluster's history in a transaction that
// holds the cluster's stack, and commits the Change it returns. An empty
// action leaves authorizing to decide.
func (s *StackService) stackWrite(ctx context.Context, action purser.Action, cluster string,
	decide func(tx Tx, h purser.StackHistory) (purser.Change, error)) error {
	if action != "" {
		if err := purser.Authorize(ctx, action, ""); err != nil {
			return err
		}
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		if err := s.db.lockCluster(ctx, tx, cluster); err != nil {
			return err
		}
		h, err := s.db.stackHistory(ctx, tx, cluster)
		if err != nil {
			return err
		}
		c, err := decide(tx, h)
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, c)
	})
}

// author names the actor in ctx as a revision's author: its username, or
// purser for Purser itself.
func author(ctx context.Context) string {
	a := purser.ActorFromContext(ctx)
	if a != nil && a.User != nil {
		return a.User.Username
	}
	return "purser"
}

// ProposeRevision makes a stackfile the cluster's new current revision.
func (s *StackService) ProposeRevision(ctx context.Context, cluster string, p purser.StackProposal) (*purser.StackRevision, error) {
	if p.Stackfile == nil {
		return nil, purser.Invalid(purser.FieldError{Field: "stackfile", Rule: "required", Message: "is required"})
	}
	if err := p.Stackfile.Validate(); err != nil {
		return nil, err
	}
	next := &purser.StackRevision{Author: author(ctx), Message: p.Message, Source: p.Source, Stackfile: p.Stackfile, Normalized: p.Stackfile.Normalize()}
	// Who may propose depends on the cluster's deployers and on what
	// changes: purser.AuthorizeStackChange decides, in the transaction.
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, err
	}
	err := s.stackWrite(ctx, "", cluster, func(tx Tx, h purser.StackHistory) (purser.Change, error) {
		c, err := scanCluster(tx.QueryRow(ctx, "SELECT "+clusterSelect+" FROM clusters WHERE name = ?", cluster))
		if err != nil {
			return purser.Change{}, s.db.translate(err, "cluster "+cluster)
		}
		var cur *purser.Stackfile
		if r := h.Current(); r != nil {
			cur = r.Normalized
		}
		if err := purser.AuthorizeStackChange(purser.ActorFromContext(ctx), c.domain(), cur, next.Normalized); err != nil {
			return purser.Change{}, err
		}
		if err := purser.CheckIfMatch(cluster, p.IfMatch, h.Current()); err != nil {
			return purser.Change{}, err
		}
		have, err := s.db.secretNames(ctx, tx, cluster)
		if err != nil {
			return purser.Change{}, err
		}
		if err := purser.CheckSecretRefs(cluster, next.Normalized.SecretRefs(), have); err != nil {
			return purser.Change{}, err
		}
		return h.Propose(next, p.Hold, s.db.now())
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// RollbackStack proposes a revision equal to revision n and blocks the
// current one.
func (s *StackService) RollbackStack(ctx context.Context, cluster string, n int, ifMatch *int) (*purser.StackRevision, error) {
	var next *purser.StackRevision
	err := s.stackWrite(ctx, purser.ActionStackWrite, cluster, func(_ Tx, h purser.StackHistory) (c purser.Change, err error) {
		if err := purser.CheckIfMatch(cluster, ifMatch, h.Current()); err != nil {
			return c, err
		}
		next, c, err = h.Rollback(n, author(ctx), s.db.now())
		return c, err
	})
	return next, err
}

// UnblockRevision lets a blocked revision be rolled back to again.
func (s *StackService) UnblockRevision(ctx context.Context, cluster string, n int) (*purser.StackRevision, error) {
	var r *purser.StackRevision
	err := s.stackWrite(ctx, purser.ActionStackWrite, cluster, func(_ Tx, h purser.StackHistory) (purser.Change, error) {
		c, err := h.Unblock(n)
		r, _ = h.Revision(n)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// MarkRevision moves a revision along as the reconciler applies it
// (RecordRollout without a reason or plan).
func (s *StackService) MarkRevision(ctx context.Context, cluster string, n int, status purser.RevisionStatus) (*purser.StackRevision, error) {
	return s.RecordRollout(ctx, cluster, purser.RolloutMark{Revision: n, Status: status})
}

// RecordRollout records a rollout's progress (StackHistory.Mark), and
// prunes the history once a revision is applied.
func (s *StackService) RecordRollout(ctx context.Context, cluster string, m purser.RolloutMark) (*purser.StackRevision, error) {
	switch m.Status {
	case purser.RevisionApplying, purser.RevisionApplied, purser.RevisionFailed:
	default:
		return nil, purser.Invalid(purser.FieldError{Field: "status", Rule: "enum", Message: "must be applying, applied or failed"})
	}
	var r *purser.StackRevision
	err := s.stackWrite(ctx, purser.ActionStackApply, cluster, func(tx Tx, h purser.StackHistory) (purser.Change, error) {
		var c purser.Change
		var pruned []int
		var err error
		if r, c, pruned, err = h.Mark(m); err != nil {
			return c, err
		}
		for _, p := range pruned {
			if _, err := tx.Exec(ctx, "DELETE FROM stack_revisions WHERE cluster = ? AND number = ?", cluster, p); err != nil {
				return c, fmt.Errorf("prune revision %d: %w", p, err)
			}
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeployStack asks to apply the current revision again (StackHistory.Deploy).
func (s *StackService) DeployStack(ctx context.Context, cluster string) (*purser.StackRevision, error) {
	var r *purser.StackRevision
	err := s.stackWrite(ctx, purser.ActionStackWrite, cluster, func(_ Tx, h purser.StackHistory) (c purser.Change, err error) {
		r, c, err = h.Deploy(s.db.now())
		return c, err
	})
	return r, err
}

// CurrentRevision returns the cluster's current revision.
func (s *StackService) CurrentRevision(ctx context.Context, cluster string) (*purser.StackRevision, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, err
	}
	r, err := scanStackRevision(s.db.Read.QueryRow(ctx, "SELECT "+stackRevisionSelect+" FROM stack_revisions WHERE cluster = ? ORDER BY number DESC LIMIT 1", cluster))
	if err != nil {
		if err := s.db.clusterExists(ctx, s.db.Read, cluster); err != nil {
			return nil, err
		}
		return nil, noStack(err, cluster)
	}
	return r.domain(), nil
}

// noStack is the error of a cluster without a revision: how to give it one.
func noStack(err error, cluster string) error {
	if errors.Is(err, ErrNoRows) {
		return purser.Errorf(purser.ENOTFOUND, "cluster %s has no stack yet: PUT a stackfile to /api/v1/clusters/%s/config", cluster, cluster)
	}
	return err
}

// ClusterWithCredentials returns a cluster with its credentials, for the
// reconciler's target (stacks:apply: Purser itself).
func (s *StackService) ClusterWithCredentials(ctx context.Context, name string) (*purser.Cluster, error) {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return nil, err
	}
	return s.db.ClusterCredentials(ctx, name)
}

// LockStack makes holder the cluster's only reconciler for ttl, or renews
// its hold: a lease row that a crashed holder's successor takes over once
// it lapses.
func (s *StackService) LockStack(ctx context.Context, cluster, holder string, ttl time.Duration) (bool, error) {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return false, err
	}
	now := s.db.now()
	var n int64
	err := s.db.WithTx(ctx, func(tx Tx) (err error) {
		n, err = tx.Exec(ctx, `INSERT INTO stack_locks (cluster, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (cluster) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE stack_locks.holder = excluded.holder OR stack_locks.expires_at < ?`,
			cluster, holder, micros(now.Add(ttl)), micros(now))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("lock stack of %s: %w", cluster, err)
	}
	return n == 1, nil
}

// UnlockStack ends holder's hold on the cluster's stack.
func (s *StackService) UnlockStack(ctx context.Context, cluster, holder string) error {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM stack_locks WHERE cluster = ? AND holder = ?", cluster, holder)
		return err
	})
}

// RollBackFailed replaces a failed current revision by the newest applied
// one before it.
func (s *StackService) RollBackFailed(ctx context.Context, cluster string) (*purser.StackRevision, error) {
	var next *purser.StackRevision
	err := s.stackWrite(ctx, purser.ActionStackApply, cluster, func(_ Tx, h purser.StackHistory) (c purser.Change, err error) {
		next, c, err = h.RollBackFailed(s.db.now())
		return c, err
	})
	return next, err
}

// StackRevision returns one revision of a cluster's stack.
func (s *StackService) StackRevision(ctx context.Context, cluster string, n int) (*purser.StackRevision, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, err
	}
	r, err := scanStackRevision(s.db.Read.QueryRow(ctx, "SELECT "+stackRevisionSelect+" FROM stack_revisions WHERE cluster = ? AND number = ?", cluster, n))
	if err != nil {
		if err := s.db.clusterExists(ctx, s.db.Read, cluster); err != nil {
			return nil, err
		}
		return nil, s.db.translate(err, fmt.Sprintf("revision %d of cluster %s", n, cluster))
	}
	return r.domain(), nil
}

// StackRevisions lists a cluster's revisions, newest first by default.
func (s *StackService) StackRevisions(ctx context.Context, cluster string, q purser.Query) ([]*purser.StackRevision, purser.PageInfo, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, purser.PageInfo{}, err
	}
	if err := s.db.clusterExists(ctx, s.db.Read, cluster); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := stackRevisionColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if len(q.Sort) == 0 {
		q.Sort = []purser.Sort{{Field: "number", Desc: true}}
	}
	order := stackRevisionColumns.orderBy(q.Sort, "number")
	if last := &order[len(order)-1]; last.col == "number" {
		last.kind = purser.KindInt
	}
	return list(ctx, s.db, listSpec[stackRevisionRow, purser.StackRevision]{
		from: "stack_revisions", selectCols: stackRevisionSelect, where: append(sq.And{sq.Eq{"cluster": cluster}}, where...),
		orderBy: order, query: q, scan: scanStackRevision, domain: (*stackRevisionRow).domain,
	})
}
