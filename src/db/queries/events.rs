//! Queries on `events`, `event_gaps` and `event_feeds`: GitHub's public events stored once by
//! GitHub id, the gaps polls detected, the state of each polled feed, and the metrics, all
//! computed in SQL over the indexed columns.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::DbError;
use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page, Rows};
use crate::db::schema::{event_feeds, event_gaps, events};

// ---------------------------------------------------------------------------
// Write side: the poller
// ---------------------------------------------------------------------------

/// An event as a feed delivered it.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent {
    pub github_id: i64,
    #[diesel(column_name = type_)]
    pub kind: String,
    pub action: Option<String>,
    pub actor_login: String,
    pub repository_name: String,
    pub org_login: Option<String>,
    pub created_at: DateTime<Utc>,
    pub payload: Value,
}

/// Stores events not stored yet (`ON CONFLICT (github_id) DO NOTHING`); returns how many
/// were new.
pub async fn insert(conn: &mut AsyncPgConnection, rows: &[NewEvent]) -> Result<usize, DbError> {
    let rows = crate::db::upsert_rows(rows, |row| row.github_id);
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(diesel::insert_into(events::table)
        .values(rows)
        .on_conflict(events::github_id)
        .do_nothing()
        .execute(conn)
        .await?)
}

/// The state of one polled feed.
#[derive(Clone, Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = event_feeds, primary_key(feed))]
#[diesel(treat_none_as_null = true)]
pub struct Feed {
    /// `events`, or `repos/owner/name/events`.
    pub feed: String,
    /// ETag of the first page.
    pub etag: Option<String>,
    /// No request for this feed before this time.
    pub next_poll_at: DateTime<Utc>,
    pub last_polled_at: Option<DateTime<Utc>>,
    /// The newest event the feed delivered: a poll stops when it reaches it.
    pub newest_github_id: Option<i64>,
    pub newest_created_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl Feed {
    /// A feed never polled.
    pub fn new(feed: &str) -> Self {
        Self {
            feed: feed.to_owned(),
            etag: None,
            next_poll_at: Utc::now(),
            last_polled_at: None,
            newest_github_id: None,
            newest_created_at: None,
            last_error: None,
        }
    }
}

/// The stored state of these feeds (feeds never polled have none).
pub async fn feeds(conn: &mut AsyncPgConnection, names: &[String]) -> Result<Vec<Feed>, DbError> {
    Ok(event_feeds::table
        .filter(event_feeds::feed.eq_any(names))
        .select(Feed::as_select())
        .load(conn)
        .await?)
}

/// Saves a feed's state after a poll.
pub async fn save_feed(conn: &mut AsyncPgConnection, feed: &Feed) -> Result<(), DbError> {
    diesel::insert_into(event_feeds::table)
        .values(feed)
        .on_conflict(event_feeds::feed)
        .do_update()
        .set(feed)
        .execute(conn)
        .await?;
    Ok(())
}

/// A gap a poll detected.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = event_gaps)]
pub struct NewGap<'a> {
    pub feed: &'a str,
    pub newest_stored_before: DateTime<Utc>,
    pub oldest_fetched: DateTime<Utc>,
    pub events_fetched: i32,
}

