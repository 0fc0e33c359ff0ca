//! The filter form of a browsable list, as DRF's filter panel shows it: one control per
//! declared filter lookup (the very parameter names the list takes), typed by the field's
//! kind and prefilled from the query, and the ordering. It is submitted as a plain GET;
//! the fields left empty are sent empty, which a list reads as no filter.

use actix_web::HttpRequest;
use maud::{Markup, html};

use crate::api::params;
use crate::db::filter::{Field, Kind};

/// How the form looks (inline, added to the page's style sheet): a grid of one box per
/// field that folds to one column on a phone, nothing wider than its box.
pub const STYLE: &str = "\
details.filters{background:#fff;border:1px solid #ddd;margin-bottom:1em}\
details.filters summary{padding:.5em 1em;cursor:pointer;font-weight:bold}\
details.filters form{border:0;margin:0;padding:0 1em 1em}\
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,21em),1fr));gap:.5em}\
.fields fieldset{border:1px solid #e3e3e3;margin:0;padding:.2em .5em .4em;min-width:0}\
.fields legend{font-size:.9em;font-weight:bold;padding:0 .2em}\
.lookups{display:flex;flex-wrap:wrap;gap:.3em}\
.lookups label{display:flex;flex-direction:column;flex:1 1 5.5em;min-width:0;font-size:.8em;color:#555}\
.lookups label.narrow{flex:0 0 auto}.lookups label.date{flex-basis:7em}\
.lookups input,.lookups select{font-size:1.1em;width:100%;max-width:100%;box-sizing:border-box;margin:.1em 0 0}\
.actions{display:flex;flex-wrap:wrap;align-items:end;gap:.6em;margin-top:.7em}\
.actions label{display:flex;flex-direction:column;font-size:.8em;color:#555;min-width:0;max-width:100%}\
.actions select{font-size:1.1em;max-width:100%}.actions button{padding:.3em 1.2em}\
label.search{display:flex;gap:.5em;align-items:center;margin:.2em 0 .7em;font-weight:bold}\
label.search input{flex:1;font-size:1.1em;min-width:0}";

/// The form of the list at the request's path over `fields`, ordered by `default_ordering`
/// when the query names no ordering.
pub fn form(request: &HttpRequest, fields: &[Field], default_ordering: &str) -> Markup {
    let pairs = params::query_pairs(request).unwrap_or_default();
    let current = |name: &str| -> &str {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    };
    let format = Some(current("format")).filter(|format| matches!(*format, "api" | "html"));
    let page_size = Some(current("page_size")).filter(|size| !size.trim().is_empty());
    let ordering = Some(current("ordering"))
        .filter(|ordering| !ordering.trim().is_empty())
        .unwrap_or(if fields.iter().any(is_search) {
            ""
        } else {
            default_ordering
        });
    let reset = match format {
        Some(format) => format!("{}?format={format}", request.path()),
        None => request.path().to_owned(),
    };
    let active = fields
        .iter()
        .flat_map(|field| {
            field
                .lookups()
                .iter()
                .map(|lookup| parameter(field, lookup))
        })
        .filter(|name| !current(name).trim().is_empty())
        .count();
    html! {
        details.filters open {
            summary {
                "Filters"
                @if active > 0 { " (" (active) " set)" }
            }
            form #filters method="get" action=(request.path()) {
                @for field in fields.iter().filter(|field| is_search(field)) {
                    label.search title=(field.name) {
                        "search "
                        input type="search" name=(field.name) value=(current(field.name))
                            placeholder="words (prefixes), by relevance unless ordered";
                    }
                }
                div.fields {
                    // A field that only orders (a score) has no filter to offer.
                    @for field in fields.iter().filter(|field| !is_search(field) && !field.lookups().is_empty()) {
                        fieldset {
                            legend title=(field.name) { (field.name.replace('_', " ")) }
                            div.lookups {
                                @for lookup in in_reading_order(field.lookups()) {
                                    @let name = parameter(field, lookup);
                                    label.narrow[lookup == "__isnull"]
                                        .date[lookup != "__isnull" && field.kind == Kind::Timestamp]
                                        title=(name) {
                                        (lookup_label(field.kind, lookup))
                                        (control(field.kind, lookup, &name, current(&name)))
                                    }
                                }
                            }
                        }
                    }
                }
                div.actions {
                    label {
                        "order by"
                        select name="ordering" {
                            @if fields.iter().any(is_search) {
                                option value="" selected[current("ordering").trim().is_empty()] {
                                    "relevance (with a search), else " (default_ordering)
                                }
                            }
                            @for (value, text) in orderings(fields, default_ordering) {
                                option value=(value) selected[value == ordering] { (text) }
                            }
                        }
                    }
                    @if let Some(format) = format {
                        input type="hidden" name="format" value=(format);
                    }
                    @if let Some(page_size) = page_size {
                        input type="hidden" name="page_size" value=(page_size);
                    }
                    button type="submit" { "Apply" }
                    a href=(reset) { "Reset" }
                }
            }
        }
    }
}

