//! The repository-activity resources (SPEC-2 A): tracking repositories and organizations,
//! issues and pull requests apart, timelines, transfers, members, commits and releases,
//! with their filters, orderings, scopes and links, against rows seeded through the
//! write-side queries.

use std::collections::HashMap;

use serde_json::{Value, json};
use uuid::Uuid;

use gitomatic::db::queries::commits::{self, NewCommit};
use gitomatic::db::queries::issues::{self, NewIssue};
use gitomatic::db::queries::releases::{self, NewRelease};
use gitomatic::db::queries::timeline::{self, NewTimelineItem};
use gitomatic::db::queries::transfers::{self, NewTransfer};
use gitomatic::db::queries::{members, tracked};

use crate::helpers::seed::{self, Dev, Repo, at, column, error, get_json, get_url, results};
use crate::helpers::{TestApp, spawn_app};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// POSTs a JSON body (with a token, if any); status, Location and the JSON body.
async fn post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Option<String>, Value) {
    let mut request = app.http.post(format!("{}{path}", app.address)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request reaches the app");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().expect("ASCII").to_string());
    (
        status,
        location,
        response.json().await.expect("a JSON body"),
    )
}

/// DELETEs an absolute URL (with a token, if any); the status.
async fn delete(app: &TestApp, url: &str, token: Option<&str>) -> u16 {
    let mut request = app.http.delete(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request").status().as_u16()
}

/// A repository to seed activity in.
struct Repository {
    id: Uuid,
    full_name: String,
}

/// Seeds the developer `owner` (if new) and its repository `name`.
async fn repository(
    app: &TestApp,
    owner_github_id: i64,
    owner: &str,
    github_id: i64,
    name: &str,
) -> Repository {
    let exists = app
        .count(&format!(
            "SELECT count(*) AS n FROM developers WHERE github_id = {owner_github_id}"
        ))
        .await;
    if exists == 0 {
        seed::developer(app, Dev::new(owner_github_id, owner)).await;
    }
    let id = seed::repository(app, owner_github_id, Repo::new(github_id, name)).await;
    Repository {
        id,
        full_name: format!("{owner}/{name}"),
    }
}

/// An open issue (or pull request) of `repo` with defaults; override with `..`.
fn issue(repo: &Repository, github_id: i64, number: i32, is_pull_request: bool) -> NewIssue<'_> {
    NewIssue {
        github_id,
        repository_id: repo.id,
        full_name: &repo.full_name,
        number,
        is_pull_request,
        title: "a title",
        state: "open",
        state_reason: None,
        author_id: None,
        author_login: None,
        author_type: None,
        labels: vec![],
        assignees: vec![],
        comments: 0,
        locked: false,
        created_at: at("2024-01-01T00:00:00Z"),
        updated_at: at("2024-01-01T00:00:00Z"),
        closed_at: None,
        closed_by_login: None,
        html_url: None,
        draft: is_pull_request.then_some(false),
        merged: None,
        merged_at: None,
    }
}

/// Stores issues; `github_id → id`.
async fn store_issues(app: &TestApp, rows: &[NewIssue<'_>]) -> HashMap<i64, Uuid> {
    issues::upsert(&mut app.ctx.conn().await.expect("conn"), rows)
        .await
        .expect("upsert issues")
}

/// A list's values of an integer field, in order.
fn numbers(body: &Value, field: &str) -> Vec<i64> {
    results(body)
        .iter()
        .map(|item| item[field].as_i64().expect("an integer"))
        .collect()
}

/// The list at `path` with `query`, asserting 200.
async fn list(app: &TestApp, path: &str, query: &[(&str, &str)]) -> Value {
    let (status, body) = get_json(app, path, query).await;
    assert_eq!(status, 200, "{path} {query:?}: {body}");
    body
}

/// GETs every absolute link of the app found in `value` and asserts each answers 200.
async fn links_resolve(app: &TestApp, value: &Value) {
    let mut found = Vec::new();
    seed::strings(value, &mut found);
    let links: Vec<&String> = found
        .iter()
        .filter(|s| s.starts_with(&format!("{}/", app.address)))
        .collect();
    assert!(!links.is_empty(), "links in {value}");
    for link in links {
        let (status, body) = get_url(app, link).await;
        assert_eq!(status, 200, "{link}: {body}");
    }
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    names.sort();
    names
}

const ISSUE_KEYS: [&str; 23] = [
    "url",
    "id",
    "github_id",
    "repository",
    "full_name",
    "number",
    "title",
    "state",
    "state_reason",
    "author",
    "author_login",
    "labels",
    "assignees",
    "comments",
    "locked",
    "created_at",
    "updated_at",
    "closed_at",
    "closed_by_login",
    "html_url",
    "transferred_to",
    "deleted_at",
    "timeline",
];

// ---------------------------------------------------------------------------
// Tracked repositories and organizations
// ---------------------------------------------------------------------------

#[tokio::test]
async fn tracking_a_repository_answers_201_then_200_and_queues_one_sync() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let path = "/github/tracked_repositories/";
    let body = json!({"full_name": "Octo/Hello.rs"});

    let (status, _, answer) = post(&app, path, None, &body).await;
    assert_eq!(status, 401, "{answer}");
    let (status, _, _) = post(&app, path, Some("not-a-token"), &body).await;
    assert_eq!(status, 403);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tracked_repositories")
            .await,
        0
    );

    let (status, location, created) = post(&app, path, Some(&token), &body).await;
    assert_eq!(status, 201, "{created}");
    let url = created["url"].as_str().expect("url");
    assert_eq!(location.as_deref(), Some(url));
    assert!(url.starts_with(&format!("{}/github/tracked_repositories/", app.address)));
    assert_eq!(created["full_name"], "Octo/Hello.rs");
    assert_eq!(
        created["repository"],
        Value::Null,
        "not found by a sync yet"
    );
    assert_eq!(
        created["leaderboard"],
        Value::Null,
        "no board before the first sync"
    );
    assert_eq!(
        keys(&created),
        sorted(&[
            "url",
            "id",
            "full_name",
            "repository",
            "organization",
            "leaderboard",
            "created_at",
            "activity_synced_at",
            "timeline_synced_at",
            "last_error",
            "blocked_at",
        ])
    );
    let (status, detail) = get_url(&app, url).await;
    assert_eq!(status, 200);
    assert_eq!(detail, created);

    // Tracked already (case-insensitively): 200 with the same one, no second task.
    let (status, _, again) = post(
        &app,
        path,
        Some(&token),
        &json!({"full_name": "octo/hello.RS"}),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], created["id"]);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM tasks WHERE name = 'repository_activity_sync' \
             AND args->>'full_name' = 'Octo/Hello.rs'"
        )
        .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 1);

    // Bad input is 400 naming full_name; nothing is tracked.
    for bad in [
        json!({}),
        json!({"full_name": ""}),
        json!({"full_name": 7}),
        json!({"full_name": "no-slash"}),
        json!({"full_name": "a/b/c"}),
        json!({"full_name": "bad owner/x"}),
        json!({"name": "octo/hello"}),
    ] {
        let (status, _, answer) = post(&app, path, Some(&token), &bad).await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert!(error(&answer).contains("full_name"), "{bad}: {answer}");
    }
    // A missing full_name says what to give.
    let (_, _, answer) = post(&app, path, Some(&token), &json!({"full_name": null})).await;
    assert_eq!(
        error(&answer),
        "Missing full_name: the repository as `owner/name`, by GitHub's syntax"
    );
    let (_, listed) = get_json(&app, path, &[]).await;
    assert_eq!(listed["count"], 1);
    assert_eq!(results(&listed)[0], created);
}

