-- +goose Up
-- Immutable numbered revisions of each template. A request pins the
-- revision it was made with: later edits never change approved work.
CREATE TABLE template_revisions (
    template_id   TEXT NOT NULL REFERENCES templates (id),
    revision      BIGINT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    driver        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    spec          TEXT NOT NULL, -- JSON, as templates.spec
    is_active     BOOLEAN NOT NULL,
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (template_id, revision)
);
ALTER TABLE templates ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE requests ADD COLUMN template_revision BIGINT NOT NULL DEFAULT 1;
-- Existing templates become revision 1 as they stand; existing requests
-- are pinned to it by the column's default.
INSERT INTO template_revisions (template_id, revision, name, description, driver, resource_type, spec, is_active, created_by, created_at)
    SELECT id, 1, name, description, driver, resource_type, spec, is_active, '', updated_at FROM templates;

-- +goose Down
ALTER TABLE requests DROP COLUMN template_revision;
ALTER TABLE templates DROP COLUMN revision;
DROP TABLE template_revisions;
