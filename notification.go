package purser

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Notification channels.
const (
	ChannelInbox   = "inbox"
	ChannelEmail   = "email"
	ChannelSlack   = "slack"
	ChannelWebhook = "webhook"
)

// Delivery statuses of the outbox, as in the seed.
const (
	DeliveryCreated = "CREATED"
	DeliverySent    = "SENT"
	DeliveryFailed  = "FAILED"
)

// Notification events.
const (
	EventSubmitted          = "request.submitted"
	EventApproved           = "request.approved"
	EventRejected           = "request.rejected"
	EventDeployed           = "request.deployed"
	EventFailed             = "request.failed"
	EventExpiring           = "request.expiring"
	EventExpired            = "request.expired"
	EventPurged             = "request.purged"
	EventPurgeFailed        = "request.purge_failed"
	EventExtensionRequested = "extension.requested"
	EventExtensionApproved  = "extension.approved"
	EventExtensionRejected  = "extension.rejected"
	EventQuotaLapsing       = "quota.lapsing"
)

// Notification is a message to one user over one channel: the inbox entry
// and the outbox record of its delivery.
type Notification struct {
	ID          string
	User        string
	Event       string
	Title       string
	Description string
	Link        string // API path of what it is about
	Channel     string
	Status      string
	Attempts    int
	LastError   string
	ReadAt      *time.Time
	Created     time.Time
	Updated     time.Time
}

// DefaultChannels are a user's channels until it chooses: the inbox, and
// email when the server can send it (emailConfigured: an SMTP server is
// set) and the user has an address. A channel the server cannot deliver is
// never a default: every message would end as a failed delivery.
func DefaultChannels(emailConfigured bool) []string {
	if emailConfigured {
		return []string{ChannelInbox, ChannelEmail}
	}
	return []string{ChannelInbox}
}

// Validate checks a user's choice of channels against what the server can
// deliver, naming every fault: an unknown channel, email when no SMTP
// server is configured, Slack or a webhook without its URL, and a webhook
// without a secret to sign with.
func (p *Preferences) Validate(emailConfigured bool) error {
	var fe []FieldError
	for i, ch := range p.Channels {
		f := fieldIndex("channels", i)
		switch ch {
		case ChannelInbox:
		case ChannelEmail:
			if !emailConfigured {
				fe = append(fe, FieldError{f, "configured", "email is not configured on this server (no smtp.host): choose inbox, slack or webhook"})
			}
		case ChannelSlack:
			if p.SlackWebhook == "" {
				fe = append(fe, FieldError{"slack_webhook", "required", "the slack channel needs a Slack incoming-webhook URL"})
			}
		case ChannelWebhook:
			if p.WebhookURL == "" {
				fe = append(fe, FieldError{"webhook_url", "required", "the webhook channel needs a URL"})
			}
		default:
			fe = append(fe, FieldError{f, "enum", "must be inbox, email, slack or webhook"})
		}
	}
	if p.WebhookURL != "" && p.WebhookSecret == "" {
		fe = append(fe, FieldError{"webhook_secret", "required", "a webhook needs a secret to sign with"})
	}
	if len(fe) > 0 {
		sortFields(fe)
		return Invalid(fe...)
	}
	return nil
}

// Message is what a transition asks to tell a user; the outbox turns it
// into one Notification per channel the user has chosen.
type Message struct {
	User string // the user's ID
	// Username names the user instead, where a decision knows only the
	// name (a stack revision's author); the store resolves it, and drops
	// the message when no such user remains.
	Username    string
	Event       string
	Title       string
	Description string
	Link        string
}

// Preferences are a user's channels and where to reach it. Secrets (the
// Slack URL and the webhook secret) are stored encrypted and shown only
// to the user.
type Preferences struct {
	User          string
	Channels      []string
	SlackWebhook  string
	WebhookURL    string
	WebhookSecret string
}

// NotificationFields are the fields of notifications that where and sort may name.
var NotificationFields = Fields{
	"_id": KindString, "_created": KindTime, "event": KindString, "channel": KindString, "status": KindString,
}

// NotificationService is the caller's inbox and preferences. The caller is
// the user in ctx; with none, every method answers EUNAUTHORIZED.
type NotificationService interface {
	// FindNotifications returns a page of the caller's own notifications
	// (only the unread ones when unreadOnly), and how many match in all.
	FindNotifications(ctx context.Context, q Query, unreadOnly bool) ([]*Notification, PageInfo, error)
	// MarkRead marks one of the caller's notifications read; marking a
	// read one again is not an error. ENOTFOUND when the caller has no
	// such notification (another user's included).
	MarkRead(ctx context.Context, id string) error
	// MarkAllRead marks every unread notification of the caller read and
	// returns how many it marked.
	MarkAllRead(ctx context.Context) (int, error)
	// FindPreferences returns the user's preferences ("" is the caller),
	// secrets included: the caller's own, or anyone's for admins. A user
	// who never set any gets the default channels.
	FindPreferences(ctx context.Context, userID string) (*Preferences, error)
	// UpdatePreferences replaces p.User's preferences ("" is the caller;
	// the caller's own, or anyone's for admins); EINVALID for an unknown
	// channel or a webhook URL without a secret.
	UpdatePreferences(ctx context.Context, p *Preferences) error
}

// Delivery is what a notify job needs to send one notification: it, and
// where its user is reached.
type Delivery struct {
	Notification Notification
	Email        string
	Username     string
	Prefs        Preferences
}

// DeliveryStore is what the notify worker needs of the store.
type DeliveryStore interface {
	// FindDelivery loads a notification and where to send it.
	FindDelivery(ctx context.Context, id string) (*Delivery, error)
	// RecordDelivery records an attempt: sent, or failed with sendErr
	// (final when no more attempts will follow).
	RecordDelivery(ctx context.Context, id string, sendErr error, final bool) error
}

// userName is how messages name a user: by username, else by _id.
func userName(u *User) string {
	if u.Username != "" {
		return u.Username
	}
	return u.ID
}

// reviewText is what reviewers are told of a request waiting for them: who
// asks, for which template, with which parameters (secret ones are already
// masked in the request), what it takes and costs until it expires, the
// verdict on the quota, and how to answer.
func reviewText(r *Request, t *Template, requester *User, verdict string) (title, desc string) {
	username := userName(requester)
	who := username
	if requester.Name != "" && requester.Name != username {
		who += " (" + requester.Name + ")"
	}
	what := t.ID
	if t.Name != "" && t.Name != t.ID {
		what = fmt.Sprintf("%s (%s)", t.Name, t.ID)
	}
	params := "no parameters"
	if len(r.ResourceParameters) > 0 {
		keys := make([]string, 0, len(r.ResourceParameters))
		for k := range r.ResourceParameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kv := make([]string, len(keys))
		for i, k := range keys {
			kv[i] = fmt.Sprintf("%s=%v", k, r.ResourceParameters[k])
		}
		params = "parameters " + strings.Join(kv, ", ")
	}
	f := r.Footprint
	title = fmt.Sprintf("To review: %s asks for %s", username, what)
	desc = fmt.Sprintf("%s asks for %s with %s, until %s. It takes %g cores and %g GiB at %.2f per hour: estimated cost %.2f. %s "+
		"Approve with `purser request approve %s` or reject with `purser request reject %s`.",
		who, what, params, r.ExpiresBy.Format(messageTime), f.Cores, f.Memory, f.CostPerHour, r.EstimatedCost, verdict, r.ID, r.ID)
	return title, desc
}
