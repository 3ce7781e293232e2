-- +goose Up
-- Approvals given so far to requests whose template needs several.
CREATE TABLE approvals (
    request_id TEXT NOT NULL REFERENCES requests (id),
    reviewer   TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, reviewer)
);

-- +goose Down
DROP TABLE approvals;