#[tokio::test]
async fn tracked_repositories_list_in_tracking_order_with_filters_and_link_their_repository() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let rocket = repository(&app, 1, "amy", 101, "rocket").await;
    for name in ["amy/rocket", "bob/zeta", "cat/alpha"] {
        let (status, _, _) = post(
            &app,
            "/github/tracked_repositories/",
            Some(&token),
            &json!({"full_name": name}),
        )
        .await;
        assert_eq!(status, 201);
    }
    seed::execute(
        &app,
        &format!(
            "UPDATE tracked_repositories SET repository_id = '{}', activity_synced_at = now() \
             WHERE full_name = 'amy/rocket'",
            rocket.id
        ),
    )
    .await;
    let path = "/github/tracked_repositories/";
    let all = list(&app, path, &[]).await;
    assert_eq!(
        column(&all, "full_name"),
        ["amy/rocket", "bob/zeta", "cat/alpha"]
    );
    let reversed = list(&app, path, &[("ordering", "-created_at")]).await;
    assert_eq!(
        column(&reversed, "full_name"),
        ["cat/alpha", "bob/zeta", "amy/rocket"]
    );
    let synced = list(&app, path, &[("activity_synced_at__isnull", "false")]).await;
    assert_eq!(column(&synced, "full_name"), ["amy/rocket"]);
    let item = &results(&synced)[0];
    assert_eq!(
        item["repository"],
        format!("{}/github/repositories/{}/", app.address, rocket.id)
    );
    links_resolve(&app, item).await;
    let named = list(&app, path, &[("full_name__contains", "ZET")]).await;
    assert_eq!(column(&named, "full_name"), ["bob/zeta"]);
    let (status, body) = get_json(&app, path, &[("password", "x")]).await;
    assert_eq!(status, 400);
    assert!(error(&body).contains("password"), "{body}");
}

#[tokio::test]
async fn untracking_answers_204_then_404_and_keeps_the_activity() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let repo = repository(&app, 1, "amy", 101, "rocket").await;
    let (_, _, created) = post(
        &app,
        "/github/tracked_repositories/",
        Some(&token),
        &json!({"full_name": "amy/rocket"}),
    )
    .await;
    seed::execute(
        &app,
        &format!(
            "UPDATE tracked_repositories SET repository_id = '{}'",
            repo.id
        ),
    )
    .await;
    store_issues(&app, &[issue(&repo, 1, 1, false), issue(&repo, 2, 2, true)]).await;
    let url = created["url"].as_str().expect("url");

    assert_eq!(delete(&app, url, None).await, 401);
    assert_eq!(delete(&app, url, Some(&token)).await, 204);
    assert_eq!(delete(&app, url, Some(&token)).await, 404);
    assert_eq!(get_url(&app, url).await.0, 404);
    let bogus = format!(
        "{}/github/tracked_repositories/{}/",
        app.address,
        Uuid::new_v4()
    );
    assert_eq!(delete(&app, &bogus, Some(&token)).await, 404);
    assert_eq!(
        list(&app, "/github/tracked_repositories/", &[]).await["count"],
        0
    );
    // The data stays.
    assert_eq!(list(&app, "/github/issues/", &[]).await["count"], 1);
    assert_eq!(list(&app, "/github/pull_requests/", &[]).await["count"], 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM repositories").await, 1);
}

