-- The dashboard's history: one row a minute, written by the leading scheduler and kept 30
-- days (the same step deletes older rows). `taken_at` is the sample's minute, so a second
-- write in one minute (a new leader, a restart) is refused by the key: at most one sample
-- a minute, whoever writes it. `synced` counts developers synced at least once, `frontier`
-- those discovery would pick (never synced, or last synced over 24 hours ago); `quota` is
-- the rate-limit ledger at that minute, [{"identity", "resource", "remaining", "limit"}],
-- `remaining` being the limit once a window's reset has passed. The task chart reads the
-- tasks themselves and needs nothing here.
CREATE TABLE samples (
    taken_at TIMESTAMPTZ PRIMARY KEY CHECK (taken_at = date_trunc('minute', taken_at, 'UTC')),
    developers BIGINT NOT NULL,
    synced BIGINT NOT NULL,
    frontier BIGINT NOT NULL,
    quota JSONB NOT NULL CHECK (jsonb_typeof(quota) = 'array')
);
