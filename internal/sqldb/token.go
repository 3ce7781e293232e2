package sqldb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/purserhq/purser"
)

// TokenService implements purser.TokenService.
type TokenService struct{ db *DB }

// NewTokenService returns the token service over db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

var _ purser.TokenService = (*TokenService)(nil)

// lastUsedGranularity bounds how often a token's last-used time is written:
// once a minute per token is enough to tell a live token from a stale one.
const lastUsedGranularity = time.Minute

const tokenSelect = "id, user_id, name, hint, expires_at, last_used_at, revoked_at, created_at"

func scanToken(row Row) (*purser.Token, error) {
	var t purser.Token
	var exp, used, rev *int64
	var created int64
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Hint, &exp, &used, &rev, &created); err != nil {
		return nil, err
	}
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromMicrosPtr(exp), fromMicrosPtr(used), fromMicrosPtr(rev)
	t.Created = fromMicros(created)
	return &t, nil
}

func (s *TokenService) owner(ctx context.Context, userID string) (string, error) {
	if userID != "" {
		return userID, nil
	}
	a := purser.ActorFromContext(ctx)
	if a == nil || a.User == nil {
		return "", purser.Errorf(purser.EUNAUTHORIZED, "authentication required")
	}
	return a.User.ID, nil
}

// CreateToken creates a token for a user: the caller itself, or anyone for admins.
func (s *TokenService) CreateToken(ctx context.Context, userID, name string, expiresAt *time.Time) (*purser.Token, string, error) {
	userID, err := s.owner(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if err := purser.Authorize(ctx, purser.ActionTokenAnyUser, userID); err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", purser.Invalid(purser.FieldError{Field: "name", Rule: "length", Message: "must be 1 to 100 characters"})
	}
	now := s.db.now()
	if expiresAt != nil && !expiresAt.After(now) {
		return nil, "", purser.Invalid(purser.FieldError{Field: "expires_at", Rule: "future", Message: "must be in the future"})
	}
	secret := purser.NewTokenSecret()
	t := &purser.Token{ID: purser.NewID(), UserID: userID, Name: name, Hint: purser.TokenHint(secret), ExpiresAt: expiresAt, Created: now}
	err = s.db.WithTx(ctx, func(tx Tx) error {
		var active bool
		if err := tx.QueryRow(ctx, "SELECT is_active FROM users WHERE id = ?", userID).Scan(&active); err != nil {
			return s.db.translate(err, "user "+userID)
		}
		if !active {
			return purser.Errorf(purser.ECONFLICT, "user %s is inactive", userID)
		}
		_, err := tx.Exec(ctx, "INSERT INTO tokens (id, user_id, name, hash, hint, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			t.ID, userID, name, purser.HashToken(secret), t.Hint, microsPtr(expiresAt), micros(now))
		if err != nil {
			return s.db.translate(err, "token")
		}
		return s.db.audit(ctx, tx, "token.create", "token", t.ID, nil, map[string]any{"user": userID, "name": name, "hint": t.Hint}, "")
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// FindTokens lists a user's tokens, newest first.
func (s *TokenService) FindTokens(ctx context.Context, f purser.TokenFilter) ([]*purser.Token, error) {
	q, args := "SELECT "+tokenSelect+" FROM tokens ORDER BY created_at DESC, id LIMIT ?", []any{purser.MaxTokensListed}
	if f.All {
		if err := purser.Authorize(ctx, purser.ActionTokenAnyUser, ""); err != nil {
			return nil, err
		}
	} else {
		userID, err := s.owner(ctx, f.UserID)
		if err != nil {
			return nil, err
		}
		if err := purser.Authorize(ctx, purser.ActionTokenAnyUser, userID); err != nil {
			return nil, err
		}
		q, args = "SELECT "+tokenSelect+" FROM tokens WHERE user_id = ? ORDER BY created_at DESC, id", []any{userID}
	}
	rows, err := s.db.Read.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []*purser.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("scan token: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token: the owner's or, for admins, anyone's.
// Revoking a revoked token is not an error.
func (s *TokenService) RevokeToken(ctx context.Context, id string) error {
	t, err := scanToken(s.db.Read.QueryRow(ctx, "SELECT "+tokenSelect+" FROM tokens WHERE id = ?", id))
	if err != nil {
		return s.db.translate(err, "token "+id)
	}
	if err := purser.Authorize(ctx, purser.ActionTokenAnyUser, t.UserID); err != nil {
		return err
	}
	defer s.db.forgetAuth()
	return s.db.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", micros(s.db.now()), id)
		if err != nil || n == 0 {
			return err
		}
		return s.db.audit(ctx, tx, "token.revoke", "token", id, nil, map[string]any{"user": t.UserID}, "")
	})
}

// Authenticate returns the actor a secret stands for. Unknown, revoked and
// expired tokens and inactive users all answer the same EUNAUTHORIZED, so
// that a caller learns nothing about which it was. It costs one query: the
// token, its user and the user's roles, joined.
func (s *TokenService) Authenticate(ctx context.Context, secret string) (*purser.Actor, error) {
	unauth := purser.Errorf(purser.EUNAUTHORIZED, "the token is invalid, revoked or expired")
	if strings.HasPrefix(secret, purser.AgentPrefix) {
		return s.db.authenticateAgent(ctx, secret)
	}
	if !strings.HasPrefix(secret, purser.TokenPrefix) {
		return nil, unauth
	}
	hash := purser.HashToken(secret)
	if e, ok := s.db.auth.GetIfPresent(hash); ok {
		if !e.token.Active(s.db.now()) {
			return nil, unauth
		}
		u := e.user // a copy: callers may not change the cached user
		return &purser.Actor{User: &u, TokenID: e.token.ID}, nil
	}
	rows, err := s.db.Read.Query(ctx, `SELECT t.id, t.expires_at, t.last_used_at, t.revoked_at, `+userSelect+`, ur.role
		FROM tokens t JOIN users u ON u.id = t.user_id LEFT JOIN user_roles ur ON ur.user_id = u.id
		WHERE t.hash = ? ORDER BY ur.role`, hash)
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	defer rows.Close()
	var t purser.Token
	var u *userRow
	for rows.Next() {
		var exp, used, rev *int64
		var role *string
		r := &userRow{}
		if err := rows.Scan(&t.ID, &exp, &used, &rev, &r.ID, &r.Username, &r.Name, &r.Email, &r.IsActive, &r.Version, &r.created, &r.updated, &role); err != nil {
			return nil, fmt.Errorf("scan token: %w", err)
		}
		if u == nil {
			u, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = r, fromMicrosPtr(exp), fromMicrosPtr(used), fromMicrosPtr(rev)
		}
		if role != nil {
			u.Roles = append(u.Roles, *role)
		}
	}
	rows.Close() // before the update below takes a connection of its own
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := s.db.now()
	if u == nil || !t.Active(now) || !u.IsActive {
		return nil, unauth
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > lastUsedGranularity {
		err := s.db.WithTx(ctx, func(tx Tx) error {
			_, err := tx.Exec(ctx, "UPDATE tokens SET last_used_at = ? WHERE id = ?", micros(now), t.ID)
			return err
		})
		if err != nil {
			s.db.Logger.WarnContext(ctx, "record token use", "token_id", t.ID, "error", err)
		}
	}
	user := u.domain()
	s.db.auth.Set(hash, &authEntry{token: t, user: *user})
	return &purser.Actor{User: user, TokenID: t.ID}, nil
}

// Bootstrap creates the first admin user and a token for it when there are
// no users. secret is used as the token when not empty; otherwise one is
// made. It returns the secret, or "" when users already existed or another
// replica, starting at the same time, made the first admin.
func Bootstrap(ctx context.Context, db *DB, secret string) (string, error) {
	var n int
	if err := db.Read.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return "", fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	if secret == "" {
		secret = purser.NewTokenSecret()
	} else if !strings.HasPrefix(secret, purser.TokenPrefix) || len(secret) < len(purser.TokenPrefix)+16 {
		return "", fmt.Errorf("bootstrap token must start with %q and have at least 16 more characters", purser.TokenPrefix)
	}
	sys := purser.SystemContext(ctx)
	admin := &purser.User{Username: "admin", Name: "Administrator", Roles: []string{purser.RoleAdmin}, IsActive: true}
	if err := NewUserService(db).CreateUser(sys, admin); err != nil {
		if purser.ErrorCode(err) == purser.ECONFLICT {
			return "", nil // another replica, started at the same time, made the first admin
		}
		return "", fmt.Errorf("create admin: %w", err)
	}
	now := db.now()
	err := db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO tokens (id, user_id, name, hash, hint, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			purser.NewID(), admin.ID, "bootstrap", purser.HashToken(secret), purser.TokenHint(secret), micros(now))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create bootstrap token: %w", err)
	}
	return secret, nil
}

// AdminTokensUnused reports whether admins hold tokens but none has ever
// been used: the first start's token may never have been seen.
func (db *DB) AdminTokensUnused(ctx context.Context) (bool, error) {
	var held, used int
	err := db.Read.QueryRow(ctx, `SELECT COUNT(*), COUNT(t.last_used_at) FROM tokens t
		JOIN user_roles r ON r.user_id = t.user_id AND r.role = ?`, purser.RoleAdmin).Scan(&held, &used)
	if err != nil {
		return false, fmt.Errorf("admin tokens: %w", err)
	}
	return held > 0 && used == 0, nil
}
