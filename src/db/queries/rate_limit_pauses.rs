//! Queries on `rate_limit_pauses`: identities GitHub's secondary rate limit has paused.
//!
//! A pause is shared by every worker process: [`super::rate_limits::try_reserve`] never
//! picks a paused identity, and the pool neither sends nor refreshes with one until
//! `paused_until`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int4, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
use crate::db::schema::rate_limit_pauses;

/// The wait when GitHub names none: at least a minute, as its documentation asks.
pub const FIRST_PAUSE_SECS: i32 = 60;
/// The longest pause a repeating limit doubles to.
pub const LONGEST_PAUSE_SECS: i32 = 3600;
/// A limit met again within this long after a pause ended counts as a repeat.
pub const REPEAT_WINDOW_SECS: i32 = 600;

/// A stored pause.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = rate_limit_pauses)]
pub struct Pause {
    /// `anonymous` or `token:<8 hex>`.
    pub identity: String,
    /// Nothing is sent with the identity before this.
    pub paused_until: DateTime<Utc>,
    /// Length of the last pause, in seconds.
    pub pause_seconds: i32,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// Records that `identity` met a secondary rate limit now, and returns the pause.
///
/// With `retry_after` (GitHub's `Retry-After`, seconds) the identity waits exactly that
/// long. Without it the wait is [`FIRST_PAUSE_SECS`], doubled (up to
/// [`LONGEST_PAUSE_SECS`]) when the limit repeats within [`REPEAT_WINDOW_SECS`] after the
/// previous pause ended. A request that was already in flight when the pause began and
/// meets the limit too (the pause is still running) neither doubles nor shortens it.
pub async fn pause(
    conn: &mut AsyncPgConnection,
    identity: &str,
    retry_after: Option<i32>,
) -> Result<Pause, DbError> {
    // The wait this refusal starts, from the previous row `p`: while a pause runs, a refusal
    // of a request already in flight waits only its own time (the longer of the two wins
    // below); after a pause, GitHub's wait, or the last pause doubled if it repeats soon.
    let wait = "CASE
            WHEN p.paused_until > now() OR $3 THEN excluded.pause_seconds
            WHEN p.paused_until > now() - $4 * interval '1 second'
                THEN LEAST(p.pause_seconds * 2, $5)
            ELSE excluded.pause_seconds END";
    let sql = format!(
        "INSERT INTO rate_limit_pauses AS p (identity, paused_until, pause_seconds)
         VALUES ($1, now() + $2 * interval '1 second', $2)
         ON CONFLICT (identity) DO UPDATE SET
           pause_seconds = CASE WHEN p.paused_until > now()
                                THEN GREATEST(p.pause_seconds, excluded.pause_seconds)
                                ELSE {wait} END,
           paused_until = GREATEST(p.paused_until, now() + ({wait}) * interval '1 second'),
           updated_at = now()
         RETURNING *"
    );
    let named = retry_after.is_some();
    let seconds = retry_after.unwrap_or(FIRST_PAUSE_SECS).max(1);
    Ok(diesel::sql_query(sql)
        .bind::<Text, _>(identity)
        .bind::<Int4, _>(seconds)
        .bind::<Bool, _>(named)
        .bind::<Int4, _>(REPEAT_WINDOW_SECS)
        .bind::<Int4, _>(LONGEST_PAUSE_SECS)
        .get_result(conn)
        .await?)
}

/// The pauses of these identities still running now, earliest end first.
pub async fn active(
    conn: &mut AsyncPgConnection,
    identities: &[String],
) -> Result<Vec<Pause>, DbError> {
    Ok(diesel::sql_query(
        "SELECT * FROM rate_limit_pauses
         WHERE identity = ANY($1) AND paused_until > now()
         ORDER BY paused_until, identity",
    )
    .bind::<Array<Text>, _>(identities)
    .load(conn)
    .await?)
}

/// When the pause of `identity` ends, if it is paused now.
pub async fn paused_until(
    conn: &mut AsyncPgConnection,
    identity: &str,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(rate_limit_pauses::table
        .filter(rate_limit_pauses::identity.eq(identity))
        .filter(rate_limit_pauses::paused_until.gt(diesel::dsl::now))
        .select(rate_limit_pauses::paused_until)
        .first::<DateTime<Utc>>(conn)
        .await
        .optional()?)
}

/// Sets a pause's end directly (tests and operators ending a pause early).
pub async fn set_until(
    conn: &mut AsyncPgConnection,
    identity: &str,
    until: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(rate_limit_pauses::table.filter(rate_limit_pauses::identity.eq(identity)))
        .set(rate_limit_pauses::paused_until.eq(until))
        .execute(conn)
        .await?;
    Ok(())
}
