package slackbot

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/purserhq/purser"
)

var _ purser.RolloutObserver = (*Bot)(nil)

// ObserveRollout updates the message that follows r's rollout, if chat
// asked for r (or for the failed revision r rolls back): chat.update of
// the same message, so that the thread shows one message that changes. A
// failure that starts a rollback hands the message on to the rollback.
func (b *Bot) ObserveRollout(ctx context.Context, r *purser.StackRevision, p purser.RolloutProgress) {
	sys := purser.SystemContext(ctx)
	t, err := b.Threads.FindChatThread(sys, r.Cluster, r.Number)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		return
	}
	if err != nil {
		b.Logger.WarnContext(ctx, "find chat thread", "cluster", r.Cluster, "revision", r.Number, "error", err)
		return
	}
	if p.Rollback != nil {
		if err := b.Threads.SaveChatThread(sys, t.RollbackThread(p.Rollback, p.Reason)); err != nil {
			b.Logger.WarnContext(ctx, "hand the chat thread on to the rollback", "cluster", r.Cluster, "revision", p.Rollback.Number, "error", err)
		}
	}
	b.update(ctx, *t, r, p)
}

// update replaces the text of t's message with how r's rollout stands.
func (b *Bot) update(ctx context.Context, t purser.ChatThread, r *purser.StackRevision, p purser.RolloutProgress) {
	_, _, _, err := b.Client.UpdateMessageContext(ctx, t.Channel, t.TS, slack.MsgOptionText(t.Text(r, p), false))
	if err != nil {
		b.Logger.WarnContext(ctx, "slack chat.update", "channel", t.Channel, "ts", t.TS, "error", err)
	}
}
