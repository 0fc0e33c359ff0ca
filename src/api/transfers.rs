//! `/github/transfers/`: issues that moved to another repository, both ends kept.

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
use crate::db::queries::transfers::{self, TransferRecord};

/// Transfers of issues between repositories.
pub struct Transfers;

impl Resource for Transfers {
    type Record = TransferRecord;
    type View = TransferView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "transfers",
        path: "/transfers/",
        singular: "transfer",
        tag: "activity",
        fields: transfers::FIELDS,
        ordering: "-detected_at",
        list: Operation {
            id: "list_transfers",
            summary: "Lists transfers of issues to other repositories, the latest detected first.",
        },
        detail: Operation {
            id: "get_transfer",
            summary: "One transfer.",
        },
    };
    const ALL: () = ();

    fn view(record: TransferRecord, links: &Links) -> TransferView {
        TransferView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<TransferRecord>, DbError> {
        transfers::list(conn, query).await
    }

    async fn get(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> Result<Option<TransferRecord>, DbError> {
        transfers::get(conn, id).await
    }
}

/// An issue that moved to another repository; both ends are kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    pub url: String,
    pub id: Uuid,
    pub from_full_name: String,
    pub from_number: i32,
    pub to_full_name: String,
    pub to_number: i32,
    /// The issue as it was.
    pub from_issue: String,
    /// The issue it became.
    pub to_issue: String,
    pub detected_at: DateTime<Utc>,
}

impl TransferView {
    /// The view of a record.
    pub fn new(record: TransferRecord, links: &Links) -> Self {
        Self {
            url: links.transfer(record.id),
            id: record.id,
            from_issue: links.issue(
                record.from_is_pull_request.unwrap_or(false),
                record.from_issue_id,
                "",
            ),
            to_issue: links.issue(
                record.to_is_pull_request.unwrap_or(false),
                record.to_issue_id,
                "",
            ),
            from_full_name: record.from_full_name,
            from_number: record.from_number,
            to_full_name: record.to_full_name,
            to_number: record.to_number,
            detected_at: record.detected_at,
        }
    }
}
