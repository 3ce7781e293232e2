package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
)

// TestWebhookOutboundPolicy: a developer's webhook on a loopback address
// is refused, with last_error "refused by outbound policy", and the peer
// receives nothing; with outbound.allow naming 127.0.0.0/8 it is delivered.
func TestWebhookOutboundPolicy(t *testing.T) {
	var hits atomic.Int32
	got := make(chan struct{}, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		got <- struct{}{}
	}))
	defer hook.Close()

	// notify sets a webhook preference for a new developer and approves
	// a request of theirs, which notifies them.
	notify := func(t *testing.T, ctx context.Context, env ...string) *client.Client {
		url, token := server(t, env...)
		admin := client.New(url, token)
		dev, err := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
		dc := client.New(url, tok.Token)
		if err := dc.Do(ctx, "PUT", "/api/v1/me/preferences", map[string]any{"channels": []string{"inbox", "webhook"},
			"webhook_url": hook.URL + "/hook", "webhook_secret": "s"}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "sim", "name": "Sim", "type": "OTHER"}); err != nil {
			t.Fatal(err)
		}
		r, err := dc.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "sim", TTLHours: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := admin.Do(ctx, "POST", "/api/v1/provisionRequests/"+r.ID+"/approve", nil, nil); err != nil {
			t.Fatal(err)
		}
		return dc
	}

	t.Run("RefusedByDefault", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		dc := notify(t, ctx)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			var l client.List[map[string]any]
			if err := dc.Do(ctx, "GET", "/api/v1/notifications?where="+url.QueryEscape(`{"channel":"webhook"}`), nil, &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Items) > 0 && l.Items[0]["last_error"] != nil {
				if e := l.Items[0]["last_error"]; e != "refused by outbound policy" {
					t.Fatalf("last_error %q, want \"refused by outbound policy\"", e)
				}
				// Retrying cannot help: the delivery fails at once.
				if l.Items[0]["status"] != "FAILED" || l.Items[0]["attempts"] != float64(1) {
					t.Fatalf("a refused delivery is %v after %v attempts, want FAILED after 1", l.Items[0]["status"], l.Items[0]["attempts"])
				}
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("no webhook delivery attempt recorded: %v", l.Items)
			case <-tick.C:
			}
		}
		if hits.Load() != 0 {
			t.Fatalf("the refused webhook received %d requests", hits.Load())
		}
	})
	t.Run("DeliveredWhenAllowed", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		notify(t, ctx, "PURSER_OUTBOUND_ALLOW", "127.0.0.0/8")
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatal("the webhook was not delivered with 127.0.0.0/8 allowed")
		}
	})
}

// TestExecTemplateURLOutboundPolicy: an exec template's url: file on a
// loopback address is refused with a 422 that says so and nothing of the
// peer, which receives nothing; allowed, it is fetched.
func TestExecTemplateURLOutboundPolicy(t *testing.T) {
	var hits atomic.Int32
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("ami-id: from-the-metadata-service\n"))
	}))
	defer files.Close()
	tpl := map[string]any{"_id": "fetch", "name": "Fetch", "driver": "exec", "type": "OTHER",
		"config": map[string]any{"files": []any{map[string]any{"path": "meta.yaml", "url": files.URL + "/latest/meta-data"}}, "provision": []any{"true"}}}
	ctx := context.Background()

	t.Run("RefusedByDefault", func(t *testing.T) {
		url, token := server(t)
		_, err := client.New(url, token).CreateTemplate(ctx, tpl)
		if client.StatusCode(err) != 422 || !strings.Contains(err.Error(), "refused by outbound policy") {
			t.Fatalf("err %v, want a 422 saying refused by outbound policy", err)
		}
		if strings.Contains(err.Error(), "from-the-metadata-service") || hits.Load() != 0 {
			t.Fatalf("the refused peer was reached (%d requests): %v", hits.Load(), err)
		}
	})
	t.Run("FetchedWhenAllowed", func(t *testing.T) {
		url, token := server(t, "PURSER_OUTBOUND_ALLOW", "127.0.0.0/8")
		if _, err := client.New(url, token).CreateTemplate(ctx, tpl); err != nil || hits.Load() != 1 {
			t.Fatalf("with 127.0.0.0/8 allowed: %v, %d requests", err, hits.Load())
		}
	})
}

// TestExecTemplateURLRedirectRefused: an allowed host that redirects to a
// refused address is refused too, and the 422 names neither the address
// it was sent to nor anything it would have answered.
func TestExecTemplateURLRedirectRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address here: %v", err)
	}
	var hits atomic.Int32
	inside := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("secret: from-inside\n"))
	}))
	inside.Listener.Close()
	inside.Listener = l
	inside.Start()
	defer inside.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/latest/meta-data", http.StatusFound)
	}))
	defer front.Close()
	tpl := map[string]any{"_id": "redirect", "name": "Redirect", "driver": "exec", "type": "OTHER",
		"config": map[string]any{"files": []any{map[string]any{"path": "meta.yaml", "url": front.URL + "/file"}}, "provision": []any{"true"}}}
	url, token := server(t, "PURSER_OUTBOUND_ALLOW", "127.0.0.1/32")
	_, err = client.New(url, token).CreateTemplate(context.Background(), tpl)
	if client.StatusCode(err) != 422 || !strings.Contains(err.Error(), "refused by outbound policy") {
		t.Fatalf("err %v, want a 422 saying refused by outbound policy", err)
	}
	if strings.Contains(err.Error(), "127.0.0.2") || strings.Contains(err.Error(), "from-inside") || hits.Load() != 0 {
		t.Fatalf("the redirect target leaked or was reached (%d requests): %v", hits.Load(), err)
	}
}

func TestOutboundAllowConfig(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig("", []string{"PURSER_OUTBOUND_ALLOW=127.0.0.0/8, hooks.corp.example,"})
	if err != nil || strings.Join(c.Outbound.Allow, "|") != "127.0.0.0/8|hooks.corp.example" {
		t.Fatalf("outbound.allow from the environment: %q, %v", c.Outbound.Allow, err)
	}
	if _, err := LoadConfig("", []string{"PURSER_OUTBOUND_ALLOW=http://10.0.0.1/"}); err == nil || !strings.Contains(err.Error(), "outbound.allow") {
		t.Fatalf("a URL in outbound.allow: %v, want an error naming the key", err)
	}
}