#[tokio::test]
async fn tracking_an_organization_queues_its_members_sync_and_links_its_members() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let path = "/github/tracked_organizations/";
    let (status, _, _) = post(&app, path, None, &json!({"login": "acme"})).await;
    assert_eq!(status, 401);

    let (status, location, created) =
        post(&app, path, Some(&token), &json!({"login": "acme"})).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(location.as_deref(), created["url"].as_str());
    assert_eq!(
        keys(&created),
        sorted(&[
            "url",
            "id",
            "login",
            "created_at",
            "members_synced_at",
            "last_error",
            "members",
        ])
    );
    assert_eq!(
        created["members"],
        format!("{}/github/members/?organization_login=acme", app.address)
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM tasks WHERE name = 'org_members_sync' \
             AND args->>'org' = 'acme'"
        )
        .await,
        1
    );
    let (status, _, again) = post(&app, path, Some(&token), &json!({"login": "ACME"})).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], created["id"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 1);

    for bad in [
        json!({}),
        json!({"login": "not valid"}),
        json!({"login": ["acme"]}),
    ] {
        let (status, _, answer) = post(&app, path, Some(&token), &bad).await;
        assert_eq!(status, 400, "{bad}");
        assert!(error(&answer).contains("login"), "{answer}");
    }

    // Members of the organization, through the link.
    let ann = seed::developer(&app, Dev::new(11, "ann")).await;
    let ben = seed::developer(&app, Dev::new(12, "ben")).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    members::replace(
        &mut conn,
        "acme",
        &[(ann, "ann".into()), (ben, "ben".into())],
    )
    .await
    .expect("members");
    members::replace(&mut conn, "other", &[(ann, "ann".into())])
        .await
        .expect("members");
    drop(conn);
    let (status, listed) = get_url(&app, created["members"].as_str().expect("link")).await;
    assert_eq!(status, 200);
    assert_eq!(column(&listed, "login"), ["ann", "ben"]);

    let url = created["url"].as_str().expect("url");
    assert_eq!(delete(&app, url, Some(&token)).await, 204);
    assert_eq!(delete(&app, url, Some(&token)).await, 404);
    assert_eq!(
        list(&app, "/github/members/", &[]).await["count"],
        3,
        "members are kept"
    );
}

// ---------------------------------------------------------------------------
// Issues and pull requests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn issues_and_pull_requests_are_separate_resources() {
    let app = spawn_app().await;
    let repo = repository(&app, 1, "amy", 101, "rocket").await;
    let author = seed::developer(&app, Dev::new(2, "bob")).await;
    let ids = store_issues(
        &app,
        &[
            NewIssue {
                author_id: Some(author),
                author_login: Some("bob"),
                labels: vec!["bug"],
                assignees: vec!["amy"],
                html_url: Some("https://github.com/amy/rocket/issues/1"),
                ..issue(&repo, 1, 1, false)
            },
            issue(&repo, 2, 2, false),
            NewIssue {
                author_id: Some(author),
                author_login: Some("bob"),
                state: "closed",
                closed_at: Some(at("2024-02-01T00:00:00Z")),
                merged: Some(true),
                merged_at: Some(at("2024-02-01T00:00:00Z")),
                ..issue(&repo, 3, 3, true)
            },
            issue(&repo, 4, 4, true),
        ],
    )
    .await;
    let issue_list = list(&app, "/github/issues/", &[("ordering", "number")]).await;
    assert_eq!(numbers(&issue_list, "number"), [1, 2]);
    let pull_list = list(&app, "/github/pull_requests/", &[("ordering", "number")]).await;
    assert_eq!(numbers(&pull_list, "number"), [3, 4]);

    let first = &results(&issue_list)[0];
    assert_eq!(keys(first), sorted(&ISSUE_KEYS));
    assert_eq!(first["labels"], json!(["bug"]));
    assert_eq!(first["assignees"], json!(["amy"]));
    assert_eq!(
        first["author"],
        format!("{}/github/developers/{author}/", app.address)
    );
    assert_eq!(results(&issue_list)[1]["author"], Value::Null);
    let issue_id = ids[&1];
    assert_eq!(
        first["url"],
        format!("{}/github/issues/{issue_id}/", app.address)
    );
    assert_eq!(
        first["timeline"],
        format!("{}/github/issues/{issue_id}/timeline/", app.address)
    );
    links_resolve(&app, first).await;

    let merged = &results(&pull_list)[0];
    let mut pr_keys: Vec<&str> = ISSUE_KEYS.to_vec();
    pr_keys.extend(["draft", "merged", "merged_at", "merged_by_login", "reviews"]);
    assert_eq!(keys(merged), sorted(&pr_keys));
    let pr_id = ids[&3];
    assert_eq!(
        merged["url"],
        format!("{}/github/pull_requests/{pr_id}/", app.address)
    );
    assert_eq!(
        merged["reviews"],
        format!(
            "{}/github/pull_requests/{pr_id}/timeline/?event=reviewed",
            app.address
        )
    );
    assert_eq!(merged["merged"], true);
    assert_eq!(
        results(&pull_list)[1]["merged"],
        Value::Null,
        "open: merged is null"
    );
    links_resolve(&app, merged).await;
    let (status, detail) = get_url(&app, merged["url"].as_str().expect("url")).await;
    assert_eq!(status, 200);
    assert_eq!(&detail, merged, "the detail is the list item");

    // The other kind's id is 404 at each kind's paths, as is an unknown id.
    for path in [
        format!("/github/issues/{pr_id}/"),
        format!("/github/issues/{pr_id}/timeline/"),
        format!("/github/pull_requests/{issue_id}/"),
        format!("/github/pull_requests/{issue_id}/timeline/"),
        format!("/github/issues/{}/", Uuid::new_v4()),
        format!("/github/pull_requests/{}/timeline/", Uuid::new_v4()),
        "/github/issues/not-a-uuid/".to_string(),
    ] {
        let (status, body) = get_json(&app, &path, &[]).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
}

