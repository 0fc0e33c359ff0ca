//! The database half of `GET /health/`.

use diesel_async::RunQueryDsl;

use crate::db::{DbError, Pool};

/// Runs `SELECT 1` on a pooled connection.
pub async fn ping(pool: &Pool) -> Result<(), DbError> {
    let mut conn = pool.get().await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await?;
    Ok(())
}
