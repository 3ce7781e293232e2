package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/purserhq/purser/client"
)

const slackSecret = "e2e-signing-secret-0123456789abcdef"

// slackPeer is slack-go's test server as Slack's Web API (users.info by a
// table of emails, chat.postMessage and chat.update recorded), beside an
// incoming webhook and a response_url receiver.
type slackPeer struct {
	*slacktest.Server
	mu        sync.Mutex
	posts     []url.Values
	updates   []url.Values
	webhooks  []map[string]any // incoming-webhook messages (notifications)
	responses []map[string]any // response_url messages (button answers)
	hook      *httptest.Server
}

func newSlackPeer(t *testing.T, emails map[string]string) *slackPeer {
	p := &slackPeer{}
	p.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/users.info", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			id := r.Form.Get("user")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": map[string]any{"id": id, "name": id, "profile": map[string]any{"email": emails[id]}}})
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
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": r.Form.Get("ts")})
		})
	})
	p.Start()
	t.Cleanup(p.Stop)
	p.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		p.mu.Lock()
		if r.URL.Path == "/response" {
			p.responses = append(p.responses, m)
		} else {
			p.webhooks = append(p.webhooks, m)
		}
		p.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(p.hook.Close)
	return p
}

// until polls f under the peer's lock until it is true, or fails.
func (p *slackPeer) until(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		ok := f()
		p.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("%s: posts %v updates %v webhooks %v responses %v", what, p.posts, p.updates, p.webhooks, p.responses)
}

// waitRevision waits until revision n of demo is neither pending nor
// applying, and returns it.
func waitRevision(ctx context.Context, t *testing.T, c *client.Client, n int) *client.StackRevision {
	t.Helper()
	var rev *client.StackRevision
	eventually(t, fmt.Sprintf("revision %d of demo ends", n), func() bool {
		var err error
		if rev, err = c.StackRevision(ctx, "demo", n); err != nil {
			t.Fatal(err)
		}
		return rev.Status != "pending" && rev.Status != "applying"
	})
	return rev
}

// slackPost sends body to the server's Slack route, signed as Slack signs.
func slackPost(t *testing.T, base, path, body, key string) (int, string) {
	t.Helper()
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("v0:" + stamp + ":" + body))
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestSlackEndToEnd runs the real server with the Slack app configured:
// a signed slash command deploys a sim cluster's service, and the one
// message that follows it is updated in place until it says applied; a
// request's review notification reaches a DevOps user's Slack with
// buttons, and pressing Approve approves it as that user.
func TestSlackEndToEnd(t *testing.T) { eachStore(t, testSlackEndToEnd) }