/// Issues and pull requests for filter tests, in `amy/rocket` and `bob/zeta`.
async fn seed_filterable(app: &TestApp) -> (Repository, Repository) {
    let rocket = repository(app, 1, "amy", 101, "rocket").await;
    let zeta = repository(app, 2, "bob", 102, "zeta").await;
    store_issues(
        app,
        &[
            NewIssue {
                author_login: Some("amy"),
                labels: vec!["bug", "good first issue"],
                comments: 5,
                created_at: at("2024-01-01T00:00:00Z"),
                updated_at: at("2024-03-01T00:00:00Z"),
                ..issue(&rocket, 1, 1, false)
            },
            NewIssue {
                author_login: Some("bob"),
                labels: vec!["enhancement"],
                state: "closed",
                state_reason: Some("completed"),
                comments: 1,
                created_at: at("2024-01-05T00:00:00Z"),
                updated_at: at("2024-01-20T00:00:00Z"),
                closed_at: Some(at("2024-01-20T00:00:00Z")),
                ..issue(&rocket, 2, 2, false)
            },
            NewIssue {
                author_login: Some("amy"),
                labels: vec!["bug"],
                state: "closed",
                comments: 9,
                created_at: at("2024-02-01T00:00:00Z"),
                updated_at: at("2024-02-10T00:00:00Z"),
                closed_at: Some(at("2024-02-10T00:00:00Z")),
                ..issue(&zeta, 3, 3, false)
            },
            // Pull requests: merged, closed unmerged, open.
            NewIssue {
                author_login: Some("amy"),
                labels: vec!["bug"],
                state: "closed",
                comments: 2,
                created_at: at("2024-01-02T00:00:00Z"),
                updated_at: at("2024-01-03T00:00:00Z"),
                closed_at: Some(at("2024-01-03T00:00:00Z")),
                merged: Some(true),
                merged_at: Some(at("2024-01-03T00:00:00Z")),
                ..issue(&rocket, 10, 10, true)
            },
            NewIssue {
                author_login: Some("bob"),
                state: "closed",
                comments: 0,
                created_at: at("2024-01-04T00:00:00Z"),
                updated_at: at("2024-02-04T00:00:00Z"),
                closed_at: Some(at("2024-02-04T00:00:00Z")),
                merged: Some(false),
                ..issue(&rocket, 11, 11, true)
            },
            NewIssue {
                author_login: Some("bob"),
                labels: vec!["bug", "wip"],
                draft: Some(true),
                comments: 7,
                created_at: at("2024-03-04T00:00:00Z"),
                updated_at: at("2024-03-05T00:00:00Z"),
                ..issue(&zeta, 12, 12, true)
            },
        ],
    )
    .await;
    (rocket, zeta)
}

async fn assert_numbers(app: &TestApp, path: &str, query: &[(&str, &str)], expected: &[i64]) {
    let body = list(app, path, query).await;
    assert_eq!(numbers(&body, "number"), expected, "{path} {query:?}");
    assert_eq!(body["count"], expected.len(), "{path} {query:?}");
}

#[tokio::test]
async fn issue_filters_narrow_and_orderings_order() {
    let app = spawn_app().await;
    seed_filterable(&app).await;
    let path = "/github/issues/";
    // Default: most recently updated first.
    assert_numbers(&app, path, &[], &[1, 3, 2]).await;
    for (query, expected) in [
        (vec![("state", "open")], vec![1]),
        (vec![("state", "closed")], vec![3, 2]),
        (vec![("author_login", "amy")], vec![1, 3]),
        (vec![("labels__contains", "bug")], vec![1, 3]),
        (vec![("labels__contains", "good first issue")], vec![1]),
        (vec![("labels__contains", "Bug")], vec![]),
        (vec![("labels__contains", "bu")], vec![]),
        (
            vec![("labels__contains", "bug"), ("state", "closed")],
            vec![3],
        ),
        (vec![("full_name", "bob/zeta")], vec![3]),
        (vec![("number", "2")], vec![2]),
        (
            vec![("number__gte", "2"), ("ordering", "number")],
            vec![2, 3],
        ),
        (vec![("created_at__gte", "2024-01-05")], vec![3, 2]),
        (vec![("created_at__lte", "2024-01-04T23:59:59Z")], vec![1]),
        (
            vec![
                ("updated_at__gte", "2024-02-01"),
                ("updated_at__lte", "2024-02-28"),
            ],
            vec![3],
        ),
        (vec![("closed_at__gte", "2024-02-01")], vec![3]),
        (vec![("closed_at__lte", "2024-02-01")], vec![2]),
        (vec![("closed_at__isnull", "true")], vec![1]),
        (vec![("ordering", "number")], vec![1, 2, 3]),
        (vec![("ordering", "-number")], vec![3, 2, 1]),
        (vec![("ordering", "created_at")], vec![1, 2, 3]),
        (vec![("ordering", "updated_at")], vec![2, 3, 1]),
        (vec![("ordering", "closed_at")], vec![2, 3, 1]),
        (vec![("ordering", "-comments")], vec![3, 1, 2]),
        (vec![("ordering", "comments")], vec![2, 1, 3]),
    ] {
        assert_numbers(&app, path, &query, &expected).await;
    }
    // Errors name what is wrong.
    for (name, value) in [
        ("merged", "true"),
        ("labels", "bug"),
        ("labels__isnull", "true"),
        ("state", "bogus"),
        ("number", "many"),
        ("closed_at__gte", "yesterday"),
        ("password", "x"),
    ] {
        let (status, body) = get_json(&app, path, &[(name, value)]).await;
        assert_eq!(status, 400, "{name}={value}: {body}");
        assert!(error(&body).contains(name), "{name}: {body}");
    }
    let (status, body) = get_json(&app, path, &[("ordering", "labels")]).await;
    assert_eq!(status, 400);
    assert!(error(&body).contains("labels"), "{body}");
    let (_, body) = get_json(&app, path, &[("state", "bogus")]).await;
    assert!(error(&body).contains("open, closed"), "{body}");
}

