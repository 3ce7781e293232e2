package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/sqldb"
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

// TestJobsLeftInTheDefaultQueueRun: a provision job an older server left
// in the one queue it had ("default") still runs after the queues split.
func TestJobsLeftInTheDefaultQueueRun(t *testing.T) {
	eachStore(t, testJobsLeftInTheDefaultQueueRun)
}

func testJobsLeftInTheDefaultQueueRun(t *testing.T, env ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	environ := []string{"PURSER_DATA_DIR=" + t.TempDir()}
	for i := 0; i+1 < len(env); i += 2 {
		environ = append(environ, env[i]+"="+env[i+1])
	}
	cfg, err := LoadConfig("", environ)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()

	sys := purser.SystemContext(ctx)
	if err := sqldb.NewTemplateService(st.db).CreateTemplate(sys, &purser.Template{Meta: purser.Meta{ID: "sim"}, Name: "Sim", Driver: "sim", IsActive: true}); err != nil {
		t.Fatal(err)
	}
	dev := &purser.User{Username: "dev", Roles: []string{purser.RoleDev}, IsActive: true}
	ops := &purser.User{Username: "ops", Roles: []string{purser.RoleDevOps}, IsActive: true}
	for _, u := range []*purser.User{dev, ops} {
		if err := sqldb.NewUserService(st.db).CreateUser(sys, u); err != nil {
			t.Fatal(err)
		}
	}
	reqs := sqldb.NewRequestService(st.db)
	r, err := reqs.CreateRequest(purser.NewContextWithActor(ctx, &purser.Actor{User: dev}), purser.RequestInput{ResourceTemplate: "sim"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.ActOnRequest(purser.NewContextWithActor(ctx, &purser.Actor{User: ops}), r.ID, purser.ActApprove, purser.Review{}); err != nil {
		t.Fatal(err)
	}
	// As an older server enqueued it.
	err = st.db.WithTx(ctx, func(tx sqldb.Tx) error {
		n, err := tx.Exec(ctx, "UPDATE river_job SET queue = 'default' WHERE kind = 'provision'")
		if err == nil && n != 1 {
			err = fmt.Errorf("%d provision jobs moved, want 1", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := st.queue.Start(context.WithoutCancel(ctx)); err != nil {
		t.Fatal(err)
	}
	defer st.queue.Stop(context.WithoutCancel(ctx)) //nolint:errcheck // the test is over
	for {
		got, err := reqs.FindRequestByID(sys, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == purser.StatusDeployed {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the provision job left in the default queue did not run: the request is %s", got.Status)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
