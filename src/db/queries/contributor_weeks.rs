//! Queries on `contributor_weeks`: GitHub's weekly commit and line figures per author.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::schema::contributor_weeks;

/// One author's week in one repository.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = contributor_weeks)]
pub struct NewContributorWeek<'a> {
    pub repository_id: Uuid,
    pub author_github_id: i64,
    pub developer_id: Option<Uuid>,
    pub login: &'a str,
    pub author_type: Option<&'a str>,
    pub week: DateTime<Utc>,
    pub commits: i32,
    pub additions: i32,
    pub deletions: i32,
}

/// Replaces a repository's figures with GitHub's latest, in one transaction: a reader sees
/// the old figures or the new ones, never a mix.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
    rows: &[NewContributorWeek<'_>],
) -> Result<(), DbError> {
    conn.transaction::<_, DbError, _>(async |conn| {
        diesel::delete(
            contributor_weeks::table.filter(contributor_weeks::repository_id.eq(repository_id)),
        )
        .execute(conn)
        .await?;
        // PostgreSQL binds at most 65535 parameters: 9 per row.
        for chunk in rows.chunks(5_000) {
            diesel::insert_into(contributor_weeks::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        Ok(())
    })
    .await
}
