//! Documentation (OpenAPI document, Swagger UI, Redoc) and HTTP presentation: ETags and
//! 304s, JSON/HTML negotiation, the browsable pages and their escaping.
//!
//! The document is checked against the app that serves it, not against lists kept here:
//! every documented operation answers, and every route, method and filter the app serves
//! is documented. Only what the SPEC itself names is listed in this file.

use std::collections::{BTreeSet, VecDeque};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::seed::{self, Dev, Repo, get_json, results, route_of, strings};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

// ---------------------------------------------------------------------------
// The OpenAPI document
// ---------------------------------------------------------------------------

async fn openapi(app: &TestApp) -> Value {
    let response = app.get("/github/swagger.json").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("content type")
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).expect("the document is JSON")
}

/// Paths SPEC-2 names without a trailing slash (Prometheus' convention; the event metrics
/// and their charts).
const SLASHLESS: [&str; 6] = [
    "/metrics",
    "/github/metrics/event-avg-time",
    "/github/metrics/events-total-count",
    "/github/metrics/multiple-events-repos",
    "/github/visualization/event-avg-time",
    "/github/visualization/events-total-count",
];

/// The keys of an OpenAPI path item that are operations.
const OPERATION_KEYS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// (path, method) of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|key| OPERATION_KEYS.contains(&key.as_str()))
                .map(|method| (path.clone(), method.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The operation object at `path`/`method`.
fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is documented");
    op
}

/// A value, its `$ref` followed.
fn resolved<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(pointer) => doc
            .pointer(pointer.trim_start_matches('#'))
            .expect("$ref resolves"),
        None => value,
    }
}

/// Parameter objects of an operation.
fn parameter_objects<'a>(doc: &'a Value, path: &str, method: &str) -> Vec<&'a Value> {
    operation(doc, path, method)["parameters"]
        .as_array()
        .map(|params| params.iter().map(|p| resolved(doc, p)).collect())
        .unwrap_or_default()
}

/// Parameters of an operation as (name, in).
fn parameters(doc: &Value, path: &str, method: &str) -> BTreeSet<(String, String)> {
    parameter_objects(doc, path, method)
        .into_iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_string(),
                p["in"].as_str().expect("in").to_string(),
            )
        })
        .collect()
}

/// Names of the query parameters of an operation.
fn query_parameters(doc: &Value, path: &str, method: &str) -> BTreeSet<String> {
    parameters(doc, path, method)
        .into_iter()
        .filter(|(_, place)| place == "query")
        .map(|(name, _)| name)
        .collect()
}

/// The documented lists: GET operations that take `page`.
fn lists(doc: &Value) -> Vec<String> {
    operations(doc)
        .into_iter()
        .filter(|(path, method)| {
            method == "get" && query_parameters(doc, path, method).contains("page")
        })
        .map(|(path, _)| path)
        .collect()
}

/// Seeds something behind every route: developers who follow each other and star a
/// repository, a rate-limit row and a task. Returns a token for writes (and guarded reads).
async fn seed_everything(app: &TestApp) -> String {
    let amy = seed::developer(app, Dev::new(1, "amy")).await;
    let bob = seed::developer(app, Dev::new(2, "bob")).await;
    seed::follow(app, bob, amy).await;
    // bob follows amy, who follows cat: cat is suggested to bob, by a path of two.
    let cat = seed::developer(app, Dev::new(3, "cat")).await;
    seed::follow(app, amy, cat).await;
    let repository = seed::repository(app, 1, Repo::new(101, "rocket")).await;
    seed::star(app, bob, repository).await;
    seed::execute(
        app,
        "INSERT INTO rate_limits (identity, resource, rate_limit, rate_remaining, rate_used, rate_reset) \
         VALUES ('anonymous', 'core', 60, 59, 1, now())",
    )
    .await;
    seed_activity(app).await;
    let token = seed::token(app).await;
    let response = app
        .http
        .post(format!("{}/github/tasks/", app.address))
        .bearer_auth(&token)
        .json(&json!({"name": "discovery_scraper"}))
        .send()
        .await
        .expect("trigger");
    assert_eq!(response.status(), 202, "a task to list");
    token
}

/// Repository activity behind every activity route: two tracked repositories and two
/// tracked organizations (one of each is deleted by the DELETE operations), issues and a
/// pull request of amy/rocket with timelines, a transfer, a member, a commit, a release and
/// a webhook delivery.
async fn seed_activity(app: &TestApp) {
    for statement in [
        "INSERT INTO tracked_organizations (login) VALUES ('acme'), ('initech')",
        "INSERT INTO tracked_repositories (full_name, repository_id) \
         SELECT 'amy/rocket', id FROM repositories WHERE github_id = 101",
        "INSERT INTO tracked_repositories (full_name) VALUES ('bob/other')",
        "INSERT INTO issues (github_id, repository_id, full_name, number, is_pull_request, \
         title, state, author_id, author_login, labels, created_at, updated_at) \
         SELECT v.g, r.id, 'amy/rocket', v.n, v.pr, 'a title', 'open', d.id, 'amy', '{bug}', \
         now(), now() FROM repositories r, developers d, \
         (VALUES (1001, 1, false), (1002, 2, true), (1003, 3, false)) AS v (g, n, pr) \
         WHERE r.github_id = 101 AND d.github_id = 1",
        "UPDATE issues SET transferred_to_id = (SELECT id FROM issues WHERE github_id = 1003) \
         WHERE github_id = 1001",
        "INSERT INTO transfers (from_issue_id, to_issue_id, from_full_name, from_number, \
         to_full_name, to_number) SELECT a.id, b.id, 'amy/rocket', 1, 'amy/rocket', 3 \
         FROM issues a, issues b WHERE a.github_id = 1001 AND b.github_id = 1003",
        "INSERT INTO timeline_items (issue_id, position, event, item_key, actor_login, \
         created_at, details) SELECT id, 0, 'commented', 'c' || github_id, 'bob', now(), \
         '{\"body\": \"hi\"}' FROM issues",
        "INSERT INTO members (organization_login, developer_id, login) \
         SELECT 'acme', id, login FROM developers WHERE github_id = 2",
        "INSERT INTO commits (repository_id, full_name, sha, author_id, author_login, \
         authored_at, message) SELECT r.id, 'amy/rocket', 'abc123', d.id, 'amy', now(), 'init' \
         FROM repositories r, developers d WHERE r.github_id = 101 AND d.github_id = 1",
        "INSERT INTO releases (github_id, repository_id, full_name, tag_name, author_id, \
         author_login, published_at) SELECT 5001, r.id, 'amy/rocket', 'v1', d.id, 'amy', now() \
         FROM repositories r, developers d WHERE r.github_id = 101 AND d.github_id = 1",
        "INSERT INTO events (github_id, type, action, actor_login, repository_name, org_login, \
         created_at, payload) VALUES (9001, 'IssuesEvent', 'opened', 'amy', 'amy/rocket', NULL, \
         now(), '{\"action\": \"opened\"}')",
        "INSERT INTO event_gaps (feed, newest_stored_before, oldest_fetched, events_fetched) \
         VALUES ('events', now() - interval '1 hour', now() - interval '10 minutes', 300)",
        "INSERT INTO webhook_deliveries (delivery_id, event, action, repository_name, payload, \
         status, applied_at) VALUES ('72d3162e-cc78-11e3-81ab-4c9367dc0958', 'issues', 'opened', \
         'amy/rocket', '{\"action\": \"opened\"}', 'applied', now())",
    ] {
        seed::execute(app, statement).await;
    }
}