func testSlackEndToEnd(t *testing.T, env ...string) {
	peer := newSlackPeer(t, map[string]string{"U1": "jjj@xyz.com", "U2": "bbb@xyz.com"})
	base, token := server(t, append(env, "PURSER_SIM_ROLLOUT_TIME", "100ms", "PURSER_OUTBOUND_ALLOW", "127.0.0.0/8",
		"PURSER_SLACK_SIGNING_SECRET", slackSecret, "PURSER_SLACK_BOT_TOKEN", "xoxb-e2e", "PURSER_SLACK_API_URL", peer.GetAPIURL())...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := client.New(base, token)
	jjj, err := admin.CreateUser(ctx, client.UserCreate{Username: "jjj", Email: "jjj@xyz.com", Roles: []string{"devops"}})
	if err != nil {
		t.Fatal(err)
	}
	bbb, err := admin.CreateUser(ctx, client.UserCreate{Username: "bbb", Email: "bbb@xyz.com", Roles: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	mustAs(t, base, token, "clusters", "add", "demo", "--kind", "sim")
	if _, err := admin.ApplyStack(ctx, "demo", []byte("defaults: {}\nservices:\n  - web:\n      image: r/web:1.0\n  - api:\n      image: r/api:1.0\n"), client.ApplyOptions{Message: "first"}); err != nil {
		t.Fatal(err)
	}

	waitRevision(ctx, t, admin, 1)

	// An unsigned request is refused, even with a good bearer token.
	req, _ := http.NewRequest(http.MethodPost, base+"/slack/commands", strings.NewReader("text=deploy+to+demo+web:9"))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned with a token: %d, want 401", res.StatusCode)
	}

	// The slash command, as jjj (U1).
	cmd := url.Values{"command": {"/purser"}, "user_id": {"U1"}, "user_name": {"jjj"}, "channel_id": {"C9"}, "text": {"deploy to demo web:1.2.3"}}.Encode()
	code, out := slackPost(t, base, "/slack/commands", cmd, slackSecret)
	if code != http.StatusOK || !strings.Contains(out, "Revision 2 of demo: slack: @jjj deploy web:1.2.3") {
		t.Fatalf("slash command: %d %s", code, out)
	}
	rev := waitRevision(ctx, t, admin, 2)
	if rev.Status != "applied" || rev.Author != "jjj" {
		t.Fatalf("revision 2: %+v %v", rev, err)
	}
	peer.until(t, "the thread says applied", func() bool {
		if len(peer.posts) != 1 || len(peer.updates) == 0 {
			return false
		}
		last := peer.updates[len(peer.updates)-1]
		return last.Get("ts") == "1700000000.000001" && last.Get("channel") == "C9" &&
			strings.Contains(last.Get("text"), ":white_check_mark: Applied revision 2 of demo for @jjj") &&
			strings.Contains(last.Get("text"), ":heavy_check_mark: update `web`")
	})

	// A tag the sim target fails: the same kind of message ends rolled back.
	cmd = url.Values{"command": {"/purser"}, "user_id": {"U1"}, "user_name": {"jjj"}, "channel_id": {"C9"}, "text": {"deploy to demo web:fail-1"}}.Encode()
	if code, out := slackPost(t, base, "/slack/commands", cmd, slackSecret); code != http.StatusOK || !strings.Contains(out, "Revision 3 of demo") {
		t.Fatalf("slash command: %d %s", code, out)
	}
	peer.until(t, "the thread says rolled back", func() bool {
		if len(peer.posts) != 2 || len(peer.updates) == 0 {
			return false
		}
		last := peer.updates[len(peer.updates)-1]
		return last.Get("ts") == "1700000000.000002" &&
			strings.Contains(last.Get("text"), ":leftwards_arrow_with_hook: Rolled back: revision 3 of demo failed") &&
			strings.Contains(last.Get("text"), "rolling back with revision 4, which restores revision 2, now applied")
	})

	// A review notification with buttons, and a press that approves.
	ops, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "jjj", User: jjj.ID})
	if err := client.New(base, ops.Token).Do(ctx, "PUT", "/api/v1/me/preferences", map[string]any{"channels": []string{"inbox", "slack"},
		"slack_webhook": peer.hook.URL + "/webhook"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "sim", "name": "Sim", "type": "OTHER"}); err != nil {
		t.Fatal(err)
	}
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "bbb", User: bbb.ID})
	r, err := client.New(base, devTok.Token).CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "sim", TTLHours: 1})
	if err != nil {
		t.Fatal(err)
	}
	peer.until(t, "the review notification carries buttons", func() bool {
		for _, m := range peer.webhooks {
			b, _ := json.Marshal(m["blocks"])
			if strings.Contains(string(b), `"action_id":"purser_approve"`) && strings.Contains(string(b), `"value":"`+r.ID+`"`) {
				return true
			}
		}
		return false
	})
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "U1", "name": "jjj"},
		"response_url": peer.hook.URL + "/response",
		"actions":      []map[string]any{{"action_id": "purser_approve", "block_id": "review", "value": r.ID, "type": "button"}}})
	if code, _ := slackPost(t, base, "/slack/interactions", url.Values{"payload": {string(payload)}}.Encode(), slackSecret); code != http.StatusOK {
		t.Fatalf("button: %d", code)
	}
	peer.until(t, "the message says who approved", func() bool {
		return len(peer.responses) == 1 && peer.responses[0]["replace_original"] == true &&
			strings.Contains(fmt.Sprint(peer.responses[0]["text"]), "approved in Slack by @jjj")
	})
	got, err := admin.GetRequest(ctx, r.ID)
	if err != nil || got.Status == "REQUESTED" || got.Status == "REJECTED" || got.ReviewedByName != "jjj" || got.ReviewComment != "approved in Slack by @jjj" {
		t.Fatalf("request after Approve: %+v %v", got, err)
	}
}

// TestSlackConfig: the Slack secrets are redacted, the bot token is
// required with the signing secret, and the API URL must be one.
func TestSlackConfig(t *testing.T) {
	t.Setenv("PURSER_DATA_DIR", t.TempDir())
	t.Setenv("PURSER_SLACK_SIGNING_SECRET", "sign-hunter5")
	t.Setenv("PURSER_SLACK_BOT_TOKEN", "xoxb-hunter6")
	code, out, errOut := cli(t, "server", "--print-config")
	if code != 0 || strings.Contains(out, "hunter") || !strings.Contains(out, "signing_secret: '[redacted]'") || !strings.Contains(out, "bot_token: '[redacted]'") {
		t.Fatalf("exit %d %s:\n%s", code, errOut, out)
	}
	t.Setenv("PURSER_SLACK_API_URL", "slack.com/api")
	if code, _, errOut := cli(t, "server", "--print-config"); code == 0 || !strings.Contains(errOut, "slack.api_url") {
		t.Fatalf("bad api_url: %d %q", code, errOut)
	}
	t.Setenv("PURSER_SLACK_API_URL", "")
	t.Setenv("PURSER_SLACK_BOT_TOKEN", "")
	if code, _, errOut := cli(t, "server", "--print-config"); code == 0 || !strings.Contains(errOut, "slack.bot_token is required") {
		t.Fatalf("no bot token: %d %q", code, errOut)
	}
}

// TestSlackOffByDefault: without a signing secret the Slack routes do not
// exist, signed or not.
func TestSlackOffByDefault(t *testing.T) {
	base, _ := server(t)
	for _, path := range []string{"/slack/commands", "/slack/events", "/slack/interactions"} {
		if code, _ := slackPost(t, base, path, "text=deploy+to+demo+web:1", slackSecret); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, code)
		}
	}
}
