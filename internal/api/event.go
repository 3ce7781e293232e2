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
	return s.events(ctx, in)
}

// events lists events with actor filters resolved and actors named.
func (s *Server) events(ctx context.Context, in *ListParams) (*struct{ Body collection[eventDoc] }, error) {
	find := func(ctx context.Context, q purser.Query) ([]*purser.Event, purser.PageInfo, error) {
		if err := s.resolveWhere(ctx, &q, []string{"actor", "acting_for"}, nil); err != nil {
			return nil, purser.PageInfo{}, err
		}
		return s.Events.FindEvents(ctx, q)
	}
	out, err := listOf(ctx, s, in, "events", purser.EventFields, find, newEventDoc)
	if err != nil {
		return nil, err
	}
	var ids, templates []string
	for _, e := range out.Body.Items {
		ids = append(ids, e.Actor, e.ActingFor)
		switch e.TargetType {
		case "user":
			ids = append(ids, e.TargetID)
		case "template":
			templates = append(templates, e.TargetID)
		}
	}
	names, err := s.usernames(ctx, ids)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	tnames, err := s.templateNames(ctx, templates)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	for i := range out.Body.Items {
		e := &out.Body.Items[i]
		e.ActorName, e.ActingName = names[e.Actor], names[e.ActingFor]
		switch e.TargetType {
		case "user":
			e.TargetName = names[e.TargetID]
		case "template":
			e.TargetName = tnames[e.TargetID]
		}
	}
	return out, nil
}
