-- +goose Up
-- What the last drift scan of each cluster's stack found.
CREATE TABLE stack_drift (
    cluster     TEXT PRIMARY KEY REFERENCES clusters (name) ON DELETE CASCADE,
    revision    BIGINT NOT NULL,
    drifted     BOOLEAN NOT NULL,
    services    TEXT NOT NULL DEFAULT '[]', -- JSON: the plan that would correct it
    fingerprint TEXT NOT NULL DEFAULT '',
    since       BIGINT,
    checked_at  BIGINT NOT NULL,
    error       TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE stack_drift;
