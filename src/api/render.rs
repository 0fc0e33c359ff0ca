//! JSON or browsable HTML from the same value, with an ETag and 304 on `If-None-Match`.
//! Handlers build a `Rendered` and never branch on the format.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::api::{html, params};
use crate::jobs::Registry;

/// A response body waiting for content negotiation.
pub struct Rendered {
    body: Value,
    status: StatusCode,
    location: Option<String>,
    /// HTML shown above the JSON on the browsable page (the task trigger form).
    form: Option<maud::Markup>,
}

impl Rendered {
    /// 200 with this body.
    pub fn ok(body: impl Serialize) -> Self {
        Self {
            body: serde_json::to_value(body).unwrap_or(Value::Null),
            status: StatusCode::OK,
            location: None,
            form: None,
        }
    }

    /// 202 Accepted with a Location header.
    pub fn accepted(body: impl Serialize, location: String) -> Self {
        Self {
            status: StatusCode::ACCEPTED,
            location: Some(location),
            ..Self::ok(body)
        }
    }

    /// 201 Created with a Location header.
    pub fn created(body: impl Serialize, location: String) -> Self {
        Self {
            status: StatusCode::CREATED,
            location: Some(location),
            ..Self::ok(body)
        }
    }

    /// Adds the form that triggers a task of any registered kind to the HTML page.
    pub fn with_task_form(mut self, registry: &Registry) -> Self {
        self.form = Some(html::task_form(registry));
        self
    }

    /// Negotiates the format and answers, or 304 when the client's ETag still matches.
    pub fn respond(self, request: &HttpRequest) -> HttpResponse {
        let as_html = wants_html(request);
        let (bytes, content_type) = if as_html {
            (
                html::page(
                    request.path(),
                    &json_url(request),
                    &self.body,
                    self.form.as_ref(),
                )
                .into_bytes(),
                "text/html; charset=utf-8",
            )
        } else {
            (
                serde_json::to_vec(&self.body).unwrap_or_default(),
                "application/json",
            )
        };
        let etag = format!(
            "\"{}\"",
            &hex::encode(
                Sha256::new()
                    .chain_update(content_type)
                    .chain_update(&bytes)
                    .finalize()
            )[..32]
        );
        let cacheable = self.status == StatusCode::OK
            && matches!(*request.method(), Method::GET | Method::HEAD);
        if cacheable && etag_matches(request, &etag) {
            return HttpResponse::NotModified()
                .insert_header((header::ETAG, etag))
                .insert_header((header::VARY, "Accept"))
                .finish();
        }
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((header::VARY, "Accept"));
        if cacheable {
            response.insert_header((header::ETAG, etag));
        }
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        response.body(bytes)
    }
}

/// The request's own URL (path and query) with `format=json`.
fn json_url(request: &HttpRequest) -> String {
    let query = params::query_with(request, "format", Some("json"));
    format!("{}?{query}", request.path())
}

/// `?format=json` forces JSON, `?format=api`/`html` HTML; otherwise a browser's Accept decides.
fn wants_html(request: &HttpRequest) -> bool {
    match params::query_value(request, "format").as_deref() {
        Some("json") => false,
        Some("api" | "html") => true,
        _ => request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(prefers_html),
    }
}

/// Whether an Accept header ranks text/html above JSON (browsers send html first).
fn prefers_html(accept: &str) -> bool {
    let position = |needle: &str| accept.find(needle);
    match (position("text/html"), position("application/json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

fn etag_matches(request: &HttpRequest, etag: &str) -> bool {
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value: &HeaderValue| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
mod tests {
    use super::prefers_html;

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        assert!(prefers_html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!prefers_html("application/json"));
        assert!(!prefers_html("*/*"));
        assert!(!prefers_html("application/json, text/html"));
    }
}
