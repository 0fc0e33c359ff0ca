//! What every list and detail endpoint shares: parse the query, load, link, page.

use std::future::Future;

use actix_web::HttpRequest;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::params;
use crate::api::render::Rendered;
use crate::api::views::Page;
use crate::context::AppContext;
use crate::db::cursor::{Cursor, Position};
use crate::db::filter::{Field, ListQuery, MAX_OFFSET};
use crate::db::paginate;
use crate::db::{Conn, DbError};

/// Past this many rows, a page's `next` link is a cursor rather than a page number: deeper
/// offsets cost a walk over every row skipped, a cursor page costs the same at any depth.
pub const CURSOR_FROM_ROW: u64 = 10_000;

/// Parses the list parameters, lets `check` refuse what the fields cannot say, loads the page on a pooled connection and renders
/// `{count, next, previous, results}`, with `Link` and `Allow` (read-only: a list that
/// takes `POST` says so with [`Rendered::with_allow`]) and, in HTML, the filter form.
pub async fn list<R, V, F, Fut>(
    request: &HttpRequest,
    ctx: &AppContext,
    fields: &'static [Field],
    default_ordering: &'static str,
    check: impl FnOnce(&ListQuery) -> Result<(), ApiError>,
    load: F,
    view: impl Fn(R, &Links) -> V,
) -> Result<Rendered, ApiError>
where
    F: FnOnce(Conn, ListQuery) -> Fut,
    Fut: Future<Output = Result<paginate::Page<R>, DbError>>,
    V: Serialize + ToSchema,
{
    let query = params::list_query(request, fields, default_ordering)?;
    check(&query)?;
    let conn = ctx.conn().await?;
    let page = query.page;
    let page_size = query.page_size;
    let offset = query.offset();
    if offset > MAX_OFFSET {
        // Too deep to serve by offset: past the end it is the usual 404, else narrow it.
        let total = load(
            conn,
            ListQuery {
                page: 1,
                page_size: 1,
                ..query
            },
        )
        .await?
        .total;
        if u64::try_from(total).unwrap_or(0) <= offset {
            return Err(ApiError::NotFound("Invalid page.".into()));
        }
        return Err(ApiError::BadRequest(format!(
            "Invalid page: pages beyond item {MAX_OFFSET} are not served by number; follow the `next` links (cursors from item {CURSOR_FROM_ROW} on) or narrow the list with filters"
        )));
    }
    let cursor = query.cursor.clone();
    let ordering = query.ordering.name();
    let loaded = load(conn, query).await?;
    let links = Links::new(request, &ctx.config);
    // An estimated count may fall short of what the pages show: never below that.
    // (A cursor page's offset is 0: what precedes it is unknown.)
    let shown = i64::try_from(offset)
        .unwrap_or(i64::MAX)
        .saturating_add(i64::try_from(loaded.rows.len()).unwrap_or(i64::MAX))
        .saturating_add(i64::from(loaded.has_next));
    let to = |position: &Position, backwards: bool| {
        links.cursor(
            request,
            &Cursor {
                list: request.path().to_owned(),
                ordering: ordering.clone(),
                position: Some(position.clone()),
                backwards,
            },
        )
    };
    let (next, previous) = match (&cursor, &loaded.bounds) {
        (Some(_), Some((first, last))) => (
            loaded.has_next.then(|| to(last, false)),
            loaded.has_previous.then(|| to(first, true)),
        ),
        (Some(_), None) => (None, None),
        (None, bounds) => {
            let deep = offset + u64::from(page_size) >= CURSOR_FROM_ROW;
            let next = match bounds {
                Some((_, last)) if deep => to(last, false),
                _ => links.page(request, page + 1),
            };
            (
                loaded.has_next.then_some(next),
                (page > 1).then(|| links.page(request, page - 1)),
            )
        }
    };
    if loaded.rows.is_empty() && page > 1 && cursor.is_none() {
        return Err(ApiError::NotFound("Invalid page.".into()));
    }
    let page = Page {
        count: loaded.total.max(shown),
        count_is_estimate: loaded.estimated,
        next,
        previous,
        results: loaded
            .rows
            .into_iter()
            .map(|row| view(row, &links))
            .collect(),
    };
    Ok(Rendered::list(page).with_filters(fields, default_ordering))
}

/// One page of a list, however it was computed (a board, suggestions): `count`, `next`
/// when there is more, `previous` after page 1; an empty page past the first is a 404.
pub fn page_of<V: ToSchema>(
    request: &HttpRequest,
    links: &Links,
    page: u32,
    count: i64,
    has_next: bool,
    results: Vec<V>,
) -> Result<Page<V>, ApiError> {
    if results.is_empty() && page > 1 {
        return Err(ApiError::NotFound("Invalid page.".into()));
    }
    Ok(Page {
        count,
        count_is_estimate: false,
        next: has_next.then(|| links.page(request, page + 1)),
        previous: (page > 1).then(|| links.page(request, page - 1)),
        results,
    })
}

/// Renders one record, or 404 naming what was looked for.
pub fn detail<R, V: Serialize>(
    request: &HttpRequest,
    ctx: &AppContext,
    record: Option<R>,
    missing: impl FnOnce() -> String,
    view: impl FnOnce(R, &Links) -> V,
) -> Result<Rendered, ApiError> {
    params::detail_query(request)?;
    let record = record.ok_or_else(|| ApiError::NotFound(missing()))?;
    Ok(Rendered::ok(view(
        record,
        &Links::new(request, &ctx.config),
    )))
}

/// Parses a path id; anything but a UUID names nothing (404).
pub fn uuid_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("No {what} with id {raw:?}.")))
}
