//! Queries on `timeline_items`: each item of an issue's timeline stored once, by
//! (issue, event, item key), in GitHub's order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::schema::timeline_items;

/// One timeline item.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = timeline_items)]
pub struct NewTimelineItem<'a> {
    pub issue_id: Uuid,
    pub position: i32,
    pub event: &'a str,
    pub item_key: String,
    pub actor_login: Option<&'a str>,
    pub actor_type: Option<&'a str>,
    pub created_at: Option<DateTime<Utc>>,
    pub details: serde_json::Value,
    /// When a comment was last edited (null for items that cannot be edited).
    pub updated_at: Option<DateTime<Utc>>,
}

/// Upserts one page of items: an item read again keeps its row and takes its new place.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    rows: &[NewTimelineItem<'_>],
) -> Result<(), DbError> {
    let rows = crate::db::upsert_rows(rows, |r| (r.issue_id, r.event, r.item_key.clone()));
    if rows.is_empty() {
        return Ok(());
    }
    use timeline_items::dsl as t;
    diesel::insert_into(timeline_items::table)
        .values(rows)
        .on_conflict((t::issue_id, t::event, t::item_key))
        .do_update()
        .set((
            t::position.eq(excluded(t::position)),
            t::actor_login.eq(excluded(t::actor_login)),
            t::actor_type.eq(excluded(t::actor_type)),
            t::created_at.eq(excluded(t::created_at)),
            t::details.eq(excluded(t::details)),
            t::updated_at.eq(excluded(t::updated_at)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Where a stored item is in its issue's timeline, and when it was last edited.
pub async fn stored(
    conn: &mut AsyncPgConnection,
    issue_id: Uuid,
    event: &str,
    item_key: &str,
) -> Result<Option<(i32, Option<DateTime<Utc>>)>, DbError> {
    use timeline_items::dsl as t;
    Ok(timeline_items::table
        .filter(t::issue_id.eq(issue_id))
        .filter(t::event.eq(event))
        .filter(t::item_key.eq(item_key))
        .select((t::position, t::updated_at))
        .first(conn)
        .await
        .optional()?)
}

/// The position after the last stored item of an issue's timeline (0 when it has none):
/// where an item GitHub announced by itself (a webhook's comment) goes until the next read
/// of the timeline puts it in GitHub's order.
pub async fn next_position(conn: &mut AsyncPgConnection, issue_id: Uuid) -> Result<i32, DbError> {
    use timeline_items::dsl as t;
    let last: Option<i32> = timeline_items::table
        .filter(t::issue_id.eq(issue_id))
        .select(diesel::dsl::max(t::position))
        .first(conn)
        .await?;
    Ok(last.map_or(0, |last| last.saturating_add(1)))
}

/// Removes an item GitHub deleted (a deleted comment); false when none was stored.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    issue_id: Uuid,
    event: &str,
    item_key: &str,
) -> Result<bool, DbError> {
    use timeline_items::dsl as t;
    let removed = diesel::delete(
        timeline_items::table
            .filter(t::issue_id.eq(issue_id))
            .filter(t::event.eq(event))
            .filter(t::item_key.eq(item_key)),
    )
    .execute(conn)
    .await?;
    Ok(removed > 0)
}

// ---------------------------------------------------------------------------
// Read side: timeline items as the API shows them
// ---------------------------------------------------------------------------

use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page, Rows};

/// A timeline item as the API shows it.
#[derive(Clone, Debug, QueryableByName)]
#[diesel(table_name = timeline_items)]
pub struct TimelineItemRecord {
    pub id: Uuid,
    pub issue_id: Uuid,
    pub position: i32,
    pub event: String,
    pub actor_login: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub details: serde_json::Value,
    /// Whether the item's issue is a pull request.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bool>)]
    pub issue_is_pull_request: Option<bool>,
}

/// The columns a [`TimelineItemRecord`] is read from (`t` is the item).
pub const COLUMNS: &str = "t.*, (SELECT i.is_pull_request FROM issues i \
     WHERE i.id = t.issue_id) AS issue_is_pull_request";

/// Filterable and orderable fields of timeline lists.
pub const FIELDS: &[Field] = &[
    Field::new("position", Kind::Integer),
    Field::new("event", Kind::Text),
    Field::new("actor_login", Kind::Text),
    Field::new("created_at", Kind::Timestamp),
];

/// One page of timeline items: of one issue, or of all.
pub async fn list(
    conn: &mut AsyncPgConnection,
    issue_id: Option<Uuid>,
    query: &ListQuery,
) -> Result<Page<TimelineItemRecord>, DbError> {
    let rows = match issue_id {
        Some(id) => Rows::Of("t.issue_id = $1", id),
        None => Rows::All,
    };
    paginate::load_rows(conn, "timeline_items", COLUMNS, rows, query).await
}

/// One timeline item by id.
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<TimelineItemRecord>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM timeline_items t WHERE t.id = $1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(id)
    .get_result(conn)
    .await
    .optional()?)
}
