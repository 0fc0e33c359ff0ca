//! Requests no route matched: a missing trailing slash redirects, anything else is 404.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::api::error::ApiError;

/// 308 to the same path with a trailing slash (query kept), else a JSON 404.
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
    Err(ApiError::NotFound(format!("Not found: {path}")))
}
