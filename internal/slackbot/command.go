package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

// reply is what a chat command answers: text, for the asker alone unless
// public.
type reply struct {
	text   string
	public bool
}

// command serves POST /slack/commands: the slash command's text is a chat
// command; the answer is the reply (a tag listing's follows through the
// response_url), and a deploy's progress is posted to the channel as a
// message of its own, the thread's root.
func (b *Bot) command(w http.ResponseWriter, r *http.Request, _ []byte) {
	sc, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "not a slash command", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if cmd, err := purser.ParseChatCommand(sc.Text); err == nil && cmd.ListTags != "" && sc.ResponseURL != "" {
		// A registry may take longer than the 3 seconds Slack waits: the
		// tags follow through the command's response_url.
		_ = json.NewEncoder(w).Encode(slack.Msg{ResponseType: slack.ResponseTypeEphemeral,
			Text: "Looking up the newest tags of " + cmd.ListTags + " on " + cmd.Cluster + "…"})
		b.background(r.Context(), func(ctx context.Context) {
			rp := b.run(ctx, sc.UserID, sc.UserName, sc.ChannelID, "", sc.Text)
			b.respond(ctx, sc.ResponseURL, &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: rp.text})
		})
		return
	}
	rp := b.run(r.Context(), sc.UserID, sc.UserName, sc.ChannelID, "", sc.Text)
	msg := slack.Msg{Text: rp.text, ResponseType: slack.ResponseTypeEphemeral}
	if rp.public {
		msg.ResponseType = slack.ResponseTypeInChannel
	}
	_ = json.NewEncoder(w).Encode(msg)
}

// run carries a chat command out as the Slack user's Purser user. A deploy
// posts its progress to channel (in the thread of threadTS when set) and
// records that message, so that the reconciler's progress updates it.
func (b *Bot) run(ctx context.Context, slackUser, slackName, channel, threadTS, text string) reply {
	cmd, err := purser.ParseChatCommand(text)
	if err != nil {
		return reply{text: purser.ErrorMessage(err)}
	}
	actx, u, err := b.as(ctx, slackUser)
	if err != nil {
		return reply{text: purser.ErrorMessage(err)}
	}
	if slackName == "" {
		slackName = u.Username
	}
	if cmd.ListTags != "" {
		return b.listTags(actx, cmd)
	}
	rev, err := b.propose(actx, cmd, slackName)
	if err != nil {
		return reply{text: fmt.Sprintf("I did not deploy: %s", b.say(ctx, err))}
	}
	b.follow(ctx, rev, slackName, channel, threadTS)
	return reply{text: fmt.Sprintf("Revision %d of %s: %s (as Purser user %s).", rev.Number, rev.Cluster, rev.Message, u.Username), public: true}
}

// propose makes the command's revision from the cluster's current one, as
// `purser stacks set-image` does (the store authorizes: stacks:write, or a
// deployer of the cluster), trying again when another revision landed in
// between.
func (b *Bot) propose(ctx context.Context, cmd purser.ChatCommand, slackName string) (*purser.StackRevision, error) {
	for attempt := 0; ; attempt++ {
		cur, err := b.Stacks.CurrentRevision(ctx, cmd.Cluster)
		if err != nil {
			return nil, err
		}
		sf, err := cmd.Apply(cur.Stackfile)
		if err != nil {
			return nil, err
		}
		source, err := stackfile.MarshalYAML(sf)
		if err != nil {
			return nil, err
		}
		read := cur.Number
		rev, err := b.Stacks.ProposeRevision(ctx, cmd.Cluster, purser.StackProposal{Message: cmd.Message(slackName), Source: string(source), Stackfile: sf, IfMatch: &read})
		if purser.ErrorCode(err) == purser.EPRECONDITION && attempt < 3 {
			continue
		}
		if err == nil && b.Tags != nil {
			for _, sv := range cur.Stackfile.Services {
				repo, _ := purser.SplitImage(sv.Image)
				b.Tags.InvalidateTags(ctx, repo)
			}
		}
		return rev, err
	}
}

// follow posts the message that follows rev's rollout and records it. The
// reconciler may have moved on before the record exists: the message is
// then brought up to date at once.
func (b *Bot) follow(ctx context.Context, rev *purser.StackRevision, slackName, channel, threadTS string) {
	t := purser.ChatThread{Cluster: rev.Cluster, Revision: rev.Number, Channel: channel, ChatUser: slackName}
	opts := []slack.MsgOption{slack.MsgOptionText(t.Text(rev, purser.RolloutProgress{Status: purser.RevisionPending}), false)}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	ch, ts, err := b.Client.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		b.Logger.WarnContext(ctx, "slack chat.postMessage", "channel", channel, "error", err)
		return
	}
	t.Channel, t.TS = ch, ts
	sys := purser.SystemContext(ctx)
	if err := b.Threads.SaveChatThread(sys, t); err != nil {
		b.Logger.ErrorContext(ctx, "save chat thread", "cluster", rev.Cluster, "revision", rev.Number, "error", err)
		return
	}
	if now, err := b.Stacks.StackRevision(sys, rev.Cluster, rev.Number); err == nil && now.Status != purser.RevisionPending {
		b.update(ctx, t, now, purser.RolloutProgress{Status: now.Status, Reason: now.Reason})
	}
}

// listTags answers the newest tags of a service's image.
func (b *Bot) listTags(ctx context.Context, cmd purser.ChatCommand) reply {
	if b.Tags == nil {
		return reply{text: "This Purser lists no image tags."}
	}
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return reply{text: b.say(ctx, err)}
	}
	cur, err := b.Stacks.CurrentRevision(ctx, cmd.Cluster)
	if err != nil {
		return reply{text: b.say(ctx, err)}
	}
	sf := cur.Normalized
	if sf == nil {
		sf = cur.Stackfile.Normalize()
	}
	sv := sf.Service(cmd.ListTags)
	if sv == nil {
		return reply{text: fmt.Sprintf("Revision %d of %s has no service %s.", cur.Number, cmd.Cluster, cmd.ListTags)}
	}
	l, err := b.Tags.ImageTags(ctx, purser.TagQuery{Cluster: cmd.Cluster, Image: sv.Image, Limit: purser.DefaultTagLimit})
	if re := (*purser.RegistryError)(nil); errors.As(err, &re) {
		return reply{text: "I could not list the tags: " + re.Error()}
	}
	if err != nil {
		return reply{text: "I could not list the tags: " + b.say(ctx, err)}
	}
	return reply{text: tagsText(cmd.ListTags, l)}
}

// tagsText lists a service's tags, one a line, newest first.
func tagsText(service string, l *purser.TagList) string {
	if len(l.Tags) == 0 {
		return l.Repository + " has no tags."
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "The %d newest tags of %s (%s), newest first:", len(l.Tags), service, l.Repository)
	for _, tg := range l.Tags {
		fmt.Fprintf(&sb, "\n• `%s:%s`", service, tg.Name)
		if !tg.Pushed.IsZero() {
			fmt.Fprintf(&sb, " pushed %s", tg.Pushed.UTC().Format(time.DateTime))
		}
	}
	if l.Warning != "" {
		sb.WriteString("\n_" + l.Warning + "_")
	}
	return sb.String()
}

// say is an error as the Slack user may read it: a purser.Error's message,
// or, for an unexpected failure (logged), a request to try again.
func (b *Bot) say(ctx context.Context, err error) string {
	if purser.ErrorCode(err) == purser.EINTERNAL {
		b.Logger.ErrorContext(ctx, "slack command", "error", err)
	}
	return purser.ErrorMessage(err)
}
