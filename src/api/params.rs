//! Query parameters: the decoded query string, paging, the Django-style filters of lists,
//! and [`typed`]: one struct per endpoint, deserialized from its query string, that is also
//! what the OpenAPI document shows of it. [`from_fields`] does the same for a body's fields.

use std::fmt;

use actix_web::HttpRequest;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serde_path_to_error::Segment;
use url::form_urlencoded;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Required};
use utoipa::{IntoParams, ToSchema};

use crate::api::error::ApiError;
use crate::api::values::{QueryValue, integer_schema, query_value};
use crate::db::cursor::Cursor;
use crate::db::filter::{Field, Filter, Kind, ListQuery, Ordering};

/// Items per page unless `page_size` says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 10;
/// Largest `page_size`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Parameters every list accepts besides its filters.
pub const RESERVED: [&str; 5] = ["page", "page_size", "ordering", "format", "cursor"];

/// The decoded query string, in order (repeated keys kept). A NUL character is refused
/// here, once for every resource: PostgreSQL text cannot hold one.
pub fn query_pairs(request: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(request.query_string())
        .map_err(|error| ApiError::BadRequest(format!("Malformed query string: {error}")))?;
    match pairs
        .iter()
        .find(|(key, value)| key.contains('\0') || value.contains('\0'))
    {
        Some((key, _)) => Err(ApiError::BadRequest(format!(
            "Invalid {}: expected text without NUL characters",
            key.replace('\0', "\\0")
        ))),
        None => Ok(pairs),
    }
}

/// The request's query string with `key` set to `value`, or removed when `value` is `None`;
/// the other parameters keep their order. A malformed query string counts as empty.
pub fn query_with(request: &HttpRequest, key: &str, value: Option<&str>) -> String {
    query_string_with(request.query_string(), key, value)
}

/// [`query_with`] on a query string of its own.
pub fn query_string_with(query: &str, key: &str, value: Option<&str>) -> String {
    let mut pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default();
    pairs.retain(|(k, _)| k != key);
    if let Some(value) = value {
        pairs.push((key.to_owned(), value.to_owned()));
    }
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// The last value of a query parameter, if any.
pub fn query_value(request: &HttpRequest, key: &str) -> Option<String> {
    query_pairs(request)
        .ok()?
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// A `page` value: a positive integer.
pub fn page_number(raw: &str) -> Result<u32, ApiError> {
    PageNumber::parse(raw.trim())
        .map(|page| page.0)
        .ok_or_else(|| {
            ApiError::BadRequest(format!("Invalid page: {raw:?} is not a positive integer"))
        })
}

/// A `page_size` value: an integer from 1 to [`MAX_PAGE_SIZE`].
pub fn page_size(raw: &str) -> Result<u32, ApiError> {
    PageSize::parse(raw.trim())
        .map(|size| size.0)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Invalid page_size: {raw:?} is not an integer from 1 to {MAX_PAGE_SIZE}"
            ))
        })
}

/// A 1-based page number of a typed request's parameters (1 by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageNumber(pub u32);

impl Default for PageNumber {
    fn default() -> Self {
        Self(1)
    }
}

impl QueryValue for PageNumber {
    fn expected() -> String {
        "a positive integer".into()
    }

    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok().filter(|page| *page >= 1).map(Self)
    }

    fn schema() -> ObjectBuilder {
        integer_schema(1, None, KnownFormat::Int32)
    }
}

query_value!(PageNumber);

/// Items per page of a typed request's parameters, 1 to [`MAX_PAGE_SIZE`]
/// ([`DEFAULT_PAGE_SIZE`] by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize(pub u32);

impl Default for PageSize {
    fn default() -> Self {
        Self(DEFAULT_PAGE_SIZE)
    }
}

impl QueryValue for PageSize {
    fn expected() -> String {
        format!("an integer from 1 to {MAX_PAGE_SIZE}")
    }

    fn parse(raw: &str) -> Option<Self> {
        raw.parse()
            .ok()
            .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
            .map(Self)
    }

    fn schema() -> ObjectBuilder {
        integer_schema(1, Some(i64::from(MAX_PAGE_SIZE)), KnownFormat::Int32)
    }
}

query_value!(PageSize);