#[tokio::test]
async fn pull_request_filters_include_the_merge() {
    let app = spawn_app().await;
    seed_filterable(&app).await;
    let path = "/github/pull_requests/";
    assert_numbers(&app, path, &[], &[12, 11, 10]).await;
    for (query, expected) in [
        (vec![("merged", "true")], vec![10]),
        (vec![("merged", "false")], vec![11]),
        (vec![("merged__isnull", "true")], vec![12]),
        (
            vec![
                ("merged_at__gte", "2024-01-01"),
                ("merged_at__lte", "2024-01-31"),
            ],
            vec![10],
        ),
        (vec![("merged_at__gte", "2024-02-01")], vec![]),
        (vec![("state", "open")], vec![12]),
        (vec![("labels__contains", "bug")], vec![12, 10]),
        (vec![("labels__contains", "wip")], vec![12]),
        (vec![("author_login", "bob")], vec![12, 11]),
        (vec![("draft", "true")], vec![12]),
        (vec![("full_name", "amy/rocket")], vec![11, 10]),
        (
            vec![("closed_at__isnull", "false"), ("ordering", "closed_at")],
            vec![10, 11],
        ),
        (vec![("ordering", "-comments")], vec![12, 10, 11]),
        (vec![("ordering", "number")], vec![10, 11, 12]),
        (vec![("ordering", "created_at")], vec![10, 11, 12]),
        (
            vec![("ordering", "-merged_at"), ("merged_at__isnull", "false")],
            vec![10],
        ),
    ] {
        assert_numbers(&app, path, &query, &expected).await;
    }
    let (status, body) = get_json(&app, path, &[("merged", "perhaps")]).await;
    assert_eq!(status, 400);
    assert!(error(&body).contains("merged"), "{body}");
}

#[tokio::test]
async fn per_repository_lists_are_scoped_to_their_repository() {
    let app = spawn_app().await;
    let (rocket, zeta) = seed_filterable(&app).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let commit = |repo: &Repository, sha: &'static str, day: u32| NewCommit {
        repository_id: repo.id,
        full_name: "",
        sha,
        author_id: None,
        author_login: None,
        author_type: None,
        author_name: Some("Someone"),
        authored_at: Some(at(&format!("2024-01-{day:02}T00:00:00Z"))),
        committed_at: None,
        message: "a change",
    };
    let mut rows = vec![
        commit(&rocket, "aaa", 1),
        commit(&rocket, "bbb", 2),
        commit(&zeta, "ccc", 3),
    ];
    rows[0].full_name = &rocket.full_name;
    rows[1].full_name = &rocket.full_name;
    rows[2].full_name = &zeta.full_name;
    commits::upsert(&mut conn, &rows).await.expect("commits");
    let release = |repo: &Repository, github_id: i64, tag: &'static str| NewRelease {
        github_id,
        repository_id: repo.id,
        full_name: "",
        tag_name: tag,
        name: None,
        author_id: None,
        author_login: None,
        author_type: None,
        draft: false,
        prerelease: false,
        created_at: None,
        published_at: Some(at("2024-01-01T00:00:00Z")),
        html_url: None,
    };
    releases::upsert(
        &mut conn,
        &[release(&rocket, 1, "v1"), release(&zeta, 2, "v2")],
    )
    .await
    .expect("releases");
    drop(conn);

    let base = |repo: &Repository, sub: &str| format!("/github/repositories/{}/{sub}/", repo.id);
    assert_numbers(
        &app,
        &base(&rocket, "issues"),
        &[("ordering", "number")],
        &[1, 2],
    )
    .await;
    assert_numbers(&app, &base(&zeta, "issues"), &[], &[3]).await;
    assert_numbers(
        &app,
        &base(&rocket, "pull_requests"),
        &[("ordering", "number")],
        &[10, 11],
    )
    .await;
    assert_numbers(&app, &base(&zeta, "pull_requests"), &[], &[12]).await;
    // Filters apply within the scope.
    assert_numbers(&app, &base(&rocket, "issues"), &[("state", "closed")], &[2]).await;
    assert_numbers(
        &app,
        &base(&rocket, "pull_requests"),
        &[("merged", "true")],
        &[10],
    )
    .await;
    let rocket_commits = list(&app, &base(&rocket, "commits"), &[]).await;
    assert_eq!(column(&rocket_commits, "sha"), ["bbb", "aaa"]);
    let zeta_commits = list(&app, &base(&zeta, "commits"), &[("sha", "aaa")]).await;
    assert_eq!(zeta_commits["count"], 0);
    assert_eq!(
        column(&list(&app, &base(&zeta, "releases"), &[]).await, "tag_name"),
        ["v2"]
    );

    // The repository links its activity.
    let (_, detail) = get_json(&app, &format!("/github/repositories/{}/", rocket.id), &[]).await;
    for (field, sub) in [
        ("issues", "issues"),
        ("pull_requests", "pull_requests"),
        ("commits", "commits"),
        ("releases", "releases"),
    ] {
        assert_eq!(
            detail[field],
            format!("{}/github/repositories/{}/{sub}/", app.address, rocket.id)
        );
    }
    for sub in ["issues", "pull_requests", "commits", "releases"] {
        let path = format!("/github/repositories/{}/{sub}/", Uuid::new_v4());
        assert_eq!(get_json(&app, &path, &[]).await.0, 404, "{path}");
    }
}

