// Package slackbot is Purser's Slack app: slash commands (/slack/commands),
// mentions (/slack/events) and buttons (/slack/interactions), each request
// verified against Slack's signing secret, each Slack user acting as the
// Purser user with the same email. It deploys with the seed's grammar
// (purser.ParseChatCommand), follows each rollout in one message updated in
// place (Bot is the reconciler's purser.RolloutObserver), and approves or
// rejects requests from the buttons of review notifications. Decisions are
// the domain's; this package only talks to Slack (github.com/slack-go/slack)
// and to the stores.
package slackbot

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/httpserver"
)

// maxBody bounds what Slack may send in one request (its payloads are a few
// kilobytes).
const maxBody = 1 << 20

// userTTL is how long a Slack user's Purser user is remembered.
const userTTL = time.Minute

// Bot serves Slack's requests. SigningSecret and Client (made with the bot
// token) are required; a Bot is only mounted when both are configured.
type Bot struct {
	SigningSecret string
	Client        *slack.Client
	Users         purser.UserService
	Stacks        purser.StackStore
	Requests      purser.RequestService
	Threads       purser.ChatThreadStore
	Tags          purser.TagLister // nil: no tag listing
	Logger        *slog.Logger
	// HTTPClient posts to the response_url of button presses; nil is
	// http.DefaultClient.
	HTTPClient *http.Client
	// NowFunc is the clock of the user cache; nil is time.Now.
	NowFunc func() time.Time

	mu    sync.Mutex
	users map[string]cachedUser
	wg    sync.WaitGroup
}

type cachedUser struct {
	user    *purser.User
	expires time.Time
}

// Register adds the three Slack routes to mux.
func (b *Bot) Register(mux *http.ServeMux) {
	mux.Handle("POST /slack/commands", httpserver.Named("POST /slack/commands", b.verified(b.command)))
	mux.Handle("POST /slack/events", httpserver.Named("POST /slack/events", b.verified(b.event)))
	mux.Handle("POST /slack/interactions", httpserver.Named("POST /slack/interactions", b.verified(b.interaction)))
}

// Wait waits for the work answered requests left running (a mention's
// deploy, a button's review) to finish.
func (b *Bot) Wait() { b.wg.Wait() }

// verified runs h only for a request Slack signed: v0 HMAC-SHA256 of
// "v0:timestamp:body" with the signing secret, compared in constant time,
// with a timestamp at most 5 minutes old (slack.NewSecretsVerifier). Any
// other request is refused 401 before anything is read into Purser. The
// actor of the request is never a bearer token's: h acts as the Slack
// user's Purser user or as nobody.
func (b *Bot) verified(h func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, b.SigningSecret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			b.Logger.WarnContext(r.Context(), "slack request refused: bad signature", "error", err)
			http.Error(w, "invalid Slack signature", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r = r.WithContext(purser.NewContextWithActor(r.Context(), nil))
		h(w, r, body)
	}
}

// background runs f after the answer, as Slack wants an answer within 3
// seconds; f gets its own minute.
func (b *Bot) background(ctx context.Context, f func(ctx context.Context)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		f(ctx)
	}()
}

func (b *Bot) now() time.Time {
	if b.NowFunc != nil {
		return b.NowFunc()
	}
	return time.Now()
}

func (b *Bot) httpClient() *http.Client {
	if b.HTTPClient != nil {
		return b.HTTPClient
	}
	return http.DefaultClient
}
