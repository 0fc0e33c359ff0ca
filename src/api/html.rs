//! The browsable API: a resource's JSON as an HTML page with clickable links, breadcrumbs,
//! paging links and the forms of its list (filters, and the `POST` form of a writable
//! one); and the layout every HTML page shares. Templates are maud's `html!`, which
//! escapes every value it is given.

use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use crate::api::{filter_form, post_form};

/// Every page's style sheet (inline: a page loads nothing from elsewhere). On a phone-width
/// screen nothing is wider than the page: long words wrap, tables and charts scroll inside
/// their own box (`div.scroll`, `div.plot`), forms fold to one column.
const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}\
header{background:#24292f;color:#fff;padding:.7em 1.2em;display:flex;flex-wrap:wrap;justify-content:space-between;gap:.2em 1em}\
header a{color:#fff;text-decoration:none;font-weight:bold}\
nav.crumbs{padding:.6em 1.2em;background:#eee}nav.crumbs a{color:#0969da}\
main{padding:1em 1.2em}pre{background:#fff;border:1px solid #ddd;padding:1em;overflow:auto;line-height:1.4}\
nav.crumbs,h1,p{overflow-wrap:anywhere}pre .header b{color:#555}\
a{color:#0969da}pre .k{color:#953800}pre .s{color:#0a3069}pre .n{color:#0550ae}pre .l{color:#8250df}\
.paging a{margin-right:1em}form{background:#fff;border:1px solid #ddd;padding:1em;margin-bottom:1em}\
label{display:inline-block;min-width:8em}input,select{margin:.2em 0;padding:.2em;max-width:100%}\
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;width:100%;font-size:.9em}\
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #eee;vertical-align:top}td.n{text-align:right}\
.plot{overflow-x:auto;max-width:100%}.plot svg{display:block;width:100%;min-width:560px;max-width:960px;height:auto}";

/// What a browsable page shows of one answer.
pub struct Browsable<'a> {
    /// The resource's path, for the title and breadcrumbs.
    pub path: &'a str,
    /// The same resource as JSON.
    pub json_url: &'a str,
    /// The answer's status.
    pub status: StatusCode,
    /// The answer's headers worth showing (`Allow`, `Link`, `Location`, `Content-Type`),
    /// those it carries only, as sent.
    pub headers: &'a [(&'a str, &'a str)],
    /// Forms shown above the answer (a list's filters, the task trigger).
    pub forms: &'a [Markup],
    /// The answer's body.
    pub body: &'a Value,
}

/// The whole page of an answer: forms, then the status line and headers, then the body.
pub fn page(answer: &Browsable<'_>) -> String {
    let path = answer.path;
    let body = answer.body;
    let title = path
        .trim_matches('/')
        .rsplit('/')
        .next()
        .filter(|title| !title.is_empty())
        .unwrap_or("github");
    let content = html! {
        @for form in answer.forms { (form) }
        (paging_links(body))
        pre.response {
            span #response-headers {
                b { "HTTP " (answer.status.as_u16()) " " (answer.status.canonical_reason().unwrap_or("")) }
                @for (name, value) in answer.headers {
                    "\n" span.header { b { (name) ":" } " " (value) }
                }
            }
            "\n\n"
            span #response-body { (json_value(body, 0)) }
        }
        (paging_links(body))
        p { a href=(answer.json_url) { "JSON" } }
    };
    layout(&Layout {
        title,
        styles: &[filter_form::STYLE, post_form::STYLE],
        crumbs: breadcrumbs(path),
        aside: html! {},
        content,
    })
}

/// How the charts look (inline, like the rest of the page).
pub const CHART_STYLE: &str = "\
section.chart{background:#fff;border:1px solid #ddd;padding:.4em 1em 1em;margin-bottom:1em}\
section.chart h2{font-size:1.05em;margin:.5em 0 .2em}p.empty{color:#666}\
svg text{font:12px system-ui,sans-serif;fill:#444;dominant-baseline:middle}\
line.axis{stroke:#888;stroke-width:1}circle.gap{fill:#0969da;fill-opacity:.75}\
line.average{stroke:#cf222e;stroke-width:3}text.average-label{fill:#cf222e}\
rect.bar{fill:#2da44e}text.label{fill:#222}\
section.chart.empty{padding:.1em 1em}section.empty h2,section.empty p{display:inline;margin-right:.8em}\
line.grid{stroke:#eee;stroke-width:1}text.axis-title{fill:#555}\
polyline.line{fill:none;stroke:var(--c);stroke-width:2;stroke-linejoin:round;stroke-linecap:round}\
polyline.dashed{stroke-dasharray:6 4}\
.c0{--c:#0969da}.c1{--c:#cf222e}.c2{--c:#1a7f37}.c3{--c:#bf8700}\
.c4{--c:#8250df}.c5{--c:#bc4c00}.c6{--c:#1b7c83}.c7{--c:#57606a}\
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.2em 1.2em;padding:0;margin:.4em 0 0;font-size:.9em}\
.swatch{display:inline-block;width:1.4em;height:.25em;background:var(--c);vertical-align:middle;margin-right:.4em}\
.swatch.dashed{background:repeating-linear-gradient(90deg,var(--c) 0 6px,transparent 6px 10px)}\
@media (max-width:40em){.plot svg text{font-size:14px}}";

/// A page of charts (`content`, SVG from [`crate::api::charts`]) in the same layout as the
/// browsable API; it loads nothing from elsewhere and runs no script.
pub fn chart_page(path: &str, title: &str, content: Markup) -> String {
    layout(&Layout {
        title,
        styles: &[CHART_STYLE],
        crumbs: html! {
            a href="/github/" { "github" }
            @for segment in path.split('/').filter(|s| !s.is_empty()).skip(1) { " / " (segment) }
        },
        aside: html! {},
        content,
    })
}

/// What a page puts in the shared frame.
pub struct Layout<'a> {
    /// The page's title and heading.
    pub title: &'a str,
    /// Style sheets added to the shared one.
    pub styles: &'a [&'a str],
    /// The breadcrumbs.
    pub crumbs: Markup,
    /// Shown at the right of the header (the dashboard's live indicator).
    pub aside: Markup,
    /// The page's own content, below its heading.
    pub content: Markup,
}

/// Every HTML page's frame: the header with the site's links, the breadcrumbs, the
/// heading, the style sheets inline, and a viewport for phones.
pub fn layout(page: &Layout<'_>) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " – gitomatic" }
                style {
                    (PreEscaped(STYLE))
                    @for style in page.styles { (PreEscaped(style)) }
                }
            }
            body {
                header {
                    nav {
                        a href="/github/" { "gitomatic" } " · "
                        a href="/github/dashboard/" { "Dashboard" } " · "
                        a href="/github/swagger/" { "Swagger" } " · "
                        a href="/github/redoc/" { "Redoc" }
                    }
                    (page.aside)
                }
                nav.crumbs { (page.crumbs) }
                main {
                    h1 { (page.title) }
                    (page.content)
                }
            }
        }
    }
    .into_string()
}

