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
