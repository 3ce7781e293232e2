package purser

import (
	"context"
	"fmt"
	"strings"
)

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
	b.WriteString(p.serviceLines())
	if p.Status == RevisionFailed {
		b.WriteString("\nReason: " + clipText(p.Reason, 1000))
		if p.Rollback != nil {
			b.WriteString(fmt.Sprintf("\nRolling back with revision %d (restores revision %d); revision %d is blocked.",
				p.Rollback.Number, p.Rollback.RollbackOf, r.Number))
		}
	}
	return b.String()
}

// serviceLines are the changed services of the plan, one a line: done,
// under way or waiting.
func (p RolloutProgress) serviceLines() string {
	if p.Plan == nil {
		return ""
	}
	var b strings.Builder
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
