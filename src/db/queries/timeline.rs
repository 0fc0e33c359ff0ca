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
        ))
        .execute(conn)
        .await?;
    Ok(())
}