// ---------------------------------------------------------------------------
// Timelines and transfers
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_timeline_lists_its_items_in_order_with_filters() {
    let app = spawn_app().await;
    let repo = repository(&app, 1, "amy", 101, "rocket").await;
    let ids = store_issues(&app, &[issue(&repo, 1, 1, true), issue(&repo, 2, 2, false)]).await;
    let (pr, other) = (ids[&1], ids[&2]);
    let item =
        |issue_id: Uuid, position: i32, event: &'static str, actor: &'static str, day: u32| {
            NewTimelineItem {
                issue_id,
                position,
                event,
                item_key: format!("{event}-{position}"),
                actor_login: Some(actor),
                actor_type: Some("User"),
                created_at: Some(at(&format!("2024-01-{day:02}T00:00:00Z"))),
                details: json!({"position": position}),
                updated_at: None,
            }
        };
    // Stored out of order; created_at disagrees with position for the review.
    timeline::upsert(
        &mut app.ctx.conn().await.expect("conn"),
        &[
            item(pr, 2, "reviewed", "cat", 1),
            item(pr, 0, "labeled", "amy", 2),
            item(pr, 3, "merged", "amy", 5),
            item(pr, 1, "commented", "bob", 3),
            item(other, 0, "labeled", "amy", 1),
        ],
    )
    .await
    .expect("timeline");
    let path = format!("/github/pull_requests/{pr}/timeline/");
    let body = list(&app, &path, &[]).await;
    assert_eq!(
        column(&body, "event"),
        ["labeled", "commented", "reviewed", "merged"]
    );
    assert_eq!(numbers(&body, "position"), [0, 1, 2, 3]);
    let first = &results(&body)[0];
    assert_eq!(
        keys(first),
        sorted(&[
            "url",
            "id",
            "issue",
            "position",
            "event",
            "actor_login",
            "created_at",
            "details"
        ])
    );
    assert_eq!(first["details"], json!({"position": 0}));
    assert_eq!(
        first["issue"],
        format!("{}/github/pull_requests/{pr}/", app.address)
    );
    assert!(
        first["url"]
            .as_str()
            .expect("url")
            .contains("/github/timeline_items/")
    );
    links_resolve(&app, first).await;

    for (query, expected) in [
        (vec![("event", "labeled")], vec!["labeled"]),
        (vec![("actor_login", "amy")], vec!["labeled", "merged"]),
        (
            vec![("created_at__gte", "2024-01-03")],
            vec!["commented", "merged"],
        ),
        (
            vec![("created_at__lte", "2024-01-02")],
            vec!["labeled", "reviewed"],
        ),
        (
            vec![("ordering", "created_at")],
            vec!["reviewed", "labeled", "commented", "merged"],
        ),
        (
            vec![("ordering", "-position")],
            vec!["merged", "reviewed", "commented", "labeled"],
        ),
    ] {
        assert_eq!(
            column(&list(&app, &path, &query).await, "event"),
            expected,
            "{query:?}"
        );
    }
    // The reviews link is the timeline's reviews.
    let (_, detail) = get_json(&app, &format!("/github/pull_requests/{pr}/"), &[]).await;
    let (status, reviews) = get_url(&app, detail["reviews"].as_str().expect("reviews")).await;
    assert_eq!(status, 200);
    assert_eq!(column(&reviews, "actor_login"), ["cat"]);
    // The issue's own timeline holds its own item only; all items are listed together too.
    let own = list(&app, &format!("/github/issues/{other}/timeline/"), &[]).await;
    assert_eq!(own["count"], 1);
    assert_eq!(
        results(&own)[0]["issue"],
        format!("{}/github/issues/{other}/", app.address)
    );
    assert_eq!(list(&app, "/github/timeline_items/", &[]).await["count"], 5);
    let (status, body) = get_json(&app, &path, &[("details", "x")]).await;
    assert_eq!(status, 400);
    assert!(error(&body).contains("details"), "{body}");
}

