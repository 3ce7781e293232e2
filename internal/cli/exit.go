package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/purserhq/purser/client"
)

// Exit codes: scripts tell outcomes apart by them. They are listed in the
// root command's help (exitCodesHelp).
const (
	ExitOK         = 0
	ExitFailure    = 1 // anything else: a request ended FAILED, a local file is unreadable, ...
	ExitUsage      = 2 // bad flags or arguments
	ExitNotFound   = 3 // 404
	ExitForbidden  = 4 // 401 or 403: not logged in, or not allowed
	ExitConflict   = 5 // 409 or 412: the document changed or is in the wrong state
	ExitValidation = 6 // 400 or 422: the server refused the input
	ExitServer     = 7 // 5xx, or the server cannot be reached
	ExitWaitGaveUp = 8 // --wait ran out of --timeout; the request goes on
)

const exitCodesHelp = `Exit codes:
  0  success
  1  failure (e.g. a request --wait followed ended FAILED or REJECTED)
  2  usage error (flags, arguments)
  3  not found
  4  not logged in, or forbidden
  5  conflict (the document changed, or is in the wrong state)
  6  validation: the server refused the input
  7  server error, or the server cannot be reached
  8  --wait gave up after --timeout (the request goes on)`

// WaitGaveUp is the error of a --wait that ran out of time: the request is
// still going on the server.
type WaitGaveUp struct {
	After  time.Duration
	Status string
}

func (e WaitGaveUp) Error() string {
	return fmt.Sprintf("gave up waiting after %s; the request goes on (still %s)", humanDuration(e.After), e.Status)
}

// invalid is input the CLI refuses before asking the server, for the
// reason the server would: it exits as a validation error.
type invalid struct{ error }

// notLoggedIn is a command that needs a server before any login named one:
// the same exit code as the server's 401.
type notLoggedIn struct{ error }

func (e invalid) Unwrap() error { return e.error }

// ExitCode is the exit code for err, returned by a command.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue UsageError
	var wg WaitGaveUp
	var ce *client.Error
	var iv invalid
	var nl notLoggedIn
	switch {
	case errors.As(err, &nl):
		return ExitForbidden
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &iv):
		return ExitValidation
	case errors.As(err, &wg):
		return ExitWaitGaveUp
	case errors.As(err, &ce):
		switch s := ce.Status; {
		case s == 404 || s == 410:
			return ExitNotFound
		case s == 401 || s == 403:
			return ExitForbidden
		case s == 409 || s == 412 || s == 428:
			return ExitConflict
		case s == 400 || s == 422 || s == 413 || s == 415:
			return ExitValidation
		case s >= 500:
			return ExitServer
		}
	case client.IsUnreachable(err):
		return ExitServer
	case cobraUsage(err):
		return ExitUsage
	}
	return ExitFailure
}

// cobraUsage reports whether err is one of cobra's own errors about how
// a command was called, which it returns as plain errors.
func cobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "required flag(s)", "if any flags in the group", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
