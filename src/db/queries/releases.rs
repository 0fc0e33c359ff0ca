//! Queries on `releases`: releases of tracked repositories, upserted by GitHub id.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::schema::releases;

/// A release as GitHub lists it.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = releases)]
pub struct NewRelease<'a> {
    pub github_id: i64,
    pub repository_id: Uuid,
    pub full_name: &'a str,
    pub tag_name: &'a str,
    pub name: Option<&'a str>,
    pub author_id: Option<Uuid>,
    pub author_login: Option<&'a str>,
    pub author_type: Option<&'a str>,
    pub draft: bool,
    pub prerelease: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub html_url: Option<&'a str>,
}

/// Upserts releases by GitHub id.
pub async fn upsert(conn: &mut AsyncPgConnection, rows: &[NewRelease<'_>]) -> Result<(), DbError> {
    let rows = crate::db::upsert_rows(rows, |r| r.github_id);
    if rows.is_empty() {
        return Ok(());
    }
    use releases::dsl as r;
    diesel::insert_into(releases::table)
        .values(rows)
        .on_conflict(r::github_id)
        .do_update()
        .set((
            r::repository_id.eq(excluded(r::repository_id)),
            r::full_name.eq(excluded(r::full_name)),
            r::tag_name.eq(excluded(r::tag_name)),
            r::name.eq(excluded(r::name)),
            r::author_id.eq(excluded(r::author_id)),
            r::author_login.eq(excluded(r::author_login)),
            r::author_type.eq(excluded(r::author_type)),
            r::draft.eq(excluded(r::draft)),
            r::prerelease.eq(excluded(r::prerelease)),
            r::created_at.eq(excluded(r::created_at)),
            r::published_at.eq(excluded(r::published_at)),
            r::html_url.eq(excluded(r::html_url)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a release GitHub deleted; false when it was not stored.
pub async fn remove(conn: &mut AsyncPgConnection, github_id: i64) -> Result<bool, DbError> {
    let removed = diesel::delete(releases::table.filter(releases::github_id.eq(github_id)))
        .execute(conn)
        .await?;
    Ok(removed > 0)
}

// ---------------------------------------------------------------------------
// Read side: releases as the API shows them
// ---------------------------------------------------------------------------

use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page, Rows};

/// A stored release.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = releases)]
pub struct ReleaseRecord {
    pub id: Uuid,
    pub github_id: i64,
    pub repository_id: Uuid,
    pub full_name: String,
    pub tag_name: String,
    pub name: Option<String>,
    pub author_id: Option<Uuid>,
    pub author_login: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub html_url: Option<String>,
}

/// Filterable and orderable fields of release lists.
pub const FIELDS: &[Field] = &[
    Field::new("tag_name", Kind::Text),
    Field::new("name", Kind::Text),
    Field::new("author_login", Kind::Text),
    Field::new("full_name", Kind::Text),
    Field::new("draft", Kind::Boolean),
    Field::new("prerelease", Kind::Boolean),
    Field::new("created_at", Kind::Timestamp),
    Field::new("published_at", Kind::Timestamp),
];

/// One page of releases: of every repository, or of one.
pub async fn list(
    conn: &mut AsyncPgConnection,
    repository_id: Option<Uuid>,
    query: &ListQuery,
) -> Result<Page<ReleaseRecord>, DbError> {
    let rows = match repository_id {
        Some(id) => Rows::Of("t.repository_id = $1", id),
        None => Rows::All,
    };
    paginate::load_rows(conn, "releases", "t.*", rows, query).await
}

/// One release by id.
pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<ReleaseRecord>, DbError> {
    Ok(releases::table
        .find(id)
        .select(ReleaseRecord::as_select())
        .first(conn)
        .await
        .optional()?)
}
