package sqldb

import (
	"context"
	"fmt"

	"github.com/purserhq/purser"
)

// ChatThreadService keeps the chat messages that follow rollouts, for the
// Slack endpoint (which saves them) and the reconciler's observer (which
// reads them). Both act as Purser itself.
type ChatThreadService struct{ db *DB }

var _ purser.ChatThreadStore = (*ChatThreadService)(nil)

// NewChatThreadService returns the chat thread store of db.
func NewChatThreadService(db *DB) *ChatThreadService { return &ChatThreadService{db} }

// SaveChatThread records (or replaces) the message of t's revision: stack
// rollouts are Purser's own (stacks:apply).
func (s *ChatThreadService) SaveChatThread(ctx context.Context, t purser.ChatThread) error {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO chat_threads (cluster, revision, channel, ts, chat_user, failed_revision, failed_reason)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (cluster, revision) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, chat_user = excluded.chat_user,
			failed_revision = excluded.failed_revision, failed_reason = excluded.failed_reason`,
			t.Cluster, t.Revision, t.Channel, t.TS, t.ChatUser, t.FailedRevision, t.FailedReason)
		if err != nil {
			return s.db.translate(err, fmt.Sprintf("chat thread of revision %d of cluster %s", t.Revision, t.Cluster))
		}
		return nil
	})
}

// FindChatThread returns the message of revision n of the cluster, or
// ENOTFOUND (stacks:apply).
func (s *ChatThreadService) FindChatThread(ctx context.Context, cluster string, n int) (*purser.ChatThread, error) {
	if err := purser.Authorize(ctx, purser.ActionStackApply, ""); err != nil {
		return nil, err
	}
	t := purser.ChatThread{Cluster: cluster, Revision: n}
	err := s.db.Read.QueryRow(ctx, `SELECT channel, ts, chat_user, failed_revision, failed_reason FROM chat_threads
		WHERE cluster = ? AND revision = ?`, cluster, n).Scan(&t.Channel, &t.TS, &t.ChatUser, &t.FailedRevision, &t.FailedReason)
	if err != nil {
		return nil, s.db.translate(err, fmt.Sprintf("chat thread of revision %d of cluster %s", n, cluster))
	}
	return &t, nil
}
