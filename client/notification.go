package client

import (
	"context"
	"net/http"
	"time"
)

// Notification is an inbox entry.
type Notification struct {
	ID          string          `json:"_id"`
	Created     time.Time       `json:"_created"`
	Links       map[string]Link `json:"_links"`
	Event       string          `json:"event"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Channel     string          `json:"channel" enum:"inbox,email,slack,webhook"`
	Status      string          `json:"status" enum:"CREATED,SENT,FAILED" doc:"Delivery: CREATED until sent; FAILED after the last attempt."`
	Attempts    int             `json:"attempts"`
	LastError   string          `json:"last_error,omitempty"`
	ReadAt      *time.Time      `json:"read_at,omitempty"`
}

// Inbox returns the caller's notifications.
func (c *Client) Inbox(ctx context.Context, unread bool, o ListOptions) (*List[Notification], error) {
	var l List[Notification]
	q := o.encode()
	if unread {
		if q == "" {
			q = "?unread=true"
		} else {
			q += "&unread=true"
		}
	}
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/notifications"+q, nil, &l)
}

// MarkAllRead marks the caller's notifications read.
func (c *Client) MarkAllRead(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, APIPath+"/notifications/read-all", nil, nil)
}
