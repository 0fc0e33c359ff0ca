//! Requests no route matched: a method a resource does not answer is 405, a missing
//! trailing slash redirects, a trailing slash on one of the few routes without one (the
//! metrics and charts) redirects to it, anything else is 404.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::api::error::ApiError;

/// 405 for a resource's unanswered method; 308 to the same path with a trailing slash
/// (query kept), or without one when that is a route; else a JSON 404.
pub async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = request.path();
    let routes = request.resource_map();
    if routes.has_resource(path) {
        return Err(ApiError::MethodNotAllowed(format!(
            "Method not allowed: {} {path}",
            request.method()
        )));
    }
    if !path.ends_with('/') && !path.ends_with(".json") {
        return Ok(add_slash(request).await);
    }
    let without_slash = path.trim_end_matches('/');
    if !without_slash.is_empty() && routes.has_resource(without_slash) {
        return Ok(redirect(&request, without_slash));
    }
    Err(ApiError::NotFound(format!("Not found: {path}")))
}

/// 308 to the same path with a trailing slash, query kept.
pub async fn add_slash(request: HttpRequest) -> HttpResponse {
    redirect(&request, &format!("{}/", request.path()))
}

/// 308 to `path`, the request's query kept.
fn redirect(request: &HttpRequest, path: &str) -> HttpResponse {
    let query = request.query_string();
    let location = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, location))
        .finish()
}
