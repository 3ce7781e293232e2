package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newEventDoc(e *purser.Event) eventDoc {
	return eventDoc{ID: e.ID, Created: e.Created, Actor: e.Actor, ActingFor: e.ActingFor, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Before: e.Before, After: e.After}
}

func (s *Server) registerEvents() {
	huma.Register(s.api, op(http.MethodGet, "/events", "list-events", "events", "The audit log (all for devops and admins; your own otherwise)", http.StatusBadRequest), s.listEvents)
}

// listEvents serves GET /api/v1/events: The audit log (all for devops and admins; your own otherwise).
func (s *Server) listEvents(ctx context.Context, in *ListParams) (*struct{ Body collection[eventDoc] }, error) {
	return listOf(ctx, s, in, "events", purser.EventFields, s.Events.FindEvents, newEventDoc)
}
