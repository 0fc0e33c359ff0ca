//! Lists and details of the REST API: hyperlinks, paging, ordering, filters and
//! sub-collections, against data crawled through the real data path or seeded with SQL.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::Value;
use uuid::Uuid;

use crate::helpers::seed::{
    self, Dev, Repo, at, column, error, get_json, get_url, results, route_of, strings,
};
use crate::helpers::{TestApp, spawn_app};

// ---------------------------------------------------------------------------
// Hyperlinks
// ---------------------------------------------------------------------------

/// Walks every hyperlink reachable from `starts` (paths of the app). Links are recognised by
/// the `base` they start with (the app's address, or PUBLIC_URL) and fetched from the app.
/// Asserts each answers 200; returns URL → JSON body (`Null` for non-JSON pages).
async fn walk(app: &TestApp, base: &str, starts: &[&str]) -> BTreeMap<String, Value> {
    let prefix = format!("{base}/");
    let mut seen: BTreeMap<String, Value> = BTreeMap::new();
    let mut queue: VecDeque<String> = starts.iter().map(|p| format!("{base}{p}")).collect();
    while let Some(link) = queue.pop_front() {
        if seen.contains_key(&link) {
            continue;
        }
        assert!(seen.len() < 2_000, "the walk does not end: {link}");
        let target = format!("{}{}", app.address, &link[base.len()..]);
        let response = app
            .http
            .get(&target)
            .send()
            .await
            .expect("request reaches the app");
        assert_eq!(response.status(), 200, "GET {target} (linked as {link})");
        let is_json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = if is_json {
            response.json::<Value>().await.expect("JSON body")
        } else {
            Value::Null
        };
        let mut found = Vec::new();
        strings(&body, &mut found);
        queue.extend(found.into_iter().filter(|s| s.starts_with(&prefix)));
        seen.insert(link, body);
    }
    seen
}

const ALL_ROUTES: [&str; 47] = [
    "/github/",
    "/github/graph/",
    "/github/graph/export/",
    "/github/developers/{id}/mutuals/",
    "/github/developers/{id}/suggestions/",
    "/github/developers/{id}/path/{other_id}/",
    "/github/events/",
    "/github/events/gaps/",
    "/github/metrics/event-avg-time",
    "/github/metrics/events-total-count",
    "/github/metrics/multiple-events-repos",
    "/github/visualization/event-avg-time",
    "/github/visualization/events-total-count",
    "/github/tracked_repositories/",
    "/github/tracked_organizations/",
    "/github/issues/",
    "/github/pull_requests/",
    "/github/timeline_items/",
    "/github/transfers/",
    "/github/webhooks/deliveries/",
    "/github/members/",
    "/github/commits/",
    "/github/releases/",
    "/github/repositories/{id}/issues/",
    "/github/repositories/{id}/pull_requests/",
    "/github/repositories/{id}/commits/",
    "/github/repositories/{id}/releases/",
    "/github/developers/",
    "/github/developers/{id}/",
    "/github/developers/{id}/followers/",
    "/github/developers/{id}/following/",
    "/github/developers/{id}/starred_repositories/",
    "/github/developers/{id}/repositories/",
    "/github/repositories/",
    "/github/repositories/{id}/",
    "/github/repositories/{id}/stargazers/",
    "/github/rate_limit/",
    "/github/rate_limit/{id}/",
    "/github/tasks/",
    "/github/tasks/{id}/",
    "/github/swagger/",
    "/github/swagger.json",
    "/github/redoc/",
    "/github/dashboard/",
    "/github/leaderboards/",
    "/github/leaderboards/weights/",
    "/github/tasks/live/",
];

const WALK_STARTS: [&str; 5] = [
    "/github/",
    "/github/developers/?page_size=2",
    "/github/repositories/?page_size=1",
    "/github/tasks/?page_size=1",
    "/github/developers/?ordering=login&login__contains=a&page_size=1",
];

/// Paths (without query) of the walked links, as route patterns.
fn routes(base: &str, walked: &BTreeMap<String, Value>) -> BTreeSet<String> {
    walked
        .keys()
        .map(|link| {
            let path = link[base.len()..].split('?').next().unwrap_or("");
            route_of(path)
        })
        .collect()
}

