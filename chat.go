package purser

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ChatUsage is the grammar chat users are reminded of when a command is not
// understood (the seed's Slack bot's, with tags that may hold dots).
const ChatUsage = "deploy to <cluster> <service>:<tag>[,<service>:<tag>], deploy to <cluster> all:<tag>, " +
	"or deploy to <cluster> <service> to list its 10 newest tags"

// ChatCommand is a deploy asked for in chat: either new tags for services
// of a cluster (Tags, or AllTag for every service), or the newest tags of
// one service (ListTags).
type ChatCommand struct {
	Cluster string
	// Tags are the services to change and their new tags, in the order given.
	Tags []ServiceTag
	// AllTag, when set, is the tag every service of the stack gets.
	AllTag string
	// ListTags names the service whose newest tags to list.
	ListTags string
}

// ServiceTag is a service and the image tag it is to run.
type ServiceTag struct {
	Service string
	Tag     string
}

var (
	chatClusterRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	chatServiceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_/-]{0,99}$`)
)

// ParseChatCommand parses a chat command: "deploy to <cluster>
// <service>:<tag>[,<service>:<tag>]", "deploy to <cluster> all:<tag>" or
// "deploy to <cluster> <service>". Spaces after commas are allowed, and a
// leading mention of the bot ("<@U123>") is skipped. A command that does
// not parse is EINVALID, with a message that names what is wrong and
// recalls the grammar.
func ParseChatCommand(text string) (ChatCommand, error) {
	f := strings.Fields(text)
	if len(f) > 0 && strings.HasPrefix(f[0], "<@") && strings.HasSuffix(f[0], ">") {
		f = f[1:]
	}
	bad := func(format string, args ...any) (ChatCommand, error) {
		return ChatCommand{}, Errorf(EINVALID, "%s. Try: %s", fmt.Sprintf(format, args...), ChatUsage)
	}
	switch {
	case len(f) == 0:
		return bad("say what to deploy")
	case !strings.EqualFold(f[0], "deploy"):
		return bad("%q is not a command I know", f[0])
	case len(f) < 2 || !strings.EqualFold(f[1], "to"):
		return bad("\"deploy\" must be followed by \"to <cluster>\"")
	case len(f) < 3:
		return bad("name the cluster to deploy to")
	case !chatClusterRE.MatchString(f[2]):
		return bad("%q is not a cluster name", f[2])
	case len(f) < 4:
		return bad("name the services to deploy to %s, as <service>:<tag>", f[2])
	}
	c := ChatCommand{Cluster: f[2]}
	spec := strings.Join(f[3:], "")
	if !strings.Contains(spec, ":") && !strings.Contains(spec, ",") {
		if !chatServiceRE.MatchString(spec) {
			return bad("%q is not a service name", spec)
		}
		c.ListTags = spec
		return c, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		svc, tag, ok := strings.Cut(part, ":")
		switch {
		case part == "":
			return bad("an empty entry between commas")
		case !ok || tag == "":
			return bad("%q has no tag: write <service>:<tag>", part)
		case !chatServiceRE.MatchString(svc):
			return bad("%q is not a service name", svc)
		case !imageTagRE.MatchString(tag):
			return bad("%q is not an image tag (letters, digits, '_', '.' and '-', at most 128)", tag)
		case seen[svc]:
			return bad("%s is named twice", svc)
		}
		seen[svc] = true
		c.Tags = append(c.Tags, ServiceTag{svc, tag})
	}
	if seen["all"] {
		if len(c.Tags) > 1 {
			return bad("all:<tag> sets every service; name no other")
		}
		c.AllTag, c.Tags = c.Tags[0].Tag, nil
	}
	return c, nil
}

// Apply returns a copy of sf with the command's tags set: ENOTFOUND names a
// service the stack does not have. It is the revision a chat deploy
// proposes.
func (c ChatCommand) Apply(sf *Stackfile) (*Stackfile, error) {
	tags := c.Tags
	if c.AllTag != "" {
		tags = nil
		for _, sv := range sf.Services {
			tags = append(tags, ServiceTag{sv.Name, c.AllTag})
		}
	}
	if len(tags) == 0 {
		return nil, Errorf(EINVALID, "the stack of %s has no services to deploy", c.Cluster)
	}
	out := sf
	for _, st := range tags {
		next, err := out.UpdateService(st.Service, ServiceUpdate{ImageTag: &st.Tag})
		if ErrorCode(err) == ENOTFOUND {
			names := make([]string, len(sf.Services))
			for i, sv := range sf.Services {
				names[i] = sv.Name
			}
			slices.Sort(names)
			return nil, Errorf(ENOTFOUND, "the stack of %s has no service %s (it has %s)", c.Cluster, st.Service, strings.Join(names, ", "))
		}
		if err != nil {
			return nil, err
		}
		out = next
	}
	return out, nil
}

// Message is the revision message of a chat deploy by the named chat user.
func (c ChatCommand) Message(chatUser string) string {
	what := "all:" + c.AllTag
	if c.AllTag == "" {
		parts := make([]string, len(c.Tags))
		for i, st := range c.Tags {
			parts[i] = st.Service + ":" + st.Tag
		}
		what = strings.Join(parts, ",")
	}
	return fmt.Sprintf("slack: @%s deploy %s", chatUser, what)
}

// ChatThread is the chat message that follows a revision's rollout: it is
// posted when the revision is made from chat and updated in place as the
// rollout goes. A rollback made because the revision failed keeps
// following the same message (FailedRevision and FailedReason say why).
type ChatThread struct {
	Cluster  string
	Revision int
	Channel  string
	TS       string // the message's timestamp, its id in its channel
	// ChatUser is who asked, as the chat names them.
	ChatUser string
	// FailedRevision, on a rollback's thread, is the revision that failed.
	FailedRevision int
	FailedReason   string
}

// ChatThreadStore keeps the chat messages that follow rollouts.
type ChatThreadStore interface {
	// SaveChatThread records (or replaces) the message of t's revision.
	SaveChatThread(ctx context.Context, t ChatThread) error
	// FindChatThread returns the message of a revision, or ENOTFOUND.
	FindChatThread(ctx context.Context, cluster string, revision int) (*ChatThread, error)
}

// RolloutProgress is how a rollout stands, as the reconciler tells its
// observers: the status of the revision, the plan, how many of its changed
// services are done, the failure's reason, and the revision that rolls a
// failed one back.
type RolloutProgress struct {
	Status   RevisionStatus
	Plan     *Plan
	Done     int // changed services applied so far
	Reason   string
	Rollback *StackRevision
}

// RolloutObserver hears of a rollout's progress as the reconciler records
// it. It must not fail the rollout: an error is its own to log.
type RolloutObserver interface {
	ObserveRollout(ctx context.Context, r *StackRevision, p RolloutProgress)
}

// Text is the chat message that follows a rollout: a first line saying how
// it stands, then one line per changed service (done, under way or
// waiting), then the failure's reason or the rollback. The thread's own
// revision may be a rollback of a failed one, which the first line says.
func (t ChatThread) Text(r *StackRevision, p RolloutProgress) string {
	var b strings.Builder
	who := ""
	if t.ChatUser != "" {
		who = " for @" + t.ChatUser
	}
	head := fmt.Sprintf("revision %d of %s%s", r.Number, r.Cluster, who)
	if t.FailedRevision != 0 {
		head = fmt.Sprintf("revision %d of %s failed (%s); rolling back with revision %d, which restores revision %d",
			t.FailedRevision, r.Cluster, clipText(t.FailedReason, 300), r.Number, r.RollbackOf)
	}
	switch p.Status {
	case RevisionPending:
		b.WriteString(":hourglass: Queued: " + head)
	case RevisionApplying:
		b.WriteString(":arrows_counterclockwise: Deploying " + head)
	case RevisionApplied:
		if t.FailedRevision != 0 {
			b.WriteString(":leftwards_arrow_with_hook: Rolled back: " + head + ", now applied")
		} else {
			b.WriteString(":white_check_mark: Applied " + head)
		}
	default:
		b.WriteString(":x: Failed: " + head)
	}
	b.WriteString(".")
	if p.Plan != nil {
		i := 0
		for _, s := range p.Plan.Services {
			if s.Action == PlanUnchanged {
				continue
			}
			mark := ":white_small_square:"
			switch {
			case i < p.Done || p.Status == RevisionApplied:
				mark = ":heavy_check_mark:"
			case i == p.Done && p.Status == RevisionApplying:
				mark = ":arrows_counterclockwise:"
			}
			i++
			b.WriteString(fmt.Sprintf("\n%s %s `%s`", mark, s.Action, s.Service))
		}
	}
	if p.Status == RevisionFailed {
		b.WriteString("\nReason: " + clipText(p.Reason, 1000))
		if p.Rollback != nil {
			b.WriteString(fmt.Sprintf("\nRolling back with revision %d (restores revision %d); revision %d is blocked.",
				p.Rollback.Number, p.Rollback.RollbackOf, r.Number))
		}
	}
	return b.String()
}

// RollbackThread is the thread a rollback of t's failed revision
// continues in: the same message, saying what failed.
func (t ChatThread) RollbackThread(rollback *StackRevision, reason string) ChatThread {
	return ChatThread{Cluster: t.Cluster, Revision: rollback.Number, Channel: t.Channel, TS: t.TS, ChatUser: t.ChatUser,
		FailedRevision: t.Revision, FailedReason: reason}
}

// The actions of the buttons a review notification carries in chat; the
// button's value is the request's id.
const (
	ChatActionApprove = "purser_approve"
	ChatActionReject  = "purser_reject"
)

// ReviewRequestID returns the id of the request a notification asks a
// reviewer to review (a submitted request awaiting review), so that chat
// can offer Approve and Reject; false for any other notification.
func ReviewRequestID(n Notification) (string, bool) {
	id, ok := strings.CutPrefix(n.Link, "/api/v1/provisionRequests/")
	if n.Event != EventSubmitted || !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// ChatReview is the review a chat button asks for: approve or reject the
// request, as the chat user mapped to a Purser user.
func ChatReview(action, chatUser string) (RequestAction, Review, error) {
	switch action {
	case ChatActionApprove:
		return ActApprove, Review{Comment: "approved in Slack by @" + chatUser}, nil
	case ChatActionReject:
		return ActReject, Review{Comment: "rejected in Slack by @" + chatUser}, nil
	}
	return "", Review{}, Errorf(EINVALID, "unknown chat action %q", action)
}
