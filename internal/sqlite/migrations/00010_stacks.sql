-- +goose Up
-- Each cluster's stack: its immutable numbered revisions (only status and
-- blocked_by change), what the sim target runs, and the secrets a
-- stackfile names ${NAME}. Removing a cluster removes its stack.
CREATE TABLE stack_revisions (
    cluster     TEXT NOT NULL REFERENCES clusters (name) ON DELETE CASCADE,
    number      BIGINT NOT NULL,
    author      TEXT NOT NULL,
    message     TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL, -- the stackfile as given
    stackfile   TEXT NOT NULL, -- JSON, as parsed
    normalized  TEXT NOT NULL, -- JSON, normalised
    status      TEXT NOT NULL,
    rollback_of BIGINT NOT NULL DEFAULT 0,
    blocked_by  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (cluster, number)
);
-- Listing a cluster's revisions newest first reads the primary key
-- backwards; this one serves a filter on status.
CREATE INDEX stack_revisions_status ON stack_revisions (cluster, status, number);

CREATE TABLE stack_services_actual (
    cluster       TEXT NOT NULL REFERENCES clusters (name) ON DELETE CASCADE,
    service       TEXT NOT NULL,
    spec          TEXT NOT NULL, -- JSON: the normalised service as applied
    running_count BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (cluster, service)
);

CREATE TABLE cluster_secrets (
    cluster    TEXT NOT NULL REFERENCES clusters (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL, -- sealed
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (cluster, name)
);

-- +goose Down
DROP TABLE cluster_secrets;
DROP TABLE stack_services_actual;
DROP TABLE stack_revisions;
