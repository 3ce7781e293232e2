-- +goose Up
-- Users' links to an external identity provider (OpenID Connect): the
-- provider's issuer and its stable subject name one user.
CREATE TABLE user_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user_id ON user_identities (user_id);

-- Failed sign-ins per key (a client address, a username) in the current
-- window, shared by every replica.
CREATE TABLE signin_failures (
    limit_key    TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL
);
CREATE INDEX signin_failures_window_start ON signin_failures (window_start);

-- +goose Down
DROP TABLE signin_failures;
DROP TABLE user_identities;
