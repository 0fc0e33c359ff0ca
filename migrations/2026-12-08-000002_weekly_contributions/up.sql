-- The leaderboards' rollup: a repository's scoring facts summed per week (GitHub's week,
-- from Sunday 00:00 UTC), contributor and bot flag, one column per kind. The rebuild
-- writes it in the transaction that writes the facts, so it always says what they say;
-- boards sum its whole weeks instead of every fact (see src/db/queries/leaderboards.rs).
-- And each contributor's totals over all weeks, so that a window holding most weeks is
-- read as the totals minus the few weeks outside it.

-- The week a fact falls in: the Sunday 00:00 UTC at or before it, as a date.
CREATE FUNCTION contribution_week(at TIMESTAMPTZ) RETURNS DATE
    LANGUAGE sql IMMUTABLE
    RETURN (at AT TIME ZONE 'UTC')::date - extract(dow FROM at AT TIME ZONE 'UTC')::int;

-- No foreign key to repositories: the rows are derived from `contributions` (which has
-- one) and replaced with them; checking each of a rebuild's rows again would cost it a
-- third of its time.
CREATE TABLE weekly_contributions (
    repository_id UUID NOT NULL,
    week          DATE NOT NULL,
    login         TEXT NOT NULL,
    -- As on the facts: a contributor's facts may differ (a Bot type seen on one only).
    bot           BOOLEAN NOT NULL,
    commit        BIGINT NOT NULL,
    pr_opened     BIGINT NOT NULL,
    pr_merged     BIGINT NOT NULL,
    pr_reviewed   BIGINT NOT NULL,
    issue_opened  BIGINT NOT NULL,
    issue_closed  BIGINT NOT NULL,
    comment       BIGINT NOT NULL,
    release       BIGINT NOT NULL,
    lines_added   BIGINT NOT NULL,
    lines_deleted BIGINT NOT NULL,
    PRIMARY KEY (repository_id, week, login, bot)
);
CREATE INDEX weekly_contributions_week_idx ON weekly_contributions (week);

INSERT INTO weekly_contributions
SELECT repository_id, contribution_week(occurred_at), login, bot,
       coalesce(sum(amount) FILTER (WHERE kind = 'commit'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'pr_opened'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'pr_merged'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'pr_reviewed'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'issue_opened'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'issue_closed'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'comment'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'release'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'lines_added'), 0),
       coalesce(sum(amount) FILTER (WHERE kind = 'lines_deleted'), 0)
FROM contributions
GROUP BY repository_id, contribution_week(occurred_at), login, bot;

-- All of a repository's weeks summed: a window covering most of them reads these minus
-- the weeks outside it.
CREATE TABLE contribution_totals (
    repository_id UUID NOT NULL,
    login         TEXT NOT NULL,
    bot           BOOLEAN NOT NULL,
    commit        BIGINT NOT NULL,
    pr_opened     BIGINT NOT NULL,
    pr_merged     BIGINT NOT NULL,
    pr_reviewed   BIGINT NOT NULL,
    issue_opened  BIGINT NOT NULL,
    issue_closed  BIGINT NOT NULL,
    comment       BIGINT NOT NULL,
    release       BIGINT NOT NULL,
    lines_added   BIGINT NOT NULL,
    lines_deleted BIGINT NOT NULL,
    PRIMARY KEY (repository_id, login, bot)
);
INSERT INTO contribution_totals
SELECT repository_id, login, bot, sum(commit), sum(pr_opened), sum(pr_merged),
       sum(pr_reviewed), sum(issue_opened), sum(issue_closed), sum(comment), sum(release),
       sum(lines_added), sum(lines_deleted)
FROM weekly_contributions
GROUP BY repository_id, login, bot;
