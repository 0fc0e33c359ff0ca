//! Queries on `rate_limits`: the GitHub quota ledger, one row per identity and resource.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page};
use crate::db::schema::rate_limits;

/// A stored rate-limit row.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = rate_limits)]
pub struct RateLimitRow {
    /// Row id, as in `/github/rate_limit/{id}/`.
    pub id: i64,
    /// `anonymous` or `token:<8 hex>`.
    pub identity: String,
    /// GitHub's resource name: core, search, graphql...
    pub resource: String,
    /// Requests per window.
    pub rate_limit: i32,
    /// Requests left in the window, as last reported by GitHub.
    pub rate_remaining: i32,
    /// Requests used in the window.
    pub rate_used: i32,
    /// When the window resets.
    pub rate_reset: DateTime<Utc>,
    /// Requests sent whose response is still awaited.
    pub rate_reserved: i32,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// Quota figures read from GitHub (`x-ratelimit-*` headers or `GET /rate_limit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// GitHub's resource name.
    pub resource: String,
    /// Requests per window.
    pub limit: i32,
    /// Requests left.
    pub remaining: i32,
    /// Requests used.
    pub used: i32,
    /// Window reset time.
    pub reset: DateTime<Utc>,
}

/// Records what GitHub reported — a response's headers or a `GET /rate_limit` reading —
/// releasing `release` units reserved for the answered request (one statement: the row is
/// written once per request; 0 for a reading nobody reserved).
///
/// Within one window the remaining count only goes down, so the lowest figure seen wins:
/// responses of concurrent requests arrive out of order, and a `GET /rate_limit` reading
/// may have been taken before requests that were already recorded. Reservations of the
/// window are kept, since requests other workers sent may not be counted by GitHub yet. A
/// later reset time starts a new window and replaces the row, dropping reservations of the
/// old window.
pub async fn record(
    conn: &mut AsyncPgConnection,
    identity: &str,
    observed: &Observed,
    release: i32,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO rate_limits (identity, resource, rate_limit, rate_remaining, rate_used, rate_reset)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (identity, resource) DO UPDATE SET
           rate_limit = excluded.rate_limit,
           rate_remaining = CASE WHEN excluded.rate_reset > rate_limits.rate_reset
                                 THEN excluded.rate_remaining
                                 ELSE LEAST(rate_limits.rate_remaining, excluded.rate_remaining) END,
           rate_used = CASE WHEN excluded.rate_reset > rate_limits.rate_reset
                            THEN excluded.rate_used
                            ELSE GREATEST(rate_limits.rate_used, excluded.rate_used) END,
           rate_reserved = CASE WHEN excluded.rate_reset > rate_limits.rate_reset
                                THEN 0 ELSE GREATEST(rate_limits.rate_reserved - $7, 0) END,
           rate_reset = GREATEST(rate_limits.rate_reset, excluded.rate_reset),
           updated_at = now()",
    )
    .bind::<Text, _>(identity)
    .bind::<Text, _>(&observed.resource)
    .bind::<Int4, _>(observed.limit)
    .bind::<Int4, _>(observed.remaining)
    .bind::<Int4, _>(observed.used)
    .bind::<Timestamptz, _>(observed.reset)
    .bind::<Int4, _>(release)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every row, by identity and resource.
pub async fn all(conn: &mut AsyncPgConnection) -> Result<Vec<RateLimitRow>, DbError> {
    Ok(rate_limits::table
        .order((rate_limits::identity, rate_limits::resource))
        .select(RateLimitRow::as_select())
        .load(conn)
        .await?)
}

/// The row of one identity and resource.
pub async fn find(
    conn: &mut AsyncPgConnection,
    identity: &str,
    resource: &str,
) -> Result<Option<RateLimitRow>, DbError> {
    let row = rate_limits::table
        .filter(rate_limits::identity.eq(identity))
        .filter(rate_limits::resource.eq(resource))
        .select(RateLimitRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row)
}

/// The rows of these identities for one resource.
pub async fn find_all(
    conn: &mut AsyncPgConnection,
    identities: &[String],
    resource: &str,
) -> Result<Vec<RateLimitRow>, DbError> {
    Ok(rate_limits::table
        .filter(rate_limits::identity.eq_any(identities))
        .filter(rate_limits::resource.eq(resource))
        .order(rate_limits::identity)
        .select(RateLimitRow::as_select())
        .load(conn)
        .await?)
}

/// Atomically reserves `cost` units of the current window of `resource` on the identity of
/// the pool with the most quota left, if that keeps its remaining quota at or above
/// `reserve`. Returns that identity's row after the reservation, or `None` when no identity
/// has a current reading with that much room (missing rows and passed windows included) or
/// every identity that has is paused by a secondary rate limit (`rate_limit_pauses`).
///
/// The candidate row is locked, and the condition is checked again on the locked row, so
/// concurrent reservations (other workers, other processes) never overdraw an identity.
pub async fn try_reserve(
    conn: &mut AsyncPgConnection,
    identities: &[String],
    resource: &str,
    reserve: i32,
    cost: i32,
) -> Result<Option<RateLimitRow>, DbError> {
    let row = diesel::sql_query(
        "UPDATE rate_limits SET rate_reserved = rate_reserved + $4, updated_at = now()
         WHERE id = (
             SELECT id FROM rate_limits
             WHERE identity = ANY($1) AND resource = $2 AND rate_reset > now()
               AND rate_remaining - rate_reserved - $4 >= $3
               AND NOT EXISTS (SELECT 1 FROM rate_limit_pauses p
                               WHERE p.identity = rate_limits.identity AND p.paused_until > now())
             ORDER BY rate_remaining - rate_reserved DESC, identity
             LIMIT 1
             FOR UPDATE)
           AND rate_reset > now()
           AND rate_remaining - rate_reserved - $4 >= $3
         RETURNING *",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(identities)
    .bind::<Text, _>(resource)
    .bind::<Int4, _>(reserve)
    .bind::<Int4, _>(cost)
    .get_result::<RateLimitRow>(conn)
    .await
    .optional()?;
    Ok(row)
}

/// Releases `amount` reserved units once a response was read (or the request failed).
pub async fn release(
    conn: &mut AsyncPgConnection,
    identity: &str,
    resource: &str,
    amount: i32,
) -> Result<(), DbError> {
    diesel::update(
        rate_limits::table
            .filter(rate_limits::identity.eq(identity))
            .filter(rate_limits::resource.eq(resource))
            .filter(rate_limits::rate_reserved.gt(0)),
    )
    .set(
        rate_limits::rate_reserved.eq(diesel::dsl::sql::<Int4>("GREATEST(rate_reserved - ")
            .bind::<Int4, _>(amount)
            .sql(", 0)")),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Filterable and orderable fields of the rate-limit list.
pub const FIELDS: &[Field] = &[
    Field::new("identity", Kind::Text),
    Field::new("resource", Kind::Text),
    Field::new("rate_limit", Kind::Integer),
    Field::new("rate_remaining", Kind::Integer),
    Field::new("rate_used", Kind::Integer),
    Field::new("rate_reset", Kind::Timestamp),
    Field::new("updated_at", Kind::Timestamp),
];

/// One page of rate-limit rows.
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> Result<Page<RateLimitRow>, DbError> {
    paginate::load(conn, "rate_limits", None, query).await
}

/// One rate-limit row by id.
pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<RateLimitRow>, DbError> {
    Ok(rate_limits::table
        .find(id)
        .select(RateLimitRow::as_select())
        .first(conn)
        .await
        .optional()?)
}
