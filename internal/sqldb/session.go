package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/purserhq/purser"
)

// SessionService implements purser.SessionService.
type SessionService struct{ db *DB }

// NewSessionService returns the session service over db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

var _ purser.SessionService = (*SessionService)(nil)

func unauthSession() error {
	return purser.Errorf(purser.EUNAUTHORIZED, "the username or password is wrong, or the account cannot sign in")
}

// SetPassword sets a user's password: one's own, or anyone's for admins.
func (s *SessionService) SetPassword(ctx context.Context, userID, password string) error {
	if err := purser.Authorize(ctx, purser.ActionUserWrite, userID); err != nil {
		return err
	}
	if err := purser.CheckPassword(password); err != nil {
		return err
	}
	hash := hashPassword(password)
	return s.db.WithTx(ctx, func(tx Tx) error {
		return s.setPassword(ctx, tx, userID, hash)
	})
}

// setPassword stores hash as the user's password, ends the user's other
// sessions, and audits the change (never the hash).
func (s *SessionService) setPassword(ctx context.Context, tx Tx, userID, hash string) error {
	var one int
	if err := tx.QueryRow(ctx, "SELECT 1 FROM users WHERE id = ?", userID).Scan(&one); err != nil {
		return s.db.translate(err, "user "+userID)
	}
	now := micros(s.db.now())
	n, err := tx.Exec(ctx, "UPDATE passwords SET hash = ?, updated_at = ? WHERE user_id = ?", hash, now, userID)
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := tx.Exec(ctx, "INSERT INTO passwords (user_id, hash, updated_at) VALUES (?, ?, ?)", userID, hash, now); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID); err != nil {
		return err
	}
	return s.db.audit(ctx, tx, "user.password", "user", userID, nil, nil, "")
}

// CreateSignInLink makes a one-time sign-in link for a user; admins only.
func (s *SessionService) CreateSignInLink(ctx context.Context, userID string) (string, time.Time, error) {
	if err := purser.Authorize(ctx, purser.ActionUserWrite, ""); err != nil {
		return "", time.Time{}, err
	}
	secret := purser.NewSecret(purser.SignInLinkPrefix)
	now := s.db.now()
	exp := now.Add(purser.SignInLinkLifetime)
	err := s.db.WithTx(ctx, func(tx Tx) error {
		var active bool
		if err := tx.QueryRow(ctx, "SELECT is_active FROM users WHERE id = ?", userID).Scan(&active); err != nil {
			return s.db.translate(err, "user "+userID)
		}
		if !active {
			return purser.Errorf(purser.ECONFLICT, "user %s is inactive", userID)
		}
		id := purser.NewID()
		if _, err := tx.Exec(ctx, "INSERT INTO signin_links (id, hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
			id, purser.HashToken(secret), userID, micros(exp), micros(now)); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, "user.signin_link", "user", userID, nil, map[string]any{"expires_at": exp}, "")
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return secret, exp, nil
}

// SignIn checks a username and password and opens a session.
func (s *SessionService) SignIn(ctx context.Context, username, password string) (*purser.Session, string, error) {
	var userID, hash string
	var active bool
	err := s.db.Read.QueryRow(ctx, `SELECT u.id, u.is_active, p.hash FROM users u JOIN passwords p ON p.user_id = u.id
		WHERE u.username = ?`, strings.TrimSpace(username)).Scan(&userID, &active, &hash)
	if err != nil && !errors.Is(err, ErrNoRows) {
		return nil, "", fmt.Errorf("find password: %w", err)
	}
	if hash == "" {
		passwordMatches(dummyHash(), password)
		return nil, "", unauthSession()
	}
	if !passwordMatches(hash, password) || !active {
		return nil, "", unauthSession()
	}
	var sess *purser.Session
	var secret string
	err = s.db.WithTx(ctx, func(tx Tx) error {
		sess, secret, err = s.open(ctx, tx, userID)
		return err
	})
	return sess, secret, err
}

// open inserts a new session for the user (dropping expired ones) and
// audits the sign-in.
func (s *SessionService) open(ctx context.Context, tx Tx, userID string) (*purser.Session, string, error) {
	now := s.db.now()
	if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= ?", micros(now)); err != nil {
		return nil, "", err
	}
	secret := purser.NewSecret(purser.SessionPrefix)
	sess := &purser.Session{ID: purser.NewID(), UserID: userID, CSRFToken: purser.NewSecret(""),
		ExpiresAt: now.Add(purser.SessionLifetime), Created: now}
	if _, err := tx.Exec(ctx, "INSERT INTO sessions (id, hash, user_id, csrf, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		sess.ID, purser.HashToken(secret), userID, sess.CSRFToken, micros(sess.ExpiresAt), micros(now)); err != nil {
		return nil, "", err
	}
	ctx = purser.NewContextWithActor(ctx, &purser.Actor{User: &purser.User{Meta: purser.Meta{ID: userID}}})
	return sess, secret, s.db.audit(ctx, tx, "user.signin", "user", userID, nil, nil, "")
}

