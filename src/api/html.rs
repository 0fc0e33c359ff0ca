//! The browsable API: a resource's JSON as an HTML page with clickable links, breadcrumbs,
//! paging links and, on the task list, a form to trigger a task. Everything is escaped.

use std::fmt::Write as _;

use serde_json::Value;

use crate::jobs::Registry;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page for the resource at `path`; `json_url` shows the same resource as JSON.
pub fn page(path: &str, json_url: &str, body: &Value, form: Option<&str>) -> String {
    let mut json = String::new();
    render_value(&mut json, body, 0);
    let title = path
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("github");
    let paging = paging_links(body);
    let form = form.unwrap_or("");
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – gitomatic</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}}
header{{background:#24292f;color:#fff;padding:.7em 1.2em}}header a{{color:#fff;text-decoration:none;font-weight:bold}}
nav.crumbs{{padding:.6em 1.2em;background:#eee}}nav.crumbs a{{color:#0969da}}
main{{padding:1em 1.2em}}pre{{background:#fff;border:1px solid #ddd;padding:1em;overflow:auto;line-height:1.4}}
a{{color:#0969da}}.k{{color:#953800}}.s{{color:#0a3069}}.n{{color:#0550ae}}.l{{color:#8250df}}
.paging a{{margin-right:1em}}form{{background:#fff;border:1px solid #ddd;padding:1em;margin-bottom:1em}}
label{{display:inline-block;min-width:8em}}input,select{{margin:.2em 0;padding:.2em}}
.arg[hidden]{{display:none}}
</style></head><body>
<header><a href="/github/">gitomatic</a> · <a href="/github/swagger/">Swagger</a> · <a href="/github/redoc/">Redoc</a></header>
<nav class="crumbs">{crumbs}</nav>
<main><h1>{title}</h1>{form}{paging}<pre>{json}</pre>{paging}
<p><a href="{json_link}">JSON</a></p></main></body></html>"#,
        json_link = escape(json_url),
        title = escape(title),
        crumbs = breadcrumbs(path),
    )
}

fn breadcrumbs(path: &str) -> String {
    let mut crumbs = Vec::new();
    let mut prefix = String::from("/");
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        prefix.push_str(segment);
        prefix.push('/');
        crumbs.push(format!(
            r#"<a href="{}">{}</a>"#,
            escape(&prefix),
            escape(segment)
        ));
    }
    crumbs.join(" / ")
}

fn paging_links(body: &Value) -> String {
    let link = |key: &str, label: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .map(|url| format!(r#"<a rel="{key}" href="{}">{label}</a>"#, escape(url)))
    };
    let links: Vec<String> = [link("previous", "« previous"), link("next", "next »")]
        .into_iter()
        .flatten()
        .collect();
    if links.is_empty() {
        String::new()
    } else {
        format!(r#"<p class="paging">{}</p>"#, links.join(""))
    }
}

fn render_value(out: &mut String, value: &Value, depth: usize) {
    let indent = "  ".repeat(depth + 1);
    let closing = "  ".repeat(depth);
    match value {
        Value::Null => out.push_str(r#"<span class="l">null</span>"#),
        Value::Bool(b) => {
            let _ = write!(out, r#"<span class="l">{b}</span>"#);
        }
        Value::Number(n) => {
            let _ = write!(out, r#"<span class="n">{n}</span>"#);
        }
        Value::String(s) => render_string(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&indent);
                render_value(out, item, depth + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&closing);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                let _ = write!(out, r#"{indent}<span class="k">"{}"</span>: "#, escape(key));
                render_value(out, item, depth + 1);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&closing);
            out.push('}');
        }
    }
}

fn render_string(out: &mut String, text: &str) {
    let quoted = escape(&serde_json::to_string(text).unwrap_or_default());
    if text.starts_with("http://") || text.starts_with("https://") {
        let _ = write!(out, r#"<a href="{}">{quoted}</a>"#, escape(text));
    } else {
        let _ = write!(out, r#"<span class="s">{quoted}</span>"#);
    }
}

/// The form that triggers a task of any kind of `registry`, with the token typed in (the
/// API wants `Authorization: Bearer`): one option per kind, one input per argument, shown
/// for the kinds that take it.
pub fn task_form(registry: &Registry) -> String {
    let mut options = String::new();
    let mut inputs = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for kind in registry.kinds() {
        let args: Vec<&str> = kind.args().iter().map(|arg| arg.name).collect();
        let _ = write!(
            options,
            r#"<option value="{name}" title="{description}" data-args="{args}">{name}</option>"#,
            name = escape(kind.name()),
            description = escape(kind.description()),
            args = escape(&args.join(" ")),
        );
        for arg in kind.args() {
            if seen.insert(arg.name) {
                let _ = write!(
                    inputs,
                    r#"<p class="arg" data-arg="{name}"><label for="arg-{name}">{name}</label><input id="arg-{name}" name="{name}" placeholder="{example}" title="{description}"></p>"#,
                    name = escape(arg.name),
                    example = escape(arg.example),
                    description = escape(arg.description),
                );
            }
        }
    }
    format!(
        r#"<form id="trigger">
<h2>Trigger a task</h2>
<p><label for="name">name</label><select id="name" name="name">{options}</select></p>
{inputs}
<p><label for="token">API token</label><input id="token" type="password" autocomplete="off"></p>
<p><button type="submit">POST</button> <output id="result"></output></p>
</form>
<script>
const kind = document.getElementById('name');
const argsOf = () => (kind.selectedOptions[0].dataset.args || '').split(' ').filter(Boolean);
const showArgs = () => {{
  const wanted = argsOf();
  for (const p of document.querySelectorAll('#trigger .arg')) p.hidden = !wanted.includes(p.dataset.arg);
}};
kind.addEventListener('change', showArgs);
showArgs();
document.getElementById('trigger').addEventListener('submit', async (event) => {{
  event.preventDefault();
  const args = {{}};
  for (const name of argsOf()) {{
    const value = document.getElementById('arg-' + name).value.trim();
    if (value) args[name] = value;
  }}
  const response = await fetch(window.location.pathname, {{
    method: 'POST',
    headers: {{'Content-Type': 'application/json', 'Accept': 'application/json',
              'Authorization': 'Bearer ' + document.getElementById('token').value}},
    body: JSON.stringify({{name: kind.value, args}})}});
  const answer = await response.json();
  const result = document.getElementById('result');
  if (response.ok) {{ window.location = answer.url; }}
  else {{ result.textContent = response.status + ': ' + answer.error; }}
}});
</script>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markup_in_data_is_escaped_and_urls_become_links() {
        let body = json!({
            "bio": "<script>alert('x')</script>",
            "url": "http://host/github/developers/1/",
            "next": "http://host/github/developers/?page=2",
        });
        let html = page("/github/developers/", "?format=json", &body, None);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains(r#"<a href="http://host/github/developers/1/">"#));
        assert!(html.contains(r#"rel="next""#));
        assert!(html.contains(r#"<a href="/github/">github</a>"#));
    }

    #[test]
    fn the_task_form_offers_every_registered_kind_and_argument() {
        let form = task_form(&Registry::builtin());
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
        let html = page(
            "/github/x/",
            "?format=json",
            &json!({"homepage": "javascript:alert(1)"}),
            None,
        );
        assert!(!html.contains("href=\"javascript"));
    }
}
