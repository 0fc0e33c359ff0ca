//! `/github/transfers/`: issues that moved to another repository, both ends kept.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::resource::{Declaration, Operation, Resource};
use crate::api::views::TransferView;
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