// SignInWithLink sets the password a one-time link allows and opens a session.
func (s *SessionService) SignInWithLink(ctx context.Context, link, password string) (*purser.Session, string, error) {
	if err := purser.CheckPassword(password); err != nil {
		return nil, "", err
	}
	hash := hashPassword(password)
	var sess *purser.Session
	var secret string
	err := s.db.WithTx(ctx, func(tx Tx) error {
		var id, userID string
		var exp int64
		var active bool
		err := tx.QueryRow(ctx, `SELECT l.id, l.user_id, l.expires_at, u.is_active FROM signin_links l JOIN users u ON u.id = l.user_id
			WHERE l.hash = ? AND l.used_at IS NULL`, purser.HashToken(link)).Scan(&id, &userID, &exp, &active)
		now := s.db.now()
		if err != nil || !active || !now.Before(fromMicros(exp)) {
			return purser.Errorf(purser.EUNAUTHORIZED, "the sign-in link is unknown, used or expired; ask an admin for a new one")
		}
		if _, err := tx.Exec(ctx, "UPDATE signin_links SET used_at = ? WHERE id = ?", micros(now), id); err != nil {
			return err
		}
		actx := purser.NewContextWithActor(ctx, &purser.Actor{User: &purser.User{Meta: purser.Meta{ID: userID}}})
		if err := s.setPassword(actx, tx, userID, hash); err != nil {
			return err
		}
		sess, secret, err = s.open(ctx, tx, userID)
		return err
	})
	return sess, secret, err
}

// AuthenticateSession returns the actor of a session secret, in one query.
func (s *SessionService) AuthenticateSession(ctx context.Context, secret string) (*purser.Actor, *purser.Session, error) {
	if !strings.HasPrefix(secret, purser.SessionPrefix) {
		return nil, nil, unauthSession()
	}
	rows, err := s.db.Read.Query(ctx, `SELECT s.id, s.csrf, s.expires_at, s.created_at, `+userSelect+`, ur.role
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN user_roles ur ON ur.user_id = u.id
		WHERE s.hash = ? ORDER BY ur.role`, purser.HashToken(secret))
	if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	defer rows.Close()
	var sess purser.Session
	var u *userRow
	for rows.Next() {
		var exp, created int64
		var role *string
		r := &userRow{}
		if err := rows.Scan(&sess.ID, &sess.CSRFToken, &exp, &created, &r.ID, &r.Username, &r.Name, &r.Email, &r.IsActive, &r.Version, &r.created, &r.updated, &role); err != nil {
			return nil, nil, fmt.Errorf("scan session: %w", err)
		}
		if u == nil {
			u, sess.ExpiresAt, sess.Created = r, fromMicros(exp), fromMicros(created)
		}
		if role != nil {
			u.Roles = append(u.Roles, *role)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if u == nil || !sess.Active(s.db.now()) || !u.IsActive {
		return nil, nil, purser.Errorf(purser.EUNAUTHORIZED, "the session ended; sign in again")
	}
	user := u.domain()
	sess.UserID = user.ID
	return &purser.Actor{User: user}, &sess, nil
}

// SignOut ends the session of the secret.
func (s *SessionService) SignOut(ctx context.Context, secret string) error {
	return s.db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM sessions WHERE hash = ?", purser.HashToken(secret))
		return err
	})
}
