-- +goose Up
-- Indexes for every list's default sort (newest first, then id) and for
-- the filters the UI and CLI use, so that a page is read in index order
-- instead of sorting every matching row. Each ends with id, the
-- tiebreak of a sort on a column that is not unique (an index on a table
-- with a TEXT primary key carries the rowid, not id). The single-column
-- indexes on created_at are prefixes of the new ones.
DROP INDEX users_created_at;
CREATE INDEX users_created ON users (created_at, id);
CREATE INDEX users_active_created ON users (is_active, created_at, id);
CREATE INDEX users_active_username ON users (is_active, username);

DROP INDEX requests_created_at;
CREATE INDEX requests_created ON requests (created_at, id);
CREATE INDEX requests_status_created ON requests (status, created_at, id);
CREATE INDEX requests_user_created ON requests (requested_by, created_at, id);
CREATE INDEX requests_user_status_created ON requests (requested_by, status, created_at, id);
DROP INDEX requests_user_status;

CREATE INDEX extensions_created ON extensions (created_at, id);
CREATE INDEX extensions_user_created ON extensions (requested_by, created_at, id);
CREATE INDEX extensions_status_created ON extensions (status, created_at, id);

CREATE INDEX quotas_created ON quotas (created_at, id);

DROP INDEX notifications_user;
CREATE INDEX notifications_user ON notifications (user_id, channel, created_at, id);

DROP INDEX events_created_at;
CREATE INDEX events_created ON events (created_at, id);
CREATE INDEX events_actor_created ON events (actor, created_at, id);
CREATE INDEX events_action_created ON events (action, created_at, id);

-- +goose Down
DROP INDEX events_action_created;
DROP INDEX events_actor_created;
DROP INDEX events_created;
CREATE INDEX events_created_at ON events (created_at);

DROP INDEX notifications_user;
CREATE INDEX notifications_user ON notifications (user_id, channel, created_at);

DROP INDEX quotas_created;

DROP INDEX extensions_status_created;
DROP INDEX extensions_user_created;
DROP INDEX extensions_created;

CREATE INDEX requests_user_status ON requests (requested_by, status);
DROP INDEX requests_user_status_created;
DROP INDEX requests_user_created;
DROP INDEX requests_status_created;
DROP INDEX requests_created;
CREATE INDEX requests_created_at ON requests (created_at);

DROP INDEX users_active_username;
DROP INDEX users_active_created;
DROP INDEX users_created;
CREATE INDEX users_created_at ON users (created_at);