/// A request to a path of the app, with the token.
fn request(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    app.http
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
}

/// A documented path with its `{id}` replaced by the id of the first item of the list the
/// path belongs to (`/github/developers/{id}/followers/` → the first developer's), and its
/// required query parameters (the event metrics') given a documented sample value.
async fn concrete(app: &TestApp, doc: &Value, path: &str, token: &str) -> String {
    let required: Vec<String> = if doc["paths"][path]["get"].is_object() {
        parameter_objects(doc, path, "get")
            .into_iter()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| format!("{}={}", p["name"].as_str().expect("name"), sample(p)))
            .collect()
    } else {
        Vec::new()
    };
    let path = if required.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", required.join("&"))
    };
    let path = path.as_str();
    let Some((list, rest)) = path.split_once("{id}") else {
        return path.to_string();
    };
    let response = request(app, Method::GET, list, token)
        .send()
        .await
        .expect("list");
    assert_eq!(response.status(), 200, "{list} (to name an item of {path})");
    let body: Value = response.json().await.expect("JSON list");
    let first = results(&body)
        .first()
        .unwrap_or_else(|| panic!("{list} has an item to name in {path}"));
    let id = match &first["id"] {
        Value::String(id) => id.clone(),
        other => other.to_string(),
    };
    // A second id (a path's other end): the same item.
    format!("{list}{id}{}", rest.replace("{other_id}", &id))
}

/// Whether a path names one of the documentation pages, which do not document themselves.
fn is_docs(path: &str) -> bool {
    path.starts_with("/github/swagger") || path.starts_with("/github/redoc")
}

/// The routes reached by following every link of the app's JSON from `starts`.
async fn linked_routes(app: &TestApp, starts: &[&str], token: &str) -> BTreeSet<String> {
    let prefix = format!("{}/", app.address);
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = starts.iter().map(|p| (*p).to_string()).collect();
    while let Some(path) = queue.pop_front() {
        if is_docs(&path) || !seen.insert(path.clone()) {
            continue;
        }
        assert!(seen.len() < 500, "the walk does not end: {path}");
        let response = request(app, Method::GET, &path, token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "GET {path}");
        // The dashboard (HTML) and the live stream (endless) are reached, not read as JSON.
        let json = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/json"));
        if !json {
            continue;
        }
        let body: Value = response.json().await.expect("JSON");
        let mut found = Vec::new();
        strings(&body, &mut found);
        queue.extend(
            found
                .iter()
                .filter_map(|s| s.strip_prefix(&prefix))
                .map(|path| format!("/{path}")),
        );
    }
    seen.iter().map(|path| route_of(path)).collect()
}

#[tokio::test]
async fn the_openapi_document_is_openapi_3_describing_every_path_absolutely() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert!(doc["info"]["title"].is_string());
    // It parses as an OpenAPI 3.1 document with utoipa's typed model, every path included.
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_value(doc.clone()).expect("a well-formed OpenAPI document");
    assert_eq!(
        parsed.paths.paths.len(),
        doc["paths"].as_object().expect("paths").len()
    );

    let documented = operations(&doc);
    // The SPEC's operations, by their absolute paths.
    for (path, method) in [
        ("/github/", "get"),
        ("/health/", "get"),
        ("/github/developers/{id}/", "get"),
        ("/github/repositories/{id}/stargazers/", "get"),
        ("/github/rate_limit/{id}/", "get"),
        ("/github/tasks/", "post"),
    ] {
        assert!(
            documented.contains(&(path.to_string(), method.to_string())),
            "{method} {path} is documented: {documented:?}"
        );
    }
    for (path, method) in &documented {
        assert!(
            path.starts_with('/')
                && (path.ends_with('/') || SLASHLESS.contains(&path.as_str()))
                && !path.contains("//"),
            "{path} is absolute, with a trailing slash"
        );
        assert!(
            !path.starts_with("/github/github"),
            "{path}: the scope's prefix is not doubled"
        );
        let op = operation(&doc, path, method);
        // Triggering a task is accepted (202); tracking creates (201); deleting is 204.
        let success = match (path.as_str(), method.as_str()) {
            ("/github/tasks/" | "/github/webhooks/", "post") => "202",
            (_, "post") => "201",
            (_, "delete") => "204",
            _ => "200",
        };
        assert!(
            op["responses"][success].is_object(),
            "{method} {path} documents {success}"
        );
        if path.contains("{id}") {
            assert!(
                parameters(&doc, path, method).contains(&("id".to_string(), "path".to_string())),
                "{method} {path} documents its id"
            );
        }
    }
}

