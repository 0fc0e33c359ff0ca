//! The database half of `GET /health/`.

use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;

/// Runs `SELECT 1`.
pub async fn ping(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    diesel::sql_query("SELECT 1").execute(conn).await?;
    Ok(())
}
