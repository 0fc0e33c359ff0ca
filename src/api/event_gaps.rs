//! `/github/events/gaps/`: where a poll of an event feed may have missed events.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::resource::{Declaration, Operation, Resource};
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::events::{self, GapRecord};

/// A gap: a poll of `feed` never reached an event the feed had delivered before, so events
/// created between `newest_stored_before` and `oldest_fetched` may be missing.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventGapView {
    pub url: String,
    pub id: Uuid,
    /// `events` (the global feed) or `repos/owner/name/events`.
    pub feed: String,
    pub detected_at: DateTime<Utc>,
    /// `created_at` of the newest event the feed had delivered before the poll.
    pub newest_stored_before: DateTime<Utc>,
    /// `created_at` of the oldest event the poll fetched.
    pub oldest_fetched: DateTime<Utc>,
    /// Events the poll fetched (300 when it read the whole feed).
    pub events_fetched: i32,
}

impl EventGapView {
    fn new(record: GapRecord, links: &Links) -> Self {
        Self {
            url: links.url(&format!("/github/events/gaps/{}/", record.id)),
            id: record.id,
            feed: record.feed,
            detected_at: record.detected_at,
            newest_stored_before: record.newest_stored_before,
            oldest_fetched: record.oldest_fetched,
            events_fetched: record.events_fetched,
        }
    }
}

/// The gaps polls detected.
pub struct EventGaps;

impl Resource for EventGaps {
    type Record = GapRecord;
    type View = EventGapView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "event_gaps",
        path: "/events/gaps/",
        singular: "gap",
        tag: "events",
        fields: events::GAP_FIELDS,
        ordering: "-detected_at",
        list: Operation {
            id: "list_event_gaps",
            summary: "Lists the gaps polls detected, the latest first.",
        },
        detail: Operation {
            id: "get_event_gap",
            summary: "One gap.",
        },
    };
    const ALL: () = ();

    fn view(record: GapRecord, links: &Links) -> EventGapView {
        EventGapView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<GapRecord>, DbError> {
        events::list_gaps(conn, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<GapRecord>, DbError> {
        events::get_gap(conn, id).await
    }
}