#[tokio::test]
async fn the_openapi_document_matches_its_reviewed_snapshot() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    // What is served is what `document()` builds, and it does not change between builds.
    let built =
        serde_json::to_value(gitomatic::api::openapi::document(&app.registry)).expect("JSON");
    assert_eq!(doc, built, "the served document is document()");
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn every_ref_in_the_openapi_document_resolves() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} is local"));
        assert!(doc.pointer(pointer).is_some(), "{reference} resolves");
    }
    // The resource schemas carry the spec's fields.
    let schema_fields = |name: &str| -> BTreeSet<String> {
        doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema {name}"))
            .keys()
            .cloned()
            .collect()
    };
    let developer = schema_fields("DeveloperView");
    for field in [
        "url",
        "id",
        "login",
        "followers",
        "following",
        "starred_repositories",
        "repositories",
        "last_synced_at",
    ] {
        assert!(developer.contains(field), "DeveloperView.{field}");
    }
    let repository = schema_fields("RepositoryView");
    for field in ["url", "owner", "stargazers", "full_name", "fork"] {
        assert!(repository.contains(field), "RepositoryView.{field}");
    }
    let task = schema_fields("TaskView");
    for field in ["url", "status", "not_before", "github_requests"] {
        assert!(task.contains(field), "TaskView.{field}");
    }
}

#[tokio::test]
async fn every_documented_operation_answers_with_a_documented_status() {
    // Webhooks on: an unsigned delivery is a 401, not the 503 of webhooks off.
    let app = spawn_app_with(|env| {
        env.insert("GITHUB_WEBHOOK_SECRET".into(), "docs-secret".into());
    })
    .await;
    let token = seed_everything(&app).await;
    let doc = openapi(&app).await;
    let documented = operations(&doc);
    assert!(documented.len() > 10, "{documented:?}");
    for (path, method) in &documented {
        let target = concrete(&app, &doc, path, &token).await;
        let verb = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
        let mut call = request(&app, verb, &target, &token);
        if operation(&doc, path, method)["requestBody"].is_object() {
            // An empty body: enough to reach the handler, which answers what is missing.
            call = call.json(&json!({}));
        }
        let response = call.send().await.expect("request");
        let status = response.status();
        assert!(
            status != 404 && status != 405 && !status.is_server_error(),
            "{method} {path} ({target}) answers {status}"
        );
        if method == "get" {
            assert_eq!(status, 200, "GET {target}");
        }
        assert!(
            operation(&doc, path, method)["responses"][status.as_str()].is_object(),
            "{method} {path} answered {status}, which it does not document"
        );
        if method == "get" {
            // Every read answers HEAD too, without a body.
            let head = request(&app, Method::HEAD, &target, &token)
                .send()
                .await
                .expect("HEAD");
            assert_eq!(head.status(), status, "HEAD {target}");
            assert!(
                head.bytes().await.expect("body").is_empty(),
                "HEAD {target}"
            );
        }
    }
}

