package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/purserhq/purser"
)

// SignInLimiter implements purser.SignInLimiter: the counts live in the
// store, so that every replica refuses the same guesses.
type SignInLimiter struct{ db *DB }

// NewSignInLimiter returns the sign-in limiter over db.
func NewSignInLimiter(db *DB) *SignInLimiter { return &SignInLimiter{db: db} }

var _ purser.SignInLimiter = (*SignInLimiter)(nil)

// SignInWait returns the longest wait purser.SignInWait decides for keys.
func (l *SignInLimiter) SignInWait(ctx context.Context, keys ...string) (time.Duration, error) {
	now := l.db.now()
	var wait time.Duration
	for _, k := range keys {
		var start, n int64
		err := l.db.Read.QueryRow(ctx, "SELECT window_start, failures FROM signin_failures WHERE limit_key = ?", k).Scan(&start, &n)
		if errors.Is(err, ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read sign-in failures: %w", err)
		}
		wait = max(wait, purser.SignInWait(fromMicros(start), int(n), now))
	}
	return wait, nil
}

// FailSignIn counts a failure against each key: in its current window,
// or in a new one when the last has ended. Ended windows are dropped.
func (l *SignInLimiter) FailSignIn(ctx context.Context, keys ...string) error {
	now := l.db.now()
	ended := micros(now.Add(-purser.SignInFailureWindow))
	return l.db.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM signin_failures WHERE window_start <= ?", ended); err != nil {
			return fmt.Errorf("drop sign-in failures: %w", err)
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO signin_failures (limit_key, window_start, failures) VALUES (?, ?, 1)
				ON CONFLICT (limit_key) DO UPDATE SET failures = signin_failures.failures + 1`, k, micros(now)); err != nil {
				return fmt.Errorf("count sign-in failure: %w", err)
			}
		}
		return nil
	})
}
