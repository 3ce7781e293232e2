package sqldb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/purserhq/purser"
)

// commit writes what a decision implies, in tx: its rows (each document
// once, in its final state, with its version checked), its audit events,
// its jobs and its messages (through the outbox). The transition and
// every effect land together or not at all.
func (db *DB) commit(ctx context.Context, tx Tx, c purser.Change) error {
	saved := map[*purser.Request]bool{}
	for _, row := range c.Rows {
		var err error
		switch v := row.(type) {
		case *purser.Request:
			if saved[v] {
				continue
			}
			saved[v] = true
			err = db.saveRequest(ctx, tx, v)
		case purser.SubmittedRequest:
			err = db.insertRequest(ctx, tx, v)
		case *purser.Extension:
			err = db.saveExtension(ctx, tx, v)
		case purser.Approval:
			err = db.insertApproval(ctx, tx, v)
		case purser.RequestOutputs:
			err = db.saveOutputs(ctx, tx, v)
		case *purser.Role:
			err = db.saveRole(ctx, tx, v)
		case purser.DeletedRole:
			err = db.deleteRole(ctx, tx, v.Role)
		case purser.DeletedTemplate:
			err = db.deleteTemplate(ctx, tx, v.ID)
		case *purser.Cluster:
			err = db.saveCluster(ctx, tx, v)
		case *purser.StackRevision:
			err = db.saveStackRevision(ctx, tx, v)
		case *purser.Host, purser.HostCredential, purser.HostHeartbeat, *purser.JoinToken, purser.NewJoinTokenRow, *purser.Pool, purser.DeletedPool, *purser.HookRun:
			err = db.commitPoolRow(ctx, tx, v)
		default:
			err = fmt.Errorf("commit: no table for %T", row)
		}
		if err != nil {
			return err
		}
	}
	for _, e := range c.Events {
		if err := db.audit(ctx, tx, e.Action, e.TargetType, e.TargetID, e.Before, e.After, e.ActingFor); err != nil {
			return err
		}
	}
	for _, j := range c.Jobs {
		if err := db.insertJob(ctx, tx, j, unique); err != nil {
			return fmt.Errorf("enqueue %s: %w", j.Kind(), err)
		}
	}
	msgs := c.Messages
	for _, m := range c.ToReviewers {
		to, err := db.toReviewers(ctx, tx, m.Except, m.Message)
		if err != nil {
			return err
		}
		msgs = append(msgs, to...)
	}
	for _, m := range c.ToAdmins {
		to, err := db.toAdmins(ctx, tx, m)
		if err != nil {
			return err
		}
		msgs = append(msgs, to...)
	}
	return db.enqueue(ctx, tx, msgs...)
}

// saveRequest writes a request's mutable fields, checking its version.
func (db *DB) saveRequest(ctx context.Context, tx Tx, r *purser.Request) error {
	r.Updated = db.now()
	n, err := tx.Exec(ctx, `UPDATE requests SET status = ?, reviewed_by = ?, review_comment = ?, expires_by = ?, extended = ?,
		estimated_cost = ?, last_error = ?, reminders_sent = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		r.Status, nullable(r.ReviewedBy), r.ReviewComment, micros(r.ExpiresBy), r.Extended, r.EstimatedCost, r.LastError, r.RemindersSent,
		micros(r.Updated), r.ID, r.Version)
	if err != nil {
		return fmt.Errorf("save request: %w", err)
	}
	if n == 0 {
		return purser.Errorf(purser.ECONFLICT, "provision request %s changed meanwhile; try again", r.ID)
	}
	r.Version++
	return nil
}

// insertApproval records one reviewer's approval; the table's key makes
// a second approval by the same reviewer a conflict.
func (db *DB) insertApproval(ctx context.Context, tx Tx, a purser.Approval) error {
	_, err := tx.Exec(ctx, "INSERT INTO approvals (request_id, reviewer, created_at) VALUES (?, ?, ?)", a.RequestID, a.Reviewer, micros(db.now()))
	if err != nil && db.UniqueViolation(err) {
		return purser.Errorf(purser.ECONFLICT, "you approved provision request %s already", a.RequestID)
	}
	return err
}

// saveOutputs seals and stores a request's outputs, or clears them.
func (db *DB) saveOutputs(ctx context.Context, tx Tx, o purser.RequestOutputs) error {
	var sealed *string
	if o.Outputs != nil {
		plain, _ := json.Marshal(o.Outputs)
		s := db.Sealer.Seal(string(plain))
		sealed = &s
	}
	if _, err := tx.Exec(ctx, "UPDATE requests SET outputs = ? WHERE id = ?", sealed, o.RequestID); err != nil {
		return fmt.Errorf("save outputs: %w", err)
	}
	return nil
}

// approvers returns who approved a request so far.
func (db *DB) approvers(ctx context.Context, q Querier, requestID string) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT reviewer FROM approvals WHERE request_id = ?", requestID)
	if err != nil {
		return nil, fmt.Errorf("approvals: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
