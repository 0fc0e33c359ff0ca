//! Queries of the leaderboards: the scoring facts (`contributions`) of a tracked repository,
//! rebuilt whole in one transaction from its stored activity, the weights, and boards
//! aggregated from both on read.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
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

/// Replaces a repository's scoring facts with what its stored activity says now, in one
/// transaction: a board read meanwhile shows the old facts or the new ones, never a mix.
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
        Ok(())
    })
    .await
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

/// One page of a board: contributors by score (3 decimals) descending, then login. Each
/// repository's line bonus (lines_added + lines_deleted points) is capped on its own.
pub async fn board(
    conn: &mut AsyncPgConnection,
    query: &BoardQuery,
) -> Result<Vec<BoardRow>, DbError> {
    Ok(diesel::sql_query(BOARD)
        .bind::<Timestamptz, _>(query.since)
        .bind::<Timestamptz, _>(query.until)
        .bind::<Bool, _>(query.include_bots)
        .bind::<Nullable<SqlUuid>, _>(query.repository_id)
        .bind::<BigInt, _>(query.limit)
        .bind::<BigInt, _>(query.offset)
        .load(conn)
        .await?)
}

const BOARD: &str = r#"
WITH counted AS (
    SELECT c.repository_id, c.login, c.kind, sum(c.amount)::numeric AS n
    FROM contributions c JOIN tracked_repositories t ON t.repository_id = c.repository_id
    WHERE c.occurred_at >= $1 AND c.occurred_at < $2 AND ($3 OR NOT c.bot)
      AND ($4::uuid IS NULL OR c.repository_id = $4)
    GROUP BY c.repository_id, c.login, c.kind
), scored AS (
    SELECT counted.*, counted.n * w.points::numeric AS points
    FROM counted JOIN leaderboard_weights w ON w.kind = counted.kind
), per_repository AS (
    SELECT repository_id, login,
           coalesce(sum(points) FILTER (WHERE kind NOT IN ('lines_added', 'lines_deleted')), 0) AS base,
           LEAST(coalesce(sum(points) FILTER (WHERE kind IN ('lines_added', 'lines_deleted')), 0),
                 (SELECT points::numeric FROM leaderboard_weights WHERE kind = 'line_bonus_cap')) AS line_bonus
    FROM scored GROUP BY repository_id, login
), per_login AS (
    SELECT login, round(sum(base + coalesce(line_bonus, 0)), 3) AS score,
           round(sum(coalesce(line_bonus, 0)), 3) AS line_bonus, count(*) AS repositories
    FROM per_repository GROUP BY login
), kinds AS (
    SELECT login, jsonb_object_agg(kind, jsonb_build_object('count', n, 'points', round(points, 3))) AS breakdown
    FROM (SELECT login, kind, sum(n) AS n, sum(points) AS points FROM scored GROUP BY login, kind) k
    GROUP BY login
), ranked AS (
    SELECT p.login, p.score, p.line_bonus, p.repositories, k.breakdown,
           row_number() OVER (ORDER BY p.score DESC, p.login COLLATE "C") AS rank,
           count(*) OVER () AS total
    FROM per_login p JOIN kinds k USING (login)
)
SELECT r.rank, r.login,
       (SELECT d.id FROM developers d WHERE lower(d.login) = lower(r.login)
        ORDER BY d.gone_at IS NOT NULL, d.row_updated_at DESC LIMIT 1) AS developer_id,
       r.score::float8 AS score, r.line_bonus::float8 AS line_bonus, r.repositories,
       r.breakdown::text AS breakdown, r.total
FROM ranked r ORDER BY r.rank LIMIT $5 OFFSET $6
"#;
