//! What every answer shares: `Page<T>` for lists and `ErrorView` for errors (each
//! resource's own view lives in its file).

use serde::Serialize;
use utoipa::ToSchema;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// Items in the whole (filtered) list.
    pub count: i64,
    /// The next page, absent on the last.
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
