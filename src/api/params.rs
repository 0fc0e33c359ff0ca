//! Query parameters of lists: `page`, `page_size`, `ordering` and Django-style filters.

use actix_web::HttpRequest;

use crate::api::error::ApiError;
use crate::db::filter::{Field, Filter, ListQuery, Ordering};

/// Items per page unless `page_size` says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 10;
/// Largest `page_size`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Parameters every list accepts besides its filters.
pub const RESERVED: [&str; 4] = ["page", "page_size", "ordering", "format"];

/// The decoded query string, in order (repeated keys kept). A NUL character is refused
/// here, once for every resource: PostgreSQL text cannot hold one.
pub fn query_pairs(request: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(request.query_string())
        .map_err(|error| ApiError::BadRequest(format!("Malformed query string: {error}")))?;
    match pairs
        .iter()
        .find(|(key, value)| key.contains('\0') || value.contains('\0'))
    {
        Some((key, _)) => Err(ApiError::BadRequest(format!(
            "Invalid {}: expected text without NUL characters",
            key.replace('\0', "\\0")
        ))),
        None => Ok(pairs),
    }
}

/// The request's query string with `key` set to `value`, or removed when `value` is `None`;
/// the other parameters keep their order. A malformed query string counts as empty.
pub fn query_with(request: &HttpRequest, key: &str, value: Option<&str>) -> String {
    let mut pairs = query_pairs(request).unwrap_or_default();
    pairs.retain(|(k, _)| k != key);
    if let Some(value) = value {
        pairs.push((key.to_owned(), value.to_owned()));
    }
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// The last value of a query parameter, if any.
pub fn query_value(request: &HttpRequest, key: &str) -> Option<String> {
    query_pairs(request)
        .ok()?
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// A `page` value: a positive integer.
pub fn page_number(raw: &str) -> Result<u32, ApiError> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|page| *page >= 1)
        .ok_or_else(|| {
            ApiError::BadRequest(format!("Invalid page: {raw:?} is not a positive integer"))
        })
}

/// A `page_size` value: an integer from 1 to [`MAX_PAGE_SIZE`].
pub fn page_size(raw: &str) -> Result<u32, ApiError> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Invalid page_size: {raw:?} is not an integer from 1 to {MAX_PAGE_SIZE}"
            ))
        })
}

/// Parses a list request against the list's fields; every error names the parameter.
/// An empty value (blank) is no value, as django-filter reads a submitted form: an empty
/// filter filters nothing, an empty `page`, `page_size`, `ordering` or `format` is the
/// default; an unknown name is a 400 all the same.
pub fn list_query(
    request: &HttpRequest,
    fields: &[Field],
    default_ordering: &str,
) -> Result<ListQuery, ApiError> {
    let pairs = query_pairs(request)?;
    let single = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    };
    let page = single("page").map_or(Ok(1), page_number)?;
    let page_size = single("page_size").map_or(Ok(DEFAULT_PAGE_SIZE), page_size)?;
    let ordering = Ordering::parse(fields, single("ordering").unwrap_or(default_ordering))
        .map_err(ApiError::BadRequest)?;
    if let Some(format) = single("format").filter(|f| !matches!(*f, "json" | "api" | "html")) {
        return Err(ApiError::BadRequest(format!(
            "Invalid format: {format:?} (json, api or html)"
        )));
    }
    let mut filters = pairs
        .iter()
        .filter(|(key, _)| !RESERVED.contains(&key.as_str()))
        .filter_map(|(key, value)| {
            Filter::parse_unless_empty(fields, key, value)
                .map_err(ApiError::BadRequest)
                .transpose()
        })
        .collect::<Result<Vec<_>, _>>()?;
    filters.extend(Filter::defaults(fields, &filters));
    Ok(ListQuery {
        filters,
        ordering,
        page,
        page_size,
    })
}

/// Rejects any query parameter on a detail page but `format`.
pub fn detail_query(request: &HttpRequest) -> Result<(), ApiError> {
    match query_pairs(request)?
        .into_iter()
        .find(|(key, _)| key != "format")
    {
        Some((key, _)) => Err(ApiError::BadRequest(format!("Unknown parameter: {key}"))),
        None => Ok(()),
    }
}
