package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/slack-go/slack"

	"github.com/purserhq/purser"
)

// interaction serves POST /slack/interactions: a press of a review
// notification's Approve or Reject button approves or rejects the request
// (the button's value) as the Slack user's Purser user, with the store's
// own checks (requests:review, never one's own request). The message is
// then replaced, through the press's response_url, by who did what; a
// refusal is told to the presser alone.
func (b *Bot) interaction(w http.ResponseWriter, r *http.Request, _ []byte) {
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(r.PostFormValue("payload")), &cb); err != nil {
		http.Error(w, "not a Slack interaction", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	a := cb.ActionCallback.BlockActions[0]
	b.background(r.Context(), func(ctx context.Context) {
		b.respond(ctx, cb.ResponseURL, b.review(ctx, cb.User, a.ActionID, a.Value))
	})
}

// review carries a button's review out and returns the message that says
// how it went.
func (b *Bot) review(ctx context.Context, su slack.User, action, requestID string) *slack.WebhookMessage {
	name := su.Name
	if name == "" {
		name = su.ID
	}
	act, rv, err := purser.ChatReview(action, name)
	if err != nil {
		return &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: purser.ErrorMessage(err)}
	}
	actx, u, err := b.as(ctx, su.ID)
	if err != nil {
		return &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: purser.ErrorMessage(err)}
	}
	req, err := b.Requests.ActOnRequest(actx, requestID, act, rv)
	if err != nil {
		return &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: false,
			Text: fmt.Sprintf("I did not %s request %s: %s", act, requestID, b.say(ctx, err))}
	}
	return &slack.WebhookMessage{ReplaceOriginal: true,
		Text: fmt.Sprintf("Request %s is %s: %s (Purser user %s).", req.ID, req.Status, rv.Comment, u.Username)}
}

// respond posts msg to a press's response_url.
func (b *Bot) respond(ctx context.Context, url string, msg *slack.WebhookMessage) {
	if url == "" {
		return
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, url, b.httpClient(), msg); err != nil {
		b.Logger.WarnContext(ctx, "slack response_url", "error", err)
	}
}
