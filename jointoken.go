package purser

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"
)

// Secret prefixes: join tokens (given to an agent to register a host) and
// agent credentials (what registration returns, scoped to one host). Like
// API tokens, only their SHA-256 hash (HashToken) is stored.
const (
	JoinTokenPrefix = "psj_"
	AgentPrefix     = "psa_"
)

// JoinToken lets agents register hosts: once, or until it expires or is
// revoked when Reusable. Its secret is shown once, at creation.
type JoinToken struct {
	ID          string
	Description string
	Hint        string
	Reusable    bool
	ExpiresAt   time.Time
	RevokedAt   *time.Time
	// Uses counts registrations; LastUsedAt is the last one's time.
	Uses       int
	LastUsedAt *time.Time
	CreatedBy  string
	Created    time.Time
}

// JoinTokenFields are the fields of join tokens that where and sort may name.
var JoinTokenFields = Fields{"_id": KindString, "_created": KindTime, "reusable": KindBool, "expires_at": KindTime}

// DefaultJoinTokenTTL is how long a join token lasts when its creator says
// nothing; MaxJoinTokenTTL bounds what it may say.
const (
	DefaultJoinTokenTTL = 24 * time.Hour
	MaxJoinTokenTTL     = 30 * 24 * time.Hour
)

// NewSecret returns a new random secret with the prefix.
func NewSecret(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// SecretHint returns the recognisable, non-secret start of a secret of
// any of Purser's prefixes.
func SecretHint(secret string) string {
	if len(secret) < 8 || !strings.HasPrefix(secret, "ps") || secret[3] != '_' {
		return ""
	}
	return secret[:8]
}

// NewJoinToken decides a new join token valid for ttl from now (0: the
// default), and returns it with its secret and the Change that records it.
func NewJoinToken(by *Actor, description string, reusable bool, ttl time.Duration, now time.Time) (*JoinToken, string, Change, error) {
	if err := by.Authorize(ActionJoinTokenWrite, ""); err != nil {
		return nil, "", Change{}, err
	}
	if ttl == 0 {
		ttl = DefaultJoinTokenTTL
	}
	if ttl < time.Minute || ttl > MaxJoinTokenTTL {
		return nil, "", Change{}, Invalid(FieldError{"ttl", "range", "must be between 1 minute and 720 hours"})
	}
	if len(description) > 200 {
		return nil, "", Change{}, Invalid(FieldError{"description", "max_length", "must be at most 200 characters"})
	}
	secret := NewSecret(JoinTokenPrefix)
	t := &JoinToken{ID: NewID(), Description: description, Hint: SecretHint(secret), Reusable: reusable,
		ExpiresAt: now.Add(ttl), Created: now}
	if by.User != nil {
		t.CreatedBy = by.User.ID
	}
	return t, secret, Change{Rows: []Row{NewJoinTokenRow{t, HashToken(secret)}}, Events: []AuditEvent{{Action: "join_token.create",
		TargetType: "joinToken", TargetID: t.ID, After: t.doc()}}}, nil
}

// NewJoinTokenRow is the Row of a new join token: the token and its hash.
type NewJoinTokenRow struct {
	Token *JoinToken
	Hash  string
}

func (t *JoinToken) doc() map[string]any {
	return map[string]any{"description": t.Description, "hint": t.Hint, "reusable": t.Reusable, "expires_at": t.ExpiresAt, "uses": t.Uses}
}

// Usable says why the token cannot register a host at now ("" when it can).
func (t *JoinToken) Usable(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case !now.Before(t.ExpiresAt):
		return "expired"
	case !t.Reusable && t.Uses > 0:
		return "already used (one-time)"
	}
	return ""
}

// Use decides a registration with the token at now: the token counts
// it, or EUNAUTHORIZED when it is revoked, expired or a used one-time
// token (the message does not say which, as for API tokens).
func (t *JoinToken) Use(now time.Time) (*JoinToken, error) {
	if t.Usable(now) != "" {
		return nil, Errorf(EUNAUTHORIZED, "the join token is invalid, revoked, expired or already used")
	}
	after := *t
	after.Uses++
	after.LastUsedAt = &now
	return &after, nil
}

// Revoke decides revoking the token; revoking twice changes nothing.
func (t *JoinToken) Revoke(by *Actor, now time.Time) (*JoinToken, Change, error) {
	if err := by.Authorize(ActionJoinTokenWrite, ""); err != nil {
		return nil, Change{}, err
	}
	if t.RevokedAt != nil {
		return t, Change{}, nil
	}
	after := *t
	after.RevokedAt = &now
	return &after, Change{Rows: []Row{&after}, Events: []AuditEvent{{Action: "join_token.revoke", TargetType: "joinToken", TargetID: t.ID,
		Before: t.doc()}}}, nil
}
