package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/purserhq/purser"
)

// TestUnavailable: errors that say the database is out of reach become
// EUNAVAILABLE (a 503 with Retry-After), keeping their cause; others pass.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, refused := pgx.Connect(context.Background(), "postgres://x@"+addr+"/db?connect_timeout=2")
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", fmt.Errorf("begin: %w", &pgconn.PgError{Code: "57P03"}), true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"caller gone", context.Canceled, false},
	} {
		err := unavailable(c.err)
		if got := purser.ErrorCode(err) == purser.EUNAVAILABLE; got != c.want {
			t.Errorf("%s (%v): unavailable %v, want %v", c.name, c.err, got, c.want)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%s: the cause is lost", c.name)
		}
	}
	if unavailable(nil) != nil {
		t.Error("nil became an error")
	}
}
