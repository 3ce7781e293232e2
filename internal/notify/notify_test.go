package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/notify"
	"github.com/purserhq/purser/internal/notify/smtptest"
	"github.com/purserhq/purser/internal/outbound"
)

var note = purser.Notification{ID: "n1", Event: purser.EventDeployed, Title: "Environment ready",
	Description: "Your environment r1 is DEPLOYED.", Link: "/api/v1/provisionRequests/r1", Created: time.Now()}

func TestEmailOverSTARTTLSWithAuth(t *testing.T) {
	srv := smtptest.Start(t)
	s := &notify.Sender{BaseURL: "http://purser.example", SMTP: notify.SMTP{Host: srv.Host, Port: srv.Port, Username: srv.Username,
		Password: srv.Password, From: "purser@example.com", TLS: "starttls", InsecureSkipVerify: true}}
	n := note
	n.Channel = purser.ChannelEmail
	if err := s.Send(context.Background(), notify.Recipient{Email: "bbb@xyz.com"}, n); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "bbb@xyz.com" || !strings.Contains(msgs[0].Data, "Subject: [Purser] Environment ready") ||
		!strings.Contains(msgs[0].Data, "http://purser.example/api/v1/provisionRequests/r1") {
		t.Fatalf("received %+v", msgs)
	}
	t.Run("ErrWrongPassword", func(t *testing.T) {
		bad := *s
		bad.SMTP.Password = "wrong"
		if err := bad.Send(context.Background(), notify.Recipient{Email: "bbb@xyz.com"}, n); err == nil {
			t.Fatal("sent with a wrong password")
		}
	})
}

func TestWebhookIsSigned(t *testing.T) {
	secret := "whsec-123"
	var got notify.WebhookPayload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Purser-Timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) > 5*time.Minute {
			http.Error(w, "stale", http.StatusBadRequest)
			return
		}
		if r.Header.Get("X-Purser-Signature") != notify.Signature(secret, ts, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		_ = json.Unmarshal(body, &got)
	}))
	defer srv.Close()
	s := &notify.Sender{BaseURL: "http://purser.example", HTTPClient: loopbackAllowed(t)}
	n := note
	n.Channel = purser.ChannelWebhook
	if err := s.Send(context.Background(), notify.Recipient{Username: "bbb", WebhookURL: srv.URL, WebhookSecret: secret}, n); err != nil {
		t.Fatal(err)
	}
	if got.Event != purser.EventDeployed || got.User != "bbb" {
		t.Fatalf("payload %+v", got)
	}
	if err := s.Send(context.Background(), notify.Recipient{WebhookURL: srv.URL, WebhookSecret: "wrong"}, n); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a receiver refusing the signature: %v", err)
	}
}

func TestSlackBlocks(t *testing.T) {
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&body)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	n := note
	n.Channel = purser.ChannelSlack
	if err := (&notify.Sender{HTTPClient: loopbackAllowed(t)}).Send(context.Background(), notify.Recipient{SlackWebhook: srv.URL}, n); err != nil {
		t.Fatal(err)
	}
	blocks, _ := body["blocks"].([]any)
	if len(blocks) < 2 || !strings.Contains(body["text"].(string), "Environment ready") {
		t.Fatalf("slack body %v", body)
	}

	// A deploy's plan is a section of its own.
	n.Title, n.Description = "Deploying staging revision 2", "Deploying revision 2 of staging.\n\nPlan: 0 to create, 1 to update, 0 to delete, 2 unchanged.\n• update `web` (image: r/web:1 → r/web:2)"
	if err := (&notify.Sender{HTTPClient: loopbackAllowed(t)}).Send(context.Background(), notify.Recipient{SlackWebhook: srv.URL}, n); err != nil {
		t.Fatal(err)
	}
	blocks, _ = body["blocks"].([]any)
	if len(blocks) < 3 || !strings.Contains(fmt.Sprint(blocks[2]), "update `web`") {
		t.Fatalf("the plan is not a block of its own: %v", blocks)
	}

	// A request awaiting review carries Approve and Reject, with the
	// request's id, once the Slack app answers their presses.
	n.Event, n.Link = purser.EventSubmitted, "/api/v1/provisionRequests/r42"
	for _, buttons := range []bool{false, true} {
		if err := (&notify.Sender{HTTPClient: loopbackAllowed(t), ReviewButtons: buttons}).Send(context.Background(), notify.Recipient{SlackWebhook: srv.URL}, n); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(body["blocks"])
		has := strings.Contains(string(b), `"action_id":"purser_approve"`) && strings.Contains(string(b), `"action_id":"purser_reject"`) && strings.Contains(string(b), `"value":"r42"`)
		if has != buttons {
			t.Fatalf("buttons %v: blocks %s", buttons, b)
		}
	}
}

// loopbackAllowed returns a client whose outbound policy lets calls reach
// test servers on 127.0.0.1, as outbound.allow: [127.0.0.0/8] would.
func loopbackAllowed(t *testing.T) *http.Client {
	t.Helper()
	p, err := outbound.NewPolicy([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	return p.Client(10 * time.Second)
}

// TestOutboundPolicy: a webhook or Slack URL on a refused address is
// refused with a message that says nothing of the peer (it becomes the
// notification's last_error), and the peer receives nothing; allowing the
// range delivers.
func TestOutboundPolicy(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "internal secret answer", http.StatusTeapot)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		channel string
		r       notify.Recipient
	}{
		{purser.ChannelWebhook, notify.Recipient{WebhookURL: srv.URL + "/hook", WebhookSecret: "s"}},
		{purser.ChannelSlack, notify.Recipient{SlackWebhook: srv.URL + "/slack"}},
	} {
		n := note
		n.Channel = tt.channel
		t.Run(tt.channel+"/RefusedByDefault", func(t *testing.T) {
			before := hits.Load()
			err := (&notify.Sender{}).Send(context.Background(), tt.r, n)
			if err == nil || err.Error() != "refused by outbound policy" {
				t.Fatalf("err %v, want exactly \"refused by outbound policy\"", err)
			}
			if hits.Load() != before {
				t.Fatal("the refused peer received a request")
			}
		})
		t.Run(tt.channel+"/DeliveredWhenAllowed", func(t *testing.T) {
			before := hits.Load()
			err := (&notify.Sender{HTTPClient: loopbackAllowed(t)}).Send(context.Background(), tt.r, n)
			if hits.Load() != before+1 {
				t.Fatalf("the allowed peer received %d requests, want 1 (err %v)", hits.Load()-before, err)
			}
		})
	}
}
