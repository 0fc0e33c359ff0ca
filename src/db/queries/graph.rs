//! Queries on the follow graph as a graph: one BFS level, friends of friends, the graph's
//! statistics and the batches of its export.

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::queries::developers::{DeveloperRecord, RANKED};

/// Which way a BFS level follows the edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From a developer to those it follows.
    Following,
    /// From a developer to its followers.
    Followers,
}

/// One edge met by a BFS level: `from` is in the frontier, `to` one step away.
#[derive(Clone, Copy, Debug, QueryableByName)]
pub struct Step {
    #[diesel(sql_type = SqlUuid)]
    pub from: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub to: Uuid,
}

/// Every edge leaving the frontier in `direction`: one index range scan per frontier member.
pub async fn expand(
    conn: &mut AsyncPgConnection,
    frontier: &[Uuid],
    direction: Direction,
) -> Result<Vec<Step>, DbError> {
    let sql = match direction {
        Direction::Following => {
            "SELECT follower_id AS from, followee_id AS to FROM follows WHERE follower_id = ANY($1)"
        }
        Direction::Followers => {
            "SELECT followee_id AS from, follower_id AS to FROM follows WHERE followee_id = ANY($1)"
        }
    };
    Ok(diesel::sql_query(sql)
        .bind::<Array<SqlUuid>, _>(frontier)
        .load(conn)
        .await?)
}

