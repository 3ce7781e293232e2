-- +goose Up
CREATE TABLE templates (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    driver        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    spec          TEXT NOT NULL, -- JSON: params, footprint, ttl, approval, config, url, type
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE requests (
    id                  TEXT PRIMARY KEY,
    description         TEXT NOT NULL DEFAULT '',
    expires_by          BIGINT NOT NULL,
    requested_by        TEXT NOT NULL REFERENCES users (id),
    reviewed_by         TEXT REFERENCES users (id),
    review_comment      TEXT NOT NULL DEFAULT '',
    resource_type       TEXT NOT NULL,
    resource_template   TEXT NOT NULL REFERENCES templates (id),
    resource_parameters TEXT NOT NULL,
    request_type        TEXT NOT NULL,
    status              TEXT NOT NULL,
    cores               DOUBLE PRECISION NOT NULL DEFAULT 0,
    memory              DOUBLE PRECISION NOT NULL DEFAULT 0,
    cost_per_hour       DOUBLE PRECISION NOT NULL DEFAULT 0,
    estimated_cost      DOUBLE PRECISION NOT NULL DEFAULT 0,
    extended            BOOLEAN NOT NULL DEFAULT FALSE,
    outputs             TEXT, -- sealed JSON
    last_error          TEXT NOT NULL DEFAULT '',
    reminders_sent      INTEGER NOT NULL DEFAULT 0,
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX requests_user_status ON requests (requested_by, status);
CREATE INDEX requests_status_expiry ON requests (status, expires_by);
CREATE INDEX requests_created_at ON requests (created_at);

CREATE TABLE extensions (
    id                TEXT PRIMARY KEY,
    provision_request TEXT NOT NULL REFERENCES requests (id),
    reason            TEXT NOT NULL,
    extend_by         INTEGER NOT NULL,
    requested_by      TEXT NOT NULL REFERENCES users (id),
    reviewed_by       TEXT REFERENCES users (id),
    review_comment    TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
-- At most one pending and one granted extension per provision request.
CREATE UNIQUE INDEX extensions_one_pending ON extensions (provision_request) WHERE status = 'REQUESTED';
CREATE UNIQUE INDEX extensions_one_granted ON extensions (provision_request) WHERE status = 'APPROVED';

CREATE TABLE quotas (
    id               TEXT PRIMARY KEY,
    user_id          TEXT REFERENCES users (id),
    role             TEXT REFERENCES roles (role),
    quota_type       TEXT NOT NULL,
    valid_from       BIGINT,
    valid_until      BIGINT,
    max_environments DOUBLE PRECISION,
    max_cores        DOUBLE PRECISION,
    max_memory       DOUBLE PRECISION,
    max_monthly_cost DOUBLE PRECISION,
    description      TEXT NOT NULL DEFAULT '',
    lapse_notified   BOOLEAN NOT NULL DEFAULT FALSE,
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX quotas_one_permanent_user ON quotas (user_id) WHERE quota_type = 'PERMANENT' AND user_id IS NOT NULL;
CREATE UNIQUE INDEX quotas_one_permanent_role ON quotas (role) WHERE quota_type = 'PERMANENT' AND role IS NOT NULL;

CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    event       TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    link        TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    read_at     BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, channel, created_at);

CREATE TABLE preferences (
    user_id        TEXT PRIMARY KEY REFERENCES users (id),
    channels       TEXT NOT NULL,
    slack_webhook  TEXT NOT NULL DEFAULT '', -- sealed
    webhook_url    TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT '' -- sealed
);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    actor       TEXT NOT NULL,
    acting_for  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX events_target ON events (target_type, target_id, created_at);
CREATE INDEX events_created_at ON events (created_at);

-- +goose Down
DROP TABLE events;
DROP TABLE preferences;
DROP TABLE notifications;
DROP TABLE quotas;
DROP TABLE extensions;
DROP TABLE requests;
DROP TABLE templates;
