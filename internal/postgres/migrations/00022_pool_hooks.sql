-- +goose Up
-- A pool's control plane (a registered Purser cluster of kind kubernetes)
-- and the hooks its hosts' agents run as they join, leave and reboot.
ALTER TABLE pools ADD COLUMN cluster TEXT NOT NULL DEFAULT '';
ALTER TABLE pools ADD COLUMN hooks TEXT NOT NULL DEFAULT '{}'; -- JSON {join, leave, reboot}: argv lists
-- A member is joined once its join hook succeeded; members from before
-- hooks existed are.
ALTER TABLE hosts ADD COLUMN joined BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE hosts SET joined = TRUE WHERE pool <> '' AND NOT spare;

-- One run of a pool's hook on a host, handed to the host's agent.
CREATE TABLE hook_runs (
    id          TEXT PRIMARY KEY,
    host        TEXT NOT NULL,
    pool        TEXT NOT NULL,
    kind        TEXT NOT NULL, -- join, leave, reboot
    argv        TEXT NOT NULL, -- JSON array: as queued, rendered when claimed
    params      TEXT NOT NULL DEFAULT '{}', -- JSON object
    state       TEXT NOT NULL, -- PENDING, RUNNING, SUCCEEDED, FAILED
    exit_code   BIGINT NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
);
CREATE INDEX hook_runs_host ON hook_runs (host, created_at, id);
CREATE INDEX hook_runs_state ON hook_runs (state, created_at);
CREATE INDEX hook_runs_created_at ON hook_runs (created_at, id);

-- A run's output, line by line, as its agent streamed it (the job log's shape).
CREATE TABLE hook_run_logs (
    run_id TEXT NOT NULL REFERENCES hook_runs (id) ON DELETE CASCADE,
    seq    BIGINT NOT NULL,
    at     BIGINT NOT NULL,
    stream TEXT NOT NULL,
    line   TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE hook_run_logs;
DROP TABLE hook_runs;
ALTER TABLE hosts DROP COLUMN joined;
ALTER TABLE pools DROP COLUMN hooks;
ALTER TABLE pools DROP COLUMN cluster;
