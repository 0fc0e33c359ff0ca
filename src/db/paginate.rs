//! One page of a list: the page's rows (and whether rows come before and after it) and the
//! list's count, on the caller's connection.
//!
//! A page walks the `(ordering key, id)` index from its start — an offset, or a cursor's
//! position — and stops after `page_size + 1` rows (see [`Ordering::segments`]): a cursor
//! page costs the same at any depth. The count never costs more than the page: a last
//! page counts itself, a list the planner puts far above [`EXACT_COUNT_LIMIT`] takes the
//! planner's estimate, and any other is counted up to the limit and no further. Past the
//! limit the count is an estimate, flagged as such; the `next` link never depends on it.

use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::row::NamedRow;
use diesel::sql_types::{BigInt, Json, Jsonb, Nullable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::db::DbError;
use crate::db::cursor::Position;
pub use crate::db::filter::Scope as Rows;
use crate::db::filter::{
    Candidates, ListQuery, RANKED_MATCHES, Segment, Sql, capped_count_sql, estimate_sql,
    ranked_sql, segment_count_sql, segment_sql,
};

/// Lists up to this many rows are counted exactly; longer ones are estimated.
pub const EXACT_COUNT_LIMIT: i64 = 10_000;

/// A planner's estimate above this is taken as it is, without counting: at five times the
/// exact limit, the list is not one of the short ones an estimate could misreport (the
/// planner's row estimates for these filters, column statistics applied to each condition,
/// are within a factor of two on the benchmark's million developers), and counting up to
/// the limit would read 10,001 rows — tens of milliseconds through a trigram index.
pub const TRUSTED_ESTIMATE: i64 = 5 * EXACT_COUNT_LIMIT;

/// [`TRUSTED_ESTIMATE`] for a list with a `search`: the planner estimates a search from the
/// frequencies of its words that `ANALYZE` samples (30,000 rows at the default statistics
/// target), and a filter beside it from that column's histogram. A list of 15,000 of a
/// million rows is some 450 sampled rows, whose standard error is under 5 %: an estimate
/// half as large again as the exact limit is seven standard errors above it. On the
/// benchmark's million developers, single words and each word with `followers_count__gte`
/// are estimated within 5 % (`münchen` with the filter: 17,814 estimated, 18,768
/// counted); two words are underestimated (their frequencies multiplied as if unrelated),
/// which only means they are counted. What sampling cannot see is a filter the searched
/// words make rare (the planner multiplies selectivities): such a list may be shown as
/// an estimate though it holds fewer than the limit (by relevance, only when it holds
/// 1,000 or more: the ranked page then met fewer matches than it ranks, and counts them).
pub const SEARCH_TRUSTED_ESTIMATE: i64 = 3 * EXACT_COUNT_LIMIT / 2;

/// The largest estimate of a search that ranks from the search sample
/// ([`crate::db::filter::SEARCH_SAMPLE`]) when it is past [`SEARCH_TRUSTED_ESTIMATE`]. The
/// sample's bitmap grows with the matches, while a walk in table order meets
/// [`RANKED_MATCHES`] of them sooner the denser they are, and the planner walks for such a
/// search when it is not sampled: on the benchmark's million developers, `berlin` (23,403
/// matches) ranks in 2.8 ms sampled and 7.4 ms not, `ma` (183,000) in 8.1 ms sampled and
/// 4.3 ms walked (pgbench, one client).
pub const SAMPLED_SEARCH_MAX: i64 = 10 * EXACT_COUNT_LIMIT;

/// Rows of one page, the size of the whole list and what lies around the page.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The page's rows.
    pub rows: Vec<T>,
    /// Rows in the whole list: exact up to [`EXACT_COUNT_LIMIT`], else an estimate.
    pub total: i64,
    /// Whether `total` is an estimate.
    pub estimated: bool,
    /// Whether rows follow this page.
    pub has_next: bool,
    /// Whether rows precede this page.
    pub has_previous: bool,
    /// The positions of the first and the last row shown (for cursors); `None` on an
    /// empty page or one made without a walk.
    pub bounds: Option<(Position, Position)>,
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
            estimated: false,
            has_next,
            has_previous: false,
            bounds: None,
        }
    }
}

