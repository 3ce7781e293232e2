package api

import (
	"context"
	"errors"
	"net/http"

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
// logged with the request's id and answered with no detail.
func (s *Server) problem(ctx context.Context, err error) error {
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
	return huma.NewError(StatusOf(code), pe.Message, details...)
}
