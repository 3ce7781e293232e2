-- +goose Up
CREATE TABLE clusters (
    name        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    server      TEXT NOT NULL DEFAULT '',
    credentials TEXT NOT NULL, -- sealed JSON: kubeconfig, or ca and token
    reachable   BOOLEAN NOT NULL DEFAULT FALSE,
    k8s_version TEXT NOT NULL DEFAULT '',
    last_error  TEXT NOT NULL DEFAULT '',
    checked_at  BIGINT,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE clusters;
