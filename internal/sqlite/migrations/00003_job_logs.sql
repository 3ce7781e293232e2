-- +goose Up
CREATE TABLE job_logs (
    request_id TEXT NOT NULL REFERENCES requests (id),
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    stream     TEXT NOT NULL,
    line       TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
);

-- +goose Down
DROP TABLE job_logs;
