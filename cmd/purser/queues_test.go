package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
)

// TestProvisionNotBehindNotifications: while every notification worker is
// stuck on a webhook that does not answer and more notifications wait
// behind it, approved requests still reach DEPLOYED: provisions have a
// queue of their own.
func TestProvisionNotBehindNotifications(t *testing.T) {
	eachStore(t, testProvisionNotBehindNotifications)
}

func testProvisionNotBehindNotifications(t *testing.T, env ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var hits atomic.Int32
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hook.Close()
	defer close(release) // before hook.Close, which waits for the handlers

	url, token := server(t, append(env, "PURSER_OUTBOUND_ALLOW", "127.0.0.0/8",
		"PURSER_WORKERS_NOTIFY_MAX", "1", "PURSER_WORKERS_MAX", "1", "PURSER_WORKERS_DEFAULT_MAX", "1")...)
	admin := client.New(url, token)
	dev, err := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	if err != nil {
		t.Fatal(err)
	}
	dc := client.New(url, tok.Token)
	if err := dc.Do(ctx, "PUT", "/api/v1/me/preferences", map[string]any{"channels": []string{"webhook"},
		"webhook_url": hook.URL + "/hook", "webhook_secret": "s"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "sim", "name": "Sim", "type": "OTHER"}); err != nil {
		t.Fatal(err)
	}
	approve := func() string {
		t.Helper()
		r, err := dc.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "sim", TTLHours: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := admin.Do(ctx, "POST", "/api/v1/provisionRequests/"+r.ID+"/approve", nil, nil); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}

	// The first approval's webhook takes the only notification worker.
	first := approve()
	for hits.Load() == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the first notification never reached the webhook")
		case <-time.After(10 * time.Millisecond):
		}
	}
	// More approvals: their notifications (approved, deployed) wait
	// behind it, and so would their provisions in a shared queue.
	ids := []string{first}
	for range 3 {
		ids = append(ids, approve())
	}
	for _, id := range ids {
		if r, err := dc.WaitRequest(ctx, id, nil, "DEPLOYED", "FAILED"); err != nil || r.Status != "DEPLOYED" {
			t.Fatalf("%s: %v %v, want DEPLOYED while notifications are stuck", id, r, err)
		}
	}
	var l client.List[map[string]any]
	if err := dc.Do(ctx, "GET", "/api/v1/notifications?max_results=100&where="+neturl.QueryEscape(`{"channel":"webhook"}`), nil, &l); err != nil {
		t.Fatal(err)
	}
	waiting := 0
	for _, n := range l.Items {
		if n["status"] != "SENT" {
			waiting++
		}
	}
	if hits.Load() != 1 || waiting < 2 {
		t.Fatalf("the webhook got %d calls and %d webhook notifications wait; want 1 stuck call with the rest waiting behind it", hits.Load(), waiting)
	}
}
