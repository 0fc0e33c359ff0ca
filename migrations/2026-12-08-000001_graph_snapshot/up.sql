-- The graph page's statistics, computed by the `graph_snapshot` job (GRAPH_CRON) and read
-- by `GET /github/graph/`, which then never passes over `developers` (seconds at a million
-- developers). One row: the latest snapshot. `computed_at` is when the counting read the
-- graph (its transaction's start); a slower, older computation never replaces a newer one.
-- The histograms are stored with their bucket labels ([{"bucket", "developers"}]) and the
-- most followed as [{"id", "login", "followers"}], so a stored row says what it counted
-- whatever the code's buckets become.
CREATE TABLE graph_snapshot (
    id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    computed_at TIMESTAMPTZ NOT NULL,
    developers BIGINT NOT NULL,
    synced BIGINT NOT NULL,
    follow_edges BIGINT NOT NULL,
    stars BIGINT NOT NULL,
    repositories BIGINT NOT NULL,
    followers_histogram JSONB NOT NULL,
    following_histogram JSONB NOT NULL,
    most_followed JSONB NOT NULL,
    duration_ms BIGINT NOT NULL
);
