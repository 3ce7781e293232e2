-- +goose Up
-- Why a revision failed, in words a user can act on; and the lease that
-- makes one reconciler at a time work on a cluster's stack (a crashed
-- holder's lease lapses and the next reconcile takes over).
ALTER TABLE stack_revisions ADD COLUMN reason TEXT NOT NULL DEFAULT '';

CREATE TABLE stack_locks (
    cluster    TEXT PRIMARY KEY REFERENCES clusters (name) ON DELETE CASCADE,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE stack_locks;
ALTER TABLE stack_revisions DROP COLUMN reason;
