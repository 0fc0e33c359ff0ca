//! `/github/timeline_items/`: what happened to issues and pull requests, in GitHub's
//! order, and each one's timeline as its sub-collection.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::issues::{Issues, PullRequests};
use crate::api::links::Links;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::timeline::{self, TimelineItemRecord};

/// Timeline items of every issue and pull request.
pub struct TimelineItems;

impl Resource for TimelineItems {
    type Record = TimelineItemRecord;
    type View = TimelineItemView;
    /// One issue's (or pull request's), or every one's.
    type Scope = Option<Uuid>;
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "timeline_items",
        path: "/timeline_items/",
        singular: "timeline item",
        tag: "activity",
        fields: timeline::FIELDS,
        ordering: "position",
        list: Operation {
            id: "list_timeline_items",
            summary: "Lists the timeline items of every issue and pull request.",
        },
        detail: Operation {
            id: "get_timeline_item",
            summary: "One timeline item.",
        },
    };
    const ALL: Option<Uuid> = None;

    fn view(record: TimelineItemRecord, links: &Links) -> TimelineItemView {
        TimelineItemView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        issue_id: Option<Uuid>,
        query: &ListQuery,
    ) -> Result<Page<TimelineItemRecord>, DbError> {
        timeline::list(conn, issue_id, query).await
    }

    async fn get(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> Result<Option<TimelineItemRecord>, DbError> {
        timeline::get(conn, id).await
    }

    fn nested() -> Vec<Collection> {
        vec![
            Collection::nested::<Issues, TimelineItems>(
                "timeline",
                Operation {
                    id: "list_issue_timeline",
                    summary: "An issue's timeline, in GitHub's order.",
                },
                Some,
            ),
            Collection::nested::<PullRequests, TimelineItems>(
                "timeline",
                Operation {
                    id: "list_pull_request_timeline",
                    summary: "A pull request's timeline, in GitHub's order (`?event=reviewed`: its reviews).",
                },
                Some,
            ),
        ]
    }
}

/// One item of an issue's or pull request's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItemView {
    pub url: String,
    pub id: Uuid,
    /// The issue or pull request.
    pub issue: String,
    /// 0-based place in the timeline.
    pub position: i32,
    /// commented, labeled, unlabeled, closed, reopened, merged, committed, reviewed,
    /// cross-referenced, transferred, ...
    pub event: String,
    pub actor_login: Option<String>,
    /// A review's submitted_at, a commit's author date, otherwise GitHub's created_at.
    pub created_at: Option<DateTime<Utc>>,
    /// The item's own fields (label name, commit sha, review state, comment body, source issue).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl TimelineItemView {
    /// The view of a record.
    pub fn new(record: TimelineItemRecord, links: &Links) -> Self {
        Self {
            url: links.timeline_item(record.id),
            id: record.id,
            issue: links.issue(
                record.issue_is_pull_request.unwrap_or(false),
                record.issue_id,
                "",
            ),
            position: record.position,
            event: record.event,
            actor_login: record.actor_login,
            created_at: record.created_at,
            details: record.details,
        }
    }
}