/// A row read with its position (`cursor_key`, `cursor_id`: `to_jsonb` of the ordering key,
/// `NULL` for a row without one, and of the row id).
pub struct Keyed<T> {
    /// The record.
    pub row: T,
    cursor_key: Option<Value>,
    cursor_id: Value,
}

impl<T: QueryableByName<Pg>> QueryableByName<Pg> for Keyed<T> {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        Ok(Keyed {
            row: T::build(row)?,
            cursor_key: NamedRow::get::<Nullable<Jsonb>, _>(row, "cursor_key")?,
            cursor_id: NamedRow::get::<Jsonb, _>(row, "cursor_id")?,
        })
    }
}

impl<T> Keyed<T> {
    fn position(&self) -> Position {
        Position {
            key: self.cursor_key.clone().unwrap_or(Value::Null),
            id: self.cursor_id.clone(),
        }
    }
}

/// The queries of one list's walk: a segment's rows, and its size.
pub trait Walk {
    /// Up to `limit` rows of `segment` after skipping `offset`, with their positions.
    fn rows(&self, segment: &Segment, limit: u64, offset: u64) -> Sql;
    /// How many rows `segment` holds.
    fn count(&self, segment: &Segment) -> Sql;
}

/// The walk of a table's filtered rows, selecting `columns`.
pub struct TableWalk<'a> {
    /// The table.
    pub table: &'static str,
    /// The columns read (`t.*` and any computed ones).
    pub columns: &'a str,
    /// Which of its rows the list shows, before the filters.
    pub rows: Rows,
    /// The filters and the ordering.
    pub query: &'a ListQuery,
}

impl Walk for TableWalk<'_> {
    fn rows(&self, segment: &Segment, limit: u64, offset: u64) -> Sql {
        segment_sql(
            self.table,
            self.columns,
            self.rows,
            self.query,
            segment,
            limit,
            offset,
        )
    }

    fn count(&self, segment: &Segment) -> Sql {
        segment_count_sql(self.table, self.rows, self.query, segment)
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
    if query.ranked && query.search().is_some() {
        return load_ranked(conn, table, columns, rows, query).await;
    }
    let walk = TableWalk {
        table,
        columns,
        rows,
        query,
    };
    load_walked(conn, table, rows, query, &walk).await
}

/// [`load_rows`] by relevance (a search without an ordering). The planner's estimate comes
/// first: a search it trusts to match more than [`SEARCH_TRUSTED_ESTIMATE`] rows ranks the
/// first [`RANKED_MATCHES`] found (in the search sample, up to [`SAMPLED_SEARCH_MAX`]) and
/// is counted by that estimate (unless fewer matched: then they are the count); any other
/// ranks every match up to [`EXACT_COUNT_LIMIT`] + 1, so that one pass over the matches
/// both ranks and counts them (exactly, up to the limit).
async fn load_ranked<T>(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    columns: &str,
    rows: Rows,
    query: &ListQuery,
) -> Result<Page<T>, DbError>
where
    T: QueryableByName<Pg> + Send + 'static,
{
    let estimate = estimate(conn, table, rows, query).await?;
    let trusted = estimate > trusted_estimate(query);
    let mut candidates = if trusted {
        Candidates {
            limit: RANKED_MATCHES,
            sampled: estimate <= SAMPLED_SEARCH_MAX,
        }
    } else {
        Candidates {
            limit: EXACT_COUNT_LIMIT + 1,
            sampled: false,
        }
    };
    let (mut loaded, mut ranked) =
        load_candidates(conn, table, columns, rows, query, candidates).await?;
    if candidates.sampled && ranked.is_none_or(|ranked| ranked < candidates.limit) {
        // The sample held fewer matches than are ranked (the estimate was too high, or the
        // page lies past them): rank from all of them, so that none is missed.
        candidates.sampled = false;
        (loaded, ranked) = load_candidates(conn, table, columns, rows, query, candidates).await?;
    }
    let mut page = Page::from_rows(loaded, query.page_size, 0);
    page.has_previous = query.offset() > 0;
    (page.total, page.estimated) = match ranked {
        // Fewer candidates (exact matches included) than the cap, none sampled (a sample
        // kept met the cap): every match was ranked, and their number is the count — also
        // of a search the planner put far higher.
        Some(ranked) if ranked < candidates.limit => (ranked, false),
        _ if trusted => (estimate, true),
        Some(_) => (estimate.max(EXACT_COUNT_LIMIT + 1), true),
        // A page past the last: the count, as any filtered list's (the estimate is known).
        None => count_given(conn, table, rows, query, estimate).await?,
    };
    Ok(page)
}