/// A link per path segment: `/github/` / `/github/tasks/` ...
fn breadcrumbs(path: &str) -> Markup {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    html! {
        @for (i, segment) in segments.iter().enumerate() {
            @if i > 0 { " / " }
            a href=(format!("/{}/", segments[..=i].join("/"))) { (segment) }
        }
    }
}

/// Previous and next page links of a list body, if it has any.
fn paging_links(body: &Value) -> Markup {
    let link = |key: &str| body.get(key).and_then(Value::as_str);
    let (previous, next) = (link("previous"), link("next"));
    html! {
        @if previous.is_some() || next.is_some() {
            p.paging {
                @if let Some(url) = previous { a rel="previous" href=(url) { "« previous" } }
                @if let Some(url) = next { a rel="next" href=(url) { "next »" } }
            }
        }
    }
}

/// Pretty-printed JSON (two spaces a level), with keys, strings, numbers and literals
/// marked for colour and `http(s)://` strings as links.
fn json_value(value: &Value, depth: usize) -> Markup {
    let indent = "  ".repeat(depth + 1);
    let closing = "  ".repeat(depth);
    html! {
        @match value {
            Value::Null => span.l { "null" },
            Value::Bool(b) => span.l { (b) },
            Value::Number(n) => span.n { (n) },
            Value::String(text) => (json_string(text)),
            Value::Array(items) => {
                @if items.is_empty() {
                    "[]"
                } @else {
                    "[\n"
                    @for (i, item) in items.iter().enumerate() {
                        (indent) (json_value(item, depth + 1))
                        @if i + 1 < items.len() { ",\n" } @else { "\n" }
                    }
                    (closing) "]"
                }
            }
            Value::Object(map) => {
                @if map.is_empty() {
                    "{}"
                } @else {
                    "{\n"
                    @for (i, (key, item)) in map.iter().enumerate() {
                        (indent) span.k { "\"" (key) "\"" } ": " (json_value(item, depth + 1))
                        @if i + 1 < map.len() { ",\n" } @else { "\n" }
                    }
                    (closing) "}"
                }
            }
        }
    }
}

