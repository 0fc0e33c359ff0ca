//! Queries on `developers`: upserts by `github_id` from list payloads and profiles.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::filter::{self, Field, Kind, ListQuery, Segment, Shown, Sql, Walked};
use crate::db::paginate::{self, Page, Rows};
use crate::db::schema::developers;
use crate::db::{DbError, pg_interval};

/// A developer as listed (follower, stargazer, owner): what every list payload carries.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = developers)]
pub struct NewListedDeveloper<'a> {
    pub github_id: i64,
    pub login: &'a str,
    pub avatar_url: Option<&'a str>,
    pub html_url: Option<&'a str>,
}

/// A developer's full profile (`GET /users/{login}`).
#[derive(Clone, Debug, Insertable, AsChangeset)]
#[diesel(table_name = developers, treat_none_as_null = true)]
pub struct NewProfile<'a> {
    pub github_id: i64,
    pub login: &'a str,
    pub name: Option<&'a str>,
    pub location: Option<&'a str>,
    pub bio: Option<&'a str>,
    pub company: Option<&'a str>,
    pub email: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
    pub html_url: Option<&'a str>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub followers_count: Option<i32>,
    pub following_count: Option<i32>,
    pub public_gists: Option<i32>,
    pub public_repos: Option<i32>,
    pub etag: Option<&'a str>,
    pub gone_at: Option<DateTime<Utc>>,
}

/// What a sync needs to know of a stored developer.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = developers)]
pub struct StoredDeveloper {
    pub id: Uuid,
    pub github_id: i64,
    pub login: String,
    pub etag: Option<String>,
    pub followers_count: Option<i32>,
    pub following_count: Option<i32>,
    pub public_repos: Option<i32>,
}

