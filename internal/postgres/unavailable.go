package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/purserhq/purser"
)

// unavailableMessage is what a caller is told while the database cannot be
// reached: the API answers it with 503 and Retry-After.
const unavailableMessage = "the database is unavailable; retry shortly"

// unavailable translates, once at the boundary, an error that says the
// database cannot be reached (refused or broken connections, a server
// shutting down or starting up) into EUNAVAILABLE, keeping the cause.
// Other errors pass unchanged.
func unavailable(err error) error {
	if err == nil || !isUnavailable(err) {
		return err
	}
	return &purser.Error{Code: purser.EUNAVAILABLE, Message: unavailableMessage, Err: err}
}

// isUnavailable reports whether err means the database is out of reach.
func isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: admin shutdown,
		// crash shutdown, cannot connect now (starting up).
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	if errors.Is(err, context.Canceled) {
		return false // the caller went away
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ce) || errors.As(err, &oe) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed")
}
