package purser

import (
	"context"
	"sort"
	"strings"
	"time"
)

// Identity is who an external identity provider (OpenID Connect) says
// signed in: the provider's issuer and its stable subject, and the claims
// Purser keeps on the user.
type Identity struct {
	Issuer, Subject string
	// Username is the provider's preferred username, made a valid Purser
	// username by IdentityUsername.
	Username      string
	Name, Email   string
	EmailVerified bool
	// Roles are the roles the user is to hold after signing in, as
	// GroupRoles.Roles decided them; nil leaves an existing user's roles
	// as they are.
	Roles []string
	// NewRoles are the roles of a user this sign-in creates when Roles
	// is nil.
	NewRoles []string
}

// GroupRoles maps an identity provider's groups to Purser roles: a user in
// any group mapped to a role holds that role.
type GroupRoles map[string]string

// Roles decides the roles of a user in groups: those its groups map to,
// sorted, or defaults when none does. With no mapping at all it returns
// nil: roles are then managed in Purser, not by the provider (a new user
// gets defaults).
func (m GroupRoles) Roles(groups, defaults []string) []string {
	if len(m) == 0 {
		return nil
	}
	seen := map[string]bool{}
	out := []string{}
	for _, g := range groups {
		if r, ok := m[g]; ok && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		out = append(out, defaults...)
	}
	sort.Strings(out)
	return out
}

// IdentityUsername makes a Purser username from what a provider offers:
// its preferred username, else the local part of the email, else the
// subject; lower-cased, with any character a username may not hold
// replaced by '-', cut to 100 characters.
func IdentityUsername(preferred, email, subject string) string {
	s := preferred
	if s == "" {
		s, _, _ = strings.Cut(email, "@")
	}
	if s == "" {
		s = subject
	}
	s = strings.ToLower(s)
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	s = strings.TrimLeft(b.String(), "._-")
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// Sign-in limits: a client address, and a username, may fail
// SignInFailureLimit sign-ins in SignInFailureWindow; past that, sign-ins
// for it are refused until the window ends. Enough for typos, too few to
// guess passwords.
const (
	SignInFailureLimit  = 10
	SignInFailureWindow = time.Minute
)

// SignInWait decides how long sign-ins for a key must wait at now, given
// its window's start and the failures counted in it: 0 when they may go on.
func SignInWait(start time.Time, failures int, now time.Time) time.Duration {
	left := SignInFailureWindow - now.Sub(start)
	if failures < SignInFailureLimit || left <= 0 {
		return 0
	}
	return left
}

// SignInLimiter counts failed sign-ins per key ("addr:" + a client
// address, "user:" + a username) in the store, so that every replica
// sees the same counts.
type SignInLimiter interface {
	// SignInWait returns how long sign-ins must wait for the most
	// limited of keys, or 0.
	SignInWait(ctx context.Context, keys ...string) (time.Duration, error)
	// FailSignIn counts one failed sign-in against each key.
	FailSignIn(ctx context.Context, keys ...string) error
}