/// The rows of a relevance page ranking `candidates`, and how many candidates were ranked
/// (`None` on an empty page).
async fn load_candidates<T>(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    columns: &str,
    rows: Rows,
    query: &ListQuery,
    candidates: Candidates,
) -> Result<(Vec<T>, Option<i64>), DbError>
where
    T: QueryableByName<Pg> + Send + 'static,
{
    let window = (u64::from(query.page_size) + 1, query.offset());
    let Some(sql) = ranked_sql(table, columns, rows, query, candidates, window) else {
        return Err(DbError::Inconsistent(format!(
            "a list of {table} by relevance without a search field"
        )));
    };
    let loaded: Vec<Ranked<T>> = sql.load(conn).await?;
    let ranked = loaded.as_slice().first().map(|row| row.ranked_candidates);
    Ok((
        loaded.into_iter().map(|ranked| ranked.row).collect(),
        ranked,
    ))
}

/// A row of a relevance page and the number of candidates ranked.
struct Ranked<T> {
    row: T,
    ranked_candidates: i64,
}

impl<T: QueryableByName<Pg>> QueryableByName<Pg> for Ranked<T> {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        Ok(Ranked {
            row: T::build(row)?,
            ranked_candidates: NamedRow::get::<BigInt, _>(row, "ranked_candidates")?,
        })
    }
}

/// [`load_rows`] walking the page with the caller's `walk` (its own index columns); the
/// list is still counted as the `rows` of `table`.
pub async fn load_walked<T>(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    rows: Rows,
    query: &ListQuery,
    walk: &(dyn Walk + Sync),
) -> Result<Page<T>, DbError>
where
    T: QueryableByName<Pg> + Send + 'static,
{
    let mut page = walk_page(conn, query, walk).await?;
    if let Some(total) = page_count(query, &page) {
        page.total = total;
    } else {
        (page.total, page.estimated) = count(conn, table, rows, query).await?;
    }
    Ok(page)
}

/// The list's size when the page itself tells it: the last page of a walk from the top or
/// from an offset.
fn page_count<T>(query: &ListQuery, page: &Page<T>) -> Option<i64> {
    let offset = query.offset();
    let from_offset = query
        .cursor
        .as_ref()
        .is_none_or(|cursor| cursor.position.is_none());
    let counted = from_offset && !page.has_next && (offset == 0 || !page.rows.is_empty());
    counted.then(|| {
        i64::try_from(offset)
            .unwrap_or(i64::MAX)
            .saturating_add(i64::try_from(page.rows.len()).unwrap_or(i64::MAX))
    })
}