fn json_string(text: &str) -> Markup {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    html! {
        @if text.starts_with("http://") || text.starts_with("https://") {
            a href=(text) { (quoted) }
        } @else {
            span.s { (quoted) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The page of a 200 JSON answer with `body` at `path`, no form.
    fn render(path: &str, body: &Value) -> String {
        page(&Browsable {
            path,
            json_url: "?format=json",
            status: StatusCode::OK,
            headers: &[("Content-Type", "text/html; charset=utf-8")],
            forms: &[],
            body,
        })
    }

    #[test]
    fn the_status_line_and_the_headers_come_above_the_body_escaped() {
        let html = page(&Browsable {
            path: "/github/x/",
            json_url: "?format=json",
            status: StatusCode::CREATED,
            headers: &[
                ("Allow", "GET, HEAD, POST"),
                ("Link", r#"<http://h/x/?a=1&b=<2>>; rel="next""#),
                ("Content-Type", "text/html; charset=utf-8"),
            ],
            forms: &[],
            body: &json!({}),
        });
        let block = "<pre class=\"response\"><span id=\"response-headers\"><b>HTTP 201 Created</b>\n\
            <span class=\"header\"><b>Allow:</b> GET, HEAD, POST</span>\n\
            <span class=\"header\"><b>Link:</b> &lt;http://h/x/?a=1&amp;b=&lt;2&gt;&gt;; rel=&quot;next&quot;</span>\n\
            <span class=\"header\"><b>Content-Type:</b> text/html; charset=utf-8</span></span>\n\n\
            <span id=\"response-body\">{}</span></pre>";
        assert!(html.contains(block), "{html}");
    }

    #[test]
    fn markup_in_data_is_escaped_and_urls_become_links() {
        let body = json!({
            "bio": "<script>alert('x')</script>",
            "url": "http://host/github/developers/1/",
            "next": "http://host/github/developers/?page=2",
        });
        let html = render("/github/developers/", &body);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains(r#"<a href="http://host/github/developers/1/">"#));
        assert!(html.contains(r#"rel="next""#));
        assert!(html.contains(r#"<a href="/github/">github</a>"#));
    }

    #[test]
    fn json_is_pretty_printed_two_spaces_a_level() {
        let html = render("/github/x/", &json!({"a": [1, {"b": null}]}));
        let expected = "{\n  <span class=\"k\">&quot;a&quot;</span>: [\n    <span class=\"n\">1</span>,\n    {\n      <span class=\"k\">&quot;b&quot;</span>: <span class=\"l\">null</span>\n    }\n  ]\n}";
        assert!(html.contains(expected), "{html}");
    }

    #[test]
    fn a_javascript_url_in_data_is_not_a_link() {
        let html = render("/github/x/", &json!({"homepage": "javascript:alert(1)"}));
        assert!(!html.contains("href=\"javascript"));
    }
}