/// Parses a list request against the list's fields; every error names the parameter.
/// An empty value (blank) is no value, as django-filter reads a submitted form: an empty
/// filter filters nothing, an empty `page`, `page_size`, `ordering` or `format` is the
/// default; an unknown name is a 400 all the same.
pub fn list_query(
    request: &HttpRequest,
    fields: &[Field],
    default_ordering: &str,
) -> Result<ListQuery, ApiError> {
    let pairs = query_pairs(request)?;
    let single = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    };
    let page = single("page").map_or(Ok(1), page_number)?;
    let page_size = single("page_size").map_or(Ok(DEFAULT_PAGE_SIZE), page_size)?;
    let ordering = Ordering::parse(fields, single("ordering").unwrap_or(default_ordering))
        .map_err(ApiError::BadRequest)?;
    if let Some(format) = single("format").filter(|f| !matches!(*f, "json" | "api" | "html")) {
        return Err(ApiError::BadRequest(format!(
            "Invalid format: {format:?} (json, api or html)"
        )));
    }
    let mut filters = pairs
        .iter()
        .filter(|(key, _)| !RESERVED.contains(&key.as_str()))
        .filter_map(|(key, value)| {
            Filter::parse_unless_empty(fields, key, value)
                .map_err(ApiError::BadRequest)
                .transpose()
        })
        .collect::<Result<Vec<_>, _>>()?;
    filters.extend(Filter::defaults(fields, &filters));
    // A search without an ordering lists by relevance: numbered pages only.
    let ranked = single("ordering").is_none()
        && filters
            .iter()
            .any(|filter| matches!(filter.field().kind, Kind::Search { .. }));
    if ranked && pairs.iter().any(|(key, _)| key == "cursor") {
        return Err(ApiError::BadRequest(
            "Invalid cursor: a search without an ordering lists by relevance, which is paged \
             by number only (page=); add an ordering (such as ordering=login) to walk the \
             matches by cursor"
                .into(),
        ));
    }
    // `cursor=` left empty asks for the first page walked by cursor: its `next` is one.
    let cursor = match single("cursor") {
        Some(text) => Some(list_cursor(request, &ordering, text)?),
        None if pairs.iter().any(|(key, _)| key == "cursor") => Some(Cursor {
            list: request.path().to_owned(),
            ordering: ordering.name(),
            position: None,
            backwards: false,
        }),
        None => None,
    };
    Ok(ListQuery {
        filters,
        ordering,
        page,
        page_size,
        cursor,
        ranked,
    })
}

/// Reads `cursor=` for this list and ordering; a cursor of another list or ordering, or
/// one that was altered, is a 400 saying which.
fn list_cursor(request: &HttpRequest, ordering: &Ordering, text: &str) -> Result<Cursor, ApiError> {
    let cursor = Cursor::decode(text).map_err(ApiError::BadRequest)?;
    if cursor.list != request.path() {
        return Err(ApiError::BadRequest(format!(
            "Invalid cursor: it walks {}, not this list",
            cursor.list
        )));
    }
    if cursor.ordering != ordering.name() {
        return Err(ApiError::BadRequest(format!(
            "Invalid cursor: it was made for ordering={}, and this request orders by {}; \
             start again without a cursor to change the order",
            cursor.ordering,
            ordering.name()
        )));
    }
    if let Some(position) = &cursor.position {
        ordering
            .check_position(position)
            .map_err(ApiError::BadRequest)?;
    }
    Ok(cursor)
}

/// Checks the query of a page that takes no parameter but `format` (an item, the graph,
/// the dashboard): any other is unknown, and `format` must be one of [`RenderFormat`]'s.
pub fn detail_query(request: &HttpRequest) -> Result<(), ApiError> {
    typed::<Rendering>(request).map(|_| ())
}

// ---------------------------------------------------------------------------
// Typed parameters
// ---------------------------------------------------------------------------

/// The `format` parameter of every rendered resource: [`typed`] checks it, and the
/// rendering (`render.rs`) reads it. A handler documents it beside its own parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Rendering {
    /// `json` forces JSON, `api` or `html` the browsable HTML (default: by Accept).
    #[param(inline)]
    pub format: Option<RenderFormat>,
}

/// An answer's rendering: JSON, or the browsable HTML page (`api` and `html` alike).
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RenderFormat {
    Json,
    Api,
    Html,
}

/// The query string of a rendered resource as `T`, a `#[derive(Deserialize, IntoParams)]`
/// struct with `#[serde(deny_unknown_fields)]` (the same struct documents the parameters):
///
/// - `format` is checked here once for every resource (see [`Rendering`]) and left out;
/// - a value is trimmed, and an empty one counts as absent (`?since=` means no since);
/// - of a repeated parameter, the last value counts;
/// - every 400 names the parameter: `Unknown parameter: colour (this resource takes ...)`,
///   `Invalid page: expected a positive integer, got "0"`, `Missing offset: ...` (what the
///   document says of it).
///
/// Range checks that involve two parameters (`since` after `until`) are the caller's.
pub fn typed<T: DeserializeOwned + IntoParams>(request: &HttpRequest) -> Result<T, ApiError> {
    let (format, rest): (Vec<_>, Vec<_>) = last_values(query_pairs(request)?)
        .into_iter()
        .partition(|(key, _)| key == "format");
    // Checked here; the rendering reads it from the query string itself (`render.rs`).
    let Rendering { format: _checked } = decode(&format, &[])?;
    decode(&rest, &["format"])
}

