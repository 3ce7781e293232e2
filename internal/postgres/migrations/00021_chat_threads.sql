-- +goose Up
-- The chat message (Slack: channel and ts) that follows a revision's
-- rollout, posted when the revision was made from chat and updated in
-- place; a rollback of a failed one continues in the same message.
CREATE TABLE chat_threads (
    cluster         TEXT NOT NULL REFERENCES clusters (name) ON DELETE CASCADE,
    revision        BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    ts              TEXT NOT NULL,
    chat_user       TEXT NOT NULL DEFAULT '',
    failed_revision BIGINT NOT NULL DEFAULT 0,
    failed_reason   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (cluster, revision)
);

-- +goose Down
DROP TABLE chat_threads;
