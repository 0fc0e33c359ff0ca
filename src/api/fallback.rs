//! Requests no route matched: a missing trailing slash redirects, a trailing slash on one
//! of the few routes without one (the metrics and charts) redirects to it, anything else
//! is 404.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::api::error::ApiError;

/// 308 to the same path with a trailing slash (query kept), or without one when that is a
/// route, else a JSON 404.
pub async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = request.path();
    if !path.ends_with('/') && !path.ends_with(".json") {
        let query = request.query_string();
        let location = if query.is_empty() {
            format!("{path}/")
        } else {
            format!("{path}/?{query}")
        };
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, location))
            .finish());
    }
    let without_slash = path.trim_end_matches('/');
    if !without_slash.is_empty() && request.resource_map().has_resource(without_slash) {
        let query = request.query_string();
        let location = if query.is_empty() {
            without_slash.to_owned()
        } else {
            format!("{without_slash}?{query}")
        };
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, location))
            .finish());
    }
    Err(ApiError::NotFound(format!("Not found: {path}")))
}
