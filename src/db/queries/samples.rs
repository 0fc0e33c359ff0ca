//! Queries on `samples`: the dashboard's history of the crawl and of the quota, one row a
//! minute, written by the leading scheduler ([`take`]) and read by the dashboard's charts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Interval, Jsonb, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::db::DbError;

/// How long samples are kept.
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The quota of one identity and resource at a sample's minute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaSample {
    /// `anonymous` or `token:<8 hex>`.
    pub identity: String,
    /// GitHub's resource name: core, search, graphql...
    pub resource: String,
    /// Requests (GraphQL: points) left in the window; the limit once its reset has passed.
    pub remaining: i64,
    /// Requests (points) per window.
    pub limit: i64,
}

/// One minute's sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The sample's minute.
    pub taken_at: DateTime<Utc>,
    /// Developers stored.
    pub developers: i64,
    /// Developers synced at least once.
    pub synced: i64,
    /// Developers discovery would pick: never synced, or synced longer ago than its
    /// freshness.
    pub frontier: i64,
    /// The rate-limit ledger, by identity and resource.
    pub quota: Vec<QuotaSample>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Timestamptz)]
    taken_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    developers: i64,
    #[diesel(sql_type = BigInt)]
    synced: i64,
    #[diesel(sql_type = BigInt)]
    frontier: i64,
    #[diesel(sql_type = Jsonb)]
    quota: serde_json::Value,
}

impl Row {
    fn into_sample(self) -> Result<Sample, DbError> {
        let quota = serde_json::from_value(self.quota).map_err(|error| {
            DbError::Inconsistent(format!(
                "samples.quota is not what gitomatic stores: {error}"
            ))
        })?;
        Ok(Sample {
            taken_at: self.taken_at,
            developers: self.developers,
            synced: self.synced,
            frontier: self.frontier,
            quota,
        })
    }
}

const COLUMNS: &str = "taken_at, developers, synced, frontier, quota";

/// What [`take`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    /// The sample written, or `None` when this minute had one already.
    pub sample: Option<Sample>,
    /// Samples older than the retention deleted.
    pub pruned: usize,
}

/// Samples the crawl and the ledger at the current minute, unless that minute has a sample
/// already (the key refuses a second), and deletes samples older than `retention`.
/// `fresh_for` is discovery's: a developer synced longer ago is in the frontier again.
pub async fn take(
    conn: &mut AsyncPgConnection,
    fresh_for: Duration,
    retention: Duration,
) -> Result<Taken, DbError> {
    let sample = diesel::sql_query(format!(
        "INSERT INTO samples ({COLUMNS})
         SELECT date_trunc('minute', now(), 'UTC'), d.developers, d.synced, d.frontier, q.quota
           FROM (SELECT count(*) AS developers,
                        count(last_synced_at) AS synced,
                        count(*) FILTER (WHERE last_synced_at IS NULL
                                            OR last_synced_at < now() - $1) AS frontier
                   FROM developers) d,
                (SELECT coalesce(jsonb_agg(jsonb_build_object(
                            'identity', identity,
                            'resource', resource,
                            'remaining', CASE WHEN rate_reset <= now() THEN rate_limit
                                              ELSE rate_remaining END,
                            'limit', rate_limit) ORDER BY identity, resource), '[]') AS quota
                   FROM rate_limits) q
         ON CONFLICT (taken_at) DO NOTHING
         RETURNING {COLUMNS}"
    ))
    .bind::<Interval, _>(interval(fresh_for))
    .get_result::<Row>(conn)
    .await
    .optional()?
    .map(Row::into_sample)
    .transpose()?;
    let pruned = diesel::sql_query("DELETE FROM samples WHERE taken_at < now() - $1")
        .bind::<Interval, _>(interval(retention))
        .execute(conn)
        .await?;
    Ok(Taken { sample, pruned })
}

fn interval(duration: Duration) -> diesel::pg::data_types::PgInterval {
    diesel::pg::data_types::PgInterval::from_microseconds(
        i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
    )
}

/// Every sample taken at or after `since`, oldest first.
pub async fn since(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
) -> Result<Vec<Sample>, DbError> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM samples WHERE taken_at >= $1 ORDER BY taken_at"
    ))
    .bind::<Timestamptz, _>(since)
    .load::<Row>(conn)
    .await?
    .into_iter()
    .map(Row::into_sample)
    .collect()
}

/// The latest sample of each `bucket` (`hour`, a `date_trunc` field) from `since` on,
/// oldest first: a week of samples as one point an hour.
pub async fn latest_per(
    conn: &mut AsyncPgConnection,
    bucket: &str,
    since: DateTime<Utc>,
) -> Result<Vec<Sample>, DbError> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM (
           SELECT DISTINCT ON (date_trunc($1, taken_at, 'UTC')) {COLUMNS}
             FROM samples WHERE taken_at >= $2
            ORDER BY date_trunc($1, taken_at, 'UTC'), taken_at DESC) latest
         ORDER BY taken_at"
    ))
    .bind::<Text, _>(bucket)
    .bind::<Timestamptz, _>(since)
    .load::<Row>(conn)
    .await?
    .into_iter()
    .map(Row::into_sample)
    .collect()
}

/// Stores a sample as given (tests and benchmarks seed history with it); a sample of a
/// minute that has one replaces it.
pub async fn insert(conn: &mut AsyncPgConnection, sample: &Sample) -> Result<(), DbError> {
    let quota = serde_json::to_value(&sample.quota).map_err(|error| {
        DbError::Query(diesel::result::Error::SerializationError(Box::new(error)))
    })?;
    diesel::sql_query(format!(
        "INSERT INTO samples ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (taken_at) DO UPDATE SET developers = excluded.developers,
           synced = excluded.synced, frontier = excluded.frontier, quota = excluded.quota"
    ))
    .bind::<Timestamptz, _>(sample.taken_at)
    .bind::<BigInt, _>(sample.developers)
    .bind::<BigInt, _>(sample.synced)
    .bind::<BigInt, _>(sample.frontier)
    .bind::<Jsonb, _>(quota)
    .execute(conn)
    .await?;
    Ok(())
}
