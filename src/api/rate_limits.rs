//! `/github/rate_limit/`: the GitHub quota per identity and resource.

use actix_web::{HttpRequest, HttpResponse, route, web};

use crate::api::collection::{detail, list};
use crate::api::error::ApiError;
use crate::api::params::ListParams;
use crate::api::views::{ErrorView, Page, RateLimitView};
use crate::context::AppContext;
use crate::db::queries::rate_limits;

/// Default order of the rate-limit list: most recently updated first.
pub const DEFAULT_ORDERING: &str = "-updated_at";

/// Lists rate-limit rows.
#[utoipa::path(get, tag = "rate_limit", params(ListParams),
    responses((status = 200, body = Page<RateLimitView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/rate_limit/", method = "GET", method = "HEAD")]
pub async fn list_rate_limits(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        &request,
        &ctx,
        rate_limits::FIELDS,
        DEFAULT_ORDERING,
        |mut conn, query| async move { rate_limits::list(&mut conn, &query).await },
        RateLimitView::new,
    )
    .await?;
    Ok(rendered.respond(&request))
}

/// One rate-limit row.
#[utoipa::path(get, tag = "rate_limit",
    params(("id" = i64, Path, description = "The row's id")),
    responses((status = 200, body = RateLimitView), (status = 404, body = ErrorView)))]
#[route("/rate_limit/{id}/", method = "GET", method = "HEAD")]
pub async fn get_rate_limit(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let missing = || format!("No rate limit with id {:?}.", id.as_str());
    let record = match id.parse::<i64>() {
        Ok(id) => rate_limits::get(&mut *ctx.conn().await?, id).await?,
        Err(_) => None,
    };
    Ok(detail(&request, &ctx, record, missing, RateLimitView::new)?.respond(&request))
}
