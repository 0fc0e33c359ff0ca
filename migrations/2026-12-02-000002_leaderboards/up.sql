-- Leaderboards: every scoring fact of a tracked repository (a pull request opened, a
-- review, a commit week...), dated, replaced whole in one transaction after the
-- repository's activity was stored; weights in a table so boards follow a change at once.
-- And a notification on every task status change, for the live task stream.

-- A bot: a login ending in `[bot]`, or a GitHub account of type Bot.
CREATE FUNCTION is_bot(login TEXT, account_type TEXT) RETURNS BOOLEAN
    LANGUAGE sql IMMUTABLE
    RETURN login LIKE '%[bot]' OR coalesce(account_type, '') = 'Bot';

CREATE TABLE contributions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id UUID NOT NULL REFERENCES repositories (id),
    login         TEXT NOT NULL,
    -- A login ending in `[bot]`, or a GitHub account of type Bot.
    bot           BOOLEAN NOT NULL,
    kind          TEXT NOT NULL,
    -- What dates it: created_at, merged_at, submitted_at, published_at, a week's start.
    occurred_at   TIMESTAMPTZ NOT NULL,
    -- 1 per item; commits or lines for a week of `/stats/contributors`.
    amount        BIGINT NOT NULL
);
CREATE INDEX contributions_repository_idx ON contributions (repository_id, occurred_at);
CREATE INDEX contributions_occurred_at_idx ON contributions (occurred_at);

CREATE TABLE leaderboard_weights (
    kind       TEXT PRIMARY KEY,
    points     DOUBLE PRECISION NOT NULL CONSTRAINT leaderboard_weights_not_negative CHECK (points >= 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO leaderboard_weights (kind, points) VALUES
    ('commit', 10), ('pr_opened', 15), ('pr_merged', 25), ('pr_reviewed', 20),
    ('issue_opened', 8), ('issue_closed', 5), ('comment', 3), ('release', 30),
    ('lines_added', 0.01), ('lines_deleted', 0.005), ('line_bonus_cap', 1000);

CREATE FUNCTION notify_task_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gitomatic_task_status', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_created_notify
    AFTER INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION notify_task_status();
CREATE TRIGGER tasks_status_notify
    AFTER UPDATE OF status ON tasks
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_task_status();