/// Records a gap.
pub async fn record_gap(conn: &mut AsyncPgConnection, gap: &NewGap<'_>) -> Result<(), DbError> {
    diesel::insert_into(event_gaps::table)
        .values(gap)
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Read side: events and gaps as the API shows them
// ---------------------------------------------------------------------------

/// A stored event.
#[derive(Clone, Debug, QueryableByName)]
pub struct EventRecord {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub github_id: i64,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub action: Option<String>,
    #[diesel(sql_type = Text)]
    pub actor_login: String,
    #[diesel(sql_type = Text)]
    pub repository_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub org_login: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub fetched_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub payload: Value,
}

/// The columns an [`EventRecord`] is read from (`t` is the event; `type` is renamed, as it
/// is a Rust keyword).
const COLUMNS: &str = "t.id, t.github_id, t.type AS event_type, t.action, t.actor_login, \
     t.repository_name, t.org_login, t.created_at, t.fetched_at, t.payload";

/// Filterable and orderable fields of event lists.
pub const FIELDS: &[Field] = &[
    Field::new("type", Kind::Text),
    Field::new("action", Kind::Text),
    Field::new("actor_login", Kind::Text),
    Field::new("repository_name", Kind::Text),
    Field::new("org_login", Kind::Text),
    Field::new("github_id", Kind::Integer),
    Field::new("created_at", Kind::Timestamp),
    Field::new("fetched_at", Kind::Timestamp),
];

/// One page of events.
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> Result<Page<EventRecord>, DbError> {
    paginate::load_rows(conn, "events", COLUMNS, Rows::All, query).await
}

/// One event by id.
pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<EventRecord>, DbError> {
    Ok(
        diesel::sql_query(format!("SELECT {COLUMNS} FROM events t WHERE t.id = $1"))
            .bind::<diesel::sql_types::Uuid, _>(id)
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// A recorded gap.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = event_gaps)]
pub struct GapRecord {
    pub id: Uuid,
    pub feed: String,
    pub detected_at: DateTime<Utc>,
    pub newest_stored_before: DateTime<Utc>,
    pub oldest_fetched: DateTime<Utc>,
    pub events_fetched: i32,
}

/// Filterable and orderable fields of gap lists.
pub const GAP_FIELDS: &[Field] = &[
    Field::new("feed", Kind::Text),
    Field::new("detected_at", Kind::Timestamp),
    Field::new("newest_stored_before", Kind::Timestamp),
    Field::new("oldest_fetched", Kind::Timestamp),
    Field::new("events_fetched", Kind::Integer),
];

/// One page of gaps.
pub async fn list_gaps(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> Result<Page<GapRecord>, DbError> {
    paginate::load_rows(conn, "event_gaps", "t.*", Rows::All, query).await
}

/// One gap by id.
pub async fn get_gap(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<GapRecord>, DbError> {
    Ok(event_gaps::table
        .find(id)
        .select(GapRecord::as_select())
        .first(conn)
        .await
        .optional()?)
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

/// Which events a metric looks at: a type, and optionally an action and a repository.
#[derive(Clone, Debug, Default)]
pub struct Selection<'a> {
    pub action: Option<&'a str>,
    pub repository_name: Option<&'a str>,
}

/// How many events match, and the seconds from the first to the last.
#[derive(Clone, Copy, Debug, QueryableByName)]
pub struct Span {
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub seconds: Option<f64>,
}

impl Span {
    /// The mean gap between consecutive events: (last − first) / (count − 1); `None` with
    /// fewer than two events.
    pub fn average_seconds(&self) -> Option<f64> {
        (self.count >= 2).then(|| self.seconds.unwrap_or(0.0) / (self.count - 1) as f64)
    }
}

/// Count and span of the events of `event_type` (an index range scan on
/// `(type, created_at)`, or `(repository_name, type, created_at)` with a repository).
pub async fn span(
    conn: &mut AsyncPgConnection,
    event_type: &str,
    selection: &Selection<'_>,
) -> Result<Span, DbError> {
    Ok(diesel::sql_query(
        "SELECT count(*) AS count, \
                extract(epoch FROM max(created_at) - min(created_at))::float8 AS seconds \
         FROM events \
         WHERE type = $1 \
           AND ($2::text IS NULL OR action = $2) \
           AND ($3::text IS NULL OR repository_name = $3)",
    )
    .bind::<Text, _>(event_type)
    .bind::<Nullable<Text>, _>(selection.action)
    .bind::<Nullable<Text>, _>(selection.repository_name)
    .get_result(conn)
    .await?)
}

/// Events of one type.
#[derive(Clone, Debug, QueryableByName)]
pub struct TypeCount {
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Events created at or after `since`, by type (a range scan on `created_at`).
pub async fn counts_since(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
    selection: &Selection<'_>,
) -> Result<Vec<TypeCount>, DbError> {
    Ok(diesel::sql_query(
        "SELECT type AS event_type, count(*) AS count \
         FROM events \
         WHERE created_at >= $1 \
           AND ($2::text IS NULL OR action = $2) \
           AND ($3::text IS NULL OR repository_name = $3) \
         GROUP BY type ORDER BY type",
    )
    .bind::<Timestamptz, _>(since)
    .bind::<Nullable<Text>, _>(selection.action)
    .bind::<Nullable<Text>, _>(selection.repository_name)
    .load(conn)
    .await?)
}

/// A repository and its number of events.
#[derive(Clone, Debug, QueryableByName)]
pub struct RepositoryCount {
    #[diesel(sql_type = Text)]
    pub repository_name: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Repositories with at least `minimum` events of `event_type`, by count descending, then name.
pub async fn repositories_with(
    conn: &mut AsyncPgConnection,
    event_type: &str,
    minimum: i64,
) -> Result<Vec<RepositoryCount>, DbError> {
    Ok(diesel::sql_query(
        "SELECT repository_name, count(*) AS count \
         FROM events WHERE type = $1 \
         GROUP BY repository_name HAVING count(*) >= $2 \
         ORDER BY count DESC, repository_name",
    )
    .bind::<Text, _>(event_type)
    .bind::<BigInt, _>(minimum)
    .load(conn)
    .await?)
}

/// One event's time, for a chart.
#[derive(Clone, Debug, QueryableByName)]
pub struct Moment {
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// The latest `limit` events of each type (oldest first within a type): one backward index
/// scan per type, never the whole table.
pub async fn latest_moments(
    conn: &mut AsyncPgConnection,
    types: &[String],
    selection: &Selection<'_>,
    limit: i32,
) -> Result<Vec<Moment>, DbError> {
    Ok(diesel::sql_query(
        "SELECT k.type AS event_type, e.created_at \
         FROM unnest($1::text[]) AS k (type) \
         CROSS JOIN LATERAL ( \
             SELECT created_at FROM events \
             WHERE type = k.type \
               AND ($2::text IS NULL OR action = $2) \
               AND ($3::text IS NULL OR repository_name = $3) \
             ORDER BY created_at DESC LIMIT $4) e \
         ORDER BY k.type, e.created_at",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(types)
    .bind::<Nullable<Text>, _>(selection.action)
    .bind::<Nullable<Text>, _>(selection.repository_name)
    .bind::<Integer, _>(limit)
    .load(conn)
    .await?)
}
