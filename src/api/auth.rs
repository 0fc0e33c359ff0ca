//! API tokens at the HTTP edge: `Authorization: Bearer <token>`, checked by its SHA-256.

use actix_web::HttpRequest;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use crate::api::error::ApiError;
use crate::context::AppContext;
use crate::db::queries::tokens;

/// Requires a valid token: 401 without one, 403 with one that is not known.
///
/// The presented token is hashed and looked up by hash, so neither the comparison's timing
/// nor the database ever see a stored secret.
pub async fn require_token(request: &HttpRequest, ctx: &AppContext) -> Result<(), ApiError> {
    let header = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized)?;
    let token = header
        .to_str()
        .ok()
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|token| !token.is_empty())
        .ok_or(ApiError::Forbidden)?;
    match tokens::touch_by_hash(&mut *ctx.conn().await?, &crate::tokens::hash(token)).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::Forbidden),
    }
}

/// With `API_READ_AUTH=required`, reads (GET, HEAD) need a token too.
///
/// It guards what it wraps: [`crate::api::routes`] wraps the `/github` scope with it, so the
/// docs and `/health/`, mounted outside that scope, stay public. Writes check their token
/// in their handler, whatever this setting.
pub async fn read_auth(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if matches!(*request.method(), Method::GET | Method::HEAD)
        && let Some(ctx) = request.app_data::<web::Data<AppContext>>().cloned()
        && ctx.config.read_auth_required
    {
        require_token(request.request(), &ctx).await?;
    }
    next.call(request).await
}
