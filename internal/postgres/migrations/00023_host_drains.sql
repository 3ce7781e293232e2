-- +goose Up
-- A draining host's deadline (its pods are deleted by force after it)
-- and why its drain waits ("disruption budget web-pdb refused eviction of
-- default/web-1"), both cleared when it leaves its pool.
ALTER TABLE hosts ADD COLUMN drain_deadline BIGINT;
ALTER TABLE hosts ADD COLUMN drain_wait TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE hosts DROP COLUMN drain_wait;
ALTER TABLE hosts DROP COLUMN drain_deadline;
