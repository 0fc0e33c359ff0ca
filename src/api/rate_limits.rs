//! `/github/rate_limit/`: the GitHub quota per identity and resource.

use diesel_async::AsyncPgConnection;

use crate::api::links::Links;
use crate::api::resource::{Declaration, Operation, Resource};
use crate::api::views::RateLimitView;
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
