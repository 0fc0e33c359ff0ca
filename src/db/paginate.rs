//! One page of a list: the page's rows (and whether a next page exists) and the list's
//! count, on the caller's connection.
//!
//! The page walks an index and stops after `page_size + 1` rows. The count is exact up
//! to [`EXACT_COUNT_LIMIT`] rows and counts no further: past it, `count` is PostgreSQL's
//! estimate of the filtered list (never below the limit). Counting a filtered list of a
//! million rows on every page costs more than the page itself; the `next` link never
//! depends on the count.

use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Json};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
pub use crate::db::filter::Scope as Rows;
use crate::db::filter::{ListQuery, capped_count_sql, estimate_sql, page_sql};

/// Lists up to this many rows are counted exactly; longer ones are estimated.
pub const EXACT_COUNT_LIMIT: i64 = 10_000;

/// Rows of one page, the size of the whole list and whether another page follows.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The page's rows.
    pub rows: Vec<T>,
    /// Rows in the whole list: exact up to [`EXACT_COUNT_LIMIT`], else an estimate.
    pub total: i64,
    /// Whether rows follow this page.
    pub has_next: bool,
}

impl<T> Page<T> {
    /// A page from `page_size + 1` loaded rows: the extra row only says a next page exists.
    pub fn from_rows(mut rows: Vec<T>, page_size: u32, total: i64) -> Self {
        let page_size = usize::try_from(page_size).unwrap_or(usize::MAX);
        let has_next = rows.len() > page_size;
        rows.truncate(page_size);
        Page {
            rows,
            total,
            has_next,
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    total_count: i64,
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Json, column_name = "QUERY PLAN")]
    plan: serde_json::Value,
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
    let total = count(conn, table, rows, query).await?;
    Ok(Page::from_rows(page, query.page_size, total))
}

/// The size of the filtered list: exact up to [`EXACT_COUNT_LIMIT`], else the planner's
/// estimate, at least the limit + 1.
pub async fn count(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    rows: Rows,
    query: &ListQuery,
) -> Result<i64, DbError> {
    let counted: Count = capped_count_sql(table, rows, query, EXACT_COUNT_LIMIT)
        .get_result(conn)
        .await?;
    if counted.total_count <= EXACT_COUNT_LIMIT {
        return Ok(counted.total_count);
    }
    let plan: Plan = estimate_sql(table, rows, query).get_result(conn).await?;
    let estimate = plan.plan[0]["Plan"]["Plan Rows"]
        .as_f64()
        .map_or(0, |rows| rows.round() as i64);
    Ok(estimate.max(EXACT_COUNT_LIMIT + 1))
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn the_extra_row_says_a_next_page_exists_and_is_not_shown() {
        let page = Page::from_rows(vec![1, 2, 3], 2, 3);
        assert_eq!((page.rows, page.has_next), (vec![1, 2], true));
        let last = Page::from_rows(vec![1, 2], 2, 2);
        assert_eq!((last.rows, last.has_next), (vec![1, 2], false));
    }
}
