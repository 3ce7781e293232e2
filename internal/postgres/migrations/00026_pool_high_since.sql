-- +goose Up
-- Since when a pool's utilisation stays above the high-water mark: a
-- scale-up for utilisation waits until it held pools.scale_up_after.
ALTER TABLE pools ADD COLUMN high_since BIGINT;

-- +goose Down
ALTER TABLE pools DROP COLUMN high_since;