/// Upserts listed developers in one statement; returns `github_id → id`.
/// Listing fields only: a profile fetched earlier keeps its details.
///
/// A developer listed again as stored (most listings, since everyone appears in many
/// lists) is only locked, not rewritten: no new row version, so none of the table's
/// indexes is written. Its id, which `RETURNING` leaves out, is read by a second statement
/// (which also sees a row another transaction committed since the first one began).
pub async fn upsert_listed(
    conn: &mut AsyncPgConnection,
    rows: &[NewListedDeveloper<'_>],
) -> Result<HashMap<i64, Uuid>, DbError> {
    use diesel::PgExpressionMethods;
    let rows = crate::db::upsert_rows(rows, |r| r.github_id);
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let github_ids: Vec<i64> = rows.iter().map(|row| row.github_id).collect();
    let changed = developers::login
        .is_distinct_from(excluded(developers::login))
        .or(developers::avatar_url.is_distinct_from(excluded(developers::avatar_url)))
        .or(developers::html_url.is_distinct_from(excluded(developers::html_url)))
        .or(developers::gone_at.is_not_null());
    let upsert = diesel::insert_into(developers::table)
        .values(rows)
        .on_conflict(developers::github_id)
        .do_update()
        .set((
            developers::login.eq(excluded(developers::login)),
            developers::avatar_url.eq(excluded(developers::avatar_url)),
            developers::html_url.eq(excluded(developers::html_url)),
            developers::gone_at.eq(None::<DateTime<Utc>>),
            developers::row_updated_at.eq(diesel::dsl::now),
        ));
    // `ON CONFLICT … DO UPDATE … WHERE`: diesel's upsert `filter`, not the query one.
    let written: Vec<(i64, Uuid)> = diesel::query_dsl::methods::FilterDsl::filter(upsert, changed)
        .returning((developers::github_id, developers::id))
        .get_results(conn)
        .await?;
    let mut ids: HashMap<i64, Uuid> = written.into_iter().collect();
    if ids.len() < github_ids.len() {
        let unchanged: Vec<i64> = github_ids
            .into_iter()
            .filter(|github_id| !ids.contains_key(github_id))
            .collect();
        let stored: Vec<(i64, Uuid)> = developers::table
            .filter(developers::github_id.eq_any(&unchanged))
            .select((developers::github_id, developers::id))
            .load(conn)
            .await?;
        ids.extend(stored);
    }
    Ok(ids)
}

/// Waits for, and holds until the transaction ends, the lock that lets one transaction at
/// a time write many developers' rows over several statements (a GraphQL batch storing a
/// developer). Such transactions cannot take their row locks in one order, so they would
/// deadlock one another; one-statement writes (each sorted by key) need not take it.
pub async fn lock_for_multi_statement_store(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtext('gitomatic.developers.multi_statement_store'))",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Upserts a full profile; returns the developer's id.
pub async fn upsert_profile(
    conn: &mut AsyncPgConnection,
    profile: &NewProfile<'_>,
) -> Result<Uuid, DbError> {
    Ok(diesel::insert_into(developers::table)
        .values(profile)
        .on_conflict(developers::github_id)
        .do_update()
        .set((profile, developers::row_updated_at.eq(diesel::dsl::now)))
        .returning(developers::id)
        .get_result(conn)
        .await?)
}

/// The developer currently known under a login (case-insensitive), preferring the
/// one not marked gone and most recently updated.
pub async fn find_by_login(
    conn: &mut AsyncPgConnection,
    login: &str,
) -> Result<Option<StoredDeveloper>, DbError> {
    Ok(developers::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(login) = lower(")
                .bind::<diesel::sql_types::Text, _>(login)
                .sql(")"),
        )
        .order((
            developers::gone_at.is_not_null(),
            developers::row_updated_at.desc(),
        ))
        .select(StoredDeveloper::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Marks the developers known under a login as gone from GitHub.
pub async fn mark_gone(conn: &mut AsyncPgConnection, login: &str) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE developers SET gone_at = now(), etag = NULL WHERE lower(login) = lower($1) AND gone_at IS NULL",
    )
    .bind::<diesel::sql_types::Text, _>(login)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a completed sync.
pub async fn mark_synced(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), DbError> {
    diesel::update(developers::table.find(id))
        .set(developers::last_synced_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Logins most in need of a sync: never synced first (oldest discovered first), then the
/// stalest; skipping gone developers, those synced within `fresh`, and those whose
/// lower-cased login is in `claimed` (the developers active tasks already sync, as the job
/// kinds tell: see `BackgroundJob::CLAIMS_LOGINS`). One statement: the bound array is
/// an anti-join PostgreSQL hashes once, as it did the active tasks it replaces.
pub async fn pick_for_discovery(
    conn: &mut AsyncPgConnection,
    batch: u32,
    fresh: std::time::Duration,
    claimed: &[String],
) -> Result<Vec<Picked>, DbError> {
    let rows: Vec<Picked> = diesel::sql_query(
        "SELECT d.login, d.etag IS NOT NULL AS has_etag FROM developers d
         WHERE d.gone_at IS NULL
           AND (d.last_synced_at IS NULL OR d.last_synced_at < now() - $2)
           AND NOT EXISTS (
               SELECT 1 FROM unnest($3::text[]) AS claimed(login)
               WHERE claimed.login = lower(d.login))
         ORDER BY d.last_synced_at ASC NULLS FIRST, d.inserted_at ASC, d.github_id ASC
         LIMIT $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(i64::from(batch))
    .bind::<diesel::sql_types::Interval, _>(pg_interval(fresh))
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(claimed)
    .load(conn)
    .await?;
    Ok(rows)
}

/// A developer picked for a sync, and whether its profile has a stored ETag (a REST
/// re-sync of it revalidates for free).
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub struct Picked {
    /// The stored login.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub login: String,
    /// Whether `etag` is stored.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub has_etag: bool,
}

/// Developers with their follow rank, as lists and items read them: `developers` joined to
/// `developer_ranks` (null rank and score for a developer the last run did not rank).
/// PostgreSQL flattens the subquery; a query that reads no rank column (a page's walk in
/// another order, a count) drops the join, the two being one-to-one at most.
/// `rank_id` is the rank row's own copy of the developer's id: a walk by rank or score
/// takes it as the row id, so that its position, `(rank, rank_id) > (k, i)`, is a condition
/// on one index of `developer_ranks` (see [`RankedWalk`]).
pub const RANKED: &str = "(SELECT d.*, r.rank, r.rank_score, r.developer_id AS rank_id \
     FROM developers d LEFT JOIN developer_ranks r ON r.developer_id = d.id)";

/// `RANKED` started from the ranks: each rank row, then its developer by key. PostgreSQL
/// cannot turn the `LATERAL … OFFSET 0` around, so a list filtered to a few ranks reads
/// those ranks through their index and no other row. (Given the two tables joined, the
/// planner walks the list's order over every developer and probes each one's rank:
/// `rank__lte=1000` by `-created_at` met its 11 rows after 28,136 developers, 400 ms at a
/// million, because the highest ranks are the oldest accounts.)
pub const RANK_DRIVEN: &str = "(SELECT d.*, r.rank, r.rank_score, r.developer_id AS rank_id \
     FROM developer_ranks r CROSS JOIN LATERAL \
     (SELECT * FROM developers WHERE id = r.developer_id OFFSET 0) d)";

/// Rank filters admitting at most this many ranks make a list start from the ranks
/// ([`RANK_DRIVEN`]) whatever its order: it then reads at most this many developers by
/// key (a few milliseconds), and a walk of its order could read far more.
const RANK_DRIVEN_SPAN: i64 = 10_000;

/// A developer as the API shows it.
#[derive(Clone, Debug, QueryableByName)]
#[diesel(table_name = developers)]
pub struct DeveloperRecord {
    pub id: Uuid,
    pub github_id: i64,
    pub login: String,
    pub name: Option<String>,
    pub location: Option<String>,
    pub bio: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub html_url: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub followers_count: Option<i32>,
    pub following_count: Option<i32>,
    pub public_gists: Option<i32>,
    pub public_repos: Option<i32>,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Position by follow rank (1 = highest), as of the last `developer_rank` run.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    pub rank: Option<i32>,
    /// The PageRank score of that run.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    pub rank_score: Option<f64>,
}

/// Filterable and orderable fields of developer lists.
pub const FIELDS: &[Field] = &[
    Field::new("github_id", Kind::Integer),
    Field::new("login", Kind::Text),
    Field::new("name", Kind::Text),
    Field::new("bio", Kind::Text),
    Field::new("location", Kind::Text),
    Field::new("company", Kind::Text),
    Field::new("email", Kind::Text),
    Field::new("created_at", Kind::Timestamp),
    Field::new("updated_at", Kind::Timestamp),
    Field::new("last_synced_at", Kind::Timestamp),
    Field::new("followers_count", Kind::Integer),
    Field::new("following_count", Kind::Integer),
    Field::new("public_gists", Kind::Integer),
    Field::new("public_repos", Kind::Integer),
    Field::new("rank", Kind::Integer),
    Field::new("rank_score", Kind::Float),
    Field::new(
        "search",
        Kind::Search {
            over: "login, name, bio, company, location",
            exact: "login",
        },
    ),
];

/// Which developers a list shows.
#[derive(Clone, Copy, Debug)]
pub enum DeveloperSet {
    /// Every developer.
    All,
    /// Followers of a developer.
    FollowersOf(Uuid),
    /// Developers a developer follows.
    FollowedBy(Uuid),
    /// Developers a developer follows who follow it back.
    MutualsOf(Uuid),
    /// Stargazers of a repository.
    StargazersOf(Uuid),
}

impl DeveloperSet {
    /// The set's condition on `t`, `$1` being the owner's id.
    fn scope(self) -> Option<paginate::Scope> {
        match self {
            DeveloperSet::All => None,
            DeveloperSet::FollowersOf(id) => Some((
                "t.id IN (SELECT follower_id FROM follows WHERE followee_id = $1)",
                id,
            )),
            DeveloperSet::FollowedBy(id) => Some((
                "t.id IN (SELECT followee_id FROM follows WHERE follower_id = $1)",
                id,
            )),
            DeveloperSet::MutualsOf(id) => Some((
                "t.id IN (SELECT f.followee_id FROM follows f JOIN follows back
                          ON back.follower_id = f.followee_id AND back.followee_id = f.follower_id
                          WHERE f.follower_id = $1)",
                id,
            )),
            DeveloperSet::StargazersOf(id) => Some((
                "t.id IN (SELECT developer_id FROM stars WHERE repository_id = $1)",
                id,
            )),
        }
    }

    /// A follow sub-collection's edges.
    fn follow_edges(self) -> Option<FollowEdges> {
        match self {
            DeveloperSet::FollowersOf(owner) => Some(FollowEdges {
                owner,
                fixed: "followee_id",
                condition: "t.followee_id = $1",
                listed: "follower_id",
                created_at: "follower_created_at",
                stored: "stored_followers",
            }),
            DeveloperSet::FollowedBy(owner) => Some(FollowEdges {
                owner,
                fixed: "follower_id",
                condition: "t.follower_id = $1",
                listed: "followee_id",
                created_at: "followee_created_at",
                stored: "stored_following",
            }),
            _ => None,
        }
    }
}

/// One page of developers.
///
/// A followers or following page without filters counts nothing: its size is the owner's
/// stored edge count, kept by triggers. Ordered by `created_at` (either way; the default
/// is `-created_at`) it is also a walk of the edge table's index, which carries the listed
/// side's creation date, so a deep page of a developer with a hundred thousand followers
/// reads no developer it does not show.
pub async fn list(
    conn: &mut AsyncPgConnection,
    set: DeveloperSet,
    query: &ListQuery,
) -> Result<Page<DeveloperRecord>, DbError> {
    // An unfiltered follow sub-collection counts nothing: its owner stores its size.
    let edges = set.follow_edges().filter(|_| query.filters.is_empty());
    if let Some(walk) =
        RankedWalk::by_rank(set, query).or_else(|| RankedWalk::of_few_ranks(set, query))
    {
        let mut page =
            paginate::load_walked(conn, walk.source, set.scope().into(), query, &walk).await?;
        if let Some(edges) = edges {
            page.total = stored_count(conn, edges).await?;
            page.estimated = false;
        }
        return Ok(page);
    }
    let Some(edges) = edges else {
        return paginate::load(conn, RANKED, set.scope(), query).await;
    };
    let total = stored_count(conn, edges).await?;
    let mut page = if query.is_unfiltered_by("created_at") {
        paginate::walk_page(conn, query, &EdgeWalk { edges, query }).await?
    } else {
        let walk = paginate::TableWalk {
            table: RANKED,
            columns: "t.*",
            rows: set.scope().into(),
            query,
        };
        paginate::walk_page(conn, query, &walk).await?
    };
    page.total = total;
    Ok(page)
}

/// The owner's stored edge count of a follow sub-collection (kept by triggers).
async fn stored_count(conn: &mut AsyncPgConnection, edges: FollowEdges) -> Result<i64, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {}::bigint AS total_count FROM developers WHERE id = $1",
        edges.stored
    ))
    .bind::<diesel::sql_types::Uuid, _>(edges.owner)
    .get_result::<StoredCount>(conn)
    .await
    .optional()?
    .map_or(0, |row| row.total_count))
}

/// A walk of a list through the ranks, read from `source`, its page's rows from `RANKED`
/// by id. Two lists take it:
/// - Ordered by `rank` or `rank_score`, either way ([`RankedWalk::by_rank`]): the ranked
///   rows are one range of `developer_ranks`' `(key, developer_id)` index, walked with the
///   rank row's id (`rank_id`), so a cursor's position is an index condition there (with
///   the developer's `id`, the position could only filter the walk, which would then be
///   as long as the cursor is deep). The rows without a rank (stored after the last run)
///   have no such column and walk by `id`, as every list's rows without a key do: that
///   range is an anti-join over the developers, paid only on the list's last pages.
/// - In another order, with rank filters that admit at most [`RANK_DRIVEN_SPAN`] ranks
///   ([`RankedWalk::of_few_ranks`]): walked over [`RANK_DRIVEN`] in its own order (the few
///   ranked rows sorted, not an index walked), by `id`.
struct RankedWalk<'a> {
    source: &'static str,
    key: &'static str,
    /// The row id of the rows that have a key.
    keyed_id: &'static str,
    rows: paginate::Rows,
    query: &'a ListQuery,
}

