//! Relation sets (follows, stars, ownership), replaced whole once read completely.

use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;

/// A relation of one developer or repository to a set of others, by GitHub id.
#[derive(Clone, Copy, Debug)]
pub enum Relation {
    /// Developers following the developer.
    Followers,
    /// Developers the developer follows.
    Following,
    /// Repositories the developer starred.
    Starred,
    /// Developers who starred the repository.
    Stargazers,
}

impl Relation {
    /// (edge table, column of the fixed side, column of the listed side, table of the listed side)
    fn shape(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Relation::Followers => ("follows", "followee_id", "follower_id", "developers"),
            Relation::Following => ("follows", "follower_id", "followee_id", "developers"),
            Relation::Starred => ("stars", "developer_id", "repository_id", "repositories"),
            Relation::Stargazers => ("stars", "repository_id", "developer_id", "developers"),
        }
    }
}

/// Makes the relation of `owner` exactly the rows with these GitHub ids: edges no longer
/// listed (an unfollow, an unstar) are deleted, new ones inserted. Run it in the
/// transaction of the relation's last page.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    relation: Relation,
    owner: Uuid,
    github_ids: &[i64],
) -> Result<(), DbError> {
    let (table, fixed, listed, listed_table) = relation.shape();
    // Identifiers come from the match above, never from input.
    diesel::sql_query(format!(
        "DELETE FROM {table} WHERE {fixed} = $1 AND {listed} NOT IN
             (SELECT id FROM {listed_table} WHERE github_id = ANY($2))"
    ))
    .bind::<SqlUuid, _>(owner)
    .bind::<Array<BigInt>, _>(github_ids)
    .execute(conn)
    .await?;
    diesel::sql_query(format!(
        "INSERT INTO {table} ({fixed}, {listed})
         SELECT $1, id FROM {listed_table} WHERE github_id = ANY($2)
         ON CONFLICT DO NOTHING"
    ))
    .bind::<SqlUuid, _>(owner)
    .bind::<Array<BigInt>, _>(github_ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds (`starred`) or removes one star of a developer on a repository, as a webhook
/// delivery announces it.
pub async fn set_star(
    conn: &mut AsyncPgConnection,
    developer_id: Uuid,
    repository_id: Uuid,
    starred: bool,
) -> Result<(), DbError> {
    let sql = if starred {
        "INSERT INTO stars (developer_id, repository_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM stars WHERE developer_id = $1 AND repository_id = $2"
    };
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(developer_id)
        .bind::<SqlUuid, _>(repository_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the developer's repositories that its repository list no longer shows as gone
/// (deleted or made private); a transferred one is re-owned by its next upsert.
pub async fn retire_unlisted_repositories(
    conn: &mut AsyncPgConnection,
    owner: Uuid,
    github_ids: &[i64],
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE repositories SET gone_at = now()
         WHERE owner_id = $1 AND gone_at IS NULL AND NOT (github_id = ANY($2))",
    )
    .bind::<SqlUuid, _>(owner)
    .bind::<Array<BigInt>, _>(github_ids)
    .execute(conn)
    .await?;
    Ok(())
}