/// The stored edges of the frontier in `direction`: what expanding it will read.
pub async fn degree_sum(
    conn: &mut AsyncPgConnection,
    frontier: &[Uuid],
    direction: Direction,
) -> Result<i64, DbError> {
    let column = match direction {
        Direction::Following => "stored_following",
        Direction::Followers => "stored_followers",
    };
    let row: Total = diesel::sql_query(format!(
        "SELECT coalesce(sum({column}), 0)::bigint AS total FROM developers WHERE id = ANY($1)"
    ))
    .bind::<Array<SqlUuid>, _>(frontier)
    .get_result(conn)
    .await?;
    Ok(row.total)
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The follow edges a suggestion list reads at most from those the developer follows:
/// beyond it, those who follow the most others are left out of the scores.
pub const SUGGESTION_EDGES: i64 = 10_000;

/// Everyone developer `$1` follows, with how many others each follows, and the edges read
/// up to and including it when they are taken fewest follows first (then by id): `reach`.
const FOLLOWED: &str = "SELECT f.followee_id AS id, d.stored_following,
        sum(d.stored_following) OVER (ORDER BY d.stored_following, d.id) AS reach
    FROM follows f JOIN developers d ON d.id = f.followee_id
    WHERE f.follower_id = $1";

/// A developer suggested to another, with how many of those it follows follow them.
#[derive(Clone, Debug, QueryableByName)]
pub struct Suggestion {
    #[diesel(embed)]
    pub developer: DeveloperRecord,
    #[diesel(sql_type = BigInt)]
    pub score: i64,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    following: i64,
    #[diesel(sql_type = BigInt)]
    scored: i64,
}

/// A page of suggestions and what their scores were read from.
#[derive(Clone, Debug)]
pub struct Suggestions {
    /// The page's rows (`limit` at most).
    pub rows: Vec<Suggestion>,
    /// How many developers the asking one follows.
    pub following: i64,
    /// How many of them the scores were read from: all, unless together they follow more
    /// than [`SUGGESTION_EDGES`] others.
    pub scored: i64,
}

#[derive(QueryableByName)]
struct Scoring {
    #[diesel(sql_type = BigInt)]
    following: i64,
    #[diesel(sql_type = BigInt)]
    scored: i64,
}

/// Friends of friends of `id` it does not follow yet (nor itself), by score, then login,
/// then id; `limit` rows from `offset`. Each row carries the number of suggestions.
///
/// The scores are read from at most [`SUGGESTION_EDGES`] follow edges: those it follows
/// are taken in order of how many others they follow, fewest first (then by id), for as
/// long as the edges read stay within the budget, so a developer following hubs is scored
/// from every one of its ordinary follows and its hubs are left out. Everyone it follows is
/// still excluded from the suggestions.
pub async fn suggestions(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Suggestions, DbError> {
    // Scores are counted from the edge index alone. Only candidates scoring at least as
    // high as the page's last row (the `limit + offset`-th best score) can be on the page,
    // so only they are joined to `developers` for the login that orders ties; the rest
    // are only counted.
    let rows = diesel::sql_query(format!(
        "WITH followed AS MATERIALIZED ({FOLLOWED}),
         candidates AS MATERIALIZED (
             SELECT second.followee_id AS id, count(*) AS score
             FROM followed f
             JOIN follows second ON second.follower_id = f.id
             WHERE f.reach <= $4
               AND second.followee_id <> $1
               AND NOT EXISTS (SELECT 1 FROM followed already WHERE already.id = second.followee_id)
             GROUP BY second.followee_id),
         cutoff AS (
             SELECT coalesce(min(score), 0) AS score
             FROM (SELECT score FROM candidates ORDER BY score DESC LIMIT $2 + $3) best),
         ranked AS (
             SELECT c.id, c.score, d.login
             FROM candidates c JOIN developers d ON d.id = c.id
             WHERE c.score >= (SELECT score FROM cutoff)
             ORDER BY c.score DESC, d.login ASC, c.id ASC
             LIMIT $2 OFFSET $3)
         SELECT t.*, r.score, (SELECT count(*) FROM candidates) AS total,
                (SELECT count(*) FROM followed) AS following,
                (SELECT count(*) FROM followed WHERE reach <= $4) AS scored
         FROM ranked r JOIN {RANKED} t ON t.id = r.id
         ORDER BY r.score DESC, r.login ASC, r.id ASC"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .bind::<BigInt, _>(SUGGESTION_EDGES)
    .load::<Suggestion>(conn)
    .await?;
    let Scoring { following, scored } = match <[Suggestion]>::first(&rows) {
        Some(row) => Scoring {
            following: row.following,
            scored: row.scored,
        },
        // No row to carry them: an empty page asks on its own.
        None => {
            diesel::sql_query(format!(
                "SELECT count(*) AS following, count(*) FILTER (WHERE reach <= $2) AS scored
                 FROM ({FOLLOWED}) followed"
            ))
            .bind::<SqlUuid, _>(id)
            .bind::<BigInt, _>(SUGGESTION_EDGES)
            .get_result(conn)
            .await?
        }
    };
    Ok(Suggestions {
        rows,
        following,
        scored,
    })
}

/// Counts of the stored graph, read from one pass over `developers` (whose stored edge
/// counts the triggers keep) and the sizes of `repositories` and `stars`.
#[derive(Clone, Debug, QueryableByName)]
pub struct GraphCounts {
    #[diesel(sql_type = BigInt)]
    pub developers: i64,
    #[diesel(sql_type = BigInt)]
    pub synced: i64,
    #[diesel(sql_type = BigInt)]
    pub follow_edges: i64,
    #[diesel(sql_type = BigInt)]
    pub repositories: i64,
    #[diesel(sql_type = BigInt)]
    pub stars: i64,
    /// Developers per follower-count bucket, in [`DEGREE_BUCKETS`] order.
    #[diesel(sql_type = Array<BigInt>)]
    pub followers_histogram: Vec<i64>,
    /// Developers per following-count bucket, in [`DEGREE_BUCKETS`] order.
    #[diesel(sql_type = Array<BigInt>)]
    pub following_histogram: Vec<i64>,
}

/// The degree buckets of the histograms: label, lowest and highest degree (inclusive).
pub const DEGREE_BUCKETS: [(&str, i32, i32); 7] = [
    ("0", 0, 0),
    ("1", 1, 1),
    ("2-4", 2, 4),
    ("5-9", 5, 9),
    ("10-99", 10, 99),
    ("100-999", 100, 999),
    ("1000+", 1000, i32::MAX),
];

/// The graph's counts and degree histograms: one pass over `developers`. Seconds at a
/// million developers: only the `graph_snapshot` job runs it (on the workers' pool, which
/// has no statement timeout); `GET /github/graph/` reads what that job stored.
pub async fn counts(conn: &mut AsyncPgConnection) -> Result<GraphCounts, DbError> {
    let histogram = |column: &str| {
        let buckets = DEGREE_BUCKETS
            .iter()
            .map(|(_, low, high)| {
                format!("count(*) FILTER (WHERE {column} BETWEEN {low} AND {high})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("ARRAY[{buckets}]")
    };
    Ok(diesel::sql_query(format!(
        "SELECT count(*) AS developers,
                count(*) FILTER (WHERE last_synced_at IS NOT NULL) AS synced,
                coalesce(sum(stored_following), 0)::bigint AS follow_edges,
                (SELECT count(*) FROM repositories) AS repositories,
                (SELECT count(*) FROM stars) AS stars,
                {} AS followers_histogram,
                {} AS following_histogram
         FROM developers",
        histogram("stored_followers"),
        histogram("stored_following")
    ))
    .get_result(conn)
    .await?)
}

/// A developer and the number of its stored followers.
#[derive(Clone, Debug, QueryableByName)]
pub struct Followed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub login: String,
    #[diesel(sql_type = BigInt)]
    pub followers: i64,
}

/// The `limit` developers with the most stored followers (then id). A top-N sort over every
/// developer, for the graph snapshot job only: an index on the stored counts would make every
/// stored follow edge write all the indexes of `developers` (migration
/// `2026-12-08-000020_developer_counts_hot_updates`).
pub async fn most_followed(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<Followed>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, login, stored_followers::bigint AS followers FROM developers
         WHERE stored_followers > 0 ORDER BY stored_followers DESC, id LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// A relation the export streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// Developer → developer it follows.
    Follows,
    /// Developer → repository it starred.
    Stars,
}

/// One exported edge: the keys it is ordered by, and both ends' GitHub ids and names
/// (logins; a repository's `owner/name`).
#[derive(Clone, Debug, QueryableByName)]
pub struct EdgeRow {
    #[diesel(sql_type = SqlUuid)]
    pub source_key: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub target_key: Uuid,
    #[diesel(sql_type = BigInt)]
    pub source_github_id: i64,
    #[diesel(sql_type = Text)]
    pub source: String,
    #[diesel(sql_type = BigInt)]
    pub target_github_id: i64,
    #[diesel(sql_type = Text)]
    pub target: String,
}

/// The next `limit` edges of a relation after the key `after`, in key order: a keyset walk
/// of the edge table's primary key, so every batch costs the same however far along.
pub async fn edges_after(
    conn: &mut AsyncPgConnection,
    relation: Relation,
    after: (Uuid, Uuid),
    limit: i64,
) -> Result<Vec<EdgeRow>, DbError> {
    // (edge table, source column, target column, target table, target name column)
    let (table, source, target, target_table, target_name) = match relation {
        Relation::Follows => (
            "follows",
            "follower_id",
            "followee_id",
            "developers",
            "login",
        ),
        Relation::Stars => (
            "stars",
            "developer_id",
            "repository_id",
            "repositories",
            "full_name",
        ),
    };
    // Identifiers come from the match above, never from input.
    Ok(diesel::sql_query(format!(
        "SELECT e.{source} AS source_key, e.{target} AS target_key,
                s.github_id AS source_github_id, s.login AS source,
                t.github_id AS target_github_id, t.{target_name} AS target
         FROM (SELECT {source}, {target} FROM {table}
               WHERE ({source}, {target}) > ($1, $2)
               ORDER BY {source}, {target} LIMIT $3) e
         JOIN developers s ON s.id = e.{source}
         JOIN {target_table} t ON t.id = e.{target}
         ORDER BY e.{source}, e.{target}"
    ))
    .bind::<SqlUuid, _>(after.0)
    .bind::<SqlUuid, _>(after.1)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// Which nodes a GraphML export declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Developer,
    Repository,
}

/// One exported node: its key, GitHub id and name.
#[derive(Clone, Debug, QueryableByName)]
pub struct NodeRow {
    #[diesel(sql_type = SqlUuid)]
    pub key: Uuid,
    #[diesel(sql_type = BigInt)]
    pub github_id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
}

/// The next `limit` nodes of a kind after the key `after`, in key order.
pub async fn nodes_after(
    conn: &mut AsyncPgConnection,
    kind: NodeKind,
    after: Uuid,
    limit: i64,
) -> Result<Vec<NodeRow>, DbError> {
    let sql = match kind {
        NodeKind::Developer => {
            "SELECT id AS key, github_id, login AS name FROM developers
             WHERE id > $1 ORDER BY id LIMIT $2"
        }
        NodeKind::Repository => {
            "SELECT id AS key, github_id, full_name AS name FROM repositories
             WHERE id > $1 ORDER BY id LIMIT $2"
        }
    };
    Ok(diesel::sql_query(sql)
        .bind::<SqlUuid, _>(after)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?)
}
