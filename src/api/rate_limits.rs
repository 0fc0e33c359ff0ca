//! `/github/rate_limit/`: the GitHub quota per identity and resource.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::links::Links;
use crate::api::resource::{Declaration, Operation, Resource};
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::rate_limits::{self, RateLimitRow};

/// The quota rows, one per identity and GitHub resource.
pub struct RateLimits;

impl Resource for RateLimits {
    type Record = RateLimitRow;
    type View = RateLimitView;
    type Scope = ();
    type Id = i64;

    const DECLARATION: Declaration = Declaration {
        name: "rate_limit",
        path: "/rate_limit/",
        singular: "rate limit",
        tag: "rate_limit",
        fields: rate_limits::FIELDS,
        ordering: "-updated_at",
        list: Operation {
            id: "list_rate_limits",
            summary: "Lists rate-limit rows.",
        },
        detail: Operation {
            id: "get_rate_limit",
            summary: "One rate-limit row.",
        },
    };
    const ALL: () = ();

    fn view(record: RateLimitRow, links: &Links) -> RateLimitView {
        RateLimitView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<RateLimitRow>, DbError> {
        rate_limits::list(conn, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<RateLimitRow>, DbError> {
        rate_limits::get(conn, id).await
    }
}

/// The GitHub quota of one identity and resource, as last read from GitHub.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitView {
    pub url: String,
    pub id: i64,
    /// `anonymous` or `token:<first 8 hex of the token's SHA-256>`.
    pub identity: String,
    /// core, search, graphql...
    pub resource: String,
    pub rate_limit: i32,
    pub rate_remaining: i32,
    pub rate_used: i32,
    /// Reset time, epoch seconds.
    pub rate_reset_raw: i64,
    /// Reset time, RFC 3339.
    pub rate_reset: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RateLimitView {
    /// The view of a row.
    pub fn new(row: RateLimitRow, links: &Links) -> Self {
        Self {
            url: links.rate_limit(row.id),
            id: row.id,
            identity: row.identity,
            resource: row.resource,
            rate_limit: row.rate_limit,
            rate_remaining: row.rate_remaining,
            rate_used: row.rate_used,
            rate_reset_raw: row.rate_reset.timestamp(),
            rate_reset: row.rate_reset,
            updated_at: row.updated_at,
        }
    }
}
