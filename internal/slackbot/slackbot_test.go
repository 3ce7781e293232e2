package slackbot_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/slackbot"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/storetest"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// peer is slack-go's test server as Slack's Web API, with users.info
// answering the emails of users and chat.update recorded.
type peer struct {
	*slacktest.Server
	mu      sync.Mutex
	emails  map[string]string // Slack user id -> email
	updates []url.Values      // chat.update calls
	posts   []url.Values      // chat.postMessage calls
}

func newPeer(t *testing.T, emails map[string]string) *peer {
	p := &peer{emails: emails}
	p.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/users.info", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			id := r.Form.Get("user")
			p.mu.Lock()
			email, ok := p.emails[id]
			p.mu.Unlock()
			if !ok {
				_, _ = w.Write([]byte(`{"ok": false, "error": "user_not_found"}`))
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": map[string]any{"id": id, "name": id, "profile": map[string]any{"email": email}}})
		})
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			p.mu.Lock()
			p.posts = append(p.posts, r.Form)
			ts := fmt.Sprintf("1700000000.%06d", len(p.posts))
			p.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": ts})
		})
		c.Handle("/chat.update", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			p.mu.Lock()
			p.updates = append(p.updates, r.Form)
			p.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": r.Form.Get("ts"), "text": r.Form.Get("text")})
		})
	})
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

func (p *peer) calls() (posts, updates []url.Values) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.posts...), append([]url.Values(nil), p.updates...)
}

// sign returns Slack's headers for body, signed at ts with key.
func sign(key, body string, ts time.Time) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("v0:" + stamp + ":" + body))
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return h
}

type env struct {
	t      *testing.T
	db     *sqldb.DB
	bot    *slackbot.Bot
	srv    *httptest.Server
	peer   *peer
	stacks *sqldb.StackService
}

func eachStore(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("SQLite", func(t *testing.T) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "purser.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, newEnv(t, s.DB))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		if os.Getenv("PURSER_TEST_POSTGRES_URL") == "" && os.Getenv("CI") == "" {
			t.Skip("PURSER_TEST_POSTGRES_URL is not set")
		}
		s, err := postgres.Open(context.Background(), storetest.PostgresURL(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, newEnv(t, s.DB))
	})
}

