package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newNotificationDoc(n *purser.Notification) notificationDoc {
	d := notificationDoc{ID: n.ID, Created: n.Created, Event: n.Event, Title: n.Title, Description: n.Description,
		Channel: n.Channel, Status: n.Status, Attempts: n.Attempts, LastError: n.LastError, ReadAt: n.ReadAt,
		Links: map[string]link{"self": {Href: BasePath + "/notifications/" + n.ID, Title: "notification"}}}
	if n.Link != "" {
		d.Links["about"] = link{Href: n.Link}
	}
	return d
}

type preferencesDoc struct {
	Channels      []string `json:"channels" doc:"Any of inbox, email, slack, webhook."`
	SlackWebhook  string   `json:"slack_webhook,omitempty" doc:"A Slack incoming-webhook URL (a secret: shown only to you)."`
	WebhookURL    string   `json:"webhook_url,omitempty" doc:"Where signed JSON webhooks go."`
	WebhookSecret string   `json:"webhook_secret,omitempty" doc:"Signs webhooks: X-Purser-Signature is sha256=HMAC(secret, timestamp.body). Shown only to you."`
}

func (s *Server) registerNotifications() {
	huma.Register(s.api, op(http.MethodGet, "/notifications", "list-notifications", "notifications", "Your inbox (where channel shows other channels' deliveries)", http.StatusBadRequest), s.listNotifications)

	read := op(http.MethodPost, "/notifications/{id}/read", "read-notification", "notifications", "Mark a notification read", http.StatusNotFound)
	read.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, read, s.readNotification)

	huma.Register(s.api, op(http.MethodPost, "/notifications/read-all", "read-all-notifications", "notifications", "Mark every notification read"), s.readAllNotifications)

	huma.Register(s.api, op(http.MethodGet, "/me/preferences", "get-preferences", "notifications", "Your notification channels"), s.getPreferences)

	huma.Register(s.api, op(http.MethodPut, "/me/preferences", "set-preferences", "notifications", "Choose your notification channels"), s.setPreferences)

	huma.Register(s.api, op(http.MethodPatch, "/me/preferences", "update-preferences", "notifications", "Change some of your notification settings (JSON merge patch)"), s.updatePreferences)
}

// listNotifications serves GET /api/v1/notifications: Your inbox (where channel shows other channels' deliveries).
func (s *Server) listNotifications(ctx context.Context, in *struct {
	ListParams
	Unread bool `query:"unread" doc:"Only unread notifications."`
}) (*struct{ Body collection[notificationDoc] }, error) {
	return listOf(ctx, s, &in.ListParams, "notifications", purser.NotificationFields,
		func(ctx context.Context, q purser.Query) ([]*purser.Notification, purser.PageInfo, error) {
			return s.Notifications.FindNotifications(ctx, q, in.Unread)
		}, newNotificationDoc)
}

// readNotification serves POST /api/v1/notifications/{id}/read: Mark a notification read.
func (s *Server) readNotification(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*struct{}, error) {
	return nil, s.problemOrNil(ctx, s.Notifications.MarkRead(ctx, in.ID))
}

// readAllNotifications serves POST /api/v1/notifications/read-all: Mark every notification read.
func (s *Server) readAllNotifications(ctx context.Context, _ *struct{}) (*struct{ Body marked }, error) {
	n, err := s.Notifications.MarkAllRead(ctx)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body marked }{marked{Marked: n}}, nil
}

// marked is how many notifications a call marked read.
type marked struct {
	Marked int `json:"marked"`
}

// getPreferences serves GET /api/v1/me/preferences: Your notification channels.
func (s *Server) getPreferences(ctx context.Context, _ *struct{}) (*struct{ Body preferencesDoc }, error) {
	p, err := s.Notifications.FindPreferences(ctx, "")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body preferencesDoc }{preferencesDoc{p.Channels, p.SlackWebhook, p.WebhookURL, p.WebhookSecret}}, nil
}

// setPreferences serves PUT /api/v1/me/preferences: Choose your notification channels.
func (s *Server) setPreferences(ctx context.Context, in *struct{ Body preferencesDoc }) (*struct{ Body preferencesDoc }, error) {
	p := &purser.Preferences{Channels: in.Body.Channels, SlackWebhook: in.Body.SlackWebhook, WebhookURL: in.Body.WebhookURL, WebhookSecret: in.Body.WebhookSecret}
	if err := s.Notifications.UpdatePreferences(ctx, p); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body preferencesDoc }{in.Body}, nil
}

// preferencesPatch is a JSON merge patch of preferences: the fields given
// replace the current ones.
type preferencesPatch struct {
	Channels      []string `json:"channels,omitempty" doc:"Any of inbox, email, slack, webhook."`
	SlackWebhook  *string  `json:"slack_webhook,omitempty"`
	WebhookURL    *string  `json:"webhook_url,omitempty"`
	WebhookSecret *string  `json:"webhook_secret,omitempty"`
}

// updatePreferences serves PATCH /api/v1/me/preferences: Change some of your notification settings.
func (s *Server) updatePreferences(ctx context.Context, in *struct {
	Body preferencesPatch `contentType:"application/merge-patch+json"`
}) (*struct{ Body preferencesDoc }, error) {
	p, err := s.Notifications.FindPreferences(ctx, "")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	if b.Channels != nil {
		p.Channels = b.Channels
	}
	for _, f := range []struct{ src, dst *string }{{b.SlackWebhook, &p.SlackWebhook}, {b.WebhookURL, &p.WebhookURL}, {b.WebhookSecret, &p.WebhookSecret}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if err := s.Notifications.UpdatePreferences(ctx, p); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body preferencesDoc }{preferencesDoc{p.Channels, p.SlackWebhook, p.WebhookURL, p.WebhookSecret}}, nil
}

// problemOrNil translates err when there is one.
func (s *Server) problemOrNil(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	return s.problem(ctx, err)
}