impl<'a> RankedWalk<'a> {
    fn by_rank(set: DeveloperSet, query: &'a ListQuery) -> Option<Self> {
        let key = query.ordering.field_name();
        matches!(key, "rank" | "rank_score").then(|| Self {
            source: RANKED,
            key,
            keyed_id: "rank_id",
            rows: set.scope().into(),
            query,
        })
    }

    fn of_few_ranks(set: DeveloperSet, query: &'a ListQuery) -> Option<Self> {
        let (low, high) = query.integer_bounds("rank");
        let few = high.is_some_and(|high| {
            // Ranks start at 1.
            high.saturating_sub(low.unwrap_or(1).max(1)) < RANK_DRIVEN_SPAN
        });
        few.then(|| Self {
            source: RANK_DRIVEN,
            key: query.ordering.field_name(),
            keyed_id: "id",
            rows: set.scope().into(),
            query,
        })
    }
}

impl paginate::Walk for RankedWalk<'_> {
    fn rows(&self, segment: &Segment, limit: u64, offset: u64) -> Sql {
        let id = if segment.nulls { "id" } else { self.keyed_id };
        filter::segment_sql_on(
            Shown {
                table: RANKED,
                columns: "t.*",
            },
            self.source,
            self.rows,
            self.query,
            Walked { key: self.key, id },
            segment,
            limit,
            offset,
        )
    }

    fn count(&self, segment: &Segment) -> Sql {
        filter::segment_count_sql(self.source, self.rows, self.query, segment)
    }
}

