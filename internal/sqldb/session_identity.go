package sqldb

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/purserhq/purser"
)

var _ purser.IdentitySignIn = (*SessionService)(nil)

// SignInWithIdentity opens a session for the user an external identity
// stands for, creating or linking the user on its first sign-in.
func (s *SessionService) SignInWithIdentity(ctx context.Context, id purser.Identity) (*purser.Session, string, error) {
	if id.Issuer == "" || id.Subject == "" {
		return nil, "", purser.Errorf(purser.EUNAUTHORIZED, "the identity provider named no subject")
	}
	var sess *purser.Session
	var secret string
	defer s.db.forgetAuth()
	err := s.db.WithTx(ctx, func(tx Tx) error {
		u, err := s.identityUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !u.IsActive {
			return purser.Errorf(purser.EUNAUTHORIZED, "the account %s is deactivated; ask an admin", u.Username)
		}
		sess, secret, err = s.open(ctx, tx, u.ID)
		return err
	})
	return sess, secret, err
}

// identityUser finds, links or creates the user of id, and brings its
// name, email and (when id.Roles is set) roles up to date.
func (s *SessionService) identityUser(ctx context.Context, tx Tx, id purser.Identity) (*purser.User, error) {
	users := &UserService{db: s.db}
	var userID string
	err := tx.QueryRow(ctx, "SELECT user_id FROM user_identities WHERE issuer = ? AND subject = ?", id.Issuer, id.Subject).Scan(&userID)
	if err != nil && !errors.Is(err, ErrNoRows) {
		return nil, fmt.Errorf("find identity: %w", err)
	}
	actx := purser.SystemContext(ctx)
	if userID == "" {
		u, err := users.findUser(ctx, tx, "u.username = ?", id.Username)
		switch {
		case purser.ErrorCode(err) == purser.ENOTFOUND:
			u = &purser.User{Username: id.Username, Name: id.Name, Email: id.Email, Roles: id.Roles, IsActive: true}
			if u.Roles == nil {
				u.Roles = append([]string{}, id.NewRoles...)
			}
			if err := u.Validate(); err != nil {
				return nil, err
			}
			if err := checkRoles(ctx, tx, u.Roles); err != nil {
				return nil, err
			}
			now := s.db.now()
			u.ID, u.Created, u.Updated, u.Version = purser.NewID(), now, now, 1
			if _, err := tx.Exec(ctx, `INSERT INTO users (id, username, name, email, is_active, version, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Username, u.Name, u.Email, true, 1, micros(now), micros(now)); err != nil {
				return nil, s.db.translate(err, "user "+u.Username)
			}
			if err := setRoles(ctx, tx, u.ID, u.Roles); err != nil {
				return nil, err
			}
			if err := s.db.audit(actx, tx, "user.create", "user", u.ID, nil, userAudit(u), ""); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			var linked int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM user_identities WHERE user_id = ?", u.ID).Scan(&linked); err != nil {
				return nil, err
			}
			if linked > 0 || !id.EmailVerified || id.Email == "" || u.Email != id.Email {
				return nil, purser.Errorf(purser.ECONFLICT, "a user named %s already exists and is not linked to this identity "+
					"(linking needs the same verified email); ask an admin", id.Username)
			}
		}
		userID = u.ID
		if _, err := tx.Exec(ctx, "INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)",
			id.Issuer, id.Subject, userID, micros(s.db.now())); err != nil {
			return nil, fmt.Errorf("link identity: %w", err)
		}
		if err := s.db.audit(actx, tx, "user.link_identity", "user", userID, nil, map[string]any{"issuer": id.Issuer, "subject": id.Subject}, ""); err != nil {
			return nil, err
		}
	}
	u, err := users.findUser(ctx, tx, "u.id = ?", userID)
	if err != nil {
		return nil, err
	}
	return s.syncIdentity(actx, tx, u, id)
}

// syncIdentity updates what the provider owns of u: its name and email
// when the provider gives them, its roles when id.Roles is set.
func (s *SessionService) syncIdentity(ctx context.Context, tx Tx, u *purser.User, id purser.Identity) (*purser.User, error) {
	before := userAudit(u)
	after := *u
	if id.Name != "" {
		after.Name = id.Name
	}
	if id.Email != "" {
		after.Email = id.Email
	}
	rolesChanged := id.Roles != nil && !slices.Equal(id.Roles, u.Roles)
	if rolesChanged {
		after.Roles = id.Roles
		if err := checkRoles(ctx, tx, after.Roles); err != nil {
			return nil, err
		}
	}
	if after.Name == u.Name && after.Email == u.Email && !rolesChanged {
		return u, nil
	}
	if err := after.Validate(); err != nil {
		return nil, err
	}
	after.Updated = s.db.now()
	if _, err := tx.Exec(ctx, "UPDATE users SET name = ?, email = ?, version = version + 1, updated_at = ? WHERE id = ?",
		after.Name, after.Email, micros(after.Updated), u.ID); err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	if rolesChanged {
		if err := setRoles(ctx, tx, u.ID, after.Roles); err != nil {
			return nil, err
		}
	}
	return &after, s.db.audit(ctx, tx, "user.update", "user", u.ID, before, userAudit(&after), "")
}