#[tokio::test]
async fn a_transferred_issue_links_to_what_it_became() {
    let app = spawn_app().await;
    let rocket = repository(&app, 1, "amy", 101, "rocket").await;
    let zeta = repository(&app, 2, "bob", 102, "zeta").await;
    let ids = store_issues(
        &app,
        &[
            issue(&rocket, 1, 7, false),
            issue(&zeta, 2, 40, false),
            issue(&rocket, 3, 8, false),
            issue(&zeta, 4, 41, false),
        ],
    )
    .await;
    let mut conn = app.ctx.conn().await.expect("conn");
    for (from, to, from_number, to_number) in [(ids[&1], ids[&2], 7, 40), (ids[&3], ids[&4], 8, 41)]
    {
        issues::mark_transferred(&mut conn, from, to)
            .await
            .expect("mark");
        transfers::record(
            &mut conn,
            &NewTransfer {
                from_issue_id: from,
                to_issue_id: to,
                from_full_name: &rocket.full_name,
                from_number,
                to_full_name: &zeta.full_name,
                to_number,
            },
        )
        .await
        .expect("transfer");
    }
    drop(conn);
    seed::execute(
        &app,
        "UPDATE transfers SET detected_at = '2024-01-01' WHERE from_number = 7",
    )
    .await;

    let (_, old) = get_json(&app, &format!("/github/issues/{}/", ids[&1]), &[]).await;
    let new_url = format!("{}/github/issues/{}/", app.address, ids[&2]);
    assert_eq!(old["transferred_to"], new_url);
    let (status, new) = get_url(&app, &new_url).await;
    assert_eq!(status, 200);
    assert_eq!(new["number"], 40);
    assert_eq!(new["transferred_to"], Value::Null);

    let body = list(&app, "/github/transfers/", &[]).await;
    assert_eq!(
        numbers(&body, "from_number"),
        [8, 7],
        "latest detected first"
    );
    let transfer = &results(&body)[1];
    assert_eq!(
        keys(transfer),
        sorted(&[
            "url",
            "id",
            "from_full_name",
            "from_number",
            "to_full_name",
            "to_number",
            "from_issue",
            "to_issue",
            "detected_at",
        ])
    );
    assert_eq!(
        transfer["from_issue"],
        format!("{}/github/issues/{}/", app.address, ids[&1])
    );
    assert_eq!(transfer["to_issue"], new_url);
    links_resolve(&app, transfer).await;
    assert_eq!(
        numbers(
            &list(&app, "/github/transfers/", &[("ordering", "detected_at")]).await,
            "from_number"
        ),
        [7, 8]
    );
    assert_eq!(
        numbers(
            &list(&app, "/github/transfers/", &[("to_number", "41")]).await,
            "from_number"
        ),
        [8]
    );
}

// ---------------------------------------------------------------------------
// Members, commits, releases
// ---------------------------------------------------------------------------

#[tokio::test]
async fn members_filter_by_organization_and_activity() {
    let app = spawn_app().await;
    let ann = seed::developer(&app, Dev::new(11, "ann")).await;
    let ben = seed::developer(&app, Dev::new(12, "ben")).await;
    let cid = seed::developer(&app, Dev::new(13, "cid")).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    members::replace(
        &mut conn,
        "acme",
        &[
            (ann, "ann".into()),
            (ben, "ben".into()),
            (cid, "cid".into()),
        ],
    )
    .await
    .expect("members");
    // ben leaves acme.
    members::replace(
        &mut conn,
        "acme",
        &[(ann, "ann".into()), (cid, "cid".into())],
    )
    .await
    .expect("members");
    members::replace(&mut conn, "initech", &[(ben, "ben".into())])
        .await
        .expect("members");
    drop(conn);
    seed::execute(
        &app,
        "UPDATE members SET inserted_at = '2024-01-01' WHERE login = 'cid'",
    )
    .await;
    let path = "/github/members/";
    let logins = |body: &Value| column(body, "login");
    assert_eq!(
        logins(&list(&app, path, &[]).await),
        ["ann", "ben", "ben", "cid"]
    );
    let acme = list(&app, path, &[("organization_login", "acme")]).await;
    assert_eq!(logins(&acme), ["ann", "ben", "cid"]);
    assert_eq!(
        logins(
            &list(
                &app,
                path,
                &[("organization_login", "acme"), ("active", "true")]
            )
            .await
        ),
        ["ann", "cid"]
    );
    let gone = list(&app, path, &[("active", "false")]).await;
    assert_eq!(logins(&gone), ["ben"]);
    assert_eq!(results(&gone)[0]["organization_login"], "acme");
    assert!(results(&gone)[0]["inactive_at"].is_string());
    assert_eq!(
        logins(&list(&app, path, &[("login", "ben")]).await),
        ["ben", "ben"]
    );
    assert_eq!(
        logins(&list(&app, path, &[("ordering", "-login")]).await),
        ["cid", "ben", "ben", "ann"]
    );
    assert_eq!(
        logins(&list(&app, path, &[("ordering", "inserted_at")]).await)[0],
        "cid"
    );
    let member = &results(&acme)[0];
    assert_eq!(
        keys(member),
        sorted(&[
            "url",
            "id",
            "organization_login",
            "developer",
            "login",
            "active",
            "inserted_at",
            "inactive_at"
        ])
    );
    assert_eq!(
        member["developer"],
        format!("{}/github/developers/{ann}/", app.address)
    );
    links_resolve(&app, member).await;
    let (status, body) = get_json(&app, path, &[("active", "maybe")]).await;
    assert_eq!(status, 400);
    assert!(error(&body).contains("active"), "{body}");
}