/// A follow sub-collection's edges: the owner, the edge column fixed to it (and that
/// condition on the edge table `t`), the edge column listed, the listed side's creation
/// date on the edge, the owner's stored count. Identifiers come from here, never from input.
#[derive(Clone, Copy, Debug)]
struct FollowEdges {
    owner: Uuid,
    fixed: &'static str,
    condition: &'static str,
    listed: &'static str,
    created_at: &'static str,
    stored: &'static str,
}

/// A follow sub-collection in `created_at` order, walked on the edge table's
/// `(fixed, created_at, listed)` index and joined to the developers it lists.
struct EdgeWalk<'a> {
    edges: FollowEdges,
    query: &'a ListQuery,
}

impl paginate::Walk for EdgeWalk<'_> {
    fn rows(&self, segment: &Segment, limit: u64, offset: u64) -> Sql {
        let FollowEdges {
            listed, created_at, ..
        } = self.edges;
        filter::segment_sql_on(
            Shown {
                table: RANKED,
                columns: "t.*",
            },
            "follows",
            Rows::Of(self.edges.condition, self.edges.owner),
            self.query,
            Walked {
                key: created_at,
                id: listed,
            },
            segment,
            limit,
            offset,
        )
    }

    fn count(&self, segment: &Segment) -> Sql {
        let null = if segment.nulls {
            "IS NULL"
        } else {
            "IS NOT NULL"
        };
        diesel::sql_query(format!(
            "SELECT count(*) AS total_count FROM follows WHERE {} = $1 AND {} {null}",
            self.edges.fixed, self.edges.created_at
        ))
        .into_boxed()
        .bind::<diesel::sql_types::Uuid, _>(self.edges.owner)
    }
}

#[derive(QueryableByName)]
struct StoredCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total_count: i64,
}

/// One developer by id.
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<DeveloperRecord>, DbError> {
    Ok(
        diesel::sql_query(format!("SELECT t.* FROM {RANKED} t WHERE t.id = $1"))
            .bind::<diesel::sql_types::Uuid, _>(id)
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// The stored developers with these GitHub ids: (id, login), in no particular order.
pub async fn by_github_ids(
    conn: &mut AsyncPgConnection,
    github_ids: &[i64],
) -> Result<Vec<(Uuid, String)>, DbError> {
    Ok(developers::table
        .filter(developers::github_id.eq_any(github_ids))
        .select((developers::id, developers::login))
        .load(conn)
        .await?)
}

/// The logins of these developers, in the order of `ids` (an unknown id gives `""`).
pub async fn logins(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<String>, DbError> {
    let found: HashMap<Uuid, String> = developers::table
        .filter(developers::id.eq_any(ids))
        .select((developers::id, developers::login))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    Ok(ids
        .iter()
        .map(|id| found.get(id).cloned().unwrap_or_default())
        .collect())
}
