//! Queries on `commits`: commits of tracked repositories, stored once per sha.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::schema::commits;

/// A commit as GitHub lists it.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = commits)]
pub struct NewCommit<'a> {
    pub repository_id: Uuid,
    pub full_name: &'a str,
    pub sha: &'a str,
    pub author_id: Option<Uuid>,
    pub author_login: Option<&'a str>,
    pub author_type: Option<&'a str>,
    pub author_name: Option<&'a str>,
    pub authored_at: Option<DateTime<Utc>>,
    pub committed_at: Option<DateTime<Utc>>,
    pub message: &'a str,
}

/// Upserts commits by (repository, sha); a linked account found later is kept. What a
/// payload does not say (a push delivery's commit names no account id, no type and no
/// committer date) keeps its stored value: one from a walk is never erased.
pub async fn upsert(conn: &mut AsyncPgConnection, rows: &[NewCommit<'_>]) -> Result<(), DbError> {
    let rows = crate::db::upsert_rows(rows, |r| (r.repository_id, r.sha));
    if rows.is_empty() {
        return Ok(());
    }
    use commits::dsl as c;
    use diesel::dsl::sql;
    use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
    let kept = |column: &str| format!("coalesce(excluded.{column}, commits.{column})");
    diesel::insert_into(commits::table)
        .values(rows)
        .on_conflict((c::repository_id, c::sha))
        .do_update()
        .set((
            c::full_name.eq(excluded(c::full_name)),
            c::author_id.eq(sql::<Nullable<SqlUuid>>(&kept("author_id"))),
            c::author_login.eq(sql::<Nullable<Text>>(&kept("author_login"))),
            c::author_type.eq(sql::<Nullable<Text>>(&kept("author_type"))),
            c::author_name.eq(sql::<Nullable<Text>>(&kept("author_name"))),
            c::authored_at.eq(sql::<Nullable<Timestamptz>>(&kept("authored_at"))),
            c::committed_at.eq(sql::<Nullable<Timestamptz>>(&kept("committed_at"))),
            c::message.eq(excluded(c::message)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Read side: commits as the API shows them
// ---------------------------------------------------------------------------

use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page, Rows};

/// A stored commit.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = commits)]
pub struct CommitRecord {
    pub id: Uuid,
    pub repository_id: Uuid,
    pub full_name: String,
    pub sha: String,
    pub author_id: Option<Uuid>,
    pub author_login: Option<String>,
    pub author_name: Option<String>,
    pub authored_at: Option<DateTime<Utc>>,
    pub committed_at: Option<DateTime<Utc>>,
    pub message: String,
}

/// Filterable and orderable fields of commit lists.
pub const FIELDS: &[Field] = &[
    Field::new("sha", Kind::Text),
    Field::new("author_login", Kind::Text),
    Field::new("author_name", Kind::Text),
    Field::new("full_name", Kind::Text),
    Field::new("authored_at", Kind::Timestamp),
    Field::new("committed_at", Kind::Timestamp),
];

/// One page of commits: of every repository, or of one.
pub async fn list(
    conn: &mut AsyncPgConnection,
    repository_id: Option<Uuid>,
    query: &ListQuery,
) -> Result<Page<CommitRecord>, DbError> {
    let rows = match repository_id {
        Some(id) => Rows::Of("t.repository_id = $1", id),
        None => Rows::All,
    };
    paginate::load_rows(conn, "commits", "t.*", rows, query).await
}

/// One commit by id.
pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<CommitRecord>, DbError> {
    Ok(commits::table
        .find(id)
        .select(CommitRecord::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The latest commit date stored for a repository (the commit walk's watermark).
pub async fn latest_commit(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(commits::table
        .filter(commits::repository_id.eq(repository_id))
        .select(diesel::dsl::max(commits::committed_at))
        .first(conn)
        .await?)
}
