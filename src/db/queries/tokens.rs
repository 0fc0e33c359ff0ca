//! Queries on `api_tokens`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::schema::api_tokens;

/// Stores a new token under a name; returns its id.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    name: &str,
    token_hash: &str,
) -> Result<Uuid, DbError> {
    let id = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(token_hash),
        ))
        .returning(api_tokens::id)
        .get_result(conn)
        .await?;
    Ok(id)
}

/// Finds the token with this hash and records its use; `None` when no token matches.
///
/// The lookup is an index equality on the SHA-256 of the presented token, so timing
/// reveals nothing about stored secrets.
pub async fn touch_by_hash(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> Result<Option<Uuid>, DbError> {
    let now: DateTime<Utc> = Utc::now();
    let id = diesel::update(api_tokens::table.filter(api_tokens::token_hash.eq(token_hash)))
        .set(api_tokens::last_used_at.eq(now))
        .returning(api_tokens::id)
        .get_result(conn)
        .await
        .optional()?;
    Ok(id)
}
