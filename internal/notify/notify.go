// Package notify delivers notifications over email (SMTP through
// github.com/wneessen/go-mail), Slack (incoming webhooks with blocks,
// through github.com/slack-go/slack) and signed webhooks. The inbox needs
// no delivery: writing the notification delivers it.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/wneessen/go-mail"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/outbound"
)

// Recipient is where one user is reached.
type Recipient struct {
	Username      string
	Email         string
	SlackWebhook  string
	WebhookURL    string
	WebhookSecret string
}

// SMTP configures email.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS is "starttls" (required), "opportunistic", "tls" (implicit) or "none".
	TLS string
	// InsecureSkipVerify accepts any certificate (tests and lab servers only).
	InsecureSkipVerify bool
}

// Sender sends notifications.
type Sender struct {
	SMTP SMTP
	// BaseURL is Purser's public URL, for links in messages.
	BaseURL string
	// HTTPClient posts to Slack and webhooks, which are URLs developers
	// choose: it must be an outbound.Policy's client. When nil, one with
	// no allow list is used.
	HTTPClient *http.Client
	NowFunc    func() time.Time
	// ReviewButtons adds Approve and Reject buttons to the Slack message
	// of a request awaiting review: set when Purser's Slack app (which
	// answers the presses) is configured.
	ReviewButtons bool
}

// Send delivers n to r over n.Channel.
// Permanent reports whether a Send error will not go away by retrying: the
// outbound policy refused the address, which only an operator's
// outbound.allow changes.
func Permanent(err error) bool { return errors.Is(err, outbound.ErrRefused) }

func (s *Sender) Send(ctx context.Context, r Recipient, n purser.Notification) error {
	switch n.Channel {
	case purser.ChannelEmail:
		return s.email(ctx, r, n)
	case purser.ChannelSlack:
		return s.slack(ctx, r, n)
	case purser.ChannelWebhook:
		return s.webhook(ctx, r, n)
	case purser.ChannelInbox:
		return nil
	}
	return fmt.Errorf("unknown channel %q", n.Channel)
}

func (s *Sender) link(n purser.Notification) string {
	if n.Link == "" {
		return ""
	}
	return s.BaseURL + n.Link
}

func (s *Sender) email(ctx context.Context, r Recipient, n purser.Notification) error {
	if s.SMTP.Host == "" {
		return errors.New("email is not configured (smtp.host)")
	}
	if r.Email == "" {
		return errors.New("the user has no email address")
	}
	m := mail.NewMsg()
	if err := m.From(s.SMTP.From); err != nil {
		return fmt.Errorf("smtp.from: %w", err)
	}
	if err := m.To(r.Email); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	m.Subject("[Purser] " + n.Title)
	body := n.Description
	if l := s.link(n); l != "" {
		body += "\n\n" + l
	}
	m.SetBodyString(mail.TypeTextPlain, body+"\n")
	m.SetMessageID()
	opts := []mail.Option{mail.WithPort(s.SMTP.Port), mail.WithTimeout(30 * time.Second)}
	switch s.SMTP.TLS {
	case "", "starttls":
		opts = append(opts, mail.WithTLSPortPolicy(mail.TLSMandatory))
	case "opportunistic":
		opts = append(opts, mail.WithTLSPortPolicy(mail.TLSOpportunistic))
	case "tls":
		opts = append(opts, mail.WithSSLPort(false))
	case "none":
		opts = append(opts, mail.WithTLSPortPolicy(mail.NoTLS))
	default:
		return fmt.Errorf("smtp.tls must be starttls, opportunistic, tls or none")
	}
	if s.SMTP.InsecureSkipVerify {
		opts = append(opts, mail.WithTLSConfig(&tls.Config{InsecureSkipVerify: true, ServerName: s.SMTP.Host})) //nolint:gosec // configured for lab servers
	}
	if s.SMTP.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.SMTP.Username), mail.WithPassword(s.SMTP.Password))
	}
	c, err := mail.NewClient(s.SMTP.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", s.SMTP.Host, s.SMTP.Port, err)
	}
	return nil
}

// reviewButtons are the Approve and Reject buttons of a request awaiting
// review; the Slack app's /slack/interactions answers their presses.
func reviewButtons(requestID string) slack.Block {
	approve := slack.NewButtonBlockElement(purser.ChatActionApprove, requestID, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))
	approve.Style = slack.StylePrimary
	reject := slack.NewButtonBlockElement(purser.ChatActionReject, requestID, slack.NewTextBlockObject(slack.PlainTextType, "Reject", false, false))
	reject.Style = slack.StyleDanger
	return slack.NewActionBlock("review", approve, reject)
}

func (s *Sender) slack(ctx context.Context, r Recipient, n purser.Notification) error {
	text := "*" + n.Title + "*\n" + n.Description
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, n.Title, false, false))}
	// One section per paragraph: a deploy's plan reads as its own block.
	for _, para := range strings.Split(n.Description, "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, clip(para, 3000), false, false), nil, nil))
		}
	}
	if l := s.link(n); l != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "<"+l+"|Open in Purser> · "+n.Event, false, false)))
	}
	if id, ok := purser.ReviewRequestID(n); ok && s.ReviewButtons {
		blocks = append(blocks, reviewButtons(id))
	}
	msg := &slack.WebhookMessage{Text: text, Blocks: &slack.Blocks{BlockSet: blocks}}
	if err := slack.PostWebhookCustomHTTPContext(ctx, r.SlackWebhook, s.client(), msg); err != nil {
		if errors.Is(err, outbound.ErrRefused) {
			return outbound.ErrRefused // nothing of the peer
		}
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// WebhookPayload is the JSON body of a webhook delivery.
type WebhookPayload struct {
	ID          string    `json:"id"`
	Event       string    `json:"event"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Link        string    `json:"link,omitempty"`
	User        string    `json:"user"`
	Created     time.Time `json:"created"`
}

// Signature is the value of X-Purser-Signature for a body sent at
// timestamp (Unix seconds): "sha256=" and the hex HMAC-SHA256, keyed by the
// secret, of the timestamp, a dot and the body. Receivers recompute it and
// refuse old timestamps to stop replays.
func Signature(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (s *Sender) webhook(ctx context.Context, r Recipient, n purser.Notification) error {
	body, err := json.Marshal(WebhookPayload{ID: n.ID, Event: n.Event, Title: n.Title, Description: n.Description,
		Link: s.link(n), User: r.Username, Created: n.Created})
	if err != nil {
		return err
	}
	now := time.Now
	if s.NowFunc != nil {
		now = s.NowFunc
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "purser-webhook/"+purser.Version)
	req.Header.Set("X-Purser-Event", n.Event)
	req.Header.Set("X-Purser-Delivery", n.ID)
	req.Header.Set("X-Purser-Timestamp", ts)
	req.Header.Set("X-Purser-Signature", Signature(r.WebhookSecret, ts, body))
	resp, err := s.client().Do(req)
	if errors.Is(err, outbound.ErrRefused) {
		return outbound.ErrRefused // nothing of the peer
	}
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

func (s *Sender) client() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return defaultClient
}

// defaultClient refuses what any outbound policy refuses.
var defaultClient = (&outbound.Policy{}).Client(30 * time.Second)

// clip cuts s to at most n bytes on a rune boundary, marking the cut
// (Slack refuses a section longer than 3000 characters).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
