//! Queries on `transfers`: issues that moved to another repository, both ends kept.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::schema::transfers;

/// A detected transfer.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = transfers)]
pub struct NewTransfer<'a> {
    pub from_issue_id: Uuid,
    pub to_issue_id: Uuid,
    pub from_full_name: &'a str,
    pub from_number: i32,
    pub to_full_name: &'a str,
    pub to_number: i32,
}

/// Records a transfer once (the first detection's time is kept).
pub async fn record(
    conn: &mut AsyncPgConnection,
    transfer: &NewTransfer<'_>,
) -> Result<(), DbError> {
    diesel::insert_into(transfers::table)
        .values(transfer)
        .on_conflict(transfers::from_issue_id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Read side: transfers as the API shows them
// ---------------------------------------------------------------------------

use chrono::{DateTime, Utc};

use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page, Rows};

/// A transfer with the kinds of both ends (issue or pull request).
#[derive(Clone, Debug, QueryableByName)]
#[diesel(table_name = transfers)]
pub struct TransferRecord {
    pub id: Uuid,
    pub from_issue_id: Uuid,
    pub to_issue_id: Uuid,
    pub from_full_name: String,
    pub from_number: i32,
    pub to_full_name: String,
    pub to_number: i32,
    pub detected_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bool>)]
    pub from_is_pull_request: Option<bool>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bool>)]
    pub to_is_pull_request: Option<bool>,
}

/// The columns a [`TransferRecord`] is read from (`t` is the transfer).
pub const COLUMNS: &str = "t.*, \
     (SELECT i.is_pull_request FROM issues i WHERE i.id = t.from_issue_id) AS from_is_pull_request, \
     (SELECT i.is_pull_request FROM issues i WHERE i.id = t.to_issue_id) AS to_is_pull_request";

/// Filterable and orderable fields of transfer lists.
pub const FIELDS: &[Field] = &[
    Field::new("from_full_name", Kind::Text),
    Field::new("from_number", Kind::Integer),
    Field::new("to_full_name", Kind::Text),
    Field::new("to_number", Kind::Integer),
    Field::new("detected_at", Kind::Timestamp),
];

/// One page of transfers.
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> Result<Page<TransferRecord>, DbError> {
    paginate::load_rows(conn, "transfers", COLUMNS, Rows::All, query).await
}

/// One transfer by id.
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<TransferRecord>, DbError> {
    Ok(
        diesel::sql_query(format!("SELECT {COLUMNS} FROM transfers t WHERE t.id = $1"))
            .bind::<diesel::sql_types::Uuid, _>(id)
            .get_result(conn)
            .await
            .optional()?,
    )
}