/// Walks the segments of `query`'s order from its start (offset or cursor) until the page
/// and one row more are read; the page comes in list order, its total not yet counted.
pub async fn walk_page<T>(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
    walk: &(dyn Walk + Sync),
) -> Result<Page<T>, DbError>
where
    T: QueryableByName<Pg> + Send + 'static,
{
    let (segments, mut skip, backwards) = match &query.cursor {
        None => (query.ordering.segments(None, false), query.offset(), false),
        Some(cursor) => (
            query
                .ordering
                .segments(cursor.position.as_ref(), cursor.backwards),
            0,
            cursor.backwards,
        ),
    };
    let want = u64::from(query.page_size) + 1;
    let mut rows: Vec<Keyed<T>> = Vec::new();
    for (n, segment) in segments.iter().enumerate() {
        let need = want - rows.len() as u64;
        if need == 0 {
            break;
        }
        let read: Vec<Keyed<T>> = walk.rows(segment, need, skip).load(conn).await?;
        if read.is_empty() && skip > 0 && n + 1 < segments.len() {
            // The page lies past this whole segment: skip its rows in the next.
            let size: Count = walk.count(segment).get_result(conn).await?;
            skip = skip.saturating_sub(u64::try_from(size.total_count).unwrap_or(0));
        } else {
            skip = 0;
        }
        rows.extend(read);
    }
    let page_size = usize::try_from(query.page_size).unwrap_or(usize::MAX);
    let more = rows.len() > page_size;
    rows.truncate(page_size);
    if backwards {
        rows.reverse();
    }
    let bounds = <[Keyed<T>]>::first(&rows)
        .zip(rows.last())
        .map(|(first, last)| (first.position(), last.position()));
    let (has_next, has_previous) = match &query.cursor {
        None => (more, query.offset() > 0),
        Some(cursor) if cursor.backwards => (true, more),
        Some(cursor) => (more, cursor.position.is_some()),
    };
    Ok(Page {
        rows: rows.into_iter().map(|keyed| keyed.row).collect(),
        total: 0,
        estimated: false,
        has_next,
        has_previous,
        bounds,
    })
}

/// The planner's estimate of the filtered list's size (an `EXPLAIN`, nothing read).
async fn estimate(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    rows: Rows,
    query: &ListQuery,
) -> Result<i64, DbError> {
    let plan: Plan = estimate_sql(table, rows, query).get_result(conn).await?;
    Ok(plan.plan[0]["Plan"]["Plan Rows"]
        .as_f64()
        .map_or(0, |rows| rows.round() as i64))
}

/// The size of the filtered list and whether it is an estimate: the planner's estimate
/// when far above [`EXACT_COUNT_LIMIT`] (see [`trusted_estimate`]), else counted exactly
/// up to the limit and estimated past it (never below the limit + 1).
pub async fn count(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    rows: Rows,
    query: &ListQuery,
) -> Result<(i64, bool), DbError> {
    let estimate = estimate(conn, table, rows, query).await?;
    count_given(conn, table, rows, query, estimate).await
}

/// [`count`] with the planner's `estimate` already asked for.
async fn count_given(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    rows: Rows,
    query: &ListQuery,
    estimate: i64,
) -> Result<(i64, bool), DbError> {
    if estimate > trusted_estimate(query) {
        return Ok((estimate, true));
    }
    let counted: Count = capped_count_sql(table, rows, query, EXACT_COUNT_LIMIT)
        .get_result(conn)
        .await?;
    if counted.total_count <= EXACT_COUNT_LIMIT {
        return Ok((counted.total_count, false));
    }
    Ok((estimate.max(EXACT_COUNT_LIMIT + 1), true))
}

/// The estimate past which `query`'s list is taken as that large without counting:
/// [`SEARCH_TRUSTED_ESTIMATE`] with a search, else [`TRUSTED_ESTIMATE`].
fn trusted_estimate(query: &ListQuery) -> i64 {
    if query.search().is_some() {
        SEARCH_TRUSTED_ESTIMATE
    } else {
        TRUSTED_ESTIMATE
    }
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