/// Whether a field is a full-text search, shown as one search box above the others.
fn is_search(field: &Field) -> bool {
    matches!(field.kind, Kind::Search { .. })
}

/// Lookups as a form reads best: equals, contains, from (at least), until (at most), is null.
fn in_reading_order(lookups: &[&'static str]) -> Vec<&'static str> {
    let rank = |lookup: &&str| match *lookup {
        "" => 0,
        "__contains" => 1,
        "__gte" => 2,
        "__lte" => 3,
        _ => 4,
    };
    let mut ordered = lookups.to_vec();
    ordered.sort_by_key(rank);
    ordered
}

/// A lookup's query parameter: `login`, `login__contains`...
fn parameter(field: &Field, lookup: &str) -> String {
    format!("{}{lookup}", field.name)
}

/// What a lookup does, in words, for its label.
fn lookup_label(kind: Kind, lookup: &str) -> &'static str {
    match (lookup, kind) {
        ("__isnull", _) => "is null",
        ("__contains", Kind::TextArray) => "has",
        ("__contains", _) => "contains",
        ("__gte", Kind::Timestamp) => "from",
        ("__lte", Kind::Timestamp) => "until",
        ("__gte", _) => "at least",
        ("__lte", _) => "at most",
        (_, Kind::Boolean | Kind::Include(_)) => "is",
        _ => "equals",
    }
}

/// The input of one lookup, holding `value`: a select where the values are few, a number
/// for integers, text for the rest (dates as the server reads them: YYYY-MM-DD or RFC 3339,
/// which the browser's own date-time input does not send).
fn control(kind: Kind, lookup: &str, name: &str, value: &str) -> Markup {
    const BOOLEANS: &[&str] = &["true", "false"];
    match (lookup, kind) {
        ("__isnull", _) | ("", Kind::Boolean | Kind::Include(_)) => select(name, BOOLEANS, value),
        ("", Kind::Choice(choices)) => select(name, choices, value),
        (_, Kind::Integer) => html! {
            input type="number" step="1" name=(name) value=(value);
        },
        (_, Kind::Timestamp) => html! {
            input type="text" name=(name) value=(value) placeholder="yyyy-mm-dd"
                title="a date (YYYY-MM-DD) or an RFC 3339 date-time (2024-01-31T12:00:00Z)";
        },
        _ => html! { input type="text" name=(name) value=(value); },
    }
}

/// A select of `choices` after an empty "any"; a value given that is none of them (`1` for
/// `true`) is kept as one more option, so that submitting the form again keeps it.
fn select(name: &str, choices: &[&str], value: &str) -> Markup {
    let other = (!value.is_empty() && !choices.contains(&value)).then_some(value);
    html! {
        select name=(name) {
            option value="" selected[value.is_empty()] { "any" }
            @for choice in choices {
                option value=(choice) selected[*choice == value] { (choice) }
            }
            @if let Some(other) = other {
                option value=(other) selected { (other) }
            }
        }
    }
}

/// Every ordering a list takes, as (value, text): each orderable field ascending, then
/// descending, the default marked.
fn orderings(fields: &[Field], default_ordering: &str) -> Vec<(String, String)> {
    let mut orderings = Vec::new();
    for field in fields.iter().filter(|field| field.orderable()) {
        for (value, direction) in [
            (field.name.to_owned(), "ascending"),
            (format!("-{}", field.name), "descending"),
        ] {
            let mut text = format!("{}, {direction}", field.name.replace('_', " "));
            if value == default_ordering {
                text.push_str(" (default)");
            }
            orderings.push((value, text));
        }
    }
    orderings
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    const FIELDS: &[Field] = &[
        Field::new("login", Kind::Text),
        Field::new("followers_count", Kind::Integer),
        Field::new("created_at", Kind::Timestamp),
        Field::new("fork", Kind::Boolean),
        Field::new("status", Kind::Choice(&["queued", "failed"])),
        Field::new("labels", Kind::TextArray),
        Field::new("include_deleted", Kind::Include("deleted_at")),
    ];

    fn render(uri: &str) -> String {
        let request = TestRequest::get().uri(uri).to_http_request();
        form(&request, FIELDS, "-created_at").into_string()
    }

    #[test]
    fn every_lookup_has_a_control_named_as_its_parameter() {
        let html = render("/github/x/");
        for field in FIELDS {
            for lookup in field.lookups() {
                let name = parameter(field, lookup);
                assert_eq!(
                    html.matches(&format!(r#"name="{name}""#)).count(),
                    1,
                    "{name}: {html}"
                );
            }
        }
        assert!(html.contains(r#"<input type="number" step="1" name="followers_count__gte""#));
        assert!(html.contains(r#"<select name="status"><option value="" selected>any</option><option value="queued">queued</option>"#), "{html}");
        assert!(html.contains(r#"<select name="fork__isnull">"#));
        assert!(html.contains(r#"<select name="include_deleted">"#));
        assert!(html.contains(r#"name="created_at__lte" value="" placeholder="yyyy-mm-dd""#));
        // No format and no page size unless asked; the reset link is the bare list.
        assert!(!html.contains(r#"name="format""#) && !html.contains(r#"name="page_size""#));
        assert!(html.contains(r#"<a href="/github/x/">Reset</a>"#), "{html}");
    }

    #[test]
    fn the_ordering_offers_both_directions_of_orderable_fields_with_the_default_chosen() {
        let html = render("/github/x/");
        assert!(html.contains(r#"<option value="login">login, ascending</option>"#));
        assert!(html.contains(r#"<option value="-login">login, descending</option>"#));
        assert!(html.contains(
            r#"<option value="-created_at" selected>created at, descending (default)</option>"#
        ));
        assert!(
            !html.contains(r#"value="labels""#) && !html.contains(r#"value="-include_deleted""#)
        );
        let html = render("/github/x/?ordering=login");
        assert!(
            html.contains(r#"<option value="login" selected>"#),
            "{html}"
        );
        assert!(!html.contains(r#"<option value="-created_at" selected>"#));
    }

    #[test]
    fn controls_are_prefilled_from_the_query_and_escaped() {
        let html = render(
            "/github/x/?login__contains=%22%3E%3Cb%3E&fork=1&status=failed&format=api&page_size=5&page=3",
        );
        assert!(
            html.contains(r#"name="login__contains" value="&quot;&gt;&lt;b&gt;""#),
            "{html}"
        );
        assert!(!html.contains("<b>"));
        assert!(
            html.contains(r#"<option value="1" selected>1</option>"#),
            "{html}"
        );
        assert!(html.contains(r#"<option value="failed" selected>failed</option>"#));
        assert!(html.contains(r#"<input type="hidden" name="format" value="api">"#));
        assert!(html.contains(r#"<input type="hidden" name="page_size" value="5">"#));
        assert!(!html.contains(r#"name="page""#));
        assert!(html.contains(r#"<a href="/github/x/?format=api">Reset</a>"#));
        assert!(html.contains("Filters (3 set)"), "{html}");
    }
}
