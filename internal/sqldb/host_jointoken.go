package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/purserhq/purser"
)

// JoinTokenService implements purser.JoinTokenService.
type JoinTokenService struct{ db *DB }

// NewJoinTokenService returns the join token service over db.
func NewJoinTokenService(db *DB) *JoinTokenService { return &JoinTokenService{db: db} }

var _ purser.JoinTokenService = (*JoinTokenService)(nil)

var joinTokenColumns = columns{plain: map[string]string{
	"_id": "id", "_created": "created_at", "reusable": "reusable", "expires_at": "expires_at",
},
	fields: purser.JoinTokenFields,
	unique: []string{"_id"},
}

const joinTokenSelect = "id, description, hint, reusable, expires_at, revoked_at, uses, last_used_at, created_by, created_at"

type joinTokenRow struct {
	purser.JoinToken
	expires, created int64
	revoked, used    *int64
}

func scanJoinToken(row Row) (*joinTokenRow, error) {
	var r joinTokenRow
	err := row.Scan(&r.ID, &r.Description, &r.Hint, &r.Reusable, &r.expires, &r.revoked, &r.Uses, &r.used, &r.CreatedBy, &r.created)
	return &r, err
}

func (r *joinTokenRow) domain() *purser.JoinToken {
	t := r.JoinToken
	t.ExpiresAt, t.Created = fromMicros(r.expires), fromMicros(r.created)
	t.RevokedAt, t.LastUsedAt = fromMicrosPtr(r.revoked), fromMicrosPtr(r.used)
	return &t
}

func (db *DB) findJoinToken(ctx context.Context, q Querier, where string, arg any) (*purser.JoinToken, error) {
	sql := "SELECT " + joinTokenSelect + " FROM join_tokens WHERE " + where
	if _, ok := q.(Tx); ok && db.Name == "postgres" {
		sql += " FOR UPDATE"
	}
	r, err := scanJoinToken(q.QueryRow(ctx, sql, arg))
	if err != nil {
		return nil, db.translate(err, "join token")
	}
	return r.domain(), nil
}

// CreateJoinToken creates a join token (join_tokens:write).
func (s *JoinTokenService) CreateJoinToken(ctx context.Context, description string, reusable bool, ttl time.Duration) (*purser.JoinToken, string, error) {
	t, secret, ch, err := purser.NewJoinToken(purser.ActorFromContext(ctx), description, reusable, ttl, s.db.now())
	if err != nil {
		return nil, "", err
	}
	if err := s.db.WithTx(ctx, func(tx Tx) error { return s.db.commit(ctx, tx, ch) }); err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// FindJoinTokens lists join tokens, newest first.
func (s *JoinTokenService) FindJoinTokens(ctx context.Context, q purser.Query) ([]*purser.JoinToken, purser.PageInfo, error) {
	if err := purser.Authorize(ctx, purser.ActionJoinTokenWrite, ""); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := joinTokenColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	return list(ctx, s.db, listSpec[joinTokenRow, purser.JoinToken]{
		from: "join_tokens", selectCols: joinTokenSelect, where: where,
		orderBy: joinTokenColumns.orderBy(q.Sort, "id"), query: q,
		scan: scanJoinToken, domain: (*joinTokenRow).domain,
	})
}

// RevokeJoinToken revokes a join token.
func (s *JoinTokenService) RevokeJoinToken(ctx context.Context, id string) (*purser.JoinToken, error) {
	if err := purser.Authorize(ctx, purser.ActionJoinTokenWrite, ""); err != nil {
		return nil, err
	}
	var out *purser.JoinToken
	err := s.db.WithTx(ctx, func(tx Tx) error {
		t, err := s.db.findJoinToken(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		after, ch, err := t.Revoke(purser.ActorFromContext(ctx), s.db.now())
		if err != nil {
			return err
		}
		out = after
		return s.db.commit(ctx, tx, ch)
	})
	return out, err
}

// insertJoinToken stores a new token's hash.
func (db *DB) insertJoinToken(ctx context.Context, tx Tx, r purser.NewJoinTokenRow) error {
	t := r.Token
	_, err := tx.Exec(ctx, `INSERT INTO join_tokens (id, description, hash, hint, reusable, expires_at, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Description, r.Hash, t.Hint, t.Reusable, micros(t.ExpiresAt), t.CreatedBy, micros(t.Created))
	return db.translate(err, "join token")
}

// saveJoinToken writes a token's uses and revocation.
func (db *DB) saveJoinToken(ctx context.Context, tx Tx, t *purser.JoinToken) error {
	_, err := tx.Exec(ctx, "UPDATE join_tokens SET uses = ?, last_used_at = ?, revoked_at = ? WHERE id = ?",
		t.Uses, microsPtr(t.LastUsedAt), microsPtr(t.RevokedAt), t.ID)
	if err != nil {
		return fmt.Errorf("save join token: %w", err)
	}
	return nil
}
