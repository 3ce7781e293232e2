package sqldb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/purserhq/purser"
)

// actorID names the actor in ctx for the audit log.
func actorID(ctx context.Context) string {
	a := purser.ActorFromContext(ctx)
	switch {
	case a == nil:
		return "anonymous"
	case a.System:
		return "system"
	case a.User != nil:
		return a.User.ID
	}
	return "unknown"
}

// audit writes an event in tx. before and after are documents (structs
// with JSON tags, or maps); nil is fine.
func (db *DB) audit(ctx context.Context, tx Tx, action, targetType, targetID string, before, after any, actingFor string) error {
	enc := func(v any) (*string, error) {
		if v == nil {
			return nil, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		s := string(b)
		return &s, nil
	}
	b, err := enc(before)
	if err != nil {
		return err
	}
	a, err := enc(after)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO events (id, actor, acting_for, action, target_type, target_id, before, after, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, purser.NewID(), actorID(ctx), actingFor, action, targetType, targetID, b, a, micros(db.now()))
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