#[tokio::test]
async fn every_route_and_method_the_app_serves_is_documented() {
    let app = spawn_app().await;
    let token = seed_everything(&app).await;
    let doc = openapi(&app).await;
    let documented = operations(&doc);
    let documented_reads: BTreeSet<String> = documented
        .iter()
        .filter(|(_, method)| method == "get")
        .map(|(path, _)| path.clone())
        .collect();

    // Every route linked from the API root (and /health/) is documented, and every
    // documented `/github/` read is reached by links.
    let linked = linked_routes(&app, &["/github/", "/health/"], &token).await;
    let undocumented: Vec<&String> = linked.difference(&documented_reads).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    let unlinked: Vec<&String> = documented_reads
        .iter()
        .filter(|path| path.starts_with("/github/") && !linked.contains(*path))
        .collect();
    assert!(
        unlinked.is_empty(),
        "documented but not linked: {unlinked:?}"
    );

    // On every documented path, a method the document does not name is not served.
    let paths: BTreeSet<&String> = documented.iter().map(|(path, _)| path).collect();
    for path in paths {
        let target = concrete(&app, &doc, path, &token).await;
        for verb in [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let name = verb.as_str().to_lowercase();
            let is_documented = documented.contains(&(path.clone(), name.clone()))
                || (verb == Method::HEAD && documented.contains(&(path.clone(), "get".into())));
            if is_documented {
                continue;
            }
            let status = request(&app, verb.clone(), &target, &token)
                .send()
                .await
                .expect("request")
                .status();
            // A path without its slash redirects whatever the method (SPEC: 308, query kept).
            let redirected = status == 308 && SLASHLESS.contains(&path.as_str());
            assert!(
                status == 404 || status == 405 || redirected,
                "{verb} {target} answers {status}, but {name} {path} is not documented"
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    Timestamp,
    Boolean,
}

/// The filterable fields the spec names for developers (and their lists).
const DEVELOPER_FIELDS: [(&str, Kind); 13] = [
    ("login", Kind::Text),
    ("name", Kind::Text),
    ("bio", Kind::Text),
    ("location", Kind::Text),
    ("company", Kind::Text),
    ("email", Kind::Text),
    ("created_at", Kind::Timestamp),
    ("updated_at", Kind::Timestamp),
    ("last_synced_at", Kind::Timestamp),
    ("followers_count", Kind::Integer),
    ("following_count", Kind::Integer),
    ("public_gists", Kind::Integer),
    ("public_repos", Kind::Integer),
];

/// The filterable fields the spec names for repositories.
const REPOSITORY_FIELDS: [(&str, Kind); 24] = [
    ("owner_github_id", Kind::Integer),
    ("name", Kind::Text),
    ("full_name", Kind::Text),
    ("description", Kind::Text),
    ("homepage", Kind::Text),
    ("language", Kind::Text),
    ("created_at", Kind::Timestamp),
    ("updated_at", Kind::Timestamp),
    ("pushed_at", Kind::Timestamp),
    ("last_synced_at", Kind::Timestamp),
    ("has_downloads", Kind::Boolean),
    ("has_issues", Kind::Boolean),
    ("has_pages", Kind::Boolean),
    ("has_projects", Kind::Boolean),
    ("has_wiki", Kind::Boolean),
    ("private", Kind::Boolean),
    ("archived", Kind::Boolean),
    ("disabled", Kind::Boolean),
    ("fork", Kind::Boolean),
    ("stargazers_count", Kind::Integer),
    ("subscribers_count", Kind::Integer),
    ("watchers_count", Kind::Integer),
    ("forks_count", Kind::Integer),
    ("open_issues_count", Kind::Integer),
];

/// The filter parameters the spec's lookups give a field: `field`, `field__lte`,
/// `field__gte`, `field__isnull`, `field__contains` as its type allows.
fn filter_parameters(fields: &[(&str, Kind)]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (field, kind) in fields {
        let lookups: &[&str] = match kind {
            Kind::Text => &["", "__contains", "__isnull"],
            Kind::Integer | Kind::Timestamp => &["", "__lte", "__gte", "__isnull"],
            Kind::Boolean => &["", "__isnull"],
        };
        for lookup in lookups {
            names.insert(format!("{field}{lookup}"));
        }
    }
    names
}

#[tokio::test]
async fn every_list_documents_paging_ordering_and_the_filters_the_spec_names() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let developers = filter_parameters(&DEVELOPER_FIELDS);
    let repositories = filter_parameters(&REPOSITORY_FIELDS);
    // The SPEC's lists of developers and of repositories.
    let spec_lists = [
        ("/github/developers/", &developers),
        ("/github/developers/{id}/followers/", &developers),
        ("/github/developers/{id}/following/", &developers),
        ("/github/repositories/{id}/stargazers/", &developers),
        ("/github/repositories/", &repositories),
        (
            "/github/developers/{id}/starred_repositories/",
            &repositories,
        ),
        ("/github/developers/{id}/repositories/", &repositories),
    ];
    for (path, filters) in spec_lists {
        let query = query_parameters(&doc, path, "get");
        let missing: Vec<&String> = filters.difference(&query).collect();
        assert!(missing.is_empty(), "{path} does not document {missing:?}");
    }
    let documented_lists = lists(&doc);
    for path in ["/github/tasks/", "/github/rate_limit/"]
        .into_iter()
        .chain(spec_lists.iter().map(|(path, _)| *path))
    {
        assert!(
            documented_lists.iter().any(|list| list == path),
            "{path} documents page"
        );
    }
    for path in &documented_lists {
        let query = query_parameters(&doc, path, "get");
        // Boards are ranked by score, then login (SPEC-2 B): paged, never re-ordered.
        let names: &[&str] = if RANKED.contains(&path.as_str()) {
            &["page", "page_size"]
        } else {
            &["page", "page_size", "ordering"]
        };
        for name in names {
            assert!(query.contains(*name), "{path} documents {name}");
        }
    }
}

/// Paged lists whose order is their meaning (leaderboards): no `ordering` parameter.
const RANKED: [&str; 3] = [
    "/github/leaderboards/",
    "/github/repositories/{id}/leaderboard/",
    "/github/developers/{id}/suggestions/",
];

/// A value of the documented type for a query parameter.
fn sample(parameter: &Value) -> String {
    let schema = &parameter["schema"];
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.as_str().expect("a text enum").to_string();
    }
    match (schema["type"].as_str(), schema["format"].as_str()) {
        (Some("integer"), _) => "1",
        (Some("boolean"), _) => "true",
        (_, Some("date-time")) => "2020-01-01T00:00:00Z",
        (_, Some("date")) => "2020-01-01",
        _ => "x",
    }
    .to_string()
}

/// Parameters every list takes besides its filters.
const NOT_FILTERS: [&str; 5] = ["page", "page_size", "ordering", "format", "cursor"];

#[tokio::test]
async fn every_documented_query_parameter_is_accepted_by_the_api() {
    let app = spawn_app().await;
    let token = seed_everything(&app).await;
    let doc = openapi(&app).await;
    for (path, method) in operations(&doc) {
        if method != "get" {
            continue;
        }
        let params = parameter_objects(&doc, &path, "get");
        // Order by the first documented exact-match filter, descending.
        let ordering = params
            .iter()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .find(|name| !NOT_FILTERS.contains(name) && !name.contains("__"))
            .map(|name| format!("-{name}"));
        let target = concrete(&app, &doc, &path, &token).await;
        for parameter in params {
            let name = parameter["name"].as_str().expect("name");
            if parameter["in"] != "query" {
                continue;
            }
            let value = match name {
                "ordering" => ordering.clone().expect("a list has a filterable field"),
                // Left empty: the first page walked by cursor (a cursor comes from a link).
                "cursor" => String::new(),
                // The export's own formats are an enum; elsewhere, the rendering.
                "format" if parameter["schema"]["enum"].is_null() => "json".to_string(),
                _ => sample(parameter),
            };
            let response = request(&app, Method::GET, &target, &token)
                .query(&[(name, &value)])
                .send()
                .await
                .expect("request");
            let status = response.status();
            let body = response.text().await.expect("body");
            assert_eq!(status, 200, "{target}?{name}={value}: {body}");
        }
    }
}

/// Every page whose `format` offers the browsable HTML (`api`) documents that page in its
/// 200 and refuses a `format` it does not know, naming the parameter; a `format` of its own
/// (the export's) documents no HTML page.
#[tokio::test]
async fn every_rendered_page_documents_its_html_and_refuses_an_unknown_format() {
    let app = spawn_app().await;
    let token = seed_everything(&app).await;
    let doc = openapi(&app).await;
    let mut rendered = 0;
    for (path, method) in operations(&doc) {
        if method != "get" {
            continue;
        }
        let Some(format) = parameter_objects(&doc, &path, "get")
            .into_iter()
            .find(|p| p["in"] == "query" && p["name"] == "format")
        else {
            continue;
        };
        let values: Vec<&str> = format["schema"]["enum"]
            .as_array()
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let html = &operation(&doc, &path, "get")["responses"]["200"]["content"]["text/html"];
        if !values.contains(&"api") {
            assert!(
                html.is_null(),
                "{path}: its own format, yet an HTML page: {values:?}"
            );
            continue;
        }
        rendered += 1;
        assert_eq!(values, ["json", "api", "html"], "{path}");
        assert!(!html.is_null(), "{path}: format=api but no text/html 200");
        let target = concrete(&app, &doc, &path, &token).await;
        let response = request(&app, Method::GET, &target, &token)
            .query(&[("format", "xml")])
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(status, 400, "{target}?format=xml: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains("format"), "{target}?format=xml: {error}");
    }
    assert!(rendered > 40, "only {rendered} rendered pages documented");
}

#[tokio::test]
async fn a_list_rejects_every_filter_and_value_it_does_not_document() {
    let app = spawn_app().await;
    let token = seed_everything(&app).await;
    let doc = openapi(&app).await;
    let lookups = [
        "",
        "__contains",
        "__lte",
        "__gte",
        "__isnull",
        "__in",
        "__startswith",
    ];
    let documented_lists = lists(&doc);
    assert!(!documented_lists.is_empty());
    for path in documented_lists {
        let target = concrete(&app, &doc, &path, &token).await;
        let params = parameter_objects(&doc, &path, "get");
        let documented = query_parameters(&doc, &path, "get");
        // Every lookup of every documented field, and fields the list does not have.
        let mut fields: BTreeSet<String> = documented
            .iter()
            .filter(|name| !NOT_FILTERS.contains(&name.as_str()))
            .map(|name| name.split("__").next().unwrap_or_default().to_string())
            .collect();
        fields.extend(["password".to_string(), "id__nothing".to_string()]);
        for field in &fields {
            for lookup in lookups {
                let name = format!("{field}{lookup}");
                if documented.contains(&name) {
                    continue;
                }
                let (status, body) = get_query(&app, &target, &token, &name, "1").await;
                assert_eq!(status, 400, "{target}?{name}=1 is not documented: {body}");
                assert!(
                    body["error"].as_str().is_some_and(|e| e.contains(&name)),
                    "the error names {name}: {body}"
                );
            }
        }
        // A documented enumeration takes its values only; the error lists them.
        for parameter in params {
            let Some(values) = parameter["schema"]["enum"].as_array() else {
                continue;
            };
            let name = parameter["name"].as_str().expect("name");
            let (status, body) = get_query(&app, &target, &token, name, "bogus").await;
            assert_eq!(status, 400, "{target}?{name}=bogus: {body}");
            let message = body["error"].as_str().expect("an error message");
            assert!(message.contains(name), "{message}");
            for value in values {
                let value = value.as_str().expect("a text enum");
                assert!(message.contains(value), "{message} names {value}");
            }
        }
    }
}

/// GET `target?name=value` with the token; the status and the JSON body.
async fn get_query(
    app: &TestApp,
    target: &str,
    token: &str,
    name: &str,
    value: &str,
) -> (u16, Value) {
    let response = request(app, Method::GET, target, token)
        .query(&[(name, value)])
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn with_read_auth_required_every_documented_github_read_needs_a_token_and_the_docs_do_not() {
    let app = spawn_app_with(|env| {
        env.insert("API_READ_AUTH".into(), "required".into());
    })
    .await;
    let token = seed_everything(&app).await;
    let doc = openapi(&app).await;
    for (path, method) in operations(&doc) {
        if method != "get" {
            continue;
        }
        let target = concrete(&app, &doc, &path, &token).await;
        let url = format!("{}{target}", app.address);
        let expected = if path.starts_with("/github/") {
            401
        } else {
            200
        };
        for verb in [Method::GET, Method::HEAD] {
            let anonymous = app
                .http
                .request(verb.clone(), &url)
                .send()
                .await
                .expect("request");
            assert_eq!(
                anonymous.status(),
                expected,
                "{verb} {target} without a token"
            );
            let known = request(&app, verb.clone(), &target, &token)
                .send()
                .await
                .expect("request");
            assert_eq!(known.status(), 200, "{verb} {target} with the token");
        }
    }
    // The documentation is public, even where a redirect adds its trailing slash.
    for path in [
        "/github/swagger/",
        "/github/swagger.json",
        "/github/redoc/",
        "/github/redoc/redoc.standalone.js",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    for path in ["/github/swagger", "/github/redoc"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 308, "{path}");
        assert_eq!(response.headers()["location"], format!("{path}/"));
    }
}

#[tokio::test]
async fn triggering_a_task_is_documented_with_both_bodies_every_response_and_bearer_auth() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let post = operation(&doc, "/github/tasks/", "post");
    let content = post["requestBody"]["content"]
        .as_object()
        .expect("a request body");
    for media in ["application/json", "application/x-www-form-urlencoded"] {
        assert!(content.contains_key(media), "request body as {media}");
    }
    for status in ["202", "400", "401", "403", "413", "415"] {
        assert!(post["responses"][status].is_object(), "response {status}");
    }
    let headers = post["responses"]["202"]["headers"]
        .as_object()
        .expect("202 headers");
    assert!(
        headers.keys().any(|h| h.eq_ignore_ascii_case("location")),
        "202 documents Location"
    );
    let security = post["security"].as_array().expect("security");
    let scheme_name = security
        .iter()
        .flat_map(|s| s.as_object().into_iter().flat_map(|m| m.keys().cloned()))
        .next()
        .expect("a security requirement");
    let scheme = &doc["components"]["securitySchemes"][&scheme_name];
    assert_eq!(scheme["type"], "http");
    assert_eq!(
        scheme["scheme"].as_str().map(str::to_lowercase),
        Some("bearer".into())
    );
    // The body schema names the three fields.
    let json_schema = &content["application/json"]["schema"];
    let schema = match json_schema["$ref"].as_str() {
        Some(pointer) => doc
            .pointer(pointer.trim_start_matches('#'))
            .expect("schema")
            .clone(),
        None => json_schema.clone(),
    };
    for field in ["name", "username", "repo_name"] {
        assert!(
            schema["properties"][field].is_object(),
            "body field {field}"
        );
    }
}

// ---------------------------------------------------------------------------
// Swagger UI and Redoc
// ---------------------------------------------------------------------------

/// Values of `src="..."` and `href="..."` attributes in an HTML page.
fn asset_references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\"", "src='", "href='"] {
        let quote = attribute.chars().last().unwrap_or('"');
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find(quote).unwrap_or(rest.len());
            found.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    found
}

fn is_external(reference: &str) -> bool {
    let lower = reference.to_ascii_lowercase();
    lower.starts_with("http:") || lower.starts_with("https:") || lower.starts_with("//")
}

async fn html_page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("content type")
        .to_string();
    assert!(
        content_type.starts_with("text/html"),
        "{path}: {content_type}"
    );
    response.text().await.expect("body")
}

