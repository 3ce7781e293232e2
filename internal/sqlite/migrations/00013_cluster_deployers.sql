-- +goose Up
-- A cluster's deployers (a JSON list of user:NAME and role:NAME), who
-- may change its services' tags and counts; and where an ecs cluster is,
-- shown by the API (its credentials stay sealed in credentials).
ALTER TABLE clusters ADD COLUMN deployers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clusters ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN ecs_cluster TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clusters DROP COLUMN ecs_cluster;
ALTER TABLE clusters DROP COLUMN region;
ALTER TABLE clusters DROP COLUMN deployers;
