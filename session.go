package purser

import (
	"context"
	"time"
	"unicode/utf8"
)

// Prefixes of the secrets a browser holds: a session's cookie and a
// one-time sign-in link. Neither authenticates the API.
const (
	SessionPrefix    = "pss_"
	SignInLinkPrefix = "psl_"
)

// Lifetimes of sessions and of one-time sign-in links.
const (
	SessionLifetime    = 12 * time.Hour
	SignInLinkLifetime = 72 * time.Hour
)

// Password length bounds: long enough to resist guessing, short enough
// that hashing one costs a bounded time.
const (
	PasswordMinLength = 12
	PasswordMaxLength = 256
)

// Session is a browser's signed-in session. Its secret lives in a cookie
// and only its hash is stored; CSRFToken is the per-session token every
// form of the web UI carries back.
type Session struct {
	ID        string
	UserID    string
	CSRFToken string
	ExpiresAt time.Time
	Created   time.Time
}

// Active reports whether the session still signs its browser in at now.
func (s *Session) Active(now time.Time) bool { return now.Before(s.ExpiresAt) }

// CheckPassword decides whether a password may be set: it is refused
// (EINVALID on field "password") when shorter than PasswordMinLength or
// longer than PasswordMaxLength characters.
func CheckPassword(password string) error {
	n := utf8.RuneCountInString(password)
	if n < PasswordMinLength || n > PasswordMaxLength {
		return Invalid(FieldError{Field: "password", Rule: "length",
			Message: "must be 12 to 256 characters"})
	}
	return nil
}

// SessionService signs people in to the web UI with a username and a
// password, and keeps their sessions.
type SessionService interface {
	// SetPassword sets a user's password: one's own, or anyone's for
	// admins (users:write). EINVALID when CheckPassword refuses it.
	SetPassword(ctx context.Context, userID, password string) error
	// CreateSignInLink makes a one-time link secret with which the user
	// sets a first password and signs in, valid SignInLinkLifetime; admins
	// only (users:write).
	CreateSignInLink(ctx context.Context, userID string) (secret string, expires time.Time, err error)
	// SignIn checks a username and password and opens a session, returning
	// it with its secret. Any mismatch, an inactive user or a user without
	// a password answers the same EUNAUTHORIZED.
	SignIn(ctx context.Context, username, password string) (*Session, string, error)
	// SignInWithLink uses a one-time link: it sets the password and opens
	// a session. EUNAUTHORIZED for an unknown, used or expired link.
	SignInWithLink(ctx context.Context, link, password string) (*Session, string, error)
	// AuthenticateSession returns the actor and session a session secret
	// stands for, or EUNAUTHORIZED.
	AuthenticateSession(ctx context.Context, secret string) (*Actor, *Session, error)
	// SignOut ends the session of the secret; an unknown one is no error.
	SignOut(ctx context.Context, secret string) error
}

// IdentitySignIn signs people in with an external identity provider.
type IdentitySignIn interface {
	// SignInWithIdentity opens a session for the user linked to the
	// identity (issuer, subject), updating its name, email and, when
	// id.Roles is not nil, its roles. An unlinked identity creates the
	// user (with id.Roles, or none) or, when a user of that username has
	// the identity's verified email and no linked identity, links it;
	// another user of that username is ECONFLICT. An inactive user is
	// EUNAUTHORIZED; a role that does not exist EINVALID.
	SignInWithIdentity(ctx context.Context, id Identity) (*Session, string, error)
}
