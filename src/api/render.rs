//! JSON or browsable HTML from the same value, with an ETag and 304 on `If-None-Match`.
//! Handlers build a `Rendered` and never branch on the format.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::api::post_form::PostForm;
use crate::api::views::Page;
use crate::api::{filter_form, html, params};
use crate::db::filter::Field;

/// The methods of a list that only reads (all but the task and tracked lists).
pub const READ_ONLY: &str = "GET, HEAD";
/// The methods of a list that also creates: the tasks and the tracked lists.
pub const READ_AND_POST: &str = "GET, HEAD, POST";
/// The methods of an item that can be deleted: a tracked repository or organization.
pub const READ_AND_DELETE: &str = "GET, HEAD, DELETE";

/// A response body waiting for content negotiation.
pub struct Rendered {
    body: Value,
    status: StatusCode,
    location: Option<String>,
    /// `Link` (RFC 8288): the next and previous pages of a list.
    link: Option<String>,
    /// `Allow`: the methods the path answers, when known.
    allow: Option<&'static str>,
    /// The list's fields and default ordering, for the filter form of the HTML page.
    filters: Option<(&'static [Field], &'static str)>,
    /// The form of a writable list's `POST`, shown above the JSON on the browsable page.
    post: Option<PostForm>,
}

impl Rendered {
    /// 200 with this body.
    pub fn ok(body: impl Serialize) -> Self {
        Self {
            body: serde_json::to_value(body).unwrap_or(Value::Null),
            status: StatusCode::OK,
            location: None,
            link: None,
            allow: None,
            filters: None,
            post: None,
        }
    }

    /// 200 with a page of a list: `Link` names its next and previous pages, and `Allow`
    /// says [`READ_ONLY`] until [`Rendered::with_allow`] says otherwise.
    pub fn list<V: ToSchema + Serialize>(page: Page<V>) -> Self {
        Self::list_as(page, |page| page)
    }

    /// [`Rendered::list`] with a body of its own around the page (a page with fields more).
    pub fn list_as<V: ToSchema, B: Serialize>(
        page: Page<V>,
        body: impl FnOnce(Page<V>) -> B,
    ) -> Self {
        let link = [(&page.next, "next"), (&page.previous, "prev")]
            .into_iter()
            .filter_map(|(url, rel)| url.as_ref().map(|url| format!("<{url}>; rel=\"{rel}\"")))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            link: Some(link).filter(|link| !link.is_empty()),
            allow: Some(READ_ONLY),
            ..Self::ok(body(page))
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

    /// Sets `Allow`: the methods the path answers (`GET, HEAD, POST`).
    pub fn with_allow(mut self, methods: &'static str) -> Self {
        self.allow = Some(methods);
        self
    }

    /// Adds the filter form of a list over `fields` to the HTML page (built only when the
    /// answer is HTML).
    pub fn with_filters(
        mut self,
        fields: &'static [Field],
        default_ordering: &'static str,
    ) -> Self {
        self.filters = Some((fields, default_ordering));
        self
    }

    /// Adds the form of the list's `POST` body to the HTML page, if given.
    pub fn with_post_form(mut self, form: Option<PostForm>) -> Self {
        self.post = form;
        self
    }

    /// Negotiates the format and answers, or 304 when the client's ETag still matches.
    pub fn respond(self, request: &HttpRequest) -> HttpResponse {
        let content_type = if wants_html(request) {
            "text/html; charset=utf-8"
        } else {
            "application/json"
        };
        // The headers the answer carries that the HTML page shows, in DRF's order.
        let headers: Vec<(&str, &str)> = [
            ("Allow", self.allow),
            ("Link", self.link.as_deref()),
            ("Location", self.location.as_deref()),
            ("Content-Type", Some(content_type)),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name, value)))
        .collect();
        let bytes = if content_type.starts_with("text/html") {
            let mut forms = Vec::new();
            if let Some((fields, ordering)) = self.filters {
                forms.push(filter_form::form(request, fields, ordering));
            }
            forms.extend(self.post.as_ref().map(PostForm::render));
            html::page(&html::Browsable {
                path: request.path(),
                json_url: &json_url(request),
                status: self.status,
                headers: &headers,
                forms: &forms,
                body: &self.body,
            })
            .into_bytes()
        } else {
            serde_json::to_vec(&self.body).unwrap_or_default()
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
        response.insert_header((header::VARY, "Accept"));
        for (name, value) in headers {
            response.insert_header((name, value));
        }
        if cacheable {
            response.insert_header((header::ETAG, etag));
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