/// Like [`typed`], for a resource that is not rendered (the graph export streams a format of
/// its own, the charts are HTML only): `format` is no parameter of its own here, `T` takes it
/// or it is unknown.
pub fn typed_unrendered<T: DeserializeOwned + IntoParams>(
    request: &HttpRequest,
) -> Result<T, ApiError> {
    decode(&last_values(query_pairs(request)?), &[])
}

/// The pairs of a query string as [`typed`] reads them: values trimmed, the last of a
/// repeated key only.
fn last_values(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        kept.retain(|(k, _)| *k != key);
        let value = value.trim().to_owned();
        kept.push((key, value));
    }
    kept
}

/// Deserializes `T` from `pairs`; `also` names the parameters the resource takes besides
/// `T`'s, for the unknown parameter's 400.
fn decode<T: DeserializeOwned + IntoParams>(
    pairs: &[(String, String)],
    also: &[&str],
) -> Result<T, ApiError> {
    let documented = documented_params::<T>();
    if let Some((key, _)) = pairs
        .iter()
        .find(|(key, _)| !documented.iter().any(|d| d.name == *key))
    {
        let takes: Vec<&str> = documented
            .iter()
            .map(|d| d.name.as_str())
            .chain(also.iter().copied())
            .collect();
        return Err(ApiError::BadRequest(format!(
            "Unknown parameter: {key} (this resource takes {})",
            takes.join(", ")
        )));
    }
    // An empty value counts as absent (django-filter's rule).
    let pairs: Vec<&(String, String)> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (k, v)))
        .finish();
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        rejected(&error, &documented, |name| {
            pairs.iter().any(|(k, _)| k == name)
        })
    })
}

/// The fields of a request body (see `tasks::body_fields`) as `T`, a
/// `#[derive(Deserialize, ToSchema)]` struct that also documents the body: a null or blank
/// field counts as absent and text is trimmed; every 400 names the field, like [`typed`]'s.
pub fn from_fields<T: DeserializeOwned + ToSchema>(
    fields: Map<String, Value>,
) -> Result<T, ApiError> {
    let fields: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(key, value)| match value {
            Value::Null => None,
            Value::String(text) if text.trim().is_empty() => None,
            Value::String(text) => Some((key, Value::String(text.trim().to_owned()))),
            other => Some((key, other)),
        })
        .collect();
    let documented = documented_fields::<T>();
    serde_path_to_error::deserialize(Value::Object(fields.clone()))
        .map_err(|error| rejected(&error, &documented, |name| fields.contains_key(name)))
}

/// A parameter or body field as the document describes it: what its 400s say of it.
struct Documented {
    name: String,
    required: bool,
    description: String,
}

/// The query parameters `T` documents.
fn documented_params<T: IntoParams>() -> Vec<Documented> {
    T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|parameter| Documented {
            required: matches!(parameter.required, Required::True),
            description: parameter.description.unwrap_or_default(),
            name: parameter.name,
        })
        .collect()
}

/// The body fields `T` documents.
fn documented_fields<T: ToSchema>() -> Vec<Documented> {
    let RefOr::T(Schema::Object(object)) = T::schema() else {
        return Vec::new();
    };
    object
        .properties
        .iter()
        .map(|(name, property)| Documented {
            name: name.clone(),
            required: object.required.contains(name),
            description: match property {
                RefOr::T(Schema::Object(property)) => property.description.clone(),
                _ => None,
            }
            .unwrap_or_default(),
        })
        .collect()
}

/// The 400 of a deserialization error: an invalid value names its key; a missing one is
/// the first documented required name not `given`, with what the document says of it.
fn rejected<E: fmt::Display>(
    error: &serde_path_to_error::Error<E>,
    documented: &[Documented],
    given: impl Fn(&str) -> bool,
) -> ApiError {
    let message = match error.path().iter().next() {
        Some(Segment::Map { key }) => format!("Invalid {key}: {}", error.inner()),
        _ => match documented.iter().find(|d| d.required && !given(&d.name)) {
            Some(missing) => format!("Missing {}: {}", missing.name, phrase(&missing.description)),
            None => error.inner().to_string(),
        },
    };
    ApiError::BadRequest(message)
}

