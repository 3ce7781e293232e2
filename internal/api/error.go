package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"
)

// statuses maps each purser error code to its one HTTP status.
var statuses = map[string]int{
	purser.EINVALID:        http.StatusUnprocessableEntity,
	purser.EBADREQUEST:     http.StatusBadRequest,
	purser.ENOTFOUND:       http.StatusNotFound,
	purser.ECONFLICT:       http.StatusConflict,
	purser.EUNAUTHORIZED:   http.StatusUnauthorized,
	purser.EFORBIDDEN:      http.StatusForbidden,
	purser.EPRECONDITION:   http.StatusPreconditionFailed,
	purser.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	purser.EUNAVAILABLE:    http.StatusServiceUnavailable,
	purser.EINTERNAL:       http.StatusInternalServerError,
	purser.ENOTIMPLEMENTED: http.StatusNotImplemented,
}

// StatusOf returns the HTTP status of a purser error code.
func StatusOf(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// internalDetail is the whole detail of a 500: the cause is only logged.
const internalDetail = httpserver.InternalDetail

// problem turns err into an RFC 9457 problem document. Internal errors are
// logged with the request's id and answered with no detail. Each broken
// field is one entry of errors, with its path and rule; the detail then
// summarises instead of repeating them (see tidyProblem).
func (s *Server) problem(ctx context.Context, err error) error {
	var done huma.StatusError
	if errors.As(err, &done) {
		return err // already a problem (a helper made it)
	}
	code := purser.ErrorCode(err)
	if code == purser.EINTERNAL {
		s.Logger.ErrorContext(ctx, "request failed", "error", err)
		return huma.Error500InternalServerError(internalDetail)
	}
	var pe *purser.Error
	errors.As(err, &pe)
	where := "body."
	if code == purser.EBADREQUEST {
		where = "query."
	}
	details := make([]error, 0, len(pe.Fields))
	for _, f := range pe.Fields {
		details = append(details, &huma.ErrorDetail{Message: f.Message + " (rule: " + f.Rule + ")", Location: where + f.Field})
	}
	herr := huma.NewError(StatusOf(code), pe.Message, details...)
	if code == purser.EUNAVAILABLE {
		// A dependency (the database) is out of reach for now: say when to
		// come back rather than leave clients to guess.
		return huma.ErrorWithHeaders(herr, http.Header{"Retry-After": {httpserver.RetryAfterUnavailable}})
	}
	return herr
}

// requiredProperty is huma's message for a missing field, which it places
// on the object rather than the field.
var requiredProperty = regexp.MustCompile(`^expected required property (\S+) to be present$`)

// tidyProblem makes every problem with a per-field list say each thing
// once: each entry names its field in location (huma's own "expected
// required property x" moves to x, without echoing the whole body), and the
// detail is a summary rather than a copy of an entry ("ttl_hours: must be
// ..." beside the entry for ttl_hours) or a bare "validation failed".
func tidyProblem(em *huma.ErrorModel) {
	if len(em.Errors) == 0 {
		return
	}
	repeated := em.Detail == "validation failed"
	var msgs []string
	for _, d := range em.Errors {
		if d == nil {
			continue
		}
		if m := requiredProperty.FindStringSubmatch(d.Message); m != nil {
			d.Location, d.Message, d.Value = d.Location+"."+m[1], "is required (rule: required)", nil
		}
		field := d.Location[strings.IndexByte(d.Location, '.')+1:]
		msg, _, _ := strings.Cut(d.Message, " (rule: ")
		repeated = repeated || em.Detail == field+": "+msg
		msgs = append(msgs, msg)
	}
	// "the request does not fit the quota: cores (limit ...)": the entries
	// have the numbers; the detail keeps the sentence.
	if before, after, ok := strings.Cut(em.Detail, ": "); ok && !repeated && len(msgs) > 0 && strings.Contains(after, msgs[0]) {
		em.Detail = before
	}
	if !repeated {
		return
	}
	if l := em.Errors[0].Location; len(em.Errors) == 1 && (l == "body" || l == "query") {
		em.Detail = "malformed request " + l // not JSON, or not the JSON expected: no field to name
		return
	}
	n, what := len(em.Errors), "field"
	if strings.HasPrefix(em.Errors[0].Location, "query") {
		what = "query parameter"
	}
	if n == 1 {
		em.Detail = "1 invalid " + what
	} else {
		em.Detail = strconv.Itoa(n) + " invalid " + what + "s"
	}
}
