package purser

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so that secret scanners can find them.
const TokenPrefix = "pst_"

// Token is an API token. Its secret is shown once, at creation; only its
// SHA-256 hash is stored.
type Token struct {
	ID         string
	UserID     string
	Name       string
	Hint       string // the first characters of the secret, to recognise it
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	Created    time.Time
}

// Active reports whether the token can authenticate at now.
func (t *Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// NewTokenSecret returns a new random token secret.
func NewTokenSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken returns the stored form of a token secret.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// TokenHint returns the recognisable, non-secret start of a secret.
func TokenHint(secret string) string {
	if len(secret) < len(TokenPrefix)+4 || !strings.HasPrefix(secret, TokenPrefix) {
		return ""
	}
	return secret[:len(TokenPrefix)+4]
}

// TokenFilter selects tokens. UserID "" means the caller's own.
type TokenFilter struct {
	UserID string
	// All lists every user's tokens, newest first, at most
	// MaxTokensListed (admins only: tokens:any_user); UserID is ignored.
	All bool
}

// MaxTokensListed bounds a list of every user's tokens.
const MaxTokensListed = 1000

// TokenService manages API tokens and authenticates callers.
type TokenService interface {
	// CreateToken creates a token for userID ("" for the caller) and
	// returns it with its secret, which is not kept.
	// Only admins (tokens:any_user) make one for another user; ECONFLICT
	// when the user is inactive.
	CreateToken(ctx context.Context, userID, name string, expiresAt *time.Time) (*Token, string, error)
	// FindTokens returns a user's tokens, newest first, without secrets:
	// the caller's own, or anyone's for admins.
	FindTokens(ctx context.Context, f TokenFilter) ([]*Token, error)
	// RevokeToken stops a token from authenticating: the caller's own, or
	// anyone's for admins. Revoking a revoked token is not an error;
	// ENOTFOUND when there is no such token.
	RevokeToken(ctx context.Context, id string) error
	// Authenticate returns the actor a secret stands for, or EUNAUTHORIZED.
	Authenticate(ctx context.Context, secret string) (*Actor, error)
}
