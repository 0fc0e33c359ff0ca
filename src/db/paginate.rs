//! One page of a list: the page's rows and the whole list's count, two queries on the
//! caller's connection (the page walks an index and stops early; the count scans what it must).

use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
pub use crate::db::filter::Scope as Rows;
use crate::db::filter::{ListQuery, count_sql, page_sql};

/// Rows of one page and the number of rows in the whole filtered list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The page's rows.
    pub rows: Vec<T>,
    /// Rows in the whole list.
    pub total: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    total_count: i64,
}

/// A sub-collection's condition on `t`, with `$1` the owner's id.
pub type Scope = (&'static str, uuid::Uuid);

/// Loads one page of `table` under `query`, optionally within a scope.
pub async fn load<T>(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    scope: Option<Scope>,
    query: &ListQuery,
) -> Result<Page<T>, DbError>
where
    T: QueryableByName<Pg> + Send + 'static,
{
    load_rows(conn, table, "t.*", scope.into(), query).await
}

/// Loads one page of the `rows` of `table` under `query`, selecting `columns` (`t.*` and
/// any computed columns the record reads, such as a linked row's kind).
pub async fn load_rows<T>(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    columns: &str,
    rows: Rows,
    query: &ListQuery,
) -> Result<Page<T>, DbError>
where
    T: QueryableByName<Pg> + Send + 'static,
{
    let page = page_sql(table, columns, rows, query).load(conn).await?;
    let count: Count = count_sql(table, rows, query).get_result(conn).await?;
    Ok(Page {
        rows: page,
        total: count.total_count,
    })
}
