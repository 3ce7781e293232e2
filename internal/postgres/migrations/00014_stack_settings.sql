-- +goose Up
-- A cluster's stack settings, JSON: the Kubernetes namespace its stack is
-- applied into, its drift mode and its healthy deadline ({} = defaults).
ALTER TABLE clusters ADD COLUMN stack_settings TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE clusters DROP COLUMN stack_settings;
