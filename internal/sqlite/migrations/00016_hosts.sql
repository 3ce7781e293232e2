-- +goose Up
-- The inventory of in-house hosts their agents registered, and the join
-- tokens they registered with. Secrets are stored as SHA-256 hashes only.
CREATE TABLE hosts (
    name            TEXT PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    address         TEXT NOT NULL DEFAULT '',
    cores           BIGINT NOT NULL,
    memory          BIGINT NOT NULL, -- bytes
    labels          TEXT NOT NULL DEFAULT '{}', -- JSON object
    state           TEXT NOT NULL,
    pool            TEXT NOT NULL DEFAULT '', -- '' when free
    spare           BOOLEAN NOT NULL DEFAULT FALSE,
    reason          TEXT NOT NULL DEFAULT '',
    last_heartbeat  BIGINT,
    credential_hash TEXT UNIQUE, -- the agent's credential
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX hosts_pool ON hosts (pool, name);
CREATE INDEX hosts_state ON hosts (state, name);
CREATE INDEX hosts_created_at ON hosts (created_at, name);

CREATE TABLE join_tokens (
    id           TEXT PRIMARY KEY,
    description  TEXT NOT NULL DEFAULT '',
    hash         TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    reusable     BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    uses         BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX join_tokens_created_at ON join_tokens (created_at, id);

-- +goose Down
DROP TABLE join_tokens;
DROP TABLE hosts;
