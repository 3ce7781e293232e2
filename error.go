package purser

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in internal/api.
const (
	EINVALID        = "invalid"         // 422: a field breaks a rule
	EBADREQUEST     = "bad_request"     // 400: a malformed query (where, sort)
	ENOTFOUND       = "not_found"       // 404
	ECONFLICT       = "conflict"        // 409: a unique key, or a state that forbids the action
	EUNAUTHORIZED   = "unauthorized"    // 401: no valid credentials
	EFORBIDDEN      = "forbidden"       // 403: credentials lack the right
	EPRECONDITION   = "precondition"    // 412: a stale If-Match
	ETOOLARGE       = "too_large"       // 413
	EUNAVAILABLE    = "unavailable"     // 503
	EINTERNAL       = "internal"        // 500
	ENOTIMPLEMENTED = "not_implemented" // 501
)

// FieldError names one field and the rule it breaks.
type FieldError struct {
	Field   string // JSON path of the field, e.g. "roles[1]"
	Rule    string // the rule, e.g. "required", "unique", "max_length"
	Message string // a sentence for a person
}

// Error is Purser's one error type. Message is safe to show a user; Err is
// the cause and is only ever logged.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error listing the broken fields.
func Invalid(fields ...FieldError) *Error {
	msg := "validation failed"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Code: EINVALID, Message: msg, Fields: fields}
}

// ErrorCode returns the code of err's Error, EINTERNAL for any other error
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
