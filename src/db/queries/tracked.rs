//! Queries on `tracked_repositories` and `tracked_organizations`: what repository
//! activity follows, and where each sync of it stands.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page};
use crate::db::schema::{tracked_organizations, tracked_repositories};

/// A tracked repository.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = tracked_repositories)]
pub struct TrackedRepository {
    pub id: Uuid,
    pub full_name: String,
    pub repository_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub activity_synced_at: Option<DateTime<Utc>>,
    pub timeline_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub issues_watermark: Option<DateTime<Utc>>,
    pub commits_watermark: Option<DateTime<Utc>>,
    /// When GitHub last answered that access to it is blocked (451, or 403 "Repository
    /// access blocked"); cleared by a task posted by hand for it and by a successful sync.
    pub blocked_at: Option<DateTime<Utc>>,
}

/// How long the scheduled jobs leave a repository alone after GitHub blocked access to it.
pub const BLOCK_PAUSE: chrono::TimeDelta = chrono::TimeDelta::hours(24);

impl TrackedRepository {
    /// Until when the scheduled jobs leave it alone, if GitHub blocked it less than
    /// [`BLOCK_PAUSE`] before `now`.
    pub fn blocked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.blocked_at
            .map(|at| at + BLOCK_PAUSE)
            .filter(|until| *until > now)
    }
}

/// A tracked organization.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = tracked_organizations)]
pub struct TrackedOrganization {
    pub id: Uuid,
    pub login: String,
    pub created_at: DateTime<Utc>,
    pub members_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Filterable and orderable fields of tracked-repository lists.
pub const REPOSITORY_FIELDS: &[Field] = &[
    Field::new("full_name", Kind::Text),
    Field::new("created_at", Kind::Timestamp),
    Field::new("activity_synced_at", Kind::Timestamp),
    Field::new("timeline_synced_at", Kind::Timestamp),
    Field::new("last_error", Kind::Text),
    Field::new("blocked_at", Kind::Timestamp),
];

/// Filterable and orderable fields of tracked-organization lists.
pub const ORGANIZATION_FIELDS: &[Field] = &[
    Field::new("login", Kind::Text),
    Field::new("created_at", Kind::Timestamp),
    Field::new("members_synced_at", Kind::Timestamp),
    Field::new("last_error", Kind::Text),
];

/// One of the two kinds of tracked rows: a repository or an organization, each known by
/// a unique key (case-insensitive).
pub trait Tracked: QueryableByName<diesel::pg::Pg> + Send + 'static {
    /// Its table.
    const TABLE: &'static str;
    /// The column naming it on GitHub: `full_name` or `login`.
    const KEY: &'static str;
}

impl Tracked for TrackedRepository {
    const TABLE: &'static str = "tracked_repositories";
    const KEY: &'static str = "full_name";
}

impl Tracked for TrackedOrganization {
    const TABLE: &'static str = "tracked_organizations";
    const KEY: &'static str = "login";
}

/// Tracks `owner/name` unless it is tracked already (names compare case-insensitively);
/// returns the row and whether it is new.
pub async fn track_repository(
    conn: &mut AsyncPgConnection,
    full_name: &str,
    organization_id: Option<Uuid>,
) -> Result<(TrackedRepository, bool), DbError> {
    let inserted = diesel::sql_query(
        "INSERT INTO tracked_repositories (full_name, organization_id) VALUES ($1, $2)
         ON CONFLICT (lower(full_name)) DO NOTHING RETURNING *",
    )
    .bind::<Text, _>(full_name)
    .bind::<Nullable<SqlUuid>, _>(organization_id)
    .get_result(conn)
    .await
    .optional()?;
    inserted_or_existing(conn, inserted, full_name).await
}

/// Tracks an organization unless it is tracked already; returns the row and whether it is new.
pub async fn track_organization(
    conn: &mut AsyncPgConnection,
    login: &str,
) -> Result<(TrackedOrganization, bool), DbError> {
    let inserted = diesel::sql_query(
        "INSERT INTO tracked_organizations (login) VALUES ($1)
         ON CONFLICT (lower(login)) DO NOTHING RETURNING *",
    )
    .bind::<Text, _>(login)
    .get_result(conn)
    .await
    .optional()?;
    inserted_or_existing(conn, inserted, login).await
}