#[tokio::test]
async fn swagger_ui_and_all_its_assets_load_from_this_server() {
    let app = spawn_app().await;
    let html = html_page(&app, "/github/swagger/").await;
    let references = asset_references(&html);
    assert!(
        references.iter().any(|r| r.contains(".js")),
        "Swagger UI loads scripts: {references:?}"
    );
    let external: Vec<&String> = references.iter().filter(|r| is_external(r)).collect();
    assert!(external.is_empty(), "CDN references: {external:?}");

    let base = url::Url::parse(&format!("{}/github/swagger/", app.address)).expect("base");
    let mut scripts = String::new();
    for reference in &references {
        if reference.starts_with('#') || reference.starts_with("data:") {
            continue;
        }
        let url = base.join(reference).expect("a relative reference");
        let response = app.http.get(url.as_str()).send().await.expect("asset");
        assert_eq!(response.status(), 200, "{reference} → {url}");
        if reference.contains(".js") {
            scripts.push_str(&response.text().await.expect("script"));
        }
    }
    assert!(
        scripts.contains("/github/swagger.json"),
        "Swagger UI is configured with the document's URL"
    );

    // Without the slash: a permanent redirect to it.
    let response = app.get("/github/swagger").await;
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/github/swagger/");
    // The metrics and charts have no trailing slash (SPEC-2 C): one added redirects to
    // them, query kept; a slash on a path that is nothing either way stays a 404.
    for path in [
        "/github/metrics/events-total-count",
        "/github/visualization/event-avg-time",
    ] {
        let response = app.get(&format!("{path}/?offset=5")).await;
        assert_eq!(response.status(), 308, "{path}/");
        assert_eq!(response.headers()["location"], format!("{path}?offset=5"));
    }
    assert_eq!(app.get("/github/metrics/nothing/").await.status(), 404);
    // A method a resource does not answer is a 405, never a redirect loop between the
    // path with and without its slash.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in [
        "/metrics",
        "/github/metrics/event-avg-time",
        "/github/developers/",
    ] {
        let response = client
            .post(format!("{}{path}", app.address))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 405, "POST {path}");
        let body: Value = response.json().await.expect("json");
        assert!(
            body["error"].as_str().is_some_and(|e| e.contains("POST")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn redoc_loads_its_bundled_script_and_embeds_the_document() {
    let app = spawn_app().await;
    let html = html_page(&app, "/github/redoc/").await;
    let references = asset_references(&html);
    assert!(
        references
            .iter()
            .any(|r| r == "/github/redoc/redoc.standalone.js"),
        "{references:?}"
    );
    let external: Vec<&String> = references.iter().filter(|r| is_external(r)).collect();
    assert!(external.is_empty(), "CDN references: {external:?}");
    assert!(
        html.contains("/github/developers/{id}/"),
        "the document is embedded"
    );

    let response = app.get("/github/redoc/redoc.standalone.js").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("content type")
        .to_string();
    assert!(content_type.contains("javascript"), "{content_type}");
    let script = response.text().await.expect("script");
    assert!(
        script.len() > 100_000,
        "the whole bundle: {} bytes",
        script.len()
    );
    assert!(script.contains("Redoc"), "it is Redoc");
}

// ---------------------------------------------------------------------------
// ETag and 304
// ---------------------------------------------------------------------------

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.http.get(format!("{}{path}", app.address));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request reaches the app")
}

fn etag(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("etag")
        .unwrap_or_else(|| panic!("an ETag on {}", response.url()))
        .to_str()
        .expect("ASCII ETag")
        .to_string()
}

#[tokio::test]
async fn a_list_answers_304_while_its_etag_matches_and_a_new_etag_after_a_change() {
    let app = spawn_app().await;
    seed::developer(&app, Dev::new(1, "amy")).await;
    let path = "/github/developers/";
    let first = get_with(&app, path, &[]).await;
    assert_eq!(first.status(), 200);
    let tag = etag(&first);
    assert!(
        tag.starts_with('"') && tag.ends_with('"'),
        "a quoted ETag: {tag}"
    );

    let cached = get_with(&app, path, &[("if-none-match", &tag)]).await;
    assert_eq!(cached.status(), 304);
    assert_eq!(etag(&cached), tag);
    assert!(
        cached.bytes().await.expect("body").is_empty(),
        "304 has no body"
    );
    // Weak comparison, and a list of tags, as RFC 9110 says.
    let weak = format!("W/{tag}");
    assert_eq!(
        get_with(&app, path, &[("if-none-match", &weak)])
            .await
            .status(),
        304
    );
    let several = format!("\"other\", {tag}");
    assert_eq!(
        get_with(&app, path, &[("if-none-match", &several)])
            .await
            .status(),
        304
    );
    let other = get_with(&app, path, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(other.status(), 200);

    // The same request gives the same tag.
    assert_eq!(etag(&get_with(&app, path, &[]).await), tag);

    // New data: 200 with a new tag; the old one no longer matches.
    seed::developer(&app, Dev::new(2, "bob")).await;
    let changed = get_with(&app, path, &[("if-none-match", &tag)]).await;
    assert_eq!(changed.status(), 200);
    let new_tag = etag(&changed);
    assert_ne!(new_tag, tag);
    let body: Value = changed.json().await.expect("json");
    assert_eq!(body["count"], 2);
    assert_eq!(
        get_with(&app, path, &[("if-none-match", &new_tag)])
            .await
            .status(),
        304
    );
}

#[tokio::test]
async fn a_detail_etag_changes_when_the_record_changes() {
    let app = spawn_app().await;
    let id = seed::developer(&app, Dev::new(1, "amy")).await;
    let path = format!("/github/developers/{id}/");
    let tag = etag(&get_with(&app, &path, &[]).await);
    assert_eq!(
        get_with(&app, &path, &[("if-none-match", &tag)])
            .await
            .status(),
        304
    );
    seed::execute(&app, "UPDATE developers SET name = 'Amy Pond'").await;
    let changed = get_with(&app, &path, &[("if-none-match", &tag)]).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(etag(&changed), tag);

    // The root and the task list are cacheable too.
    for path in ["/github/", "/github/tasks/"] {
        let tag = etag(&get_with(&app, path, &[]).await);
        assert_eq!(
            get_with(&app, path, &[("if-none-match", &tag)])
                .await
                .status(),
            304,
            "{path}"
        );
    }
}

// ---------------------------------------------------------------------------
// HTML and JSON
// ---------------------------------------------------------------------------

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn browsers_get_html_api_clients_json_and_format_decides_first() {
    let app = spawn_app().await;
    seed::developer(&app, Dev::new(1, "amy")).await;
    let path = "/github/developers/";
    for (query, accept, html) in [
        ("", Some(BROWSER_ACCEPT), true),
        ("", Some("text/html"), true),
        ("", Some("application/json"), false),
        ("", Some("*/*"), false),
        ("", None, false),
        ("?format=api", None, true),
        ("?format=api", Some("application/json"), true),
        ("?format=json", Some(BROWSER_ACCEPT), false),
    ] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let response = get_with(&app, &format!("{path}{query}"), &headers).await;
        assert_eq!(response.status(), 200, "{query} {accept:?}");
        let kind = content_type(&response);
        let vary = response
            .headers()
            .get("vary")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(vary.contains("accept"), "Vary: Accept ({query} {accept:?})");
        if html {
            assert!(kind.starts_with("text/html"), "{query} {accept:?}: {kind}");
            let page = response.text().await.expect("html");
            assert!(page.contains("<html"), "{query} {accept:?}");
        } else {
            assert!(
                kind.starts_with("application/json"),
                "{query} {accept:?}: {kind}"
            );
            let body: Value = response.json().await.expect("json");
            assert_eq!(body["count"], 1);
        }
    }
    // One resource, two representations, two tags: a JSON tag never answers 304 to HTML.
    let json_tag = etag(&get_with(&app, path, &[]).await);
    let html = get_with(&app, path, &[("accept", "text/html")]).await;
    let html_tag = etag(&html);
    assert_ne!(json_tag, html_tag);
    let crossed = get_with(
        &app,
        path,
        &[("accept", "text/html"), ("if-none-match", &json_tag)],
    )
    .await;
    assert_eq!(crossed.status(), 200);
    let same = get_with(
        &app,
        path,
        &[("accept", "text/html"), ("if-none-match", &html_tag)],
    )
    .await;
    assert_eq!(same.status(), 304);
}

/// Escapes text as HTML does (for comparing links in pages).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

#[tokio::test]
async fn the_browsable_page_is_pretty_json_with_clickable_links_and_paging() {
    let app = spawn_app().await;
    for (id, login) in [(1, "amy"), (2, "bob"), (3, "cal")] {
        seed::developer(&app, Dev::new(id, login)).await;
    }
    let path = "/github/developers/?ordering=login&page_size=1&page=2";
    let (_, json) = get_json(
        &app,
        "/github/developers/",
        &[("ordering", "login"), ("page_size", "1"), ("page", "2")],
    )
    .await;
    let page = get_with(&app, path, &[("accept", BROWSER_ACCEPT)])
        .await
        .text()
        .await
        .expect("html");

    let developer = &results(&json)[0];
    assert_eq!(developer["login"], "bob");
    assert!(page.contains("bob"));
    for field in [
        "url",
        "followers",
        "following",
        "starred_repositories",
        "repositories",
    ] {
        let link = developer[field].as_str().expect("link");
        assert!(
            page.contains(&format!("href=\"{}\"", escaped(link))),
            "{field} is a link: {link}"
        );
    }
    for rel in ["next", "previous"] {
        let link = json[rel].as_str().expect("paging link");
        assert!(
            page.contains(&format!("href=\"{}\"", escaped(link))),
            "{rel} page link {link}"
        );
    }
    // Pretty-printed: one key per line, indented.
    assert!(page.lines().filter(|l| l.contains("login")).count() >= 1);
    assert!(page.lines().count() > 25, "pretty-printed over many lines");
    assert!(page.contains("\n  "), "indented");

    // A detail page links its relations.
    let detail = get_with(
        &app,
        &developer["url"].as_str().expect("url")[app.address.len()..],
        &[("accept", "text/html")],
    )
    .await
    .text()
    .await
    .expect("html");
    let followers = developer["followers"].as_str().expect("followers");
    assert!(detail.contains(&format!("href=\"{}\"", escaped(followers))));
}

#[tokio::test]
async fn only_the_writable_lists_have_a_post_form_of_their_body() {
    let app = spawn_app().await;
    let html = |path: &'static str| {
        let app = &app;
        async move {
            get_with(app, path, &[("accept", "text/html")])
                .await
                .text()
                .await
                .expect("html")
        }
    };
    let tasks = html("/github/tasks/").await;
    assert!(
        tasks.contains(r#"<form id="post" method="post">"#),
        "the trigger form"
    );
    for name in [
        "full_profile_sync",
        "full_repository_sync",
        "discovery_scraper",
    ] {
        assert!(
            tasks.contains(&format!(r#"<option value="{name}""#)),
            "the form offers {name}"
        );
    }
    for field in ["username", "repo_name"] {
        assert!(
            tasks.contains(&format!(r#"id="post-{field}" name="{field}""#)),
            "an input {field}"
        );
    }
    // The tracked lists: the fields of the body their POST takes.
    for (path, field) in [
        ("/github/tracked_repositories/", "full_name"),
        ("/github/tracked_organizations/", "login"),
    ] {
        let page = html(path).await;
        assert!(page.contains(r#"<form id="post" method="post">"#), "{path}");
        assert_eq!(page.matches(r#"<p class="input""#).count(), 1, "{path}");
        assert!(
            page.contains(&format!(r#"id="post-{field}" name="{field}""#)),
            "{path}: {field}"
        );
    }
    // Other lists have their filter form only.
    let developers = html("/github/developers/").await;
    assert!(!developers.contains(r#"id="post""#));
    assert_eq!(developers.matches("<form").count(), 1, "{developers}");
    assert!(developers.contains(r#"<form id="filters" method="get""#));
}

#[tokio::test]
async fn hostile_data_is_escaped_in_the_html_page_and_raw_in_json() {
    let app = spawn_app().await;
    let bio = "<script>alert(1)</script>";
    let name = "\"><img src=x onerror=alert(1)>";
    let location = "</pre><h1>pwned</h1>";
    let id = seed::developer(
        &app,
        Dev {
            bio: Some(bio.into()),
            name: Some(name.into()),
            location: Some(location.into()),
            ..Dev::new(1, "mallory")
        },
    )
    .await;
    let repository = seed::repository(
        &app,
        1,
        Repo {
            homepage: Some("javascript:alert(1)".into()),
            description: Some("<iframe src=//evil.example></iframe>".into()),
            ..Repo::new(101, "trap")
        },
    )
    .await;

    for path in [
        format!("/github/developers/{id}/"),
        "/github/developers/".to_string(),
        format!("/github/repositories/{repository}/"),
        "/github/repositories/".to_string(),
    ] {
        let page = get_with(&app, &path, &[("accept", BROWSER_ACCEPT)])
            .await
            .text()
            .await
            .expect("html");
        for raw in [bio, "<img src=x", location, "<iframe", "href=\"javascript:"] {
            assert!(!page.contains(raw), "{path} contains raw {raw:?}");
        }
    }
    let page = get_with(
        &app,
        &format!("/github/developers/{id}/"),
        &[("accept", "text/html")],
    )
    .await
    .text()
    .await
    .expect("html");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the bio is shown, escaped"
    );
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));

    let (_, json) = get_json(&app, &format!("/github/developers/{id}/"), &[]).await;
    assert_eq!(json["bio"], bio);
    assert_eq!(json["name"], name);
    assert_eq!(json["location"], location);
}

#[tokio::test]
async fn every_link_in_the_browsable_pages_resolves() {
    let app = spawn_app().await;
    let owner = seed::developer(&app, Dev::new(1, "amy")).await;
    let follower = seed::developer(&app, Dev::new(2, "bob")).await;
    seed::follow(&app, follower, owner).await;
    let repository = seed::repository(&app, 1, Repo::new(101, "rocket")).await;
    seed::star(&app, follower, repository).await;
    for path in [
        "/github/".to_string(),
        "/github/developers/?page_size=1&page=2".to_string(),
        format!("/github/developers/{owner}/"),
        format!("/github/developers/{owner}/followers/"),
        format!("/github/developers/{follower}/starred_repositories/"),
        format!("/github/repositories/{repository}/"),
        format!("/github/repositories/{repository}/stargazers/"),
        "/github/tasks/".to_string(),
    ] {
        let page_url = url::Url::parse(&format!("{}{path}", app.address)).expect("url");
        let page = get_with(&app, &path, &[("accept", BROWSER_ACCEPT)])
            .await
            .text()
            .await
            .expect("html");
        let references: Vec<String> = asset_references(&page)
            .into_iter()
            .filter(|r| !r.starts_with('#'))
            .collect();
        assert!(!references.is_empty(), "{path} has links");
        for reference in references {
            // Attribute values are HTML-escaped.
            let reference = reference.replace("&amp;", "&");
            let target = page_url.join(&reference).expect("a valid link");
            let response = app
                .http
                .get(target.as_str())
                .header("accept", BROWSER_ACCEPT)
                .send()
                .await
                .expect("request");
            assert_eq!(
                response.status(),
                200,
                "{path} links {reference} → {target}"
            );
        }
    }
}

#[tokio::test]
async fn head_requests_answer_like_get_without_a_body() {
    let app = spawn_app().await;
    let id = seed::developer(&app, Dev::new(1, "amy")).await;
    for path in [
        "/github/".to_string(),
        "/github/developers/".to_string(),
        format!("/github/developers/{id}/"),
        "/github/tasks/".to_string(),
        "/health/".to_string(),
    ] {
        let url = format!("{}{path}", app.address);
        let get = app.http.get(&url).send().await.expect("GET");
        let head = app.http.head(&url).send().await.expect("HEAD");
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {path}"
        );
        assert_eq!(
            head.headers().get("etag"),
            get.headers().get("etag"),
            "HEAD {path}"
        );
        assert!(
            head.bytes().await.expect("body").is_empty(),
            "HEAD {path} has no body"
        );
    }
}

#[tokio::test]
async fn the_json_link_of_a_browsable_page_shows_the_same_resource() {
    let app = spawn_app().await;
    for (id, login) in [(1, "amy"), (2, "bob"), (3, "cal")] {
        seed::developer(&app, Dev::new(id, login)).await;
    }
    let path = "/github/developers/?login__contains=a&ordering=login&page_size=1&page=2";
    let page_url = url::Url::parse(&format!("{}{path}", app.address)).expect("url");
    let page = get_with(&app, path, &[("accept", BROWSER_ACCEPT)])
        .await
        .text()
        .await
        .expect("html");
    let json_link = asset_references(&page)
        .into_iter()
        .find(|r| r.contains("format=json"))
        .expect("a link to the JSON");
    let target = page_url
        .join(&json_link.replace("&amp;", "&"))
        .expect("a valid link");
    let (status, linked) = seed::get_url(&app, target.as_str()).await;
    assert_eq!(status, 200);
    let (_, expected) = get_json(
        &app,
        "/github/developers/",
        &[
            ("login__contains", "a"),
            ("ordering", "login"),
            ("page_size", "1"),
            ("page", "2"),
        ],
    )
    .await;
    assert_eq!(
        seed::column(&linked, "login"),
        seed::column(&expected, "login"),
        "{path}: the JSON link {json_link:?} shows another page"
    );
}
