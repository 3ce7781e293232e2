package purser

import (
	"context"
	"time"
)

// Event is the audit record of a change.
type Event struct {
	ID         string
	Actor      string // user id, or "system"
	ActingFor  string // when an admin acted for another user
	Action     string
	TargetType string
	TargetID   string
	Before     map[string]any
	After      map[string]any
	Created    time.Time
}

// EventFields are the fields of events that where and sort may name.
var EventFields = Fields{
	"_id": KindString, "_created": KindTime, "actor": KindString, "action": KindString,
	"target_type": KindString, "target_id": KindString,
}

// EventService reads the audit log; events are written by the services
// that make the changes, in the same transaction.
type EventService interface {
	// FindEvents returns a page of events, and how many match q in all:
	// every event for devops and admins (events:read); for others, what
	// they did and what happened to their own requests.
	FindEvents(ctx context.Context, q Query) ([]*Event, PageInfo, error)
}
