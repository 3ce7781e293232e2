package client

import (
	"context"
	"net/http"
	"time"
)

// Event is an audit record.
type Event struct {
	ID         string         `json:"_id"`
	Created    time.Time      `json:"_created"`
	Actor      string         `json:"actor" doc:"The user's _id, or system."`
	ActorName  string         `json:"actor_username,omitempty" doc:"The actor's username (absent for system)."`
	ActingFor  string         `json:"acting_for,omitempty" doc:"The user an admin acted for."`
	ActingName string         `json:"acting_for_username,omitempty" doc:"The username of the user an admin acted for."`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	TargetName string         `json:"target_name,omitempty" doc:"The target's username or template name, when it is a user or a template."`
	Before     map[string]any `json:"before,omitempty"`
	After      map[string]any `json:"after,omitempty"`
}

// ListEvents returns a page of the audit log.
func (c *Client) ListEvents(ctx context.Context, o ListOptions) (*List[Event], error) {
	var l List[Event]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/events"+o.encode(), nil, &l)
}
