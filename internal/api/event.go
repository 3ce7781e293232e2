package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

type eventDoc struct {
	ID         string         `json:"_id"`
	Created    time.Time      `json:"_created"`
	Actor      string         `json:"actor" doc:"The user's _id, or system."`
	ActingFor  string         `json:"acting_for,omitempty" doc:"The user an admin acted for."`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Before     map[string]any `json:"before,omitempty"`
	After      map[string]any `json:"after,omitempty"`
}

func newEventDoc(e *purser.Event) eventDoc {
	return eventDoc{e.ID, e.Created, e.Actor, e.ActingFor, e.Action, e.TargetType, e.TargetID, e.Before, e.After}
}

func (s *Server) registerEvents() {
	huma.Register(s.api, op(http.MethodGet, "/events", "list-events", "events", "The audit log (all for devops and admins; your own otherwise)", http.StatusBadRequest), s.listEvents)
}

// listEvents serves GET /api/v1/events: The audit log (all for devops and admins; your own otherwise).
func (s *Server) listEvents(ctx context.Context, in *ListParams) (*struct{ Body collection[eventDoc] }, error) {
	return listOf(ctx, s, in, "events", purser.EventFields, s.Events.FindEvents, newEventDoc)
}
