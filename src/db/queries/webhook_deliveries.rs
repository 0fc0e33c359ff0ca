//! Queries on `webhook_deliveries`: GitHub's deliveries, stored once per delivery id as
//! received, then applied (or ignored) by a `webhook_delivery` task.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page, Rows};
use crate::db::schema::webhook_deliveries;

/// Where a delivery is: `accepted` (stored, not yet applied) → `applied` | `ignored` |
/// `failed`.
pub const STATUSES: &[&str] = &["accepted", "applied", "ignored", "failed"];

/// A delivery as received.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct NewDelivery<'a> {
    pub delivery_id: &'a str,
    pub event: &'a str,
    pub action: Option<&'a str>,
    pub repository_name: Option<&'a str>,
    pub payload: &'a serde_json::Value,
}

/// Stores a delivery unless its delivery id is stored already; returns its id, `None` for
/// a delivery id seen before (nothing is stored then).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    delivery: &NewDelivery<'_>,
) -> Result<Option<Uuid>, DbError> {
    Ok(diesel::insert_into(webhook_deliveries::table)
        .values(delivery)
        .on_conflict(webhook_deliveries::delivery_id)
        .do_nothing()
        .returning(webhook_deliveries::id)
        .get_result(conn)
        .await
        .optional()?)
}

/// A stored delivery with its payload, as the job applying it reads it.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = webhook_deliveries)]
pub struct StoredDelivery {
    pub id: Uuid,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub repository_name: Option<String>,
    pub payload: serde_json::Value,
    pub status: String,
}

/// The delivery with this delivery id, its row locked until the caller's transaction ends:
/// two runs of its task (a redelivered message) apply it one after the other, and the
/// second finds it no longer `accepted`.
pub async fn lock(
    conn: &mut AsyncPgConnection,
    delivery_id: &str,
) -> Result<Option<StoredDelivery>, DbError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::delivery_id.eq(delivery_id))
        .select(StoredDelivery::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

/// Records what became of a delivery: `applied` (now), `ignored` or `failed` (with why).
pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: &str,
    error: Option<&str>,
) -> Result<(), DbError> {
    let applied_at = (status == "applied").then(Utc::now);
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::error.eq(error),
            webhook_deliveries::applied_at.eq(applied_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Serializes the application of deliveries about one object (an issue, a comment...)
/// until the caller's transaction ends, so that two deliveries about it applied at once
/// compare their `updated_at` one after the other.
pub async fn lock_object(
    conn: &mut AsyncPgConnection,
    kind: &str,
    key: &str,
) -> Result<(), DbError> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtext('gitomatic.webhook.' || $1), hashtext($2))",
    )
    .bind::<Text, _>(kind)
    .bind::<Text, _>(key)
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Read side: deliveries as the API shows them (never their payload)
// ---------------------------------------------------------------------------

/// A delivery as the API shows it: everything but the payload.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRecord {
    pub id: Uuid,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub repository_name: Option<String>,
    pub received_at: DateTime<Utc>,
    pub applied_at: Option<DateTime<Utc>>,
    pub status: String,
    pub error: Option<String>,
}

/// The columns a [`DeliveryRecord`] is read from (`t` is the delivery): not the payload,
/// which may be megabytes.
pub const COLUMNS: &str = "t.id, t.delivery_id, t.event, t.action, t.repository_name, \
     t.received_at, t.applied_at, t.status, t.error";

/// Filterable and orderable fields of delivery lists.
pub const FIELDS: &[Field] = &[
    Field::new("event", Kind::Text),
    Field::new("status", Kind::Choice(STATUSES)),
    Field::new("repository_name", Kind::Text),
    Field::new("received_at", Kind::Timestamp),
];

/// One page of deliveries.
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> Result<Page<DeliveryRecord>, DbError> {
    paginate::load_rows(conn, "webhook_deliveries", COLUMNS, Rows::All, query).await
}

/// The latest deliveries received, newest first.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<DeliveryRecord>, DbError> {
    Ok(webhook_deliveries::table
        .order((
            webhook_deliveries::received_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit)
        .select(DeliveryRecord::as_select())
        .load(conn)
        .await?)
}

/// One delivery by id.
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<DeliveryRecord>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries t WHERE t.id = $1"
    ))
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await
    .optional()?)
}