#[tokio::test]
async fn every_hyperlink_in_every_response_resolves_with_200() {
    let app = seed::crawled_app(|_| {}).await;
    let walked = walk(&app, &app.address, &WALK_STARTS).await;

    let expected: BTreeSet<String> = ALL_ROUTES.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        routes(&app.address, &walked),
        expected,
        "every endpoint is reached by links"
    );
    // Every developer and repository of the crawl was reached, with each of its links.
    let developers = app.count("SELECT count(*) AS n FROM developers").await;
    let repositories = app.count("SELECT count(*) AS n FROM repositories").await;
    let details = |route: &str| {
        walked
            .keys()
            .filter(|link| route_of(&link[app.address.len()..]) == route)
            .count() as i64
    };
    assert_eq!(developers, 5);
    assert_eq!(details("/github/developers/{id}/"), developers);
    assert_eq!(details("/github/developers/{id}/followers/"), developers);
    assert_eq!(repositories, 4);
    assert_eq!(details("/github/repositories/{id}/"), repositories);
    assert_eq!(
        details("/github/repositories/{id}/stargazers/"),
        repositories
    );
    // Paging links were followed: page 2 of the developer list (page_size=2) was walked.
    assert!(
        walked
            .keys()
            .any(|link| link.contains("/github/developers/?") && link.contains("page=3")),
        "next links were walked: {:?}",
        walked.keys().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn with_public_url_every_hyperlink_uses_it_and_resolves_behind_it() {
    let public = "https://crawl.example.org";
    let app = seed::crawled_app(|env| {
        env.insert("PUBLIC_URL".into(), format!("{public}/"));
    })
    .await;
    let walked = walk(&app, public, &WALK_STARTS).await;
    let expected: BTreeSet<String> = ALL_ROUTES.iter().map(|r| r.to_string()).collect();
    assert_eq!(routes(public, &walked), expected);

    // No response leaks the address the app was reached at.
    let own = format!("{}/", app.address);
    for (link, body) in &walked {
        let mut found = Vec::new();
        strings(body, &mut found);
        let leaked: Vec<&String> = found.iter().filter(|s| s.starts_with(&own)).collect();
        assert!(leaked.is_empty(), "{link} links {leaked:?}");
    }
    // Every link field of a developer, a repository and a task uses PUBLIC_URL.
    let (_, developers) = get_json(&app, "/github/developers/", &[]).await;
    let (_, repositories) = get_json(&app, "/github/repositories/", &[]).await;
    let (_, tasks) = get_json(&app, "/github/tasks/", &[]).await;
    for (body, fields) in [
        (
            &developers,
            &[
                "url",
                "followers",
                "following",
                "starred_repositories",
                "repositories",
            ][..],
        ),
        (&repositories, &["url", "owner", "stargazers"][..]),
        (&tasks, &["url"][..]),
    ] {
        for item in results(body) {
            for field in fields {
                let link = item[*field].as_str().expect("a link");
                assert!(link.starts_with(&format!("{public}/github/")), "{link}");
            }
        }
    }
}

/// The logins (or full names) of every item of a list link.
async fn names_at(app: &TestApp, link: &str, field: &str) -> BTreeSet<String> {
    let (status, body) = get_url(app, link).await;
    assert_eq!(status, 200, "{link}");
    assert_eq!(body["count"], results(&body).len(), "{link}");
    column(&body, field).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The list item whose `field` is `value`.
async fn find(app: &TestApp, path: &str, field: &str, value: &str) -> Value {
    let (status, body) = get_json(app, path, &[(field, value)]).await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 1, "{path}?{field}={value}: {body}");
    results(&body)[0].clone()
}

#[tokio::test]
async fn sub_collections_list_exactly_the_related_rows() {
    let app = seed::crawled_app(|_| {}).await;
    let alice = find(&app, "/github/developers/", "login", "alice").await;
    let link = |dev: &Value, field: &str| dev[field].as_str().expect("link").to_string();

    assert_eq!(
        names_at(&app, &link(&alice, "followers"), "login").await,
        set(&["bob", "carol"])
    );
    assert_eq!(
        names_at(&app, &link(&alice, "following"), "login").await,
        set(&["dave"])
    );
    assert_eq!(
        names_at(&app, &link(&alice, "starred_repositories"), "full_name").await,
        set(&["carol/tool", "dave/lib"])
    );
    assert_eq!(
        names_at(&app, &link(&alice, "repositories"), "full_name").await,
        set(&["alice/proj", "alice/site"])
    );
    // The same edges seen from the other end.
    let bob = find(&app, "/github/developers/", "login", "bob").await;
    assert_eq!(
        names_at(&app, &link(&bob, "following"), "login").await,
        set(&["alice"])
    );
    assert_eq!(
        names_at(&app, &link(&bob, "followers"), "login").await,
        set(&[])
    );
    assert_eq!(
        names_at(&app, &link(&bob, "starred_repositories"), "full_name").await,
        set(&["alice/proj"])
    );
    let dave = find(&app, "/github/developers/", "login", "dave").await;
    assert_eq!(
        names_at(&app, &link(&dave, "followers"), "login").await,
        set(&["alice"])
    );
    assert_eq!(
        names_at(&app, &link(&dave, "repositories"), "full_name").await,
        set(&["dave/lib"])
    );

    let proj = find(&app, "/github/repositories/", "full_name", "alice/proj").await;
    assert_eq!(
        names_at(&app, &link(&proj, "stargazers"), "login").await,
        set(&["bob", "erin"])
    );
    assert_eq!(proj["owner"], alice["url"], "the owner link is alice");
    let tool = find(&app, "/github/repositories/", "full_name", "carol/tool").await;
    assert_eq!(
        names_at(&app, &link(&tool, "stargazers"), "login").await,
        set(&["alice"])
    );
}

#[tokio::test]
async fn lists_and_objects_have_the_documented_shape() {
    let app = seed::crawled_app(|_| {}).await;
    let keys = |value: &Value| -> BTreeSet<String> {
        value
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect()
    };
    let (_, list) = get_json(&app, "/github/developers/", &[]).await;
    assert_eq!(keys(&list), set(&["count", "next", "previous", "results"]));
    let developer = &results(&list)[0];
    assert_eq!(
        keys(developer),
        set(&[
            "url",
            "id",
            "github_id",
            "login",
            "name",
            "location",
            "bio",
            "company",
            "email",
            "avatar_url",
            "html_url",
            "created_at",
            "updated_at",
            "followers_count",
            "following_count",
            "public_gists",
            "public_repos",
            "last_synced_at",
            "rank",
            "rank_score",
            "followers",
            "following",
            "starred_repositories",
            "repositories",
            "mutuals",
            "suggestions",
        ])
    );
    let id = developer["id"].as_str().expect("id");
    assert_eq!(
        developer["url"],
        format!("{}/github/developers/{id}/", app.address)
    );
    assert_eq!(
        developer["followers"],
        format!("{}/github/developers/{id}/followers/", app.address)
    );
    let (status, detail) = get_url(&app, developer["url"].as_str().expect("url")).await;
    assert_eq!(status, 200);
    assert_eq!(&detail, developer, "the detail is the list item");

    let (_, list) = get_json(&app, "/github/repositories/", &[]).await;
    let repository = &results(&list)[0];
    assert_eq!(
        keys(repository),
        set(&[
            "url",
            "id",
            "owner",
            "github_id",
            "owner_github_id",
            "name",
            "full_name",
            "description",
            "homepage",
            "language",
            "created_at",
            "updated_at",
            "pushed_at",
            "has_downloads",
            "has_issues",
            "has_pages",
            "has_projects",
            "has_wiki",
            "private",
            "archived",
            "disabled",
            "fork",
            "stargazers_count",
            "subscribers_count",
            "watchers_count",
            "forks_count",
            "open_issues_count",
            "last_synced_at",
            "stargazers",
            "issues",
            "pull_requests",
            "commits",
            "releases",
        ])
    );

    let (_, list) = get_json(&app, "/github/rate_limit/", &[]).await;
    let row = &results(&list)[0];
    assert_eq!(
        keys(row),
        set(&[
            "url",
            "id",
            "identity",
            "resource",
            "rate_limit",
            "rate_remaining",
            "rate_used",
            "rate_reset_raw",
            "rate_reset",
            "updated_at",
        ])
    );
    assert_eq!(row["identity"], "anonymous");

    let (_, list) = get_json(&app, "/github/tasks/", &[]).await;
    assert_eq!(
        keys(&results(&list)[0]),
        set(&[
            "url",
            "id",
            "name",
            "args",
            "username",
            "repo_name",
            "status",
            "attempts",
            "not_before",
            "error",
            "github_requests",
            "created_at",
            "started_at",
            "finished_at",
        ])
    );
}

// ---------------------------------------------------------------------------
// Paging
// ---------------------------------------------------------------------------

/// Seeds `n` developers `dev-01`.. with distinct creation dates (dev-01 oldest).
async fn seed_developers(app: &TestApp, n: i64) -> Vec<String> {
    let mut logins = Vec::new();
    for i in 1..=n {
        let login = format!("dev-{i:02}");
        seed::developer(
            app,
            Dev {
                created_at: Some(at(&format!("2020-01-{i:02}T00:00:00Z"))),
                ..Dev::new(i, &login)
            },
        )
        .await;
        logins.push(login);
    }
    logins
}

#[tokio::test]
async fn page_size_1_chains_next_and_previous_through_the_whole_list() {
    let app = spawn_app().await;
    seed_developers(&app, 7).await;
    let (_, full) = get_json(&app, "/github/developers/", &[("page_size", "100")]).await;
    let everything = column(&full, "id");
    assert_eq!(everything.len(), 7);

    let first = format!("{}/github/developers/?page_size=1", app.address);
    let mut pages = vec![first.clone()];
    let mut seen = Vec::new();
    let mut link = Some(first);
    while let Some(current) = link {
        let (status, body) = get_url(&app, &current).await;
        assert_eq!(status, 200, "{current}");
        assert_eq!(body["count"], 7, "{current}");
        assert_eq!(results(&body).len(), 1, "{current}");
        seen.extend(column(&body, "id"));
        // previous points at the page we came from (none on the first).
        match pages.len() {
            1 => assert_eq!(body["previous"], Value::Null),
            n => assert_eq!(body["previous"], pages[n - 2].as_str(), "{current}"),
        }
        link = body["next"].as_str().map(str::to_string);
        if let Some(next) = &link {
            assert!(next.starts_with(&format!("{}/", app.address)), "{next}");
            pages.push(next.clone());
        }
    }
    assert_eq!(pages.len(), 7, "{pages:?}");
    assert_eq!(
        seen, everything,
        "the pages are the list, in order, once each"
    );
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 7);

    // And back through previous links from the last page.
    let mut back = Vec::new();
    let mut link = pages.last().cloned();
    while let Some(current) = link {
        let (_, body) = get_url(&app, &current).await;
        back.extend(column(&body, "id"));
        link = body["previous"].as_str().map(str::to_string);
    }
    back.reverse();
    assert_eq!(back, everything);
}

