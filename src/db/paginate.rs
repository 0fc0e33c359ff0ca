//! One page of a list: the rows and the total count from one query (`count(*) OVER ()`).

use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::row::NamedRow;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;

use crate::db::filter::{ListQuery, list_sql};
use crate::db::{DbError, Pool};

/// Rows of one page and the number of rows in the whole filtered list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The page's rows.
    pub rows: Vec<T>,
    /// Rows in the whole list (0 when the page is empty).
    pub total: i64,
}

/// A row plus the window count of its list.
struct Counted<T> {
    row: T,
    total_count: i64,
}

// Written by hand: the derive does not support an embedded generic row.
impl<T: QueryableByName<Pg>> QueryableByName<Pg> for Counted<T> {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            row: T::build(row)?,
            total_count: NamedRow::get::<BigInt, i64>(row, "total_count")?,
        })
    }
}

/// A sub-collection's condition on `t`, with `$1` the owner's id.
pub type Scope = (&'static str, uuid::Uuid);

/// Loads one page of `table` under `query`, optionally within a scope.
pub async fn load<T>(
    pool: &Pool,
    table: &'static str,
    scope: Option<Scope>,
    query: &ListQuery,
) -> Result<Page<T>, DbError>
where
    T: QueryableByName<Pg> + Send + 'static,
{
    let mut conn = pool.get().await?;
    let rows: Vec<Counted<T>> = list_sql(table, scope, query).load(&mut conn).await?;
    let total = rows.as_slice().first().map_or(0, |row| row.total_count);
    Ok(Page {
        rows: rows.into_iter().map(|counted| counted.row).collect(),
        total,
    })
}