/// The row an insert made (new), else the one tracked already under `key`.
async fn inserted_or_existing<T: Tracked>(
    conn: &mut AsyncPgConnection,
    inserted: Option<T>,
    key: &str,
) -> Result<(T, bool), DbError> {
    if let Some(row) = inserted {
        return Ok((row, true));
    }
    let existing = find::<T>(conn, key)
        .await?
        .ok_or_else(|| DbError::Inconsistent(format!("{key} is neither tracked nor trackable")))?;
    Ok((existing, false))
}

/// The tracked row known on GitHub as `key` (case-insensitive).
pub async fn find<T: Tracked>(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> Result<Option<T>, DbError> {
    // Table and column from the trait's constants, never from input.
    Ok(diesel::sql_query(format!(
        "SELECT * FROM {} WHERE lower({}) = lower($1)",
        T::TABLE,
        T::KEY
    ))
    .bind::<Text, _>(key)
    .get_result(conn)
    .await
    .optional()?)
}

/// One tracked row by id.
pub async fn get<T: Tracked>(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<T>, DbError> {
    Ok(
        diesel::sql_query(format!("SELECT * FROM {} WHERE id = $1", T::TABLE))
            .bind::<SqlUuid, _>(id)
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// Stops tracking (what was gathered stays); false when it was not tracked.
pub async fn untrack<T: Tracked>(conn: &mut AsyncPgConnection, id: Uuid) -> Result<bool, DbError> {
    let deleted = diesel::sql_query(format!("DELETE FROM {} WHERE id = $1", T::TABLE))
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}

/// One page of tracked rows.
pub async fn list<T: Tracked>(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> Result<Page<T>, DbError> {
    paginate::load(conn, T::TABLE, None, query).await
}

/// The tracked repository of a stored repository, if it is tracked.
pub async fn find_by_repository(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
) -> Result<Option<TrackedRepository>, DbError> {
    Ok(tracked_repositories::table
        .filter(tracked_repositories::repository_id.eq(repository_id))
        .select(TrackedRepository::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The tracked repository a webhook delivery is about: the one tracked under any of
/// `names` (its name now, and before a rename or transfer the delivery announces; compared
/// case-insensitively), or the one whose stored repository has GitHub id `github_id`.
pub async fn find_for_delivery(
    conn: &mut AsyncPgConnection,
    github_id: i64,
    names: &[&str],
) -> Result<Option<TrackedRepository>, DbError> {
    let names: Vec<String> = names.iter().map(|name| name.to_lowercase()).collect();
    Ok(diesel::sql_query(
        "SELECT * FROM tracked_repositories
         WHERE lower(full_name) = ANY($1)
            OR repository_id IN (SELECT id FROM repositories WHERE github_id = $2)
         ORDER BY coalesce(repository_id IN
                      (SELECT id FROM repositories WHERE github_id = $2), false) DESC,
                  created_at, id
         LIMIT 1",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(&names)
    .bind::<diesel::sql_types::BigInt, _>(github_id)
    .get_result(conn)
    .await
    .optional()?)
}

/// The `owner/name` of every tracked repository the scheduled jobs work on, oldest tracked
/// first: all but those GitHub blocked less than [`BLOCK_PAUSE`] ago.
pub async fn scheduled_repository_names(
    conn: &mut AsyncPgConnection,
) -> Result<Vec<String>, DbError> {
    let blocked_since = Utc::now() - BLOCK_PAUSE;
    Ok(tracked_repositories::table
        .filter(
            tracked_repositories::blocked_at
                .is_null()
                .or(tracked_repositories::blocked_at.le(blocked_since)),
        )
        .order((tracked_repositories::created_at, tracked_repositories::id))
        .select(tracked_repositories::full_name)
        .load(conn)
        .await?)
}

/// Where the repository is on GitHub now (it may have been renamed or transferred): the
/// tracked row and the activity stored under the old name follow, in one transaction.
pub async fn resolve_repository(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    full_name: &str,
    repository_id: Uuid,
) -> Result<(), DbError> {
    conn.transaction::<_, DbError, _>(async |conn| {
        diesel::update(tracked_repositories::table.find(id))
            .set((
                tracked_repositories::full_name.eq(full_name),
                tracked_repositories::repository_id.eq(repository_id),
            ))
            .execute(conn)
            .await?;
        for table in ["issues", "commits", "releases"] {
            // Table names from the list above, never from input.
            diesel::sql_query(format!(
                "UPDATE {table} SET full_name = $1 WHERE repository_id = $2 AND full_name <> $1"
            ))
            .bind::<Text, _>(full_name)
            .bind::<SqlUuid, _>(repository_id)
            .execute(conn)
            .await?;
        }
        Ok(())
    })
    .await
}

/// The issue watermark after a complete walk: never moves back.
pub async fn advance_issues_watermark(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    watermark: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE tracked_repositories
         SET issues_watermark = GREATEST(issues_watermark, $2) WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<diesel::sql_types::Timestamptz, _>(watermark)
    .execute(conn)
    .await?;
    Ok(())
}

/// The commit watermark after a complete walk: never moves back.
pub async fn advance_commits_watermark(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    watermark: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE tracked_repositories
         SET commits_watermark = GREATEST(commits_watermark, $2) WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<diesel::sql_types::Timestamptz, _>(watermark)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a completed activity sync (and clears the last error and any block).
pub async fn mark_activity_synced(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), DbError> {
    diesel::update(tracked_repositories::table.find(id))
        .set((
            tracked_repositories::activity_synced_at.eq(diesel::dsl::now),
            tracked_repositories::last_error.eq(None::<String>),
            tracked_repositories::blocked_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a completed timeline sync.
pub async fn mark_timeline_synced(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), DbError> {
    diesel::update(tracked_repositories::table.find(id))
        .set(tracked_repositories::timeline_synced_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records why the last sync of a tracked repository failed.
pub async fn record_repository_error(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    error: &str,
) -> Result<(), DbError> {
    diesel::update(tracked_repositories::table.find(id))
        .set(tracked_repositories::last_error.eq(error))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that GitHub blocks access to a tracked repository (`error` says how), now.
pub async fn record_block(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    error: &str,
) -> Result<(), DbError> {
    diesel::update(tracked_repositories::table.find(id))
        .set((
            tracked_repositories::last_error.eq(error),
            tracked_repositories::blocked_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Lifts the block of the tracked repository known as `owner/name` (case-insensitive), so
/// that jobs work on it again; false when it was not blocked (or is not tracked).
pub async fn lift_block(conn: &mut AsyncPgConnection, full_name: &str) -> Result<bool, DbError> {
    let lifted = diesel::sql_query(
        "UPDATE tracked_repositories SET blocked_at = NULL
         WHERE lower(full_name) = lower($1) AND blocked_at IS NOT NULL",
    )
    .bind::<Text, _>(full_name)
    .execute(conn)
    .await?;
    Ok(lifted > 0)
}

/// Every tracked organization's login.
pub async fn organization_logins(conn: &mut AsyncPgConnection) -> Result<Vec<String>, DbError> {
    Ok(tracked_organizations::table
        .order((tracked_organizations::created_at, tracked_organizations::id))
        .select(tracked_organizations::login)
        .load(conn)
        .await?)
}

/// Records a completed members sync (`error` None) or why it failed.
pub async fn record_members_sync(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    error: Option<&str>,
) -> Result<(), DbError> {
    let update = diesel::update(tracked_organizations::table.find(id));
    match error {
        None => {
            update
                .set((
                    tracked_organizations::members_synced_at.eq(diesel::dsl::now),
                    tracked_organizations::last_error.eq(None::<String>),
                ))
                .execute(conn)
                .await?
        }
        Some(error) => {
            update
                .set(tracked_organizations::last_error.eq(error))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

/// Tracked repositories, oldest tracked first, at most `limit`.
pub async fn some_repositories(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<TrackedRepository>, DbError> {
    Ok(tracked_repositories::table
        .order((tracked_repositories::created_at, tracked_repositories::id))
        .limit(limit)
        .select(TrackedRepository::as_select())
        .load(conn)
        .await?)
}

/// The first `limit` tracked organizations, oldest tracked first (the dashboard's table).
pub async fn some_organizations(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<TrackedOrganization>, DbError> {
    Ok(tracked_organizations::table
        .order((tracked_organizations::created_at, tracked_organizations::id))
        .limit(limit)
        .select(TrackedOrganization::as_select())
        .load(conn)
        .await?)
}