// newEnv is the bot on a store with a sim cluster "sim1" running web and
// users, a devops user ana (Slack U1) and a dev user dan (Slack U2); Slack
// user U3 has an email no Purser user has.
func newEnv(t *testing.T, db *sqldb.DB) *env {
	db = storetest.Equip(t, db)
	sys := purser.SystemContext(context.Background())
	for _, u := range []*purser.User{
		{Username: "ana", Email: "ana@example.com", Roles: []string{purser.RoleDevOps}, IsActive: true},
		{Username: "dan", Email: "dan@example.com", Roles: []string{purser.RoleDev}, IsActive: true},
	} {
		if err := sqldb.NewUserService(db).CreateUser(sys, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqldb.NewClusterService(db).CreateCluster(sys, &purser.Cluster{Name: "sim1", Kind: purser.ClusterSim}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, stacks: sqldb.NewStackService(db)}
	src := `{"services": [{"web": {"image": "r/web:1"}}, {"users": {"image": "r/users:1"}}]}`
	var sf purser.Stackfile
	if err := json.Unmarshal([]byte(src), &sf); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stacks.ProposeRevision(sys, "sim1", purser.StackProposal{Message: "first", Source: src, Stackfile: &sf}); err != nil {
		t.Fatal(err)
	}
	e.peer = newPeer(t, map[string]string{"U1": "ana@example.com", "U2": "dan@example.com", "U3": "eve@example.com"})
	e.bot = &slackbot.Bot{SigningSecret: secret, Client: slack.New("xoxb-test", slack.OptionAPIURL(e.peer.GetAPIURL())),
		Users: sqldb.NewUserService(db), Stacks: e.stacks, Requests: sqldb.NewRequestService(db),
		Threads: sqldb.NewChatThreadService(db), Logger: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	e.bot.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// post sends body to path signed with key at ts, and returns the status
// and the answer.
func (e *env) post(path, body, key string, ts time.Time) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header = sign(key, body, ts)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func command(user, text string) string {
	return url.Values{"command": {"/purser"}, "user_id": {user}, "user_name": {strings.ToLower(user)}, "channel_id": {"C1"}, "text": {text}}.Encode()
}

func (e *env) revisions() int {
	e.t.Helper()
	cur, err := e.stacks.CurrentRevision(purser.SystemContext(context.Background()), "sim1")
	if err != nil {
		e.t.Fatal(err)
	}
	return cur.Number
}

func TestSignature(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		body := command("U1", "deploy to sim1 web:1.2.3")
		for name, tc := range map[string]struct {
			key string
			ts  time.Time
		}{
			"BadSecret": {"not-the-secret", time.Now()},
			"Stale":     {secret, time.Now().Add(-6 * time.Minute)},
			"Future":    {secret, time.Now().Add(6 * time.Minute)},
		} {
			for _, path := range []string{"/slack/commands", "/slack/events", "/slack/interactions"} {
				if code, _ := e.post(path, body, tc.key, tc.ts); code != http.StatusUnauthorized {
					t.Errorf("%s %s: status %d, want 401", name, path, code)
				}
			}
		}
		// No signature at all.
		res, err := http.Post(e.srv.URL+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned: status %d", res.StatusCode)
		}
		if n := e.revisions(); n != 1 {
			t.Fatalf("a refused request made revision %d", n)
		}
		if posts, updates := e.peer.calls(); len(posts)+len(updates) != 0 {
			t.Fatalf("a refused request reached Slack: %v %v", posts, updates)
		}
		// Signed 4 minutes ago: accepted.
		code, out := e.post("/slack/commands", body, secret, time.Now().Add(-4*time.Minute))
		if code != http.StatusOK || !strings.Contains(out, "Revision 2 of sim1") {
			t.Fatalf("signed: %d %s", code, out)
		}
	})
}

func TestDeployFromSlashCommand(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		code, out := e.post("/slack/commands", command("U1", "deploy to sim1 web:1.2.3,users:2.0"), secret, time.Now())
		var msg slack.Msg
		_ = json.Unmarshal([]byte(out), &msg)
		if code != http.StatusOK || msg.ResponseType != slack.ResponseTypeInChannel || !strings.Contains(msg.Text, "Revision 2 of sim1: slack: @u1 deploy web:1.2.3,users:2.0 (as Purser user ana)") {
			t.Fatalf("deploy: %d %s", code, out)
		}
		sys := purser.SystemContext(context.Background())
		rev, err := e.stacks.StackRevision(sys, "sim1", 2)
		if err != nil || rev.Author != "ana" || rev.Stackfile.Service("web").Image != "r/web:1.2.3" || rev.Stackfile.Service("users").Image != "r/users:2.0" {
			t.Fatalf("revision 2: %+v %v", rev, err)
		}
		posts, _ := e.peer.calls()
		if len(posts) != 1 || posts[0].Get("channel") != "C1" || !strings.Contains(posts[0].Get("text"), "Queued: revision 2 of sim1 for @u1") {
			t.Fatalf("posts %v", posts)
		}
		// The reconciler's steps update that message in place.
		plan := purser.PlanStack(rev.Normalized, nil)
		e.bot.ObserveRollout(context.Background(), rev, purser.RolloutProgress{Status: purser.RevisionApplying, Plan: &plan})
		e.bot.ObserveRollout(context.Background(), rev, purser.RolloutProgress{Status: purser.RevisionApplied, Plan: &plan})
		_, updates := e.peer.calls()
		if len(updates) != 2 {
			t.Fatalf("updates %v", updates)
		}
		last := updates[1]
		if last.Get("ts") != "1700000000.000001" || last.Get("channel") != "C1" || !strings.Contains(last.Get("text"), ":white_check_mark: Applied revision 2 of sim1") ||
			!strings.Contains(last.Get("text"), ":heavy_check_mark: create `web`") {
			t.Fatalf("last update %v", last)
		}
		// A revision nobody asked for in Slack is not followed.
		e.bot.ObserveRollout(context.Background(), &purser.StackRevision{Cluster: "sim1", Number: 1}, purser.RolloutProgress{Status: purser.RevisionApplied})
		if _, updates = e.peer.calls(); len(updates) != 2 {
			t.Fatalf("updates %v", updates)
		}
	})
}

func TestCommandRefusals(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, tc := range []struct{ user, text, want string }{
			{"U1", "deploy sim1 web:1", `"deploy" must be followed by "to <cluster>"`},
			{"U3", "deploy to sim1 web:1", "no active Purser user has your Slack email (eve@example.com)"},
			{"U9", "deploy to sim1 web:1", "I could not look your Slack profile up"},
			{"U2", "deploy to sim1 web:1", "I did not deploy:"},
			{"U1", "deploy to sim1 db:1", "I did not deploy: the stack of sim1 has no service db (it has users, web)"},
			{"U1", "deploy to nowhere web:1", "I did not deploy:"},
			{"U1", "deploy to sim1 web", "This Purser lists no image tags."},
		} {
			code, out := e.post("/slack/commands", command(tc.user, tc.text), secret, time.Now())
			var msg slack.Msg
			_ = json.Unmarshal([]byte(out), &msg)
			if code != http.StatusOK || msg.ResponseType != slack.ResponseTypeEphemeral || !strings.Contains(msg.Text, tc.want) {
				t.Errorf("%s %q: %d %s; want ephemeral %q", tc.user, tc.text, code, out, tc.want)
			}
		}
		if n := e.revisions(); n != 1 {
			t.Fatalf("a refused command made revision %d", n)
		}
	})
}

func TestEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		code, out := e.post("/slack/events", `{"type": "url_verification", "challenge": "c-123", "token": "x"}`, secret, time.Now())
		if code != http.StatusOK || out != "c-123" {
			t.Fatalf("challenge: %d %q", code, out)
		}
		mention := `{"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention", "user": "U1", "channel": "C2", "ts": "1700000001.000100", "text": "<@UBOT> deploy to sim1 all:3.1"}}`
		if code, _ := e.post("/slack/events", mention, secret, time.Now()); code != http.StatusOK {
			t.Fatalf("mention: %d", code)
		}
		e.bot.Wait()
		posts, _ := e.peer.calls()
		if len(posts) != 2 || posts[0].Get("thread_ts") != "1700000001.000100" || posts[1].Get("thread_ts") != "1700000001.000100" ||
			!strings.Contains(posts[1].Get("text"), "Revision 2 of sim1: slack: @ana deploy all:3.1") {
			t.Fatalf("posts %v", posts)
		}
		// Slack's retry of the same event deploys nothing more.
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/slack/events", strings.NewReader(mention))
		req.Header = sign(secret, mention, time.Now())
		req.Header.Set("X-Slack-Retry-Num", "1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		e.bot.Wait()
		if n := e.revisions(); res.StatusCode != http.StatusOK || n != 2 {
			t.Fatalf("retry: %d, revision %d", res.StatusCode, n)
		}
	})
}

func TestInteractionRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		got := make(chan map[string]any, 1)
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]any
			_ = json.NewDecoder(r.Body).Decode(&m)
			got <- m
		}))
		defer hook.Close()
		payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "U1", "name": "ana"}, "response_url": hook.URL,
			"actions": []map[string]any{{"action_id": purser.ChatActionApprove, "block_id": "review", "value": "nope", "type": "button"}}})
		body := url.Values{"payload": {string(payload)}}.Encode()
		if code, _ := e.post("/slack/interactions", body, secret, time.Now()); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		var m map[string]any
		select {
		case m = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("nothing posted to the response_url")
		}
		if m["response_type"] != "ephemeral" || !strings.Contains(fmt.Sprint(m["text"]), "I did not approve request nope") {
			t.Fatalf("response %v", m)
		}
	})
}

// tags is a registry with 12 tags of r/web, the newest last pushed.
type tags struct{ asked []purser.TagQuery }

func (f *tags) ImageTags(_ context.Context, q purser.TagQuery) (*purser.TagList, error) {
	f.asked = append(f.asked, q)
	l := &purser.TagList{Repository: "r/web"}
	for i := 12; i >= 1 && len(l.Tags) < q.Limit; i-- {
		l.Tags = append(l.Tags, purser.ImageTag{Name: fmt.Sprintf("1.2.%d", i), Pushed: time.Date(2026, 1, i, 0, 0, 0, 0, time.UTC)})
	}
	return l, nil
}

func (f *tags) InvalidateTags(context.Context, string) {}

func TestListTags(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		f := &tags{}
		e.bot.Tags = f
		got := make(chan slack.Msg, 1)
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m slack.Msg
			_ = json.NewDecoder(r.Body).Decode(&m)
			got <- m
		}))
		defer hook.Close()
		body := url.Values{"command": {"/purser"}, "user_id": {"U2"}, "channel_id": {"C1"}, "text": {"deploy to sim1 web"}, "response_url": {hook.URL}}.Encode()
		code, out := e.post("/slack/commands", body, secret, time.Now())
		if code != http.StatusOK || !strings.Contains(out, "Looking up the newest tags of web on sim1") {
			t.Fatalf("first answer: %d %s", code, out)
		}
		var msg slack.Msg
		select {
		case msg = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no tags through the response_url")
		}
		if code != http.StatusOK || msg.ResponseType != slack.ResponseTypeEphemeral || !strings.HasPrefix(msg.Text, "The 10 newest tags of web (r/web), newest first:\n• `web:1.2.12` pushed 2026-01-12 00:00:00") ||
			strings.Count(msg.Text, "\n• ") != 10 || !strings.Contains(msg.Text, "`web:1.2.3`") || strings.Contains(msg.Text, "`web:1.2.2`") {
			t.Fatalf("tags: %d %s", code, msg.Text)
		}
		if len(f.asked) != 1 || f.asked[0].Image != "r/web:1" || f.asked[0].Cluster != "sim1" || f.asked[0].Limit != 10 {
			t.Fatalf("asked %+v", f.asked)
		}
		if _, out := e.post("/slack/commands", command("U2", "deploy to sim1 db"), secret, time.Now()); !strings.Contains(out, "Revision 1 of sim1 has no service db") {
			t.Fatalf("unknown service: %s", out)
		}
	})
}
