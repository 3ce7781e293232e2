-- +goose Up
-- One-time links an admin makes for a user's first sign-in.
CREATE TABLE signin_links (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX signin_links_user_id ON signin_links (user_id);

-- +goose Down
DROP TABLE signin_links;
