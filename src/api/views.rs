//! What every answer shares: `Page<T>` for lists and `ErrorView` for errors (each
//! resource's own view lives in its file).

use serde::Serialize;
use utoipa::ToSchema;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// Items in the whole (filtered) list: exact up to 10,000, an estimate above (then
    /// `count_is_estimate` is true).
    pub count: i64,
    /// `true` when `count` is the planner's estimate rather than a count (above 10,000
    /// items); absent when `count` is exact.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub count_is_estimate: bool,
    /// The next page, absent on the last: a page number, or a `cursor` once the client
    /// walks by cursor or past row 10,000.
    pub next: Option<String>,
    /// The previous page, absent on the first.
    pub previous: Option<String>,
    /// This page's items.
    pub results: Vec<T>,
}

/// An error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorView {
    /// What is wrong, naming the parameter or field.
    pub error: String,
}