#[tokio::test]
async fn pages_split_the_list_exactly_at_their_boundaries() {
    let app = spawn_app().await;
    seed_developers(&app, 12).await;
    let sizes = |body: &Value| results(body).len();

    // Default page size: 10, then 2.
    let (_, page1) = get_json(&app, "/github/developers/", &[]).await;
    assert_eq!(sizes(&page1), 10);
    assert_eq!(page1["count"], 12);
    let (_, page2) = get_url(&app, page1["next"].as_str().expect("next")).await;
    assert_eq!(sizes(&page2), 2);
    assert_eq!(page2["next"], Value::Null);

    // page_size=5: 5, 5, 2; page 4 is past the end.
    for (page, expected) in [("1", 5), ("2", 5), ("3", 2)] {
        let (status, body) = get_json(
            &app,
            "/github/developers/",
            &[("page_size", "5"), ("page", page)],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(sizes(&body), expected, "page {page}");
        assert_eq!(body["next"].is_null(), page == "3", "page {page}");
        assert_eq!(body["previous"].is_null(), page == "1", "page {page}");
    }
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("page_size", "5"), ("page", "4")],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body, serde_json::json!({"error": "Invalid page."}));

    // A page size of exactly the count: one page. The maximum, 100, is accepted.
    for size in ["12", "100"] {
        let (status, body) = get_json(&app, "/github/developers/", &[("page_size", size)]).await;
        assert_eq!(status, 200);
        assert_eq!(sizes(&body), 12);
        assert_eq!(body["next"], Value::Null);
    }
    let (status, _) = get_json(
        &app,
        "/github/developers/",
        &[("page_size", "12"), ("page", "2")],
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_empty_list_answers_page_1_and_404_past_it() {
    let app = spawn_app().await;
    for path in [
        "/github/developers/",
        "/github/repositories/",
        "/github/tasks/",
        "/github/rate_limit/",
    ] {
        let (status, body) = get_json(&app, path, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            body,
            serde_json::json!({"count": 0, "next": null, "previous": null, "results": []}),
            "{path}"
        );
        let (status, body) = get_json(&app, path, &[("page", "1")]).await;
        assert_eq!((status, &body["count"]), (200, &serde_json::json!(0)));
        let (status, body) = get_json(&app, path, &[("page", "2")]).await;
        assert_eq!(status, 404, "{path}?page=2");
        assert_eq!(error(&body), "Invalid page.");
    }
    // A filter that matches nothing, and an empty sub-collection, behave the same.
    let id = seed::developer(&app, Dev::new(1, "solo")).await;
    let (status, body) = get_json(&app, "/github/developers/", &[("login", "nobody")]).await;
    assert_eq!((status, &body["count"]), (200, &serde_json::json!(0)));
    let path = format!("/github/developers/{id}/followers/");
    let (status, body) = get_json(&app, &path, &[]).await;
    assert_eq!((status, &body["count"]), (200, &serde_json::json!(0)));
    let (status, _) = get_json(&app, &path, &[("page", "2")]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_far_page_past_the_last_is_404_like_any_page_past_the_last() {
    let app = spawn_app().await;
    seed_developers(&app, 3).await;
    for (page, page_size) in [("4", "1"), ("2", "3"), ("1000", "10"), ("20000", "100")] {
        let (status, body) = get_json(
            &app,
            "/github/developers/",
            &[("page", page), ("page_size", page_size)],
        )
        .await;
        assert_eq!(
            (status, body),
            (404, serde_json::json!({"error": "Invalid page."})),
            "page={page}&page_size={page_size} of a 3-item list"
        );
    }
}

#[tokio::test]
async fn malformed_paging_parameters_are_400_naming_them() {
    let app = spawn_app().await;
    seed_developers(&app, 3).await;
    for (name, value) in [
        ("page", "0"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", "1.5"),
        ("page_size", "0"),
        ("page_size", "101"),
        ("page_size", "-5"),
        ("page_size", "ten"),
        ("page_size", "99999999999999999999"),
        ("page", "99999999999999999999"),
        ("page_size", "1e3"),
    ] {
        for path in ["/github/developers/", "/github/tasks/"] {
            let (status, body) = get_json(&app, path, &[(name, value)]).await;
            assert_eq!(status, 400, "{path}?{name}={value}: {body}");
            assert!(error(&body).contains(name), "{path}?{name}={value}: {body}");
        }
    }
}

/// The `Link` and `Allow` headers of a GET of `path?query`, and the JSON body.
async fn list_headers(
    app: &TestApp,
    path: &str,
    query: &[(&str, &str)],
) -> (Option<String>, Option<String>, Value) {
    let response = app
        .http
        .get(format!("{}{path}", app.address))
        .query(query)
        .send()
        .await
        .expect("request reaches the app");
    assert_eq!(response.status(), 200, "{path} {query:?}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ASCII").to_owned())
    };
    let (link, allow) = (header("link"), header("allow"));
    (link, allow, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn lists_answer_with_link_to_their_next_and_previous_pages_and_allow() {
    let app = spawn_app().await;
    seed_developers(&app, 12).await;
    let path = "/github/developers/";
    let link_of = |body: &Value| {
        let next = body["next"]
            .as_str()
            .map(|url| format!(r#"<{url}>; rel="next""#));
        let prev = body["previous"]
            .as_str()
            .map(|url| format!(r#"<{url}>; rel="prev""#));
        [next, prev].into_iter().flatten().collect::<Vec<_>>()
    };
    // Page 1: next only; page 2: both; page 3, the last: prev only. Same targets as the body.
    for (page, rels) in [
        ("1", vec!["next"]),
        ("2", vec!["next", "prev"]),
        ("3", vec!["prev"]),
    ] {
        let (link, allow, body) =
            list_headers(&app, path, &[("page_size", "5"), ("page", page)]).await;
        let link = link.expect("a Link header");
        let parts: Vec<String> = link.split(", ").map(str::to_owned).collect();
        assert_eq!(parts, link_of(&body), "page {page}: {link}");
        for (part, rel) in parts.iter().zip(&rels) {
            assert!(part.ends_with(&format!(r#"; rel="{rel}""#)), "{part}");
            assert!(
                part.starts_with(&format!("<{}{path}?", app.address)),
                "{part}"
            );
        }
        assert_eq!(parts.len(), rels.len(), "page {page}: {link}");
        assert_eq!(allow.as_deref(), Some("GET, HEAD"), "page {page}");
    }
    // One page: no Link at all; Allow all the same.
    let (link, allow, _) = list_headers(&app, path, &[("page_size", "100")]).await;
    assert_eq!(link, None);
    assert_eq!(allow.as_deref(), Some("GET, HEAD"));
    // The HTML page carries them too.
    let response = app
        .get("/github/developers/?page_size=5&page=2&format=api")
        .await;
    assert!(
        response.headers()["link"]
            .to_str()
            .expect("ASCII")
            .contains(r#"rel="prev""#)
    );
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    // Lists that also create say POST, and it is true: the others answer POST with 405.
    for (path, allow) in [
        ("/github/tasks/", "GET, HEAD, POST"),
        ("/github/tracked_repositories/", "GET, HEAD, POST"),
        ("/github/tracked_organizations/", "GET, HEAD, POST"),
        ("/github/repositories/", "GET, HEAD"),
        ("/github/leaderboards/", "GET, HEAD"),
    ] {
        let (_, given, _) = list_headers(&app, path, &[]).await;
        assert_eq!(given.as_deref(), Some(allow), "{path}");
        if !allow.contains("POST") {
            let status = app
                .http
                .post(format!("{}{path}", app.address))
                .send()
                .await
                .expect("request reaches the app")
                .status();
            assert_eq!(status, 405, "POST {path}");
        }
    }
    // An item says what its path answers: a tracked repository can be deleted, a developer
    // not; a sub-collection only reads.
    let (tracked, _) = gitomatic::db::queries::tracked::track_repository(
        &mut app.ctx.conn().await.expect("conn"),
        "alice/tool",
        None,
    )
    .await
    .expect("tracked");
    let developers = app.get("/github/developers/").await;
    let developers: Value = developers.json().await.expect("JSON");
    let developer = developers["results"][0]["url"].as_str().expect("url");
    for (url, allow) in [
        (
            format!(
                "{}/github/tracked_repositories/{}/",
                app.address, tracked.id
            ),
            "GET, HEAD, DELETE",
        ),
        (developer.to_owned(), "GET, HEAD"),
        (format!("{developer}followers/"), "GET, HEAD"),
    ] {
        let response = app.http.get(&url).send().await.expect("request");
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["allow"], allow, "{url}");
    }
}

#[tokio::test]
async fn a_list_path_without_its_slash_redirects_keeping_the_query() {
    let app = spawn_app().await;
    let id = seed::developer(&app, Dev::new(1, "solo")).await;
    let response = app
        .get("/github/developers?login__contains=so&page_size=2")
        .await;
    assert_eq!(response.status(), 308);
    assert_eq!(
        response.headers()["location"],
        "/github/developers/?login__contains=so&page_size=2"
    );
    let response = app.get(&format!("/github/developers/{id}/followers")).await;
    assert_eq!(response.status(), 308);
    assert_eq!(
        response.headers()["location"],
        format!("/github/developers/{id}/followers/").as_str()
    );
}

// ---------------------------------------------------------------------------
// Ordering
// ---------------------------------------------------------------------------

#[tokio::test]
async fn ordering_by_an_integer_field_goes_both_ways() {
    let app = spawn_app().await;
    for (id, login, followers) in [(1, "amy", 5), (2, "bea", 1), (3, "cal", 9), (4, "dan", 3)] {
        seed::developer(
            &app,
            Dev {
                followers_count: Some(followers),
                ..Dev::new(id, login)
            },
        )
        .await;
    }
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("ordering", "followers_count")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(column(&body, "followers_count"), ["1", "3", "5", "9"]);
    let (_, body) = get_json(
        &app,
        "/github/developers/",
        &[("ordering", "-followers_count")],
    )
    .await;
    assert_eq!(column(&body, "followers_count"), ["9", "5", "3", "1"]);
    assert_eq!(column(&body, "login"), ["cal", "amy", "dan", "bea"]);
}

#[tokio::test]
async fn ordering_by_login_goes_both_ways() {
    let app = spawn_app().await;
    for (id, login) in [(1, "dan"), (2, "amy"), (3, "eve"), (4, "bea"), (5, "cal")] {
        seed::developer(&app, Dev::new(id, login)).await;
    }
    let (_, body) = get_json(&app, "/github/developers/", &[("ordering", "login")]).await;
    assert_eq!(column(&body, "login"), ["amy", "bea", "cal", "dan", "eve"]);
    let (_, body) = get_json(&app, "/github/developers/", &[("ordering", "-login")]).await;
    assert_eq!(column(&body, "login"), ["eve", "dan", "cal", "bea", "amy"]);

    // Repositories order by their own fields too.
    seed::repository(
        &app,
        1,
        Repo {
            stargazers_count: 3,
            ..Repo::new(101, "b-repo")
        },
    )
    .await;
    seed::repository(
        &app,
        1,
        Repo {
            stargazers_count: 8,
            ..Repo::new(102, "a-repo")
        },
    )
    .await;
    let (_, body) = get_json(&app, "/github/repositories/", &[("ordering", "name")]).await;
    assert_eq!(column(&body, "name"), ["a-repo", "b-repo"]);
    let (_, body) = get_json(
        &app,
        "/github/repositories/",
        &[("ordering", "stargazers_count")],
    )
    .await;
    assert_eq!(column(&body, "name"), ["b-repo", "a-repo"]);
}

#[tokio::test]
async fn the_default_order_is_newest_created_first_with_unknown_dates_last() {
    let app = spawn_app().await;
    for (id, login, created) in [
        (1, "middle", Some("2018-05-05T00:00:00Z")),
        (2, "unknown", None),
        (3, "newest", Some("2022-01-01T00:00:00Z")),
        (4, "oldest", Some("2009-09-09T09:09:09Z")),
    ] {
        seed::developer(
            &app,
            Dev {
                created_at: created.map(at),
                ..Dev::new(id, login)
            },
        )
        .await;
    }
    let (_, body) = get_json(&app, "/github/developers/", &[]).await;
    assert_eq!(
        column(&body, "login"),
        ["newest", "middle", "oldest", "unknown"]
    );
    let (_, explicit) = get_json(&app, "/github/developers/", &[("ordering", "-created_at")]).await;
    assert_eq!(explicit, body);
    let (_, body) = get_json(&app, "/github/developers/", &[("ordering", "created_at")]).await;
    assert_eq!(
        column(&body, "login")[..3],
        ["oldest", "middle", "newest"],
        "ascending"
    );
}

#[tokio::test]
async fn ties_are_broken_by_id_so_the_order_is_stable_across_requests_and_pages() {
    let app = spawn_app().await;
    for i in 1..=12 {
        seed::developer(
            &app,
            Dev {
                followers_count: Some(if i % 2 == 0 { 7 } else { 3 }),
                created_at: Some(at("2015-01-01T00:00:00Z")),
                ..Dev::new(i, &format!("twin-{i:02}"))
            },
        )
        .await;
    }
    for ordering in ["followers_count", "-followers_count", "-created_at"] {
        let query = [("ordering", ordering), ("page_size", "100")];
        let (_, first) = get_json(&app, "/github/developers/", &query).await;
        let ids = column(&first, "id");
        for _ in 0..3 {
            let (_, again) = get_json(&app, "/github/developers/", &query).await;
            assert_eq!(
                column(&again, "id"),
                ids,
                "{ordering}: same order every time"
            );
        }
        // Within a tie, by id, in the ordering's direction.
        let counts = column(&first, "followers_count");
        let descending = ordering.starts_with('-');
        for (pair, ids) in counts.windows(2).zip(ids.windows(2)) {
            if pair[0] == pair[1] {
                assert_eq!(
                    ids[0] > ids[1],
                    descending,
                    "{ordering}: {ids:?} tie not by id"
                );
            }
        }
        // Pages of 5 are consecutive slices of the same order.
        let mut paged = Vec::new();
        for page in ["1", "2", "3"] {
            let (_, body) = get_json(
                &app,
                "/github/developers/",
                &[("ordering", ordering), ("page_size", "5"), ("page", page)],
            )
            .await;
            paged.extend(column(&body, "id"));
        }
        assert_eq!(paged, ids, "{ordering}");
    }
}

#[tokio::test]
async fn an_unknown_ordering_is_400_naming_it() {
    let app = spawn_app().await;
    for (path, ordering) in [
        ("/github/developers/", "password"),
        ("/github/developers/", "-nothing"),
        ("/github/developers/", "etag"),
        ("/github/repositories/", "stars"),
        ("/github/tasks/", "-priority"),
        ("/github/rate_limit/", "token"),
    ] {
        let (status, body) = get_json(&app, path, &[("ordering", ordering)]).await;
        assert_eq!(status, 400, "{path}?ordering={ordering}");
        assert!(error(&body).contains(ordering), "{body}");
    }
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

/// amy, bea, cal, dan and eve with assorted profiles (see the table in the body).
async fn seed_people(app: &TestApp) {
    let people = [
        // (github_id, login, name, bio, location, company, email, followers, created, synced)
        (
            1,
            "amy",
            Some("Amy Pond"),
            Some("Rustacean and <b>bold</b>"),
            Some("Berlin, Germany"),
            Some("@acme"),
            Some("amy@EXAMPLE.org"),
            Some(0),
            Some("2015-06-01T12:00:00Z"),
            Some("2024-02-01T10:00:00Z"),
        ),
        (
            2,
            "bea",
            Some("Bea O'Brien"),
            None,
            Some("berlin"),
            None,
            None,
            Some(5),
            Some("2020-01-01T00:00:00Z"),
            None,
        ),
        (
            3,
            "cal",
            Some("Cal 100% real"),
            Some("pythonista"),
            Some("Paris"),
            Some("Initech"),
            Some("cal@example.com"),
            Some(5),
            Some("2023-03-15T08:30:00Z"),
            Some("2024-03-01T10:00:00Z"),
        ),
        (
            4,
            "dan",
            None,
            Some("go gopher"),
            None,
            Some("ACME corp"),
            None,
            Some(12),
            None,
            None,
        ),
        (5, "eve", None, None, None, None, None, None, None, None),
    ];
    let own = |s: Option<&str>| s.map(str::to_string);
    for (github_id, login, name, bio, location, company, email, followers, created, synced) in
        people
    {
        seed::developer(
            app,
            Dev {
                name: own(name),
                bio: own(bio),
                location: own(location),
                company: own(company),
                email: own(email),
                followers_count: followers,
                created_at: created.map(at),
                last_synced_at: synced.map(at),
                ..Dev::new(github_id, login)
            },
        )
        .await;
    }
}

/// Asserts that the developer list filtered by `query` is exactly `logins` (any order).
async fn assert_developers(app: &TestApp, query: &[(&str, &str)], logins: &[&str]) {
    assert_list(app, "/github/developers/", query, "login", logins).await;
}

async fn assert_list(
    app: &TestApp,
    path: &str,
    query: &[(&str, &str)],
    field: &str,
    expected: &[&str],
) {
    let mut full: Vec<(&str, &str)> = query.to_vec();
    full.push(("page_size", "100"));
    let (status, body) = get_json(app, path, &full).await;
    assert_eq!(status, 200, "{path} {query:?}: {body}");
    let got: BTreeSet<String> = column(&body, field).into_iter().collect();
    assert_eq!(got, set(expected), "{path} {query:?}");
    assert_eq!(body["count"], expected.len(), "{path} {query:?}");
}

#[tokio::test]
async fn developer_text_filters_match_exactly_or_contain_case_insensitively() {
    let app = spawn_app().await;
    seed_people(&app).await;
    assert_developers(&app, &[("login", "amy")], &["amy"]).await;
    assert_developers(&app, &[("login", "am")], &[]).await;
    assert_developers(
        &app,
        &[("login__contains", "A")],
        &["amy", "bea", "cal", "dan"],
    )
    .await;
    assert_developers(&app, &[("name", "Bea O'Brien")], &["bea"]).await;
    assert_developers(&app, &[("name__contains", "POND")], &["amy"]).await;
    assert_developers(&app, &[("bio__contains", "rust")], &["amy"]).await;
    assert_developers(&app, &[("bio__contains", "<b>")], &["amy"]).await;
    assert_developers(&app, &[("location", "berlin")], &["bea"]).await;
    assert_developers(&app, &[("location__contains", "BERLIN")], &["amy", "bea"]).await;
    assert_developers(&app, &[("company__contains", "acme")], &["amy", "dan"]).await;
    assert_developers(&app, &[("email__contains", "example.ORG")], &["amy"]).await;
    // LIKE wildcards are plain characters.
    assert_developers(&app, &[("name__contains", "100%")], &["cal"]).await;
    assert_developers(&app, &[("name__contains", "%")], &["cal"]).await;
    assert_developers(&app, &[("name__contains", "_")], &[]).await;
    // Several filters all apply.
    assert_developers(
        &app,
        &[
            ("location__contains", "berlin"),
            ("company__contains", "acme"),
        ],
        &["amy"],
    )
    .await;
}

#[tokio::test]
async fn developer_integer_filters_compare_inclusively() {
    let app = spawn_app().await;
    seed_people(&app).await;
    assert_developers(&app, &[("followers_count", "5")], &["bea", "cal"]).await;
    assert_developers(
        &app,
        &[("followers_count__gte", "5")],
        &["bea", "cal", "dan"],
    )
    .await;
    assert_developers(
        &app,
        &[("followers_count__lte", "5")],
        &["amy", "bea", "cal"],
    )
    .await;
    assert_developers(
        &app,
        &[
            ("followers_count__gte", "1"),
            ("followers_count__lte", "11"),
        ],
        &["bea", "cal"],
    )
    .await;
    assert_developers(
        &app,
        &[("followers_count__gte", "-1")],
        &["amy", "bea", "cal", "dan"],
    )
    .await;
    assert_developers(&app, &[("followers_count__gte", "99999999999")], &[]).await;
    assert_developers(&app, &[("github_id__lte", "2")], &["amy", "bea"]).await;
}

#[tokio::test]
async fn date_filters_take_dates_and_rfc3339_times() {
    let app = spawn_app().await;
    seed_people(&app).await;
    assert_developers(&app, &[("created_at__gte", "2020-01-01")], &["bea", "cal"]).await;
    assert_developers(&app, &[("created_at__lte", "2020-01-01")], &["amy", "bea"]).await;
    assert_developers(
        &app,
        &[("created_at__lte", "2019-12-31T23:59:59Z")],
        &["amy"],
    )
    .await;
    // The same instant written with an offset (the `+` must survive URL encoding).
    assert_developers(
        &app,
        &[("created_at__gte", "2020-01-01T01:00:00+01:00")],
        &["bea", "cal"],
    )
    .await;
    assert_developers(&app, &[("created_at", "2020-01-01T00:00:00Z")], &["bea"]).await;
    assert_developers(
        &app,
        &[
            ("created_at__gte", "2015-01-01"),
            ("created_at__lte", "2021-01-01"),
        ],
        &["amy", "bea"],
    )
    .await;
    assert_developers(&app, &[("last_synced_at__gte", "2024-02-15")], &["cal"]).await;
    assert_developers(
        &app,
        &[("last_synced_at__lte", "2024-02-01T10:00:00Z")],
        &["amy"],
    )
    .await;
}

#[tokio::test]
async fn isnull_filters_split_the_list() {
    let app = spawn_app().await;
    seed_people(&app).await;
    let everyone = ["amy", "bea", "cal", "dan", "eve"];
    for (field, nulls) in [
        ("bio", &["bea", "eve"][..]),
        ("name", &["dan", "eve"][..]),
        ("followers_count", &["eve"][..]),
        ("created_at", &["dan", "eve"][..]),
        ("last_synced_at", &["bea", "dan", "eve"][..]),
    ] {
        let key = format!("{field}__isnull");
        assert_developers(&app, &[(&key, "true")], nulls).await;
        let others: Vec<&str> = everyone
            .iter()
            .copied()
            .filter(|login| !nulls.contains(login))
            .collect();
        assert_developers(&app, &[(&key, "false")], &others).await;
    }
}

#[tokio::test]
async fn repository_filters_on_booleans_texts_counts_and_dates() {
    let app = spawn_app().await;
    seed::developer(&app, Dev::new(1, "amy")).await;
    seed::developer(&app, Dev::new(2, "bob")).await;
    let own = |s: &str| Some(s.to_string());
    seed::repository(
        &app,
        1,
        Repo {
            description: own("A fast rocket"),
            language: own("Rust"),
            stargazers_count: 50,
            created_at: Some(at("2019-01-01T00:00:00Z")),
            pushed_at: Some(at("2024-01-01T00:00:00Z")),
            ..Repo::new(101, "rocket")
        },
    )
    .await;
    seed::repository(
        &app,
        1,
        Repo {
            language: own("Rust"),
            fork: true,
            archived: true,
            ..Repo::new(102, "fork-of-x")
        },
    )
    .await;
    seed::repository(
        &app,
        2,
        Repo {
            homepage: own("https://bob.example"),
            language: own("TypeScript"),
            stargazers_count: 7,
            forks_count: 2,
            created_at: Some(at("2021-05-05T00:00:00Z")),
            ..Repo::new(103, "webapp")
        },
    )
    .await;
    seed::repository(
        &app,
        2,
        Repo {
            fork: true,
            stargazers_count: 7,
            ..Repo::new(104, "notes")
        },
    )
    .await;
    let check = |query: Vec<(&'static str, &'static str)>, names: &'static [&'static str]| {
        let app = &app;
        async move { assert_list(app, "/github/repositories/", &query, "name", names).await }
    };
    check(vec![("fork", "true")], &["fork-of-x", "notes"]).await;
    check(vec![("fork", "false")], &["rocket", "webapp"]).await;
    check(vec![("archived", "true")], &["fork-of-x"]).await;
    check(vec![("fork", "true"), ("archived", "false")], &["notes"]).await;
    check(vec![("name", "rocket")], &["rocket"]).await;
    check(vec![("language", "Rust")], &["rocket", "fork-of-x"]).await;
    check(vec![("language__contains", "SCRIPT")], &["webapp"]).await;
    check(vec![("language__isnull", "true")], &["notes"]).await;
    check(vec![("description__contains", "ROCKET")], &["rocket"]).await;
    check(vec![("description__isnull", "false")], &["rocket"]).await;
    check(vec![("homepage__contains", "bob.")], &["webapp"]).await;
    check(
        vec![("full_name__contains", "AMY/")],
        &["rocket", "fork-of-x"],
    )
    .await;
    check(vec![("full_name", "bob/notes")], &["notes"]).await;
    check(vec![("owner_github_id", "2")], &["webapp", "notes"]).await;
    check(vec![("stargazers_count", "7")], &["webapp", "notes"]).await;
    check(
        vec![("stargazers_count__gte", "7")],
        &["rocket", "webapp", "notes"],
    )
    .await;
    check(
        vec![("stargazers_count__lte", "7")],
        &["fork-of-x", "webapp", "notes"],
    )
    .await;
    check(vec![("forks_count__gte", "1")], &["webapp"]).await;
    check(vec![("pushed_at__gte", "2023-12-31")], &["rocket"]).await;
    check(vec![("created_at__lte", "2020-01-01")], &["rocket"]).await;
    check(
        vec![("created_at__isnull", "true")],
        &["fork-of-x", "notes"],
    )
    .await;
    check(
        vec![("last_synced_at__isnull", "true")],
        &["rocket", "fork-of-x", "webapp", "notes"],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_filter_or_lookup_is_400_naming_it() {
    let app = spawn_app().await;
    seed_people(&app).await;
    for (path, key, value) in [
        ("/github/developers/", "password", "x"),
        ("/github/developers/", "login__lte", "a"),
        ("/github/developers/", "login__startswith", "a"),
        ("/github/developers/", "followers_count__contains", "1"),
        ("/github/developers/", "etag", "x"),
        ("/github/developers/", "gone_at__isnull", "true"),
        ("/github/repositories/", "fork__gte", "1"),
        ("/github/repositories/", "owner", "x"),
        ("/github/repositories/", "stars__gte", "1"),
        ("/github/tasks/", "priority", "1"),
        ("/github/rate_limit/", "token", "x"),
    ] {
        let (status, body) = get_json(&app, path, &[(key, value)]).await;
        assert_eq!(status, 400, "{path}?{key}={value}: {body}");
        assert!(error(&body).contains(key), "{path}?{key}: {body}");
    }
}

#[tokio::test]
async fn malformed_filter_values_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    seed_people(&app).await;
    for (path, key, value) in [
        ("/github/developers/", "followers_count__gte", "many"),
        ("/github/developers/", "followers_count", "1.5"),
        ("/github/developers/", "github_id", "0x10"),
        ("/github/developers/", "created_at", "yesterday"),
        ("/github/developers/", "created_at__gte", "2020-13-45"),
        ("/github/developers/", "last_synced_at__lte", "01/02/2024"),
        ("/github/developers/", "bio__isnull", "perhaps"),
        ("/github/repositories/", "fork", "maybe"),
        ("/github/repositories/", "stargazers_count__lte", "ten"),
        ("/github/repositories/", "pushed_at__gte", "2024-02-30"),
        ("/github/developers/", "login", "a\0b"),
        ("/github/repositories/", "description__contains", "\0"),
    ] {
        let (status, body) = get_json(&app, path, &[(key, value)]).await;
        assert_eq!(status, 400, "{path}?{key}={value}: {body}");
        assert!(error(&body).contains(key), "{path}?{key}={value}: {body}");
    }
}

#[tokio::test]
async fn an_empty_filter_value_is_no_filter_and_an_unknown_name_still_400() {
    let app = spawn_app().await;
    seed_people(&app).await;
    let everyone = ["amy", "bea", "cal", "dan", "eve"];
    // As a browser submits a form's empty fields (django-filter ignores them).
    assert_developers(&app, &[("login", "")], &everyone).await;
    assert_developers(&app, &[("followers_count__gte", "")], &everyone).await;
    assert_developers(
        &app,
        &[
            ("login", ""),
            ("followers_count__gte", ""),
            ("created_at__lte", " "),
            ("bio__isnull", ""),
        ],
        &everyone,
    )
    .await;
    // An empty one beside a set one: only the set one filters.
    assert_developers(
        &app,
        &[("location__contains", "berlin"), ("login", "")],
        &["amy", "bea"],
    )
    .await;
    // Empty paging, ordering and format are their defaults.
    let (_, default) = get_json(&app, "/github/developers/", &[]).await;
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[
            ("page", ""),
            ("page_size", ""),
            ("ordering", ""),
            ("format", ""),
        ],
    )
    .await;
    assert_eq!((status, &body), (200, &default));
    // The name must still be one the list takes, empty or not.
    for key in ["bogus", "login__lte", "etag"] {
        let (status, body) = get_json(&app, "/github/developers/", &[(key, "")]).await;
        assert_eq!(status, 400, "?{key}=: {body}");
        assert!(error(&body).contains(key), "?{key}=: {body}");
    }
    // An empty status on the tasks list (a choice) filters nothing either.
    let (status, body) = get_json(&app, "/github/tasks/", &[("status", ""), ("name", "")]).await;
    assert_eq!(
        (status, &body["count"]),
        (200, &serde_json::json!(0)),
        "{body}"
    );
}

#[tokio::test]
async fn sql_looking_values_are_only_values() {
    let app = spawn_app().await;
    seed_people(&app).await;
    for (key, value) in [
        ("login", "' OR 1=1 --"),
        ("login", "amy' OR '1'='1"),
        ("login__contains", "'; DROP TABLE developers; --"),
        ("name", "\" OR \"\"=\""),
        ("bio__contains", "') OR true; --"),
    ] {
        let (status, body) = get_json(&app, "/github/developers/", &[(key, value)]).await;
        assert_eq!(status, 200, "{key}={value}: {body}");
        assert_eq!(body["count"], 0, "{key}={value}");
    }
    let (status, _) = get_json(
        &app,
        "/github/developers/",
        &[("ordering", "login; DROP TABLE developers")],
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = get_json(&app, "/github/developers/", &[("login; --", "x")]).await;
    assert_eq!(status, 400);
    // The quote in a real name is matched like any other character.
    assert_developers(&app, &[("name", "Bea O'Brien")], &["bea"]).await;
    assert_eq!(app.count("SELECT count(*) AS n FROM developers").await, 5);
}

#[tokio::test]
async fn filters_apply_to_sub_collections_and_survive_paging_links() {
    let app = spawn_app().await;
    seed_people(&app).await;
    let (_, body) = get_json(&app, "/github/developers/", &[("login", "eve")]).await;
    let eve = results(&body)[0]["id"]
        .as_str()
        .expect("id")
        .parse::<Uuid>()
        .expect("uuid");
    let (_, body) = get_json(&app, "/github/developers/", &[("login__contains", "a")]).await;
    for follower in column(&body, "id") {
        seed::follow(&app, follower.parse().expect("uuid"), eve).await;
    }
    let followers = format!("/github/developers/{eve}/followers/");
    assert_list(
        &app,
        &followers,
        &[("followers_count__gte", "5")],
        "login",
        &["bea", "cal", "dan"],
    )
    .await;
    assert_list(
        &app,
        &followers,
        &[("location__contains", "berlin")],
        "login",
        &["amy", "bea"],
    )
    .await;

    // page_size=1 over a filtered list: every page keeps the filter and the count.
    let mut link = Some(format!(
        "{}{followers}?followers_count__gte=5&ordering=login&page_size=1",
        app.address
    ));
    let mut logins = Vec::new();
    while let Some(current) = link {
        let (status, body) = get_url(&app, &current).await;
        assert_eq!(status, 200, "{current}");
        assert_eq!(body["count"], 3, "{current}");
        logins.extend(column(&body, "login"));
        link = body["next"].as_str().map(str::to_string);
        if let Some(next) = &link {
            assert!(next.contains("followers_count__gte=5"), "{next}");
            assert!(next.contains("ordering=login"), "{next}");
        }
    }
    assert_eq!(logins, ["bea", "cal", "dan"]);
}

#[tokio::test]
async fn details_are_404_for_unknown_or_malformed_ids_and_400_for_query_parameters() {
    let app = spawn_app().await;
    let owner = seed::developer(&app, Dev::new(1, "amy")).await;
    let repository = seed::repository(&app, 1, Repo::new(101, "rocket")).await;
    let unknown = Uuid::new_v4();
    for path in [
        format!("/github/developers/{unknown}/"),
        "/github/developers/not-a-uuid/".to_string(),
        "/github/developers/1/".to_string(),
        format!("/github/developers/{unknown}/followers/"),
        format!("/github/developers/{unknown}/following/"),
        format!("/github/developers/{unknown}/starred_repositories/"),
        format!("/github/developers/{unknown}/repositories/"),
        "/github/developers/not-a-uuid/followers/".to_string(),
        format!("/github/repositories/{unknown}/"),
        "/github/repositories/rocket/".to_string(),
        format!("/github/repositories/{unknown}/stargazers/"),
        format!("/github/tasks/{unknown}/"),
        "/github/tasks/%27%20OR%201=1/".to_string(),
        "/github/rate_limit/999999/".to_string(),
        "/github/rate_limit/abc/".to_string(),
        // A developer's id is not a repository's.
        format!("/github/repositories/{owner}/"),
        format!("/github/developers/{repository}/"),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.expect("a JSON error");
        assert!(!error(&body).is_empty(), "{path}");
    }

    for path in [
        format!("/github/developers/{owner}/"),
        format!("/github/repositories/{repository}/"),
    ] {
        let (status, body) = get_json(&app, &path, &[("login", "amy")]).await;
        assert_eq!(status, 400, "{path}?login=amy");
        assert!(error(&body).contains("login"), "{body}");
        let (status, _) = get_json(&app, &path, &[("format", "json")]).await;
        assert_eq!(status, 200, "{path}?format=json");
    }
}
