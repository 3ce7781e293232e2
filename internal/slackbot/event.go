package slackbot

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// event serves POST /slack/events: the URL verification's challenge is
// answered, and a mention of the app is a chat command answered in its
// thread (after the 200 Slack wants within 3 seconds). Slack's retries of
// an event already answered are acknowledged and dropped, so that one
// mention never deploys twice.
func (b *Bot) event(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "not a Slack event", http.StatusBadRequest)
		return
	}
	switch ev.Type {
	case slackevents.URLVerification:
		var c slackevents.ChallengeResponse
		if err := json.Unmarshal(body, &c); err != nil {
			http.Error(w, "bad challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(c.Challenge))
		return
	case slackevents.CallbackEvent:
	default:
		w.WriteHeader(http.StatusOK)
		return
	}
	m, ok := ev.InnerEvent.Data.(*slackevents.AppMentionEvent)
	if !ok || r.Header.Get("X-Slack-Retry-Num") != "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	thread := m.ThreadTimeStamp
	if thread == "" {
		thread = m.TimeStamp
	}
	w.WriteHeader(http.StatusOK)
	b.background(r.Context(), func(ctx context.Context) {
		rp := b.run(ctx, m.User, "", m.Channel, thread, m.Text)
		if _, _, err := b.Client.PostMessageContext(ctx, m.Channel, slack.MsgOptionText(rp.text, false), slack.MsgOptionTS(thread)); err != nil {
			b.Logger.WarnContext(ctx, "slack chat.postMessage", "channel", m.Channel, "error", err)
		}
	})
}
