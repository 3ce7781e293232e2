-- +goose Up
-- Where each applied revision's export stands (export_state: '' until
-- its export job runs, then pending, exported, failed or superseded).
-- Times are microseconds since the epoch, as elsewhere.
ALTER TABLE stack_revisions ADD COLUMN export_state TEXT NOT NULL DEFAULT '';
ALTER TABLE stack_revisions ADD COLUMN export_url TEXT NOT NULL DEFAULT '';
ALTER TABLE stack_revisions ADD COLUMN export_error TEXT NOT NULL DEFAULT '';
ALTER TABLE stack_revisions ADD COLUMN export_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stack_revisions ADD COLUMN export_superseded_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stack_revisions ADD COLUMN exported_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE stack_revisions DROP COLUMN exported_at;
ALTER TABLE stack_revisions DROP COLUMN export_superseded_by;
ALTER TABLE stack_revisions DROP COLUMN export_attempts;
ALTER TABLE stack_revisions DROP COLUMN export_error;
ALTER TABLE stack_revisions DROP COLUMN export_url;
ALTER TABLE stack_revisions DROP COLUMN export_state;