/// A documented description as a phrase after a colon: one line, no final period, a
/// capitalized first word in lower case (`GitHub` stays).
fn phrase(description: &str) -> String {
    let line = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = line.trim_end_matches('.');
    let mut chars = line.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            first.to_lowercase().chain(line.chars().skip(1)).collect()
        }
        _ => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde::Deserialize;
    use serde_json::json;
    use utoipa::{IntoParams, ToSchema};

    use super::{PageNumber, PageSize, from_fields, typed, typed_unrendered};
    use crate::api::values::Positive;

    /// A resource's parameters: one required, two with defaults.
    #[derive(Debug, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        /// Minutes back from now.
        #[param(inline)]
        offset: Positive,
        /// 1-based page.
        #[serde(default)]
        #[param(inline)]
        page: PageNumber,
        /// Items per page.
        #[serde(default)]
        #[param(inline)]
        page_size: PageSize,
        /// Any text.
        text: Option<String>,
    }

    fn parse(query: &str) -> Result<Sample, String> {
        typed(&TestRequest::with_uri(&format!("/?{query}")).to_http_request())
            .map_err(|error| error.to_string())
    }

    #[test]
    fn a_query_becomes_its_struct_with_defaults_trimmed_values_and_the_last_repeat() {
        let sample = parse("offset=+5&page_size=%2020%20&text=a&text=b").expect("valid");
        assert_eq!(sample.offset, Positive(5));
        assert_eq!(
            (sample.page, sample.page_size),
            (PageNumber(1), PageSize(20))
        );
        assert_eq!(sample.text.as_deref(), Some("b"));
        // An empty value is absent; `format` is the rendering's.
        let sample = parse("offset=1&page=&text=&format=json").expect("valid");
        assert_eq!((sample.page, sample.text), (PageNumber(1), None));
    }

    #[test]
    fn every_refusal_names_the_parameter() {
        let cases = [
            (
                "offset=1&colour=red",
                "Unknown parameter: colour (this resource takes offset, page, page_size, text, format)",
            ),
            (
                "offset=0",
                "Invalid offset: expected a positive integer, got \"0\"",
            ),
            (
                "offset=1&page_size=101",
                "Invalid page_size: expected an integer from 1 to 100, got \"101\"",
            ),
            ("page=2", "Missing offset: minutes back from now"),
            ("offset=", "Missing offset: minutes back from now"),
            (
                "offset=1&format=xml",
                "Invalid format: unknown variant `xml`, expected one of `json`, `api`, `html`",
            ),
            (
                "offset=1&text=a%00b",
                "Invalid text: expected text without NUL characters",
            ),
        ];
        for (query, message) in cases {
            assert_eq!(parse(query).expect_err(query), message, "{query}");
        }
        // An unknown parameter is refused even without a value.
        assert!(parse("offset=1&colour=").is_err());
    }

    #[test]
    fn an_unrendered_resource_has_no_format_of_its_own() {
        let request = TestRequest::with_uri("/?offset=1&format=json").to_http_request();
        let error = typed_unrendered::<Sample>(&request).expect_err("format is unknown");
        assert!(
            error.to_string().starts_with("Unknown parameter: format"),
            "{error}"
        );
    }

    /// A body of one required field.
    #[derive(Debug, Deserialize, ToSchema)]
    struct Body {
        /// The repository as `owner/name`.
        #[schema(value_type = String)]
        full_name: crate::domain::FullName,
    }

    #[test]
    fn a_body_field_missing_blank_or_invalid_is_named() {
        let body = |value: serde_json::Value| {
            from_fields::<Body>(value.as_object().cloned().unwrap_or_default())
                .map(|body| body.full_name.as_str().to_owned())
                .map_err(|error| error.to_string())
        };
        assert_eq!(body(json!({"full_name": " a/b "})), Ok("a/b".to_owned()));
        for blank in [
            json!({}),
            json!({"full_name": " "}),
            json!({"full_name": null}),
        ] {
            assert_eq!(
                body(blank),
                Err("Missing full_name: the repository as `owner/name`".to_owned())
            );
        }
        let invalid = body(json!({"full_name": 7})).expect_err("a number");
        assert!(
            invalid.starts_with("Invalid full_name: invalid type"),
            "{invalid}"
        );
        let invalid = body(json!({"full_name": "a/b/c"})).expect_err("two slashes");
        assert!(
            invalid.starts_with("Invalid full_name: \"a/b/c\""),
            "{invalid}"
        );
    }
}
