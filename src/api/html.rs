//! The browsable API: a resource's JSON as an HTML page with clickable links, breadcrumbs,
//! paging links and, on the task list, a form to trigger a task. Templates are maud's
//! `html!`, which escapes every value it is given.

use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use crate::api::filter_form;
use crate::jobs::Registry;

/// The page's style sheet (inline: the page loads nothing from elsewhere).
const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}\
header{background:#24292f;color:#fff;padding:.7em 1.2em}header a{color:#fff;text-decoration:none;font-weight:bold}\
nav.crumbs{padding:.6em 1.2em;background:#eee}nav.crumbs a{color:#0969da}\
main{padding:1em 1.2em}pre{background:#fff;border:1px solid #ddd;padding:1em;overflow:auto;line-height:1.4}\
nav.crumbs,h1{overflow-wrap:anywhere}pre .header b{color:#555}\
a{color:#0969da}.k{color:#953800}.s{color:#0a3069}.n{color:#0550ae}.l{color:#8250df}\
.paging a{margin-right:1em}form{background:#fff;border:1px solid #ddd;padding:1em;margin-bottom:1em}\
label{display:inline-block;min-width:8em}input,select{margin:.2em 0;padding:.2em}\
.arg[hidden]{display:none}";

/// Shows the inputs of the chosen kind and posts `{name, args}` with the typed-in token.
const TRIGGER_SCRIPT: &str = r#"
const kind = document.getElementById('name');
const argsOf = () => (kind.selectedOptions[0].dataset.args || '').split(' ').filter(Boolean);
const showArgs = () => {
  const wanted = argsOf();
  for (const p of document.querySelectorAll('#trigger .arg')) p.hidden = !wanted.includes(p.dataset.arg);
};
kind.addEventListener('change', showArgs);
showArgs();
document.getElementById('trigger').addEventListener('submit', async (event) => {
  event.preventDefault();
  const args = {};
  for (const name of argsOf()) {
    const value = document.getElementById('arg-' + name).value.trim();
    if (value) args[name] = value;
  }
  const response = await fetch(window.location.pathname, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
              'Authorization': 'Bearer ' + document.getElementById('token').value},
    body: JSON.stringify({name: kind.value, args})});
  const answer = await response.json();
  const result = document.getElementById('result');
  if (response.ok) { window.location = answer.url; }
  else { result.textContent = response.status + ': ' + answer.error; }
});
"#;

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
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – gitomatic" }
                style { (PreEscaped(STYLE)) (PreEscaped(filter_form::STYLE)) }
            }
            body {
                header {
                    a href="/github/" { "gitomatic" } " · "
                    a href="/github/swagger/" { "Swagger" } " · "
                    a href="/github/redoc/" { "Redoc" }
                }
                nav.crumbs { (breadcrumbs(path)) }
                main {
                    h1 { (title) }
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
                }
            }
        }
    }
    .into_string()
}

/// How the charts look (inline, like the rest of the page).
const CHART_STYLE: &str = "\
section.chart{background:#fff;border:1px solid #ddd;padding:.4em 1em 1em;margin-bottom:1em}\
section.chart h2{font-size:1.05em;margin:.5em 0 .2em}p.empty{color:#666}\
svg text{font:12px system-ui,sans-serif;fill:#444;dominant-baseline:middle}\
line.axis{stroke:#888;stroke-width:1}circle.gap{fill:#0969da;fill-opacity:.75}\
line.average{stroke:#cf222e;stroke-width:3}text.average-label{fill:#cf222e}\
rect.bar{fill:#2da44e}text.label{fill:#222}\
section.chart.empty{padding:.1em 1em}section.empty h2,section.empty p{display:inline;margin-right:.8em}";

/// A page of charts (`content`, SVG from [`crate::api::charts`]) in the same layout as the
/// browsable API; it loads nothing from elsewhere and runs no script.
pub fn chart_page(path: &str, title: &str, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – gitomatic" }
                style { (PreEscaped(STYLE)) (PreEscaped(CHART_STYLE)) }
            }
            body {
                header {
                    a href="/github/" { "gitomatic" } " · "
                    a href="/github/swagger/" { "Swagger" } " · "
                    a href="/github/redoc/" { "Redoc" }
                }
                nav.crumbs {
                    a href="/github/" { "github" }
                    @for segment in path.split('/').filter(|s| !s.is_empty()).skip(1) { " / " (segment) }
                }
                main {
                    h1 { (title) }
                    (content)
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

/// The form that triggers a task of any kind of `registry`, with the token typed in (the
/// API wants `Authorization: Bearer`): one option per kind, one input per argument, shown
/// for the kinds that take it.
pub fn task_form(registry: &Registry) -> Markup {
    let mut inputs = Vec::new();
    for kind in registry.kinds() {
        for arg in kind.args() {
            if !inputs
                .iter()
                .any(|seen: &&crate::jobs::ArgSpec| seen.name == arg.name)
            {
                inputs.push(arg);
            }
        }
    }
    html! {
        form #trigger {
            h2 { "Trigger a task" }
            p {
                label for="name" { "name" }
                select #name name="name" {
                    @for kind in registry.kinds() {
                        @let args: Vec<&str> = kind.args().iter().map(|arg| arg.name).collect();
                        option value=(kind.name()) title=(kind.description()) data-args=(args.join(" ")) {
                            (kind.name())
                        }
                    }
                }
            }
            @for arg in &inputs {
                p.arg data-arg=(arg.name) {
                    label for=(format!("arg-{}", arg.name)) { (arg.name) }
                    input #(format!("arg-{}", arg.name)) name=(arg.name) placeholder=(arg.example) title=(arg.description);
                }
            }
            p {
                label for="token" { "API token" }
                input #token type="password" autocomplete="off";
            }
            p { button type="submit" { "POST" } " " output #result {} }
        }
        script { (PreEscaped(TRIGGER_SCRIPT)) }
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
    fn the_task_form_offers_every_registered_kind_and_argument() {
        let form = task_form(&Registry::builtin()).into_string();
        for name in Registry::builtin().names() {
            assert!(
                form.contains(&format!(r#"<option value="{name}""#)),
                "{name}"
            );
        }
        assert!(form.contains(r#"data-args="username repo_name""#), "{form}");
        assert_eq!(form.matches(r#"data-arg="username""#).count(), 1, "{form}");
        assert!(form.contains(r#"data-arg="repo_name""#), "{form}");
    }

    #[test]
    fn a_javascript_url_in_data_is_not_a_link() {
        let html = render("/github/x/", &json!({"homepage": "javascript:alert(1)"}));
        assert!(!html.contains("href=\"javascript"));
    }
}
