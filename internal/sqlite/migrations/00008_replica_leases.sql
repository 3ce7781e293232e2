-- +goose Up
-- One row per running server replica, renewed every workers.heartbeat_every.
-- replica_id is the River client ID the replica's jobs record in
-- river_job.attempted_by. A running job whose replica has no lease alive
-- (expires_at passed, or no row) is rescued at once instead of waiting
-- for River's rescue_after. Times are Unix microseconds.
CREATE TABLE replica_leases (
    replica_id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE replica_leases;