#[tokio::test]
async fn commits_and_releases_list_newest_first_with_filters() {
    let app = spawn_app().await;
    let repo = repository(&app, 1, "amy", 101, "rocket").await;
    let other = repository(&app, 2, "bob", 102, "zeta").await;
    let amy_id = seed::developer(&app, Dev::new(3, "cat")).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let base = NewCommit {
        repository_id: repo.id,
        full_name: &repo.full_name,
        sha: "",
        author_id: None,
        author_login: None,
        author_type: None,
        author_name: Some("Someone"),
        authored_at: None,
        committed_at: None,
        message: "a change",
    };
    commits::upsert(
        &mut conn,
        &[
            NewCommit {
                sha: "c1",
                author_id: Some(amy_id),
                author_login: Some("cat"),
                authored_at: Some(at("2024-01-01T00:00:00Z")),
                ..base.clone()
            },
            NewCommit {
                sha: "c2",
                authored_at: Some(at("2024-01-03T00:00:00Z")),
                ..base.clone()
            },
            NewCommit {
                sha: "c3",
                repository_id: other.id,
                full_name: &other.full_name,
                author_id: Some(amy_id),
                author_login: Some("cat"),
                authored_at: Some(at("2024-01-02T00:00:00Z")),
                ..base.clone()
            },
        ],
    )
    .await
    .expect("commits");
    let release = NewRelease {
        github_id: 0,
        repository_id: repo.id,
        full_name: &repo.full_name,
        tag_name: "",
        name: None,
        author_id: Some(amy_id),
        author_login: Some("cat"),
        author_type: Some("User"),
        draft: false,
        prerelease: false,
        created_at: None,
        published_at: None,
        html_url: None,
    };
    releases::upsert(
        &mut conn,
        &[
            NewRelease {
                github_id: 1,
                tag_name: "v1.0",
                published_at: Some(at("2024-01-01T00:00:00Z")),
                ..release.clone()
            },
            NewRelease {
                github_id: 2,
                tag_name: "v2.0-rc1",
                prerelease: true,
                published_at: Some(at("2024-02-01T00:00:00Z")),
                ..release.clone()
            },
            NewRelease {
                github_id: 3,
                tag_name: "v2.0",
                published_at: Some(at("2024-03-01T00:00:00Z")),
                ..release.clone()
            },
        ],
    )
    .await
    .expect("releases");
    drop(conn);

    let path = "/github/commits/";
    let all = list(&app, path, &[]).await;
    assert_eq!(column(&all, "sha"), ["c2", "c3", "c1"]);
    let unlinked = &results(&all)[0];
    assert_eq!(unlinked["author_login"], Value::Null);
    assert_eq!(unlinked["author"], Value::Null);
    assert_eq!(
        keys(unlinked),
        sorted(&[
            "url",
            "id",
            "repository",
            "full_name",
            "sha",
            "author",
            "author_login",
            "author_name",
            "authored_at",
            "committed_at",
            "message",
        ])
    );
    links_resolve(&app, &results(&all)[1]).await;
    for (query, expected) in [
        (vec![("sha", "c1")], vec!["c1"]),
        (vec![("author_login", "cat")], vec!["c3", "c1"]),
        (vec![("author_login__isnull", "true")], vec!["c2"]),
        (vec![("full_name", "bob/zeta")], vec!["c3"]),
        (
            vec![
                ("authored_at__gte", "2024-01-02"),
                ("authored_at__lte", "2024-01-02T23:00:00Z"),
            ],
            vec!["c3"],
        ),
        (vec![("ordering", "authored_at")], vec!["c1", "c3", "c2"]),
    ] {
        assert_eq!(
            column(&list(&app, path, &query).await, "sha"),
            expected,
            "{query:?}"
        );
    }

    let path = "/github/releases/";
    let all = list(&app, path, &[]).await;
    assert_eq!(column(&all, "tag_name"), ["v2.0", "v2.0-rc1", "v1.0"]);
    let first = &results(&all)[0];
    assert_eq!(
        keys(first),
        sorted(&[
            "url",
            "id",
            "github_id",
            "repository",
            "full_name",
            "tag_name",
            "name",
            "author",
            "author_login",
            "draft",
            "prerelease",
            "created_at",
            "published_at",
            "html_url",
        ])
    );
    links_resolve(&app, first).await;
    for (query, expected) in [
        (vec![("prerelease", "true")], vec!["v2.0-rc1"]),
        (
            vec![("prerelease", "false"), ("ordering", "published_at")],
            vec!["v1.0", "v2.0"],
        ),
        (vec![("tag_name__contains", "rc")], vec!["v2.0-rc1"]),
        (
            vec![("published_at__lte", "2024-02-01")],
            vec!["v2.0-rc1", "v1.0"],
        ),
        (vec![("author_login", "nobody")], vec![]),
    ] {
        assert_eq!(
            column(&list(&app, path, &query).await, "tag_name"),
            expected,
            "{query:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Browsable, linked from the root
// ---------------------------------------------------------------------------

#[tokio::test]
async fn activity_lists_are_linked_from_the_root_and_browsable_as_html() {
    let app = spawn_app().await;
    let repo = repository(&app, 1, "amy", 101, "rocket").await;
    store_issues(
        &app,
        &[NewIssue {
            title: "Rockets <explode>",
            ..issue(&repo, 1, 1, false)
        }],
    )
    .await;
    let (_, root) = get_json(&app, "/github/", &[]).await;
    for name in [
        "tracked_repositories",
        "tracked_organizations",
        "issues",
        "pull_requests",
        "timeline_items",
        "transfers",
        "members",
        "commits",
        "releases",
    ] {
        assert_eq!(
            root[name],
            format!("{}/github/{name}/", app.address),
            "{name}"
        );
        let (status, body) = get_url(&app, root[name].as_str().expect("link")).await;
        assert_eq!(status, 200, "{name}");
        assert!(body["count"].is_number(), "{name} is a list");
    }
    let response = app
        .http
        .get(format!("{}/github/issues/", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("html");
    assert!(page.contains("<html"), "an HTML page");
    assert!(
        page.contains("Rockets &lt;explode&gt;"),
        "the issue, escaped"
    );
    assert!(!page.contains("Rockets <explode>"));
    // The tracked state as stored by the write side shows through the API.
    let (row, created) =
        tracked::track_repository(&mut app.ctx.conn().await.expect("conn"), "amy/rocket", None)
            .await
            .expect("track");
    assert!(created);
    let (status, body) = get_json(
        &app,
        &format!("/github/tracked_repositories/{}/", row.id),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["full_name"], "amy/rocket");
}
