package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/purserhq/purser"
)

// prefs loads a user's preferences, or the defaults.
func (db *DB) prefs(ctx context.Context, q Querier, userID string) (*purser.Preferences, error) {
	p := &purser.Preferences{User: userID}
	var channels, slack, secret string
	err := q.QueryRow(ctx, "SELECT channels, slack_webhook, webhook_url, webhook_secret FROM preferences WHERE user_id = ?", userID).
		Scan(&channels, &slack, &p.WebhookURL, &secret)
	if err == ErrNoRows {
		p.Channels = purser.DefaultChannels(db.EmailConfigured)
		return p, nil
	} else if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	_ = json.Unmarshal([]byte(channels), &p.Channels)
	if p.SlackWebhook, err = db.Sealer.Open(slack); err != nil {
		return nil, err
	}
	if p.WebhookSecret, err = db.Sealer.Open(secret); err != nil {
		return nil, err
	}
	return p, nil
}

// enqueue writes messages to the outbox in tx: one notification per
// channel each user has chosen, and a delivery job for each that leaves
// Purser. The inbox copy is delivered by being written.
func (db *DB) enqueue(ctx context.Context, tx Tx, msgs ...purser.Message) error {
	now := micros(db.now())
	for _, m := range msgs {
		if m.User == "" && m.Username != "" {
			err := tx.QueryRow(ctx, "SELECT id FROM users WHERE username = ?", m.Username).Scan(&m.User)
			if errors.Is(err, ErrNoRows) {
				continue // the author is gone
			}
			if err != nil {
				return fmt.Errorf("notify %s: %w", m.Username, err)
			}
		}
		p, err := db.prefs(ctx, tx, m.User)
		if err != nil {
			return err
		}
		var email string
		if err := tx.QueryRow(ctx, "SELECT email FROM users WHERE id = ?", m.User).Scan(&email); err != nil {
			return fmt.Errorf("notify %s: %w", m.User, err)
		}
		for _, ch := range p.Channels {
			switch {
			case ch == purser.ChannelEmail && email == "",
				ch == purser.ChannelEmail && !db.EmailConfigured, // chosen before SMTP went away
				ch == purser.ChannelSlack && p.SlackWebhook == "",
				ch == purser.ChannelWebhook && p.WebhookURL == "":
				continue // nowhere to send it
			}
			id, status := purser.NewID(), purser.DeliveryCreated
			if ch == purser.ChannelInbox {
				status = purser.DeliverySent
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notifications (id, user_id, event, title, description, link, channel, status, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, m.User, m.Event, m.Title, m.Description, m.Link, ch, status, now, now); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			if ch != purser.ChannelInbox {
				if err := db.insertJob(ctx, tx, purser.NotifyArgs{NotificationID: id}, nil); err != nil {
					return fmt.Errorf("outbox job: %w", err)
				}
			}
		}
	}
	return nil
}

// reviewers returns the active users who may review requests, but not except.
func (db *DB) reviewers(ctx context.Context, q Querier, except string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id
		WHERE u.is_active = ? AND ur.role IN (?, ?) AND u.id <> ? ORDER BY u.id`, true, purser.RoleAdmin, purser.RoleDevOps, except)
	if err != nil {
		return nil, fmt.Errorf("reviewers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// toReviewers returns msg addressed to every reviewer but except.
func (db *DB) toReviewers(ctx context.Context, q Querier, except string, msg purser.Message) ([]purser.Message, error) {
	ids, err := db.reviewers(ctx, q, except)
	if err != nil {
		return nil, err
	}
	out := make([]purser.Message, len(ids))
	for i, id := range ids {
		out[i] = msg
		out[i].User = id
	}
	return out, nil
}

// NotificationService implements purser.NotificationService.
type NotificationService struct{ db *DB }

// NewNotificationService returns the inbox service over db.
func NewNotificationService(db *DB) *NotificationService { return &NotificationService{db: db} }

var notificationColumns = columns{plain: map[string]string{
	"_id": "id", "_created": "created_at", "event": "event", "channel": "channel", "status": "status",
},
	fields: purser.NotificationFields,
}

const notificationSelect = "id, user_id, event, title, description, link, channel, status, attempts, last_error, read_at, created_at, updated_at"

type notificationRow struct {
	purser.Notification
	read             *int64
	created, updated int64
}

func scanNotification(r Row) (*notificationRow, error) {
	var n notificationRow
	err := r.Scan(&n.ID, &n.User, &n.Event, &n.Title, &n.Description, &n.Link, &n.Channel, &n.Status, &n.Attempts, &n.LastError, &n.read, &n.created, &n.updated)
	return &n, err
}

func (n *notificationRow) domain() *purser.Notification {
	out := n.Notification
	out.ReadAt, out.Created, out.Updated = fromMicrosPtr(n.read), fromMicros(n.created), fromMicros(n.updated)
	return &out
}

func callerID(ctx context.Context) (string, error) {
	a := purser.ActorFromContext(ctx)
	if a == nil || a.User == nil {
		return "", purser.Errorf(purser.EUNAUTHORIZED, "authentication required")
	}
	return a.User.ID, nil
}

// FindNotifications lists the caller's notifications: the inbox, and (with
// where channel) the deliveries on other channels with their status.
func (s *NotificationService) FindNotifications(ctx context.Context, q purser.Query, unreadOnly bool) ([]*purser.Notification, purser.PageInfo, error) {
	uid, err := callerID(ctx)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := notificationColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	where = append(where, sqExpr("user_id = ?", uid))
	hasChannel := false
	for _, c := range q.Where {
		hasChannel = hasChannel || c.Field == "channel"
	}
	if !hasChannel {
		where = append(where, sqExpr("channel = ?", purser.ChannelInbox))
	}
	if unreadOnly {
		where = append(where, sqExpr("read_at IS NULL"))
	}
	return list(ctx, s.db, listSpec[notificationRow, purser.Notification]{
		from: "notifications", selectCols: notificationSelect, where: where,
		orderBy: notificationColumns.orderBy(q.Sort, "id"), query: q, scan: scanNotification, domain: (*notificationRow).domain,
	})
}

// MarkRead marks one of the caller's notifications read.
func (s *NotificationService) MarkRead(ctx context.Context, id string) error {
	uid, err := callerID(ctx)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		var read *int64
		if err := tx.QueryRow(ctx, "SELECT read_at FROM notifications WHERE id = ? AND user_id = ?", id, uid).Scan(&read); err != nil {
			return s.db.translate(err, "notification "+id)
		}
		_, err := tx.Exec(ctx, "UPDATE notifications SET read_at = ? WHERE id = ? AND read_at IS NULL", micros(s.db.now()), id)
		return err
	})
}

// MarkAllRead marks all the caller's notifications read.
func (s *NotificationService) MarkAllRead(ctx context.Context) (int, error) {
	uid, err := callerID(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.db.WithTx(ctx, func(tx Tx) error {
		n, err = tx.Exec(ctx, "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL", micros(s.db.now()), uid)
		return err
	})
	return int(n), err
}

// FindPreferences returns a user's preferences: its own, or (admins) anyone's.
func (s *NotificationService) FindPreferences(ctx context.Context, userID string) (*purser.Preferences, error) {
	if userID == "" {
		var err error
		if userID, err = callerID(ctx); err != nil {
			return nil, err
		}
	}
	if err := purser.Authorize(ctx, purser.ActionPreferencesRead, userID); err != nil {
		return nil, err
	}
	return s.db.prefs(ctx, s.db.Read, userID)
}

// UpdatePreferences replaces a user's preferences.
func (s *NotificationService) UpdatePreferences(ctx context.Context, p *purser.Preferences) error {
	if p.User == "" {
		var err error
		if p.User, err = callerID(ctx); err != nil {
			return err
		}
	}
	if err := purser.Authorize(ctx, purser.ActionPreferencesWrite, p.User); err != nil {
		return err
	}
	if err := p.Validate(s.db.EmailConfigured); err != nil {
		return err
	}
	channels, _ := json.Marshal(p.Channels)
	return s.db.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM preferences WHERE user_id = ?", p.User); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO preferences (user_id, channels, slack_webhook, webhook_url, webhook_secret) VALUES (?, ?, ?, ?, ?)",
			p.User, string(channels), s.db.Sealer.Seal(p.SlackWebhook), p.WebhookURL, s.db.Sealer.Seal(p.WebhookSecret))
		if err != nil {
			return s.db.translate(err, "preferences")
		}
		return s.db.audit(ctx, tx, "preferences.update", "user", p.User, nil, map[string]any{"channels": p.Channels}, "")
	})
}

// FindDelivery loads a notification and where to send it.
func (db *DB) FindDelivery(ctx context.Context, id string) (*purser.Delivery, error) {
	n, err := scanNotification(db.Read.QueryRow(ctx, "SELECT "+notificationSelect+" FROM notifications WHERE id = ?", id))
	if err != nil {
		return nil, db.translate(err, "notification "+id)
	}
	d := &purser.Delivery{Notification: *n.domain()}
	if err := db.Read.QueryRow(ctx, "SELECT email, username FROM users WHERE id = ?", d.Notification.User).Scan(&d.Email, &d.Username); err != nil {
		return nil, db.translate(err, "user")
	}
	p, err := db.prefs(ctx, db.Read, d.Notification.User)
	if err != nil {
		return nil, err
	}
	d.Prefs = *p
	return d, nil
}

// RecordDelivery records an attempt: sent, or failed with err (final when
// no more attempts will follow).
func (db *DB) RecordDelivery(ctx context.Context, id string, sendErr error, final bool) error {
	status, msg := purser.DeliverySent, ""
	if sendErr != nil {
		status, msg = purser.DeliveryCreated, sendErr.Error()
		if final {
			status = purser.DeliveryFailed
		}
	}
	return db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "UPDATE notifications SET status = ?, attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?",
			status, msg, micros(db.now()), id)
		return err
	})
}
