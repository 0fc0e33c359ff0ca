//! Queries of the leaderboards: the scoring facts (`contributions`) of a tracked repository
//! and their rollups (`weekly_contributions`, `contribution_totals`), rebuilt whole in one
//! transaction from its stored activity, the weights, and boards aggregated on read.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::schema::leaderboard_weights;

/// What scores, in the order boards show it.
pub const KINDS: [&str; 10] = [
    "commit",
    "pr_opened",
    "pr_merged",
    "pr_reviewed",
    "issue_opened",
    "issue_closed",
    "comment",
    "release",
    "lines_added",
    "lines_deleted",
];

/// The weight that caps a contributor's line bonus per repository.
pub const LINE_BONUS_CAP: &str = "line_bonus_cap";

/// Replaces a repository's scoring facts with what its stored activity says now, and its
/// weekly rollup and totals with the facts' sums, in one transaction: a board read meanwhile
/// shows the old facts and rollups or the new ones, never a mix, and the rollups always sum
/// the facts.
///
/// | kind | to | dated by |
/// |---|---|---|
/// | commit, lines_added, lines_deleted | the linked author of `/stats/contributors` | the week |
/// | pr_opened, issue_opened | the author | created_at |
/// | pr_merged | the author | merged_at |
/// | issue_closed | who closed it | closed_at |
/// | pr_reviewed | the reviewer of a `reviewed` timeline item | submitted_at |
/// | comment | the author of a `commented` timeline item | created_at |
/// | release | the author of a published release | published_at |
///
/// An issue transferred away counts where it went (its old row is left out).
pub async fn rebuild(conn: &mut AsyncPgConnection, repository_id: Uuid) -> Result<(), DbError> {
    conn.transaction::<_, DbError, _>(async |conn| {
        // One rebuild of a repository at a time: two overlapping ones (an activity sync
        // and a timeline sync finishing together) would each delete only the rows their
        // snapshot saw and both insert, leaving the board counted twice.
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtext('gitomatic.contributions'), hashtext($1::text))",
        )
        .bind::<SqlUuid, _>(repository_id)
        .execute(conn)
        .await?;
        diesel::sql_query("DELETE FROM contributions WHERE repository_id = $1")
            .bind::<SqlUuid, _>(repository_id)
            .execute(conn)
            .await?;
        diesel::sql_query(REBUILD)
            .bind::<SqlUuid, _>(repository_id)
            .execute(conn)
            .await?;
        diesel::sql_query("DELETE FROM weekly_contributions WHERE repository_id = $1")
            .bind::<SqlUuid, _>(repository_id)
            .execute(conn)
            .await?;
        diesel::sql_query(&*ROLL_UP)
            .bind::<SqlUuid, _>(repository_id)
            .execute(conn)
            .await?;
        diesel::sql_query("DELETE FROM contribution_totals WHERE repository_id = $1")
            .bind::<SqlUuid, _>(repository_id)
            .execute(conn)
            .await?;
        diesel::sql_query(&*TOTALS)
            .bind::<SqlUuid, _>(repository_id)
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// When the last rebuild webhook deliveries asked for (see
/// `jobs::activity::leaderboard`) of a repository started.
pub async fn last_delivery_rebuild(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbError> {
    use crate::db::schema::leaderboard_rebuilds::dsl as r;
    Ok(r::leaderboard_rebuilds
        .find(repository_id)
        .select(r::started_at)
        .first(conn)
        .await
        .optional()?)
}

/// Records that a rebuild webhook deliveries asked for started at `started_at`.
pub async fn record_delivery_rebuild(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
    started_at: DateTime<Utc>,
) -> Result<(), DbError> {
    use crate::db::schema::leaderboard_rebuilds::dsl as r;
    diesel::insert_into(r::leaderboard_rebuilds)
        .values((
            r::repository_id.eq(repository_id),
            r::started_at.eq(started_at),
        ))
        .on_conflict(r::repository_id)
        .do_update()
        .set(r::started_at.eq(started_at))
        .execute(conn)
        .await?;
    Ok(())
}

const REBUILD: &str = r"
INSERT INTO contributions (repository_id, login, bot, kind, occurred_at, amount)
SELECT $1, login, is_bot(login, kind_of_account), kind, occurred_at, amount FROM (
    SELECT w.login, w.author_type AS kind_of_account, f.kind, w.week AS occurred_at, f.amount
    FROM contributor_weeks w
    CROSS JOIN LATERAL (VALUES ('commit', w.commits::bigint), ('lines_added', w.additions::bigint),
                               ('lines_deleted', w.deletions::bigint)) AS f (kind, amount)
    WHERE w.repository_id = $1 AND f.amount > 0
    UNION ALL
    SELECT author_login, author_type, CASE WHEN is_pull_request THEN 'pr_opened' ELSE 'issue_opened' END,
           created_at, 1
    FROM issues WHERE repository_id = $1 AND transferred_to_id IS NULL AND author_login IS NOT NULL
    UNION ALL
    SELECT author_login, author_type, 'pr_merged', merged_at, 1
    FROM issues
    WHERE repository_id = $1 AND transferred_to_id IS NULL AND is_pull_request AND merged
      AND merged_at IS NOT NULL AND author_login IS NOT NULL
    UNION ALL
    SELECT closed_by_login,
           -- Who closed it is the actor of the timeline's latest `closed` item: its type.
           (SELECT t.actor_type FROM timeline_items t
            WHERE t.issue_id = issues.id AND t.event = 'closed'
            ORDER BY t.position DESC LIMIT 1),
           'issue_closed', closed_at, 1
    FROM issues
    WHERE repository_id = $1 AND transferred_to_id IS NULL AND NOT is_pull_request
      AND state = 'closed' AND closed_at IS NOT NULL AND closed_by_login IS NOT NULL
    UNION ALL
    SELECT t.actor_login, t.actor_type,
           CASE WHEN t.event = 'reviewed' THEN 'pr_reviewed' ELSE 'comment' END, t.created_at, 1
    FROM timeline_items t JOIN issues i ON i.id = t.issue_id
    WHERE i.repository_id = $1 AND i.transferred_to_id IS NULL
      AND (t.event = 'commented' OR (t.event = 'reviewed' AND i.is_pull_request
                                     AND coalesce(t.details->>'state', '') <> 'pending'))
      AND t.actor_login IS NOT NULL AND t.created_at IS NOT NULL
    UNION ALL
    SELECT author_login, author_type, 'release', published_at, 1
    FROM releases
    WHERE repository_id = $1 AND NOT draft AND published_at IS NOT NULL AND author_login IS NOT NULL
) facts
";

/// A repository's facts summed per week (`contribution_week`: the Sunday 00:00 UTC at or
/// before the fact), contributor and bot flag, one column per kind (0 for none).
static ROLL_UP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO weekly_contributions (repository_id, week, login, bot, {columns})
         SELECT $1, contribution_week(occurred_at), login, bot, {sums}
         FROM contributions WHERE repository_id = $1
         GROUP BY contribution_week(occurred_at), login, bot",
        columns = KINDS.join(", "),
        sums = each_kind("coalesce(sum(amount) FILTER (WHERE kind = '{k}'), 0)", ", "),
    )
});

