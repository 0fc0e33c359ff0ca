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

/// Upserts commits by (repository, sha); a linked account found later is kept.
pub async fn upsert(conn: &mut AsyncPgConnection, rows: &[NewCommit<'_>]) -> Result<(), DbError> {
    let rows = crate::db::upsert_rows(rows, |r| (r.repository_id, r.sha));
    if rows.is_empty() {
        return Ok(());
    }
    use commits::dsl as c;
    diesel::insert_into(commits::table)
        .values(rows)
        .on_conflict((c::repository_id, c::sha))
        .do_update()
        .set((
            c::full_name.eq(excluded(c::full_name)),
            c::author_id.eq(excluded(c::author_id)),
            c::author_login.eq(excluded(c::author_login)),
            c::author_type.eq(excluded(c::author_type)),
            c::author_name.eq(excluded(c::author_name)),
            c::message.eq(excluded(c::message)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
