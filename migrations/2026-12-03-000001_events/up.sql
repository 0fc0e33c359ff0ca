-- Event metrics: GitHub's public event feeds (`/events` and each tracked repository's
-- `/repos/o/r/events`) stored once per event, the gaps a poll detected, and per feed the
-- state that keeps the poller honest (ETag, the next poll `X-Poll-Interval` allows, the
-- newest event the feed delivered).

CREATE TABLE events (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- GitHub's event id (a numeric string in the payload).
    github_id       BIGINT NOT NULL UNIQUE,
    type            TEXT NOT NULL,
    -- payload.action, null when absent.
    action          TEXT,
    actor_login     TEXT NOT NULL,
    -- owner/name.
    repository_name TEXT NOT NULL,
    org_login       TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    fetched_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    payload         JSONB NOT NULL
);
-- The metrics, each answered from an index alone (benches/events.rs measures them):
-- a type over time (event-avg-time, the charts' latest events of a type),
CREATE INDEX events_type_created_at_idx ON events (type, created_at);
-- a type and action over time (event-avg-time with action),
CREATE INDEX events_type_action_created_at_idx ON events (type, action, created_at);
-- a repository's types over time (event-avg-time and events-total-count with repository_name),
CREATE INDEX events_repository_type_created_at_idx ON events (repository_name, type, created_at);
-- everything over time, by type (events-total-count; the list's default order),
CREATE INDEX events_created_at_type_idx ON events (created_at, type);
-- the repositories of a type (multiple-events-repos).
CREATE INDEX events_type_repository_idx ON events (type, repository_name);

-- A poll whose pages never reached an event the feed had delivered before: events between
-- `newest_stored_before` and `oldest_fetched` may be missing.
CREATE TABLE event_gaps (
    id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    feed                 TEXT NOT NULL,
    detected_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    newest_stored_before TIMESTAMPTZ NOT NULL,
    oldest_fetched       TIMESTAMPTZ NOT NULL,
    -- Events the poll fetched (the feed's depth, 300 on GitHub, when it was exhausted).
    events_fetched       INTEGER NOT NULL
);
CREATE INDEX event_gaps_detected_at_idx ON event_gaps (detected_at, id);

-- One row per feed polled: `events` or `repos/owner/name/events`.
CREATE TABLE event_feeds (
    feed              TEXT PRIMARY KEY,
    -- ETag of the first page, sent as If-None-Match: an unchanged feed answers 304 (free).
    etag              TEXT,
    -- No request before this time (the last response's X-Poll-Interval).
    next_poll_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_polled_at    TIMESTAMPTZ,
    -- The newest event the feed delivered: a poll stops when it reaches it.
    newest_github_id  BIGINT,
    newest_created_at TIMESTAMPTZ,
    last_error        TEXT
);
