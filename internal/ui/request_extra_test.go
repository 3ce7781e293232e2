package ui_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// TestRequestExtension: the owner of a running request asks for more
// hours once (a refusal shows beside the form), a reviewer approves it on
// the page, and the form is gone.
func TestRequestExtension(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.submit(1)
		dev, ops := e.signIn(purser.RoleDev), e.signIn(purser.RoleDevOps)
		rs, _, _ := sqldb.NewRequestService(db).FindRequests(purser.SystemContext(context.Background()), purser.Query{Page: 1, MaxResults: 1})
		id := rs[0].ID
		if body := dev.get("/requests/"+id, http.StatusOK); strings.Contains(body, `id="extend-form"`) {
			t.Fatal("a request waiting for review is offered an extension")
		}
		opsCtx := purser.NewContextWithActor(context.Background(), &purser.Actor{User: e.users[purser.RoleDevOps]})
		if _, err := sqldb.NewRequestService(db).ActOnRequest(opsCtx, id, purser.ActApprove, purser.Review{}); err != nil {
			t.Fatal(err)
		}
		if body := dev.get("/requests/"+id, http.StatusOK); !strings.Contains(body, `id="extend-form"`) {
			t.Fatalf("no extension form for the owner: %s", body)
		}
		if body := dev.postOK("/requests/"+id+"/extend", url.Values{"hours": {"100000"}}, http.StatusUnprocessableEntity); !strings.Contains(body, `id="extend-error"`) {
			t.Fatalf("too many hours: %s", body)
		}
		dev.postOK("/requests/"+id+"/extend", url.Values{"hours": {"2"}, "reason": {"demo on Friday"}}, http.StatusOK)
		body := ops.get("/requests/"+id, http.StatusOK)
		if !strings.Contains(body, "demo on Friday") || !strings.Contains(body, `value="approve">Approve the extension`) {
			t.Fatalf("the reviewer's page: %s", body)
		}
		es, _, _ := sqldb.NewExtensionService(db).FindExtensions(opsCtx, purser.Query{Page: 1, MaxResults: 1})
		ops.postOK("/requests/"+id+"/extension/"+es[0].ID, url.Values{"decision": {"approve"}}, http.StatusOK)
		body = dev.get("/requests/"+id, http.StatusOK)
		if strings.Contains(body, `id="extend-form"`) || !strings.Contains(body, "<strong>APPROVED</strong>") {
			t.Fatalf("after approval: %s", body)
		}
		if body := dev.postOK("/requests/"+id+"/extend", url.Values{"hours": {"1"}, "reason": {"again"}}, http.StatusConflict); !strings.Contains(body, "once") {
			t.Fatalf("a second extension: %s", body)
		}
	})
}

// TestJobLogIsLive: the request page shows the job log, and its stream
// appends the lines written after.
func TestJobLogIsLive(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.submit(1)
		dev := e.signIn(purser.RoleDev)
		rs, _, _ := sqldb.NewRequestService(db).FindRequests(purser.SystemContext(context.Background()), purser.Query{Page: 1, MaxResults: 1})
		id := rs[0].ID
		l := db.JobLogs().OpenJobLog(id)
		l.WriteLine("stdout", "creating the cluster")
		l.WriteLine("stderr", "warning: <slow>")
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		body := dev.get("/requests/"+id, http.StatusOK)
		if !strings.Contains(body, "creating the cluster") || !strings.Contains(body, "warning: &lt;slow&gt;") ||
			!strings.Contains(body, `sse-connect="/requests/`+id+`/log/live?after=2"`) {
			t.Fatalf("the log on the page: %s", body)
		}
		if text := dev.get("/requests/"+id+"/log", http.StatusOK); !strings.Contains(text, "stderr warning: <slow>") {
			t.Fatalf("the log as text: %s", text)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/requests/"+id+"/log/live?after=2", nil)
		resp, err := dev.c.Do(req)
		if err != nil || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %v %v", resp, err)
		}
		defer resp.Body.Close()
		l = db.JobLogs().OpenJobLog(id)
		l.WriteLine("stdout", "cluster ready")
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: log") {
				sc.Scan()
				if !strings.Contains(sc.Text(), "cluster ready") || strings.Contains(sc.Text(), "creating") {
					t.Fatalf("the appended lines: %q", sc.Text())
				}
				return
			}
		}
		t.Fatalf("no log event: %v", sc.Err())
	})
}

// TestPurgeIsConfirmed: purging asks, on a page of its own, for the
// request's id typed again; without it nothing is purged.
func TestPurgeIsConfirmed(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.submit(1)
		dev := e.signIn(purser.RoleDev)
		rs, _, _ := sqldb.NewRequestService(db).FindRequests(purser.SystemContext(context.Background()), purser.Query{Page: 1, MaxResults: 1})
		id := rs[0].ID
		opsCtx := purser.NewContextWithActor(context.Background(), &purser.Actor{User: e.users[purser.RoleDevOps]})
		if _, err := sqldb.NewRequestService(db).ActOnRequest(opsCtx, id, purser.ActApprove, purser.Review{}); err != nil {
			t.Fatal(err)
		}
		body := dev.get("/requests/"+id, http.StatusOK)
		if !strings.Contains(body, `href="/requests/`+id+`/purge"`) {
			t.Fatalf("no purge link: %s", body)
		}
		// One way to purge: the link to the confirmation, no direct button.
		if n := strings.Count(body, "Purge the environment"); n != 1 || strings.Contains(body, `name="action" value="purge"`) {
			t.Fatalf("the request page offers purge %d times, or as a button: %s", n, body)
		}
		for _, confirm := range []string{"", "not-the-id"} {
			if body := dev.postOK("/requests/"+id+"/act", url.Values{"action": {"purge"}, "confirm": {confirm}}, http.StatusOK); !strings.Contains(body, `id="purge-form"`) {
				t.Fatalf("purge confirmed with %q: %s", confirm, body)
			}
		}
		if r, _ := sqldb.NewRequestService(db).FindRequestByID(opsCtx, id); r.Status != purser.StatusApproved {
			t.Fatalf("purged without confirmation: %s", r.Status)
		}
		if body := dev.postOK("/requests/"+id+"/act", url.Values{"action": {"purge"}, "confirm": {id}}, http.StatusOK); !strings.Contains(body, string(purser.StatusPurgeInitiated)) {
			t.Fatalf("purge: %s", body)
		}
	})
}
