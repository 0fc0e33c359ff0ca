-- GitHub's webhook deliveries (SPEC-3 A): stored as received, then applied by a
-- `webhook_delivery` task. A delivery id is stored once, so a delivery GitHub sends again
-- (a redelivery from its settings page) is never applied twice.
CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- `X-GitHub-Delivery`.
    delivery_id     TEXT NOT NULL CONSTRAINT webhook_deliveries_delivery_id_key UNIQUE,
    -- `X-GitHub-Event`, and the payload's `action` when it has one.
    event           TEXT NOT NULL,
    action          TEXT,
    -- The payload's `repository.full_name` (null for organization events).
    repository_name TEXT,
    payload         JSONB NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- When a worker applied it (null until then, and for an ignored one).
    applied_at      TIMESTAMPTZ,
    status          TEXT NOT NULL DEFAULT 'accepted'
        CONSTRAINT webhook_deliveries_status_check
        CHECK (status IN ('accepted', 'applied', 'ignored', 'failed')),
    error           TEXT
);
-- The list's ordering, and its filters with it.
CREATE INDEX webhook_deliveries_received_at_idx ON webhook_deliveries (received_at, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event, received_at, id);
CREATE INDEX webhook_deliveries_status_idx ON webhook_deliveries (status, received_at, id);
CREATE INDEX webhook_deliveries_repository_name_idx
    ON webhook_deliveries (repository_name, received_at, id);

-- When the leaderboard of a repository was last rebuilt for webhook deliveries: the next
-- such rebuild waits until 10 s after it (SPEC-3 A: at most once per 10 s).
CREATE TABLE leaderboard_rebuilds (
    repository_id UUID PRIMARY KEY REFERENCES repositories (id),
    started_at    TIMESTAMPTZ NOT NULL
);
