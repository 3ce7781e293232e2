-- +goose Up
-- The values of a request's secret parameters, sealed JSON; '' when it has
-- none. resource_parameters holds a mask in their place. NULL marks rows
-- made before this column: the server seals their secrets at start.
ALTER TABLE requests ADD COLUMN secret_parameters TEXT;

-- +goose Down
ALTER TABLE requests DROP COLUMN secret_parameters;
