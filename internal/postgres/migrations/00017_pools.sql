-- +goose Up
-- Pools: sets of hosts forming one cluster, sized in cores and memory.
-- A host's pool is hosts.pool; the pool's status says "why not".
CREATE TABLE pools (
    name          TEXT PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    cores         BIGINT NOT NULL,
    memory        BIGINT NOT NULL, -- bytes
    spares        BIGINT NOT NULL DEFAULT 0,
    selector      TEXT NOT NULL DEFAULT '{}', -- JSON object
    min_hosts     BIGINT NOT NULL DEFAULT 0,
    max_hosts     BIGINT NOT NULL DEFAULT 0,
    state         TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT '',
    scale_status  TEXT NOT NULL DEFAULT '',
    halted        BOOLEAN NOT NULL DEFAULT FALSE,
    last_scale_up BIGINT,
    low_since     BIGINT,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX pools_created_at ON pools (created_at, name);

-- +goose Down
DROP TABLE pools;