/// A repository's weeks summed per contributor and bot flag.
static TOTALS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO contribution_totals (repository_id, login, bot, {columns})
         SELECT $1, login, bot, {sums}
         FROM weekly_contributions WHERE repository_id = $1
         GROUP BY login, bot",
        columns = KINDS.join(", "),
        sums = each_kind("sum({k})", ", "),
    )
});

/// `template` once per kind, `{k}` replaced by the kind, joined by `separator`.
fn each_kind(template: &str, separator: &str) -> String {
    KINDS
        .map(|kind| template.replace("{k}", kind))
        .join(separator)
}

/// The weights: every kind's points and `line_bonus_cap`.
pub async fn weights(conn: &mut AsyncPgConnection) -> Result<BTreeMap<String, f64>, DbError> {
    let rows: Vec<(String, f64)> = leaderboard_weights::table
        .select((leaderboard_weights::kind, leaderboard_weights::points))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Sets the given weights (the others keep theirs), in one transaction.
pub async fn set_weights(
    conn: &mut AsyncPgConnection,
    changes: &BTreeMap<String, f64>,
) -> Result<(), DbError> {
    conn.transaction::<_, DbError, _>(async |conn| {
        for (kind, points) in changes {
            diesel::insert_into(leaderboard_weights::table)
                .values((
                    leaderboard_weights::kind.eq(kind),
                    leaderboard_weights::points.eq(points),
                ))
                .on_conflict(leaderboard_weights::kind)
                .do_update()
                .set((
                    leaderboard_weights::points.eq(points),
                    leaderboard_weights::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
        }
        Ok(())
    })
    .await
}

/// Which board, over which window.
#[derive(Clone, Copy, Debug)]
pub struct BoardQuery {
    /// One repository's board, or the global one.
    pub repository_id: Option<Uuid>,
    /// Facts dated at or after this.
    pub since: DateTime<Utc>,
    /// Facts dated before this.
    pub until: DateTime<Utc>,
    /// Whether bots are ranked.
    pub include_bots: bool,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

/// One contributor's place on a board.
#[derive(Clone, Debug, QueryableByName)]
pub struct BoardRow {
    #[diesel(sql_type = BigInt)]
    pub rank: i64,
    #[diesel(sql_type = Text)]
    pub login: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub developer_id: Option<Uuid>,
    #[diesel(sql_type = Double)]
    pub score: f64,
    #[diesel(sql_type = Double)]
    pub line_bonus: f64,
    /// Repositories contributed to (within the board's scope).
    #[diesel(sql_type = BigInt)]
    pub repositories: i64,
    /// `{kind: {"count": n, "points": p}}` for the kinds this contributor has.
    #[diesel(sql_type = Text)]
    pub breakdown: String,
    /// Contributors on the whole board.
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

/// How a board reads its window `[since, until)`: the weeks lying wholly inside it from the
/// rollup, and the facts of the days before the first whole week (`head`) and from the
/// last whole week's end on (`tail`) one by one, so that a window not on week boundaries
/// (`since` and `until` are days; GitHub's weeks start on Sundays) counts exactly what
/// the facts say. A window inside one week has no whole week: all of it is `head`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Whole weeks, by their Sunday: `[from, until)`.
    pub weeks: (NaiveDate, NaiveDate),
    /// Facts dated in `[from, until)` before the first whole week.
    pub head: (DateTime<Utc>, DateTime<Utc>),
    /// Facts dated in `[from, until)` after the last whole week.
    pub tail: (DateTime<Utc>, DateTime<Utc>),
}

impl Split {
    /// The split of `[since, until)`.
    pub fn of(since: DateTime<Utc>, until: DateTime<Utc>) -> Split {
        let first = week_at_or_before(since);
        let first = if midnight(first) == since {
            first
        } else {
            first + Days::new(7)
        };
        let last = week_at_or_before(until);
        if first < last {
            Split {
                weeks: (first, last),
                head: (since, midnight(first)),
                tail: (midnight(last), until),
            }
        } else {
            Split {
                weeks: (first, first),
                head: (since, until),
                tail: (until, until),
            }
        }
    }
}

/// The Sunday (00:00 UTC) that starts the week of `at`.
fn week_at_or_before(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    day - Days::new(u64::from(day.weekday().num_days_from_sunday()))
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// One page of a board: contributors by score (3 decimals) descending, then login. Each
/// repository's line bonus (lines_added + lines_deleted points) is capped on its own, over
/// the whole window (not per week): the rollup keeps the line counts, the cap applies to
/// their sum.
pub async fn board(
    conn: &mut AsyncPgConnection,
    query: &BoardQuery,
) -> Result<Vec<BoardRow>, DbError> {
    let split = Split::of(query.since, query.until);
    let complement = reads_the_complement(conn, query.repository_id, split.weeks).await?;
    Ok(diesel::sql_query(&*BOARD)
        .bind::<Date, _>(split.weeks.0)
        .bind::<Date, _>(split.weeks.1)
        .bind::<Timestamptz, _>(split.head.0)
        .bind::<Timestamptz, _>(split.head.1)
        .bind::<Timestamptz, _>(split.tail.0)
        .bind::<Timestamptz, _>(split.tail.1)
        .bind::<Bool, _>(query.include_bots)
        .bind::<Nullable<SqlUuid>, _>(query.repository_id)
        .bind::<BigInt, _>(query.limit)
        .bind::<BigInt, _>(query.offset)
        .bind::<Bool, _>(complement)
        .load(conn)
        .await?)
}

/// Whether the whole weeks `[from, until)` cover more than half of the weeks the rollup
/// holds (of one repository, or all): then the board reads `contribution_totals` minus
/// the weeks outside the window, fewer rows than the weeks inside (the default two-year
/// board of a repository with two years of history reads its totals and nothing else).
/// Both ways give the same counts; this only picks the cheaper.
async fn reads_the_complement(
    conn: &mut AsyncPgConnection,
    repository_id: Option<Uuid>,
    (from, until): (NaiveDate, NaiveDate),
) -> Result<bool, DbError> {
    use crate::db::schema::weekly_contributions::dsl as weeks;
    use diesel::dsl::{max, min};
    let span = weeks::weekly_contributions.select((min(weeks::week), max(weeks::week)));
    let (first, last): (Option<NaiveDate>, Option<NaiveDate>) = match repository_id {
        Some(id) => span.filter(weeks::repository_id.eq(id)).first(conn).await?,
        None => span.first(conn).await?,
    };
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(false);
    };
    let held = (last - first).num_days() + 7;
    let inside = (until.min(last + Days::new(7)) - from.max(first)).num_days();
    Ok(inside * 2 > held)
}

/// The board: per repository and login, every kind's count (whole weeks from the rollup
/// — or, `$11`, the totals minus the weeks outside the window —, the edge days from the
/// facts, see [`Split`]; a pair whose counts are all 0 had nothing in the window) and the
/// line bonus capped per repository; per login, the counts summed, then weighted (count ×
/// weight, exact `numeric`: a weighted sum of sums is the sum of weighted counts, and
/// weighting once per login rather than once per repository and login did a tenth of the
/// `numeric` arithmetic), and ranked; the breakdown built for the page's rows only. Counts are
/// summed as `float8`, exact for integers below 2^53: a `bigint` sum keeps a `numeric`
/// state per group and kind, which made the board half as fast again. A kind without a weight row (the migration
/// inserts all, nothing deletes them) scores 0.
static BOARD: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
WITH weights AS (
    SELECT {weights},
           max(points::numeric) FILTER (WHERE kind = 'line_bonus_cap') AS line_bonus_cap
    FROM leaderboard_weights
), counted AS (
    SELECT repository_id, login, {sums}
    FROM (
        SELECT repository_id, login, {columns}
        FROM weekly_contributions
        WHERE NOT $11 AND week >= $1 AND week < $2 AND ($7 OR NOT bot)
          AND ($8::uuid IS NULL OR repository_id = $8)
        UNION ALL
        SELECT repository_id, login, {columns}
        FROM contribution_totals
        WHERE $11 AND ($7 OR NOT bot) AND ($8::uuid IS NULL OR repository_id = $8)
        UNION ALL
        SELECT repository_id, login, {negated}
        FROM weekly_contributions
        WHERE $11 AND (week < $1 OR week >= $2) AND ($7 OR NOT bot)
          AND ($8::uuid IS NULL OR repository_id = $8)
        UNION ALL
        SELECT repository_id, login, {amounts}
        FROM contributions
        WHERE ((occurred_at >= $3 AND occurred_at < $4) OR (occurred_at >= $5 AND occurred_at < $6))
          AND ($7 OR NOT bot) AND ($8::uuid IS NULL OR repository_id = $8)
    ) parts
    GROUP BY repository_id, login
    HAVING {any} > 0
), per_repository AS (
    SELECT c.*,
           coalesce(LEAST(c.lines_added * w.lines_added + c.lines_deleted * w.lines_deleted,
                          w.line_bonus_cap), 0) AS line_bonus
    FROM counted c JOIN tracked_repositories t ON t.repository_id = c.repository_id
    CROSS JOIN weights w
), summed AS (
    SELECT login, sum(line_bonus) AS line_bonus, count(*) AS repositories, {sums}
    FROM per_repository GROUP BY login
), per_login AS (
    SELECT s.login, round({base} + s.line_bonus, 3) AS score,
           round(s.line_bonus, 3) AS line_bonus, s.repositories, {kinds}
    FROM summed s CROSS JOIN weights w
), ranked AS (
    SELECT p.*, row_number() OVER (ORDER BY p.score DESC, p.login COLLATE "C") AS rank,
           count(*) OVER () AS total
    FROM per_login p
), page AS (
    SELECT * FROM ranked ORDER BY rank LIMIT $9 OFFSET $10
)
SELECT r.rank, r.login,
       (SELECT d.id FROM developers d WHERE lower(d.login) = lower(r.login)
        ORDER BY d.gone_at IS NOT NULL, d.row_updated_at DESC LIMIT 1) AS developer_id,
       r.score::float8 AS score, r.line_bonus::float8 AS line_bonus, r.repositories,
       jsonb_strip_nulls(jsonb_build_object({breakdown}))::text AS breakdown, r.total
FROM page r CROSS JOIN weights w ORDER BY r.rank
"#,
        weights = each_kind(
            "coalesce(max(points::numeric) FILTER (WHERE kind = '{k}'), 0) AS {k}",
            ", "
        ),
        columns = KINDS.join(", "),
        negated = each_kind("-{k}", ", "),
        any = each_kind("sum({k}::float8)", " + "),
        sums = each_kind("sum({k}::float8)::bigint AS {k}", ", "),
        amounts = each_kind("CASE WHEN kind = '{k}' THEN amount ELSE 0 END", ", "),
        base = KINDS
            .iter()
            .filter(|kind| !kind.starts_with("lines_"))
            .map(|kind| format!("s.{kind} * w.{kind}"))
            .collect::<Vec<_>>()
            .join(" + "),
        kinds = each_kind("s.{k}", ", "),
        breakdown = each_kind(
            "'{k}', CASE WHEN r.{k} > 0 THEN \
             jsonb_build_object('count', r.{k}, 'points', round(r.{k} * w.{k}, 3)) END",
            ", "
        ),
    )
});

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, NaiveDate, Utc};

    use super::{Split, midnight};

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn a_window_on_week_boundaries_is_all_weeks() {
        // 2026-11-01 and 2026-11-29 are Sundays.
        let split = Split::of(midnight(day("2026-11-01")), midnight(day("2026-11-29")));
        assert_eq!(split.weeks, (day("2026-11-01"), day("2026-11-29")));
        assert_eq!(split.head.0, split.head.1);
        assert_eq!(split.tail.0, split.tail.1);
    }

    #[test]
    fn a_window_off_week_boundaries_reads_its_edges_from_the_facts() {
        // Wednesday 2026-11-04 to Thursday 2026-11-26 included.
        let (since, until) = (midnight(day("2026-11-04")), midnight(day("2026-11-27")));
        let split = Split::of(since, until);
        assert_eq!(split.weeks, (day("2026-11-08"), day("2026-11-22")));
        assert_eq!(split.head, (since, midnight(day("2026-11-08"))));
        assert_eq!(split.tail, (midnight(day("2026-11-22")), until));
    }

    #[test]
    fn a_window_inside_one_week_is_all_facts() {
        let (since, until) = (midnight(day("2026-11-03")), midnight(day("2026-11-06")));
        let split = Split::of(since, until);
        assert_eq!(split.weeks.0, split.weeks.1);
        assert_eq!(split.head, (since, until));
        assert_eq!(split.tail.0, split.tail.1);
    }

    /// Every hour of eight weeks, for windows starting and ending on each day of a
    /// fortnight and at odd times: counted exactly once when it lies in the window (by
    /// its week when that week is whole, else as a fact), never otherwise.
    #[test]
    fn every_instant_is_counted_once_exactly_when_it_is_in_the_window() {
        let origin = midnight(day("2026-10-01"));
        let hours: Vec<DateTime<Utc>> = (0..8 * 7 * 24)
            .map(|h| origin + Duration::hours(h))
            .collect();
        let edges: Vec<DateTime<Utc>> = (0..14 * 4)
            .map(|q| origin + Duration::days(7) + Duration::hours(q * 6 + q % 5))
            .collect();
        for &since in &edges {
            for &until in edges.iter().filter(|until| **until > since) {
                let split = Split::of(since, until);
                for &at in &hours {
                    let week = super::week_at_or_before(at);
                    let times = usize::from(week >= split.weeks.0 && week < split.weeks.1)
                        + usize::from(at >= split.head.0 && at < split.head.1)
                        + usize::from(at >= split.tail.0 && at < split.tail.1);
                    let inside = at >= since && at < until;
                    assert_eq!(times, usize::from(inside), "{at} in [{since}, {until})");
                }
            }
        }
    }
}
