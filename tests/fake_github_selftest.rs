//! Checks the fake GitHub over real HTTP: paging, ETags, quota, injected failures, redirects,
//! payloads and generated graphs.

#[path = "api/helpers/fake_github.rs"]
mod fake_github;

use std::time::Duration;

use fake_github::{FakeGithub, Graph};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.expect("the fake answers")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .map(|value| value.to_str().expect("ascii header"))
}

fn remaining(headers: &HeaderMap) -> u32 {
    header(headers, "x-ratelimit-remaining")
        .expect("x-ratelimit-remaining")
        .parse()
        .expect("a number")
}

/// The target of `rel="next"` in a Link header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    header(headers, "link")?.split(", ").find_map(|link| {
        let (target, rel) = link.split_once("; ")?;
        (rel == "rel=\"next\"").then(|| target.trim_matches(['<', '>']).to_string())
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A user `star` followed by `followers` users `f1`, `f2`...
fn star_with_followers(followers: usize) -> (Graph, i64) {
    let mut graph = Graph::default();
    let star = graph.add_user("star");
    for n in 1..=followers {
        let follower = graph.add_user(&format!("f{n}"));
        graph.follow(follower, star);
    }
    (graph, star)
}

#[tokio::test]
async fn followers_are_paged_by_link_header() {
    let (graph, _) = star_with_followers(250);
    let fake = FakeGithub::start(graph).await;
    let first = format!("{}/users/star/followers?per_page=100", fake.url);

    let response = get(&first).await;
    let page = |n: usize| format!("{}/users/star/followers?per_page=100&page={n}", fake.url);
    assert_eq!(
        header(response.headers(), "link"),
        Some(format!("<{}>; rel=\"next\", <{}>; rel=\"last\"", page(2), page(3)).as_str())
    );

    let mut logins = Vec::new();
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next {
        let response = get(&url).await;
        assert_eq!(response.status(), 200);
        next = next_link(response.headers());
        if pages == 1 {
            let expected = format!(
                "<{}>; rel=\"prev\", <{}>; rel=\"next\", <{}>; rel=\"last\", <{}>; rel=\"first\"",
                page(1),
                page(3),
                page(3),
                page(1)
            );
            assert_eq!(header(response.headers(), "link"), Some(expected.as_str()));
        }
        let body: Vec<Value> = response.json().await.expect("a JSON array");
        logins.extend(
            body.iter()
                .map(|user| user["login"].as_str().expect("login").to_string()),
        );
        pages += 1;
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (1..=250).map(|n| format!("f{n}")).collect();
    assert_eq!(logins, expected, "every follower once, by id ascending");
}

#[tokio::test]
async fn short_and_empty_lists_have_no_link_and_default_to_30_per_page() {
    let (graph, _) = star_with_followers(40);
    let fake = FakeGithub::start(graph).await;

    let response = get(&format!("{}/users/star/followers", fake.url)).await;
    let link = header(response.headers(), "link")
        .expect("two pages of 30")
        .to_string();
    assert!(
        link.contains("/users/star/followers?page=2>; rel=\"next\""),
        "{link}"
    );
    let body: Vec<Value> = response.json().await.expect("array");
    assert_eq!(body.len(), 30);

    let response = get(&format!("{}/users/f1/following?per_page=100", fake.url)).await;
    assert!(header(response.headers(), "link").is_none());
    assert_eq!(response.json::<Vec<Value>>().await.expect("array").len(), 1);

    let response = get(&format!("{}/users/star/following", fake.url)).await;
    assert_eq!(response.status(), 200);
    assert!(header(response.headers(), "link").is_none());
    assert_eq!(response.text().await.expect("body"), "[]");
}

#[tokio::test]
async fn matching_etag_gives_a_free_304_without_link() {
    let (graph, star) = star_with_followers(150);
    let fake = FakeGithub::start(graph).await;
    let url = format!("{}/users/star/followers?per_page=100", fake.url);

    let first = get(&url).await;
    let etag = header(first.headers(), "etag").expect("etag").to_string();
    assert!(etag.starts_with("W/\"") && etag.len() == 4 + 64, "{etag}");
    let before = remaining(first.headers());

    let again = client()
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("answer");
    assert_eq!(again.status(), 304);
    assert!(header(again.headers(), "link").is_none());
    assert_eq!(header(again.headers(), "etag"), Some(etag.as_str()));
    assert_eq!(remaining(again.headers()), before, "a 304 costs nothing");
    assert!(again.text().await.expect("body").is_empty());

    let log = fake.requests();
    assert_eq!(log.len(), 2);
    assert_eq!((log[1].status, log[1].costs_quota), (304, false));
    assert_eq!(log[1].if_none_match.as_deref(), Some(etag.as_str()));
    assert_eq!(log[1].query, "per_page=100");

    fake.with_graph(|graph| graph.unfollow(1 + 1, star));
    let changed = client()
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("answer");
    assert_eq!(changed.status(), 200, "a changed list is sent again");
    assert_ne!(header(changed.headers(), "etag"), Some(etag.as_str()));
    assert_eq!(remaining(changed.headers()), before - 1);
}

#[tokio::test]
async fn not_found_costs_one_request() {
    let fake = FakeGithub::start(Graph::default()).await;
    let response = get(&format!("{}/users/nobody", fake.url)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(remaining(response.headers()), 4999);
    assert_eq!(
        header(response.headers(), "content-type"),
        Some("application/json; charset=utf-8")
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
        })
    );

    let post = client()
        .post(format!("{}/users/nobody", fake.url))
        .send()
        .await
        .expect("answer");
    assert_eq!(post.status(), 404);
    assert_eq!(fake.quota().used, 2);
    assert_eq!(fake.quota_spent(), 2);
}

#[tokio::test]
async fn exhausted_quota_answers_403_with_zero_remaining() {
    let mut graph = Graph::default();
    graph.add_user("octocat");
    let fake = FakeGithub::start(graph).await;
    let reset = now() + 600;
    fake.set_quota(5000, 1, reset);

    let last = get(&format!("{}/users/octocat", fake.url)).await;
    assert_eq!(last.status(), 200);
    assert_eq!(remaining(last.headers()), 0);

    let refused = get(&format!("{}/users/octocat", fake.url)).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(remaining(refused.headers()), 0);
    assert_eq!(header(refused.headers(), "x-ratelimit-used"), Some("5000"));
    assert_eq!(
        header(refused.headers(), "x-ratelimit-reset"),
        Some(reset.to_string().as_str())
    );
    assert_eq!(
        header(refused.headers(), "x-ratelimit-resource"),
        Some("core")
    );
    let body: Value = refused.json().await.expect("json");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.starts_with("API rate limit exceeded for 127.0.0.1."),
        "{message}"
    );

    let rate = get(&format!("{}/rate_limit", fake.url)).await;
    assert_eq!(
        rate.status(),
        200,
        "/rate_limit answers even when the quota is spent"
    );
    let body: Value = rate.json().await.expect("json");
    assert_eq!(body["resources"]["core"]["remaining"], 0);
    assert_eq!(body["resources"]["core"]["reset"], reset);
    assert_eq!(body["rate"], body["resources"]["core"]);
    assert!(body["resources"]["search"]["limit"].is_u64());
    assert!(body["resources"]["graphql"]["limit"].is_u64());

    let log = fake.requests();
    let costs: Vec<(u16, bool)> = log.iter().map(|r| (r.status, r.costs_quota)).collect();
    assert_eq!(costs, [(200, true), (403, false), (200, false)]);
}

#[tokio::test]
async fn quota_renews_once_the_reset_time_has_passed() {
    let fake = FakeGithub::start(Graph::default()).await;
    fake.set_quota(60, 0, now() - 1);

    let response = get(&format!("{}/users/nobody", fake.url)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(remaining(response.headers()), 59);
    let quota = fake.quota();
    assert_eq!((quota.limit, quota.remaining, quota.used), (60, 59, 1));
    assert!(quota.reset_epoch >= now() + 3590);

    fake.set_quota(60, 0, now() - 1);
    let rate: Value = get(&format!("{}/rate_limit", fake.url))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        rate["rate"]["remaining"], 60,
        "/rate_limit shows the new window"
    );
}

#[tokio::test]
async fn a_shorter_window_renews_the_quota_for_that_long() {
    let fake = FakeGithub::start(Graph::default()).await;
    fake.set_window(std::time::Duration::from_secs(30));
    fake.set_quota(60, 0, now() - 1);

    let response = get(&format!("{}/users/nobody", fake.url)).await;
    assert_eq!(remaining(response.headers()), 59);
    let quota = fake.quota();
    assert_eq!((quota.limit, quota.remaining), (60, 59));
    assert!(
        (now() + 25..=now() + 30).contains(&quota.reset_epoch),
        "a 30 s window: {quota:?}"
    );
}

#[tokio::test]
async fn injected_failures_come_in_order_and_cost_nothing() {
    let mut graph = Graph::default();
    graph.add_user("octocat");
    let fake = FakeGithub::start(graph).await;
    let user = format!("{}/users/octocat", fake.url);
    fake.secondary_limit_next(1, 30, 429);
    fake.secondary_limit_next(1, 5, 403);
    fake.fail_next(2, 502);

    let rate = get(&format!("{}/rate_limit", fake.url)).await;
    assert_eq!(
        rate.status(),
        200,
        "/rate_limit does not consume injected failures"
    );

    let limited = get(&user).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(header(limited.headers(), "retry-after"), Some("30"));
    assert_eq!(
        remaining(limited.headers()),
        5000,
        "secondary limits leave the quota"
    );
    let body: Value = limited.json().await.expect("json");
    assert_eq!(
        body["message"],
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    );
    let forbidden = get(&user).await;
    assert_eq!(forbidden.status(), 403);
    assert_eq!(header(forbidden.headers(), "retry-after"), Some("5"));

    for _ in 0..2 {
        let failed = get(&user).await;
        assert_eq!(failed.status(), 502);
        assert!(header(failed.headers(), "retry-after").is_none());
        let body: Value = failed.json().await.expect("a JSON error");
        assert_eq!(body["message"], "Bad Gateway");
    }
    assert_eq!(get(&user).await.status(), 200);

    let quota = fake.quota();
    assert_eq!((quota.remaining, quota.used), (4999, 1));
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 429, 403, 502, 502, 200]);
}

#[tokio::test]
async fn moved_repositories_answer_301_to_their_id() {
    let mut graph = Graph::default();
    let owner = graph.add_user("octocat");
    let other = graph.add_user("hubot");
    let repo = graph.add_repo(owner, "hello-world");
    let moved = graph.add_repo(owner, "spoon-knife");
    graph.star(other, repo);
    let fake = FakeGithub::start(graph).await;
    fake.with_graph(|graph| {
        graph.rename_repo(repo, "hello-rust");
        graph.transfer_repo(moved, other);
    });

    let response = get(&format!("{}/repos/Octocat/Hello-World", fake.url)).await;
    assert_eq!(response.status(), 301);
    let location = format!("{}/repositories/{repo}", fake.url);
    assert_eq!(
        header(response.headers(), "location"),
        Some(location.as_str())
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["message"], "Moved Permanently");
    assert_eq!(body["url"], location.as_str());

    let current: Value = get(&location).await.json().await.expect("json");
    assert_eq!(current["full_name"], "octocat/hello-rust");
    assert_eq!(current["id"], repo);

    let stargazers = get(&format!(
        "{}/repos/octocat/hello-world/stargazers?per_page=100",
        fake.url
    ))
    .await;
    assert_eq!(
        header(stargazers.headers(), "location"),
        Some(format!("{location}/stargazers?per_page=100").as_str())
    );

    let transferred = get(&format!("{}/repos/octocat/spoon-knife", fake.url)).await;
    assert_eq!(transferred.status(), 301);
    let now_at: Value = get(&format!("{}/repos/hubot/spoon-knife", fake.url))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(now_at["owner"]["login"], "hubot");

    fake.with_graph(|graph| graph.rename_user(owner, "octo"));
    let renamed_owner = get(&format!("{}/repos/octocat/hello-rust", fake.url)).await;
    assert_eq!(renamed_owner.status(), 301);
    assert_eq!(
        get(&format!("{}/users/octocat", fake.url)).await.status(),
        404
    );
    assert_eq!(get(&format!("{}/users/OCTO", fake.url)).await.status(), 200);
    assert_eq!(
        get(&format!("{}/repos/octocat/nothing", fake.url))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn payloads_have_githubs_shapes_and_derived_counts() {
    let mut graph = Graph::default();
    let octocat = graph.add_user("octocat");
    let hubot = graph.add_user("hubot");
    let org = graph.add_org("github");
    let repo = graph.add_repo(octocat, "hello-world");
    graph.follow(hubot, octocat);
    graph.follow(octocat, org);
    graph.star(hubot, repo);
    graph.star(octocat, repo);
    graph.user_mut(octocat).name = Some("The Octocat".into());
    let fake = FakeGithub::start(graph).await;

    let user: Value = get(&format!("{}/users/OctoCat", fake.url))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(user["login"], "octocat");
    assert_eq!(user["node_id"], "MDQ6VXNlcjE=");
    assert_eq!(user["name"], "The Octocat");
    assert_eq!(user["bio"], Value::Null);
    assert_eq!(user["blog"], "");
    assert_eq!(user["type"], "User");
    assert_eq!(user["url"], format!("{}/users/octocat", fake.url));
    assert_eq!(
        (user["followers"].as_i64(), user["following"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(user["public_repos"], 1);
    assert_eq!(user["created_at"], "2011-01-25T18:44:36Z");
    let by_id: Value = get(&format!("{}/user/{octocat}", fake.url))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(by_id, user);

    let followers: Vec<Value> = get(&format!("{}/users/octocat/followers", fake.url))
        .await
        .json()
        .await
        .expect("json");
    let simple = followers[0].as_object().expect("an object");
    assert_eq!(simple["login"], "hubot");
    assert!(simple.contains_key("avatar_url") && simple.contains_key("site_admin"));
    assert!(!simple.contains_key("name") && !simple.contains_key("followers"));

    let following: Vec<Value> = get(&format!("{}/users/octocat/following", fake.url))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(following[0]["type"], "Organization");

    let listed: Vec<Value> = get(&format!("{}/users/hubot/starred", fake.url))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["full_name"], "octocat/hello-world");
    assert_eq!(listed[0]["stargazers_count"], 2);
    assert_eq!(listed[0]["watchers_count"], 2);
    assert_eq!(listed[0]["owner"]["login"], "octocat");
    assert!(listed[0].get("subscribers_count").is_none());

    let full: Value = get(&format!("{}/repos/octocat/hello-world", fake.url))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        full["subscribers_count"], 2,
        "the owner and hubot, who stars and follows"
    );
    assert!(full["network_count"].is_i64());
    let owned: Vec<Value> = get(&format!("{}/users/octocat/repos", fake.url))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(owned.len(), 1);
}

#[tokio::test]
async fn requests_are_logged_with_their_headers() {
    let fake = FakeGithub::start(Graph::default()).await;
    client()
        .get(format!(
            "{}/users/x/followers?per_page=100&page=2",
            fake.url
        ))
        .header("Authorization", "Bearer secret")
        .send()
        .await
        .expect("answer");
    let log = fake.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/users/x/followers");
    assert_eq!(log[0].query, "per_page=100&page=2");
    assert_eq!(log[0].authorization.as_deref(), Some("Bearer secret"));
    assert!(log[0].if_none_match.is_none());
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn latency_delays_answers() {
    let fake = FakeGithub::start(Graph::default()).await;
    fake.set_latency(Duration::from_millis(500));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    let result = impatient
        .get(format!("{}/rate_limit", fake.url))
        .send()
        .await;
    assert!(result.expect_err("times out").is_timeout());

    fake.set_latency(Duration::ZERO);
    assert_eq!(get(&format!("{}/rate_limit", fake.url)).await.status(), 200);
}

#[tokio::test]
async fn the_server_stops_when_dropped() {
    let fake = FakeGithub::start(Graph::default()).await;
    let url = format!("{}/rate_limit", fake.url);
    drop(fake);
    let mut refused = false;
    for _ in 0..50 {
        if client().get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "the fake still answers after being dropped");
}

#[test]
fn generated_graphs_are_connected_and_deterministic() {
    let graph = Graph::generate(300, 7);
    assert_eq!(graph.users.len(), 300);
    assert_eq!(
        graph.reachable_from(1).len(),
        300,
        "every user reachable from user 1"
    );
    assert_eq!(graph, Graph::generate(300, 7), "same seed, same graph");
    assert_ne!(graph, Graph::generate(300, 8));

    assert!(
        graph.followers(1).len() > 200,
        "user 1's followers take 3 pages"
    );
    let popular = graph.owned_repos(1)[0];
    assert!(
        graph.stargazers(popular).len() > 100,
        "a repository with paged stargazers"
    );
    assert!(graph.users.values().any(|user| user.name.is_none()));
    assert!(graph.users.values().any(|user| user.bio.is_none()));
    assert!(
        graph
            .users
            .values()
            .any(|user| graph.owned_repos(user.id).is_empty())
    );
    assert!(
        graph
            .users
            .values()
            .any(|user| graph.owned_repos(user.id).len() == 3)
    );
    assert!(!graph.stars.is_empty());
    let heavy = graph
        .users
        .keys()
        .filter(|&&id| graph.followers(id).len() > 100)
        .count();
    assert_eq!(heavy, 1, "only user 1 has more than one page of followers");
}

/// Also on a multi-thread runtime, as under `#[tokio::main]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_graph_is_served() {
    let fake = FakeGithub::start(Graph::generate(50, 1)).await;
    let user: Value = get(&format!("{}/users/dev-1", fake.url))
        .await
        .json()
        .await
        .expect("json");
    let graph = fake.graph();
    assert_eq!(user["followers"], graph.followers(1).len());
    assert_eq!(user["public_repos"], graph.owned_repos(1).len());
    assert_eq!(graph.user_id("DEV-1"), Some(1));
}

// ---------------------------------------------------------------------------
// Repository activity
// ---------------------------------------------------------------------------

/// 2023-11-14T22:13:20Z
const T0: i64 = 1_700_000_000;
const WEEK: i64 = 7 * 24 * 3600;

fn iso(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .expect("a valid time")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

async fn json_of(url: &str) -> Value {
    let response = get(url).await;
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.expect("json")
}

async fn get_if_none_match(url: &str, etag: &str) -> reqwest::Response {
    client()
        .get(url)
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("the fake answers")
}

/// Every item of a paged list, following `rel="next"`; also returns how many pages it took.
async fn all_pages(first: &str) -> (Vec<Value>, usize) {
    let (mut items, mut pages, mut next) = (Vec::new(), 0, Some(first.to_string()));
    while let Some(url) = next {
        let response = get(&url).await;
        assert_eq!(response.status(), 200, "{url}");
        next = next_link(response.headers());
        let page: Vec<Value> = response.json().await.expect("a JSON array");
        items.extend(page);
        pages += 1;
    }
    (items, pages)
}

fn numbers(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|item| item["number"].as_i64().expect("number"))
        .collect()
}

/// `octocat/hello-world` with issues #1–#5 by octocat and pull request #6 by hubot; #1
/// commented last, #2 closed, #3 labeled `bug`.
fn repo_with_issues() -> (Graph, i64, Vec<i64>) {
    let mut graph = Graph::default();
    let owner = graph.add_user("octocat");
    let hubot = graph.add_user("hubot");
    let repo = graph.add_repo(owner, "hello-world");
    graph.set_clock(T0);
    let mut ids: Vec<i64> = (1..=5)
        .map(|n| graph.add_issue(repo, owner, &format!("Issue {n}")))
        .collect();
    ids.push(graph.add_pull(repo, hubot, "A fix"));
    graph.close(ids[1], owner, "completed");
    graph.label(ids[2], owner, "bug");
    graph.comment(ids[0], hubot, "Still happening.");
    (graph, repo, ids)
}

#[tokio::test]
async fn issues_are_filtered_sorted_and_paged_keeping_the_query() {
    let (graph, _, ids) = repo_with_issues();
    let first_updated = graph.issue(ids[0]).updated_at;
    let fake = FakeGithub::start(graph.clone()).await;
    let issues = format!("{}/repos/octocat/hello-world/issues", fake.url);

    let open = json_of(&issues).await;
    let open = open.as_array().expect("array");
    assert_eq!(numbers(open), [6, 5, 4, 3, 1], "open, newest first");
    assert!(open[0].get("pull_request").is_some() && open[0]["draft"] == false);
    assert!(open[1].get("pull_request").is_none() && open[1].get("draft").is_none());
    assert!(open.iter().all(|issue| issue.get("closed_by").is_none()));
    assert_eq!(open[4]["comments"], 1);
    assert_eq!(open[4]["updated_at"], iso(first_updated));
    assert_eq!(open[3]["labels"][0]["name"], "bug");
    assert_eq!(open[3]["labels"][0]["color"], "d73a4a");
    assert_eq!(open[3]["labels"][0]["default"], true);
    assert!(open[3]["labels"][0]["id"].is_i64());

    let closed = json_of(&format!("{issues}?state=closed")).await;
    assert_eq!(numbers(closed.as_array().expect("array")), [2]);
    assert_eq!(closed[0]["state_reason"], "completed");
    let labeled = json_of(&format!("{issues}?labels=bug&state=all")).await;
    assert_eq!(numbers(labeled.as_array().expect("array")), [3]);
    let since = json_of(&format!("{issues}?state=all&since={}", iso(first_updated))).await;
    assert_eq!(
        numbers(since.as_array().expect("array")),
        [1],
        "updated_at >= since"
    );
    let by_comments = json_of(&format!("{issues}?sort=comments&direction=desc")).await;
    assert_eq!(
        numbers(by_comments.as_array().expect("array")),
        [1, 6, 5, 4, 3]
    );

    let mut expected: Vec<(i64, i64)> = graph
        .issues_of(graph.repo_id("octocat", "hello-world").expect("repo"))
        .iter()
        .map(|issue| (issue.updated_at, issue.number))
        .collect();
    expected.sort();
    let expected: Vec<i64> = expected.into_iter().map(|(_, number)| number).collect();
    let first = format!("{issues}?state=all&sort=updated&direction=asc&per_page=2");
    let response = get(&first).await;
    let next = next_link(response.headers()).expect("three pages");
    assert_eq!(
        next,
        format!("{issues}?state=all&sort=updated&direction=asc&per_page=2&page=2")
    );
    let (items, pages) = all_pages(&first).await;
    assert_eq!(pages, 3);
    assert_eq!(numbers(&items), expected, "by updated_at ascending");

    let invalid = get(&format!("{issues}?state=sideways")).await;
    assert_eq!(invalid.status(), 422);
    let invalid = get(&format!("{issues}?since=yesterday")).await;
    assert_eq!(invalid.status(), 422);
}

#[tokio::test]
async fn pull_requests_carry_merged_at_and_their_own_object() {
    let (mut graph, repo, ids) = repo_with_issues();
    let owner = graph.repo(repo).owner_id;
    let pull = ids[5];
    graph.pr_commit(pull, graph.issue(pull).author);
    graph.merge(pull, owner);
    let merged_at = graph.issue(pull).pull.as_ref().and_then(|p| p.merged_at);
    let fake = FakeGithub::start(graph).await;
    let base = format!("{}/repos/octocat/hello-world", fake.url);

    let listed = json_of(&format!("{base}/issues?state=closed")).await;
    let listed = listed.as_array().expect("array");
    let listed_pull = listed.iter().find(|i| i["number"] == 6).expect("the pull");
    assert_eq!(
        listed_pull["pull_request"]["merged_at"],
        iso(merged_at.expect("merged"))
    );
    assert_eq!(
        listed_pull["pull_request"]["url"],
        format!("{base}/pulls/6")
    );
    assert_eq!(listed_pull["state_reason"], Value::Null);

    let single = json_of(&format!("{base}/issues/6")).await;
    assert_eq!(single["closed_by"]["login"], "octocat");
    assert_eq!(single["id"], pull);
    let object = json_of(&format!("{base}/pulls/6")).await;
    assert_eq!(object["merged"], true);
    assert_eq!(object["merged_by"]["login"], "octocat");
    assert_eq!(object["number"], 6);
    assert_eq!(object["user"]["login"], "hubot");
    assert_eq!(object["commits"], 1);
    assert_ne!(object["id"], pull, "pull-request ids are not issue ids");
    assert_eq!(object["base"]["ref"], "main");
    assert!(object["head"]["sha"].as_str().expect("sha").len() == 40);
    assert_eq!(get(&format!("{base}/pulls/1")).await.status(), 404);
    assert_eq!(get(&format!("{base}/pulls/99")).await.status(), 404);

    fake.with_graph(|graph| {
        if let Some(part) = graph.issue_mut(pull).pull.as_mut() {
            part.omit_merged_at = true;
        }
    });
    let listed = json_of(&format!("{base}/issues?state=closed")).await;
    let listed_pull = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|i| i["number"] == 6)
        .expect("the pull")
        .clone();
    assert!(listed_pull["pull_request"].get("merged_at").is_none());
    assert!(listed_pull["pull_request"].get("url").is_some());
    let single = json_of(&format!("{base}/issues/6")).await;
    assert!(single["pull_request"].get("merged_at").is_some());
}

#[tokio::test]
async fn a_long_timeline_pages_with_link_and_githubs_item_shapes() {
    let (mut graph, repo, ids) = repo_with_issues();
    let (owner, issue, pull) = (graph.repo(repo).owner_id, ids[0], ids[5]);
    let hubot = graph.user_id("hubot").expect("hubot");
    graph.unlabel(issue, owner, "nothing");
    graph.label(issue, owner, "help wanted");
    graph.unlabel(issue, owner, "help wanted");
    graph.close(issue, owner, "not_planned");
    graph.reopen(issue, hubot);
    graph.cross_reference(issue, ids[3]);
    graph.long_timeline(issue, 240);
    let sha = graph.pr_commit(pull, hubot);
    let review = graph.review(pull, owner, "approved");
    graph.merge(pull, owner);
    let timeline = graph.timeline(issue).to_vec();
    assert_eq!(timeline.len(), 246);
    assert_eq!(graph.issue(issue).comments(), 241);
    let fake = FakeGithub::start(graph.clone()).await;
    let base = format!("{}/repos/octocat/hello-world", fake.url);

    let first = format!("{base}/issues/1/timeline?per_page=100");
    let response = get(&first).await;
    let link = header(response.headers(), "link")
        .expect("link")
        .to_string();
    assert_eq!(
        link,
        format!(
            "<{base}/issues/1/timeline?per_page=100&page=2>; rel=\"next\", \
             <{base}/issues/1/timeline?per_page=100&page=3>; rel=\"last\""
        )
    );
    let (items, pages) = all_pages(&first).await;
    assert_eq!(pages, 3);
    assert_eq!(items.len(), timeline.len());
    let events: Vec<&str> = items
        .iter()
        .map(|item| item["event"].as_str().expect("event"))
        .collect();
    assert_eq!(
        events[..7],
        [
            "commented",
            "labeled",
            "unlabeled",
            "closed",
            "reopened",
            "cross-referenced",
            "commented"
        ]
    );

    let comment = &items[0];
    assert_eq!(comment["id"], timeline[0].id.expect("an id"));
    assert_eq!(comment["body"], "Still happening.");
    assert_eq!(comment["user"]["login"], "hubot");
    assert_eq!(comment["actor"]["login"], "hubot");
    assert_eq!(comment["author_association"], "NONE");
    assert!(
        comment["html_url"]
            .as_str()
            .expect("url")
            .contains("#issuecomment-")
    );
    assert_eq!(comment["created_at"], comment["updated_at"]);

    let labeled = items[1].as_object().expect("object");
    for key in ["id", "node_id", "url", "actor", "created_at", "label"] {
        assert!(labeled.contains_key(key), "labeled has {key}");
    }
    assert_eq!(labeled["commit_id"], Value::Null);
    assert_eq!(labeled["commit_url"], Value::Null);
    assert_eq!(labeled["label"]["name"], "help wanted");
    assert_eq!(labeled["label"]["color"], "008672");
    assert_eq!(items[3]["state_reason"], "not_planned");
    assert_eq!(items[3]["commit_id"], Value::Null);
    assert_eq!(items[4]["actor"]["login"], "hubot");
    assert_eq!(items[4]["state_reason"], "reopened");

    let reference = items[5].as_object().expect("object");
    assert!(!reference.contains_key("id"));
    assert_eq!(reference["actor"]["login"], "octocat");
    assert_eq!(reference["source"]["type"], "issue");
    assert_eq!(reference["source"]["issue"]["number"], 4);
    assert_eq!(
        reference["source"]["issue"]["repository"]["full_name"],
        "octocat/hello-world"
    );

    let ids: Vec<Option<i64>> = items.iter().map(|item| item["id"].as_i64()).collect();
    let expected: Vec<Option<i64>> = timeline.iter().map(|item| item.id).collect();
    assert_eq!(ids, expected, "oldest first, ids as in the graph");

    let pr_items = json_of(&format!("{base}/issues/6/timeline")).await;
    let pr_items = pr_items.as_array().expect("array");
    let committed = pr_items[0].as_object().expect("object");
    assert_eq!(committed["event"], "committed");
    assert_eq!(committed["sha"], sha.as_str());
    assert!(!committed.contains_key("id") && !committed.contains_key("actor"));
    assert_eq!(committed["author"]["name"], "hubot");
    assert!(committed["committer"]["date"].is_string());
    assert!(committed["tree"]["sha"].is_string() && committed["verification"].is_object());
    let reviewed = pr_items[1].as_object().expect("object");
    assert_eq!(reviewed["event"], "reviewed");
    assert_eq!(reviewed["id"], review);
    assert_eq!(reviewed["state"], "approved");
    assert_eq!(reviewed["commit_id"], sha.as_str());
    assert_eq!(reviewed["user"]["login"], "octocat");
    assert_eq!(reviewed["author_association"], "OWNER");
    assert!(!reviewed.contains_key("actor") && !reviewed.contains_key("created_at"));
    assert!(reviewed["submitted_at"].is_string());
    let merge_sha = graph
        .issue(pull)
        .pull
        .as_ref()
        .and_then(|p| p.merge_commit_sha.clone());
    assert_eq!(pr_items[2]["event"], "merged");
    assert_eq!(pr_items[2]["commit_id"], merge_sha.as_deref().expect("sha"));
    assert_eq!(pr_items[3]["event"], "closed");
    assert_eq!(pr_items[3]["commit_id"], pr_items[2]["commit_id"]);
    assert_eq!(pr_items[2]["created_at"], pr_items[3]["created_at"]);

    let comments = json_of(&format!("{base}/issues/1/comments?per_page=100&page=3")).await;
    assert_eq!(comments.as_array().expect("array").len(), 41);
    assert!(comments[0].get("event").is_none());
}

#[tokio::test]
async fn a_new_comment_changes_only_the_last_timeline_pages_etag() {
    let (mut graph, _, ids) = repo_with_issues();
    graph.long_timeline(ids[1], 250);
    let fake = FakeGithub::start(graph).await;
    let page = |n: usize| {
        format!(
            "{}/repos/octocat/hello-world/issues/2/timeline?per_page=100&page={n}",
            fake.url
        )
    };
    let mut etags = Vec::new();
    for n in 1..=3 {
        let response = get(&page(n)).await;
        assert_eq!(response.status(), 200);
        etags.push(
            header(response.headers(), "etag")
                .expect("etag")
                .to_string(),
        );
    }

    fake.with_graph(|graph| graph.comment(ids[1], 1, "One more."));
    for n in 1..=2 {
        let response = get_if_none_match(&page(n), &etags[n - 1]).await;
        assert_eq!(response.status(), 304, "page {n} did not change");
    }
    let response = get_if_none_match(&page(3), &etags[2]).await;
    assert_eq!(response.status(), 200, "the last page has the new comment");
    assert_ne!(header(response.headers(), "etag"), Some(etags[2].as_str()));
    let last: Vec<Value> = response.json().await.expect("array");
    assert_eq!(last.len(), 52, "the close and 250 + 1 comments: 252 items");
    assert_eq!(last[51]["body"], "One more.");
}

#[tokio::test]
async fn a_transferred_issue_answers_301_to_a_new_issue() {
    let (mut graph, repo, ids) = repo_with_issues();
    let owner = graph.repo(repo).owner_id;
    let target = graph.add_repo(owner, "other");
    graph.add_issue(target, owner, "Already there");
    graph.define_label(target, "bug");
    graph.label(ids[2], owner, "custom");
    graph.comment(ids[2], owner, "Moving this.");
    let fake = FakeGithub::start(graph).await;
    let moved = fake.with_graph(|graph| graph.transfer_issue(ids[2], target));
    assert_ne!(moved, ids[2], "a new GitHub id");
    let base = format!("{}/repos/octocat/hello-world", fake.url);

    let response = get(&format!("{base}/issues/3")).await;
    assert_eq!(response.status(), 301);
    let location = format!("{}/repositories/{target}/issues/2", fake.url);
    assert_eq!(
        header(response.headers(), "location"),
        Some(location.as_str())
    );
    let response = get(&format!("{base}/issues/3/timeline?per_page=100")).await;
    assert_eq!(response.status(), 301);
    assert_eq!(
        header(response.headers(), "location"),
        Some(format!("{location}/timeline?per_page=100").as_str())
    );
    let by_id = get(&format!("{}/repositories/{repo}/issues/3", fake.url)).await;
    assert_eq!(by_id.status(), 301);

    let now_at = json_of(&location).await;
    assert_eq!(now_at["id"], moved);
    assert_eq!(now_at["number"], 2);
    assert_eq!(now_at["title"], "Issue 3");
    assert_eq!(now_at["comments"], 1);
    assert_eq!(now_at["user"]["login"], "octocat");
    let labels: Vec<&str> = now_at["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|label| label["name"].as_str().expect("name"))
        .collect();
    assert_eq!(labels, ["bug"], "only labels the target defines");
    assert_eq!(
        json_of(&format!("{location}/timeline")).await[0]["body"],
        "Moving this."
    );
    assert_eq!(
        json_of(&format!("{}/repos/octocat/other/issues/2", fake.url)).await["id"],
        moved
    );

    let listed = json_of(&format!("{base}/issues?state=all")).await;
    assert_eq!(numbers(listed.as_array().expect("array")), [6, 5, 4, 2, 1]);
    let graph = fake.graph();
    assert!(graph.issues_of(repo).iter().all(|issue| issue.id != ids[2]));
    assert_eq!(graph.issue_id(target, 2), Some(moved));
    assert_eq!(get(&format!("{base}/issues/99")).await.status(), 404);
}

#[tokio::test]
async fn contributor_stats_answer_202_then_200_with_every_week() {
    let mut graph = Graph::default();
    let owner = graph.add_user("octocat");
    let hubot = graph.add_user("hubot");
    let repo = graph.add_repo(owner, "hello-world");
    graph.add_repo(owner, "empty");
    graph.set_clock(T0);
    graph.add_commit(repo, Some(owner), "First", 10, 1);
    graph.add_commit(repo, Some(hubot), "Second", 5, 0);
    graph.add_commit(repo, None, "Unlinked", 100, 100);
    graph.set_clock(T0 + 3 * WEEK);
    graph.add_commit(repo, Some(owner), "Later", 7, 3);
    let fake = FakeGithub::start(graph).await;
    let url = format!("{}/repos/octocat/hello-world/stats/contributors", fake.url);

    let computing = get(&url).await;
    assert_eq!(computing.status(), 202);
    assert!(header(computing.headers(), "etag").is_none());
    assert_eq!(remaining(computing.headers()), 4999, "a 202 costs quota");
    assert_eq!(computing.text().await.expect("body"), "{}");

    let response = get(&url).await;
    assert_eq!(response.status(), 200);
    let etag = header(response.headers(), "etag")
        .expect("etag")
        .to_string();
    let stats: Vec<Value> = response.json().await.expect("array");
    assert_eq!(stats.len(), 2, "unlinked commits have no author row");
    assert_eq!(stats[0]["author"]["login"], "hubot", "fewest commits first");
    assert_eq!(stats[1]["total"], 2);
    for row in &stats {
        let weeks = row["weeks"].as_array().expect("weeks");
        assert_eq!(
            weeks.len(),
            4,
            "every week from the first commit to the last"
        );
        let sum: i64 = weeks.iter().map(|w| w["c"].as_i64().expect("c")).sum();
        assert_eq!(Some(sum), row["total"].as_i64());
        for (k, week) in weeks.iter().enumerate() {
            let w = week["w"].as_i64().expect("w");
            let sunday = chrono::DateTime::from_timestamp(w, 0).expect("time");
            assert_eq!(sunday.format("%a %H:%M:%S").to_string(), "Sun 00:00:00");
            assert!(w <= T0 + 3 * WEEK && w + WEEK > T0 - WEEK);
            if k > 0 {
                assert_eq!(w - weeks[k - 1]["w"].as_i64().expect("w"), WEEK);
            }
        }
    }
    let octocat = &stats[1]["weeks"];
    assert_eq!(
        (octocat[0]["a"].as_i64(), octocat[0]["d"].as_i64()),
        (Some(10), Some(1))
    );
    assert_eq!(octocat[1]["c"], 0, "zero weeks are included");
    assert_eq!(octocat[3]["a"], 7);

    assert_eq!(get_if_none_match(&url, &etag).await.status(), 304);
    fake.with_graph(|graph| graph.stats_computing(repo));
    assert_eq!(get(&url).await.status(), 202);
    assert_eq!(get_if_none_match(&url, &etag).await.status(), 304);

    let empty = get(&format!(
        "{}/repos/octocat/empty/stats/contributors",
        fake.url
    ))
    .await;
    // GitHub answers an empty repository's statistics with 204 and no body.
    assert_eq!(empty.status(), 204, "nothing to compute without commits");
    assert_eq!(empty.text().await.expect("body"), "");
}

#[tokio::test]
async fn commits_are_newest_first_and_filtered_by_since_and_until() {
    let mut graph = Graph::default();
    let owner = graph.add_user("octocat");
    let repo = graph.add_repo(owner, "hello-world");
    graph.set_clock(T0);
    let shas: Vec<String> = (1..=5)
        .map(|n| {
            graph.add_commit(
                repo,
                (n != 3).then_some(owner),
                &format!("Commit {n}"),
                n,
                0,
            )
        })
        .collect();
    let fake = FakeGithub::start(graph).await;
    let url = format!("{}/repos/octocat/hello-world/commits", fake.url);

    let all = json_of(&url).await;
    let got: Vec<&str> = all
        .as_array()
        .expect("array")
        .iter()
        .map(|commit| commit["sha"].as_str().expect("sha"))
        .collect();
    let newest_first: Vec<&str> = shas.iter().rev().map(String::as_str).collect();
    assert_eq!(got, newest_first);
    assert_eq!(all[0]["commit"]["message"], "Commit 5");
    assert_eq!(all[0]["commit"]["author"]["date"], iso(T0 + 5 * 60));
    assert_eq!(all[0]["author"]["login"], "octocat");
    assert_eq!(all[0]["parents"][0]["sha"], shas[3].as_str());
    assert_eq!(all[2]["author"], Value::Null, "an unlinked author");
    assert_eq!(all[2]["commit"]["author"]["name"], "Anonymous Contributor");

    let since = json_of(&format!("{url}?since={}", iso(T0 + 4 * 60))).await;
    assert_eq!(since.as_array().expect("array").len(), 2);
    let window = json_of(&format!(
        "{url}?since={}&until={}",
        iso(T0 + 2 * 60),
        iso(T0 + 3 * 60)
    ))
    .await;
    assert_eq!(window[0]["sha"], shas[2].as_str());
    assert_eq!(window[1]["sha"], shas[1].as_str());
    let paged = get(&format!("{url}?since={}&per_page=2", iso(T0))).await;
    let next = next_link(paged.headers()).expect("3 pages");
    assert!(
        next.contains("since=") && next.ends_with("per_page=2&page=2"),
        "{next}"
    );
}

#[tokio::test]
async fn org_members_and_repos_follow_the_graph() {
    let mut graph = Graph::default();
    let org = graph.add_org("github");
    let octocat = graph.add_user("octocat");
    let hubot = graph.add_user("hubot");
    let repo = graph.add_repo(org, "linguist");
    graph.add_repo(octocat, "mine");
    graph.add_member(org, octocat);
    let fake = FakeGithub::start(graph).await;
    let members_url = format!("{}/orgs/github/members", fake.url);
    let logins = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .expect("array")
            .iter()
            .map(|user| user["login"].as_str().expect("login").to_string())
            .collect()
    };

    assert_eq!(logins(&json_of(&members_url).await), ["octocat"]);
    fake.with_graph(|graph| graph.add_member(org, hubot));
    assert_eq!(logins(&json_of(&members_url).await), ["octocat", "hubot"]);
    fake.with_graph(|graph| graph.remove_member(org, octocat));
    assert_eq!(logins(&json_of(&members_url).await), ["hubot"]);
    assert_eq!(fake.graph().members(org), [hubot]);

    let repos = json_of(&format!("{}/orgs/GitHub/repos", fake.url)).await;
    assert_eq!(repos[0]["id"], repo);
    assert_eq!(repos.as_array().expect("array").len(), 1);
    assert_eq!(
        get(&format!("{}/orgs/octocat/members", fake.url))
            .await
            .status(),
        404
    );
    assert_eq!(
        get(&format!("{}/orgs/nobody/repos", fake.url))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn releases_are_newest_first() {
    let mut graph = Graph::default();
    let owner = graph.add_user("octocat");
    let repo = graph.add_repo(owner, "hello-world");
    let first = graph.add_release(repo, owner, "v1.0.0");
    let second = graph.add_release(repo, owner, "v1.1.0-rc.1");
    let fake = FakeGithub::start(graph).await;
    let releases = json_of(&format!("{}/repos/octocat/hello-world/releases", fake.url)).await;
    assert_eq!(releases[0]["id"], second);
    assert_eq!(releases[0]["prerelease"], true);
    assert_eq!(releases[1]["id"], first);
    assert_eq!(releases[1]["tag_name"], "v1.0.0");
    assert_eq!(releases[1]["author"]["login"], "octocat");
    assert!(releases[1]["published_at"].is_string());
}

#[test]
fn the_clock_stamps_every_mutation() {
    let mut graph = Graph::default();
    let start = graph.clock();
    let sixty_days = 60 * 24 * 3600;
    assert!((now() - sixty_days - start).abs() <= 2, "now − 60 days");
    let owner = graph.add_user("octocat");
    let repo = graph.add_repo(owner, "hello-world");
    let issue = graph.add_issue(repo, owner, "Bug");
    assert_eq!(graph.issue(issue).created_at, graph.clock());
    assert_eq!(graph.issue(issue).number, 1);
    graph.set_clock(T0);
    graph.comment(issue, owner, "More.");
    assert_eq!(graph.issue(issue).updated_at, T0 + 60);
    graph.close(issue, owner, "completed");
    assert_eq!(graph.issue(issue).closed_at, Some(T0 + 120));
    assert_eq!(graph.issue(issue).updated_at, T0 + 120);
    assert!((graph.issue(issue).created_at - start - 60).abs() <= 1);
    let pull = graph.add_pull(repo, owner, "Fix");
    assert_eq!(
        graph.issue(pull).number,
        2,
        "issues and pulls share numbers"
    );
}

#[test]
fn generated_activity_is_deterministic_and_varied() {
    let build = |seed: u64| {
        let mut graph = Graph::generate(20, 3);
        graph.set_clock(T0);
        let repo = graph.owned_repos(1)[0];
        let ids = graph.generate_activity(repo, 40, 30, seed);
        (graph, repo, ids)
    };
    let (graph, repo, ids) = build(5);
    assert_eq!(graph, build(5).0, "same seed, same activity");
    assert_ne!(graph, build(6).0);
    assert_eq!(ids.len(), 70);
    let issues = graph.issues_of(repo);
    assert_eq!(issues.len(), 70);
    let numbers: Vec<i64> = issues.iter().map(|issue| issue.number).collect();
    assert_eq!(numbers, (1..=70).collect::<Vec<i64>>());
    let bot = graph.user_id("dependabot[bot]").expect("dependabot");
    assert_eq!(graph.user(bot).kind, "Bot");
    assert!(
        issues
            .iter()
            .any(|issue| issue.author == bot && issue.is_pull())
    );
    assert!(issues.iter().any(|issue| issue.is_merged()));
    assert!(
        issues
            .iter()
            .any(|issue| issue.is_pull() && !issue.is_open() && !issue.is_merged())
    );
    assert!(
        issues
            .iter()
            .any(|issue| !issue.is_pull() && issue.is_open())
    );
    assert!(
        issues
            .iter()
            .any(|issue| issue.state_reason.as_deref() == Some("not_planned"))
    );
    assert!(issues.iter().any(|issue| !issue.labels.is_empty()));
    assert!(issues.iter().any(|issue| !issue.assignees.is_empty()));
    assert!(issues.iter().any(|issue| issue.comments() >= 2));
    let events: std::collections::BTreeSet<&str> = issues
        .iter()
        .flat_map(|issue| issue.timeline.iter().map(|item| item.event.as_str()))
        .collect();
    for event in [
        "commented",
        "labeled",
        "closed",
        "reopened",
        "merged",
        "committed",
        "reviewed",
        "cross-referenced",
    ] {
        assert!(events.contains(event), "some {event} item");
    }
    let mut created: Vec<i64> = issues.iter().map(|issue| issue.created_at).collect();
    let mut updated: Vec<i64> = issues.iter().map(|issue| issue.updated_at).collect();
    assert!(created.is_sorted());
    assert!(
        !updated.is_sorted(),
        "updated order differs from created order"
    );
    created.dedup();
    updated.sort();
    updated.dedup();
    assert_eq!((created.len(), updated.len()), (70, 70), "distinct times");
    assert!(graph.commits_of(repo).len() >= 3);
    assert!(
        graph
            .commits_of(repo)
            .iter()
            .any(|commit| commit.author.is_none())
    );
    assert!(!graph.releases_of(repo).is_empty());
    let ids: std::collections::BTreeSet<i64> = issues
        .iter()
        .flat_map(|issue| issue.timeline.iter().filter_map(|item| item.id))
        .collect();
    let with_ids = issues
        .iter()
        .flat_map(|issue| issue.timeline.iter().filter(|item| item.id.is_some()))
        .count();
    assert_eq!(ids.len(), with_ids, "timeline ids are unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_activity_is_served() {
    let mut graph = Graph::generate(10, 1);
    let repo = graph.owned_repos(1)[0];
    graph.generate_activity(repo, 60, 50, 9);
    let fake = FakeGithub::start(graph.clone()).await;
    let full_name = graph.full_name(repo);
    let first = format!(
        "{}/repos/{full_name}/issues?state=all&per_page=100",
        fake.url
    );
    let (items, pages) = all_pages(&first).await;
    assert_eq!(pages, 2);
    assert_eq!(items.len(), 110);
    let pulls = items
        .iter()
        .filter(|item| item.get("pull_request").is_some())
        .count();
    assert_eq!(pulls, 50);
    for issue in graph.issues_of(repo) {
        let url = format!(
            "{}/repos/{full_name}/issues/{}/timeline?per_page=100",
            fake.url, issue.number
        );
        let timeline = json_of(&url).await;
        assert_eq!(
            timeline.as_array().expect("array").len(),
            issue.timeline.len()
        );
    }
}

// ---------------------------------------------------------------------------
// Event feeds
// ---------------------------------------------------------------------------

/// An organization `acme` owning `acme/api`, a user `ann` owning `ann/tool`, and `events`
/// generated events across both.
fn eventful(events: usize) -> (Graph, i64, i64) {
    let mut graph = Graph::default();
    let ann = graph.add_user("ann");
    let acme = graph.add_org("acme");
    let api = graph.add_repo(acme, "api");
    let tool = graph.add_repo(ann, "tool");
    graph.generate_events(events, 7);
    (graph, api, tool)
}

async fn events_page(url: &str) -> (u16, HeaderMap, Value) {
    let response = get(url).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn the_event_feed_is_newest_first_in_pages_of_at_most_300_then_422() {
    let (graph, _, _) = eventful(350);
    let newest: Vec<String> = graph
        .events
        .iter()
        .rev()
        .take(300)
        .map(|event| event.id.to_string())
        .collect();
    let fake = FakeGithub::start(graph).await;
    // Default 30 a page: ten pages, then 422.
    let (status, headers, body) = events_page(&format!("{}/events", fake.url)).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().expect("a list").len(), 30);
    assert_eq!(header(&headers, "x-poll-interval"), Some("60"));
    let (status, _, body) = events_page(&format!("{}/events?page=11", fake.url)).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("pagination is limited")
    );
    // per_page=100 (more is capped): three pages along Link, 300 events, newest first.
    let mut url = Some(format!("{}/events?per_page=250", fake.url));
    let mut ids = Vec::new();
    while let Some(next) = url.take() {
        let (status, headers, body) = events_page(&next).await;
        assert_eq!(status, 200);
        let page = body.as_array().expect("a list");
        assert!(page.len() <= 100);
        ids.extend(
            page.iter()
                .map(|e| e["id"].as_str().expect("id is a string").to_string()),
        );
        url = next_link(&headers);
    }
    assert_eq!(ids, newest);
    let (status, _, _) = events_page(&format!("{}/events?per_page=100&page=4", fake.url)).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn events_have_githubs_shape_and_repository_feeds_hold_their_own() {
    let (mut graph, api, tool) = eventful(0);
    let ann = graph.user_id("ann").expect("ann");
    graph.add_event("IssuesEvent", ann, api, Some("opened"));
    graph.add_event("PushEvent", ann, tool, None);
    graph.add_event("WatchEvent", ann, api, Some("started"));
    let fake = FakeGithub::start(graph).await;
    let (_, _, body) = events_page(&format!("{}/events", fake.url)).await;
    let events = body.as_array().expect("a list");
    assert_eq!(events.len(), 3);
    let watch = &events[0];
    assert_eq!(watch["type"], "WatchEvent");
    assert!(
        watch["id"]
            .as_str()
            .expect("string id")
            .parse::<i64>()
            .is_ok()
    );
    for key in ["id", "login", "display_login", "url", "avatar_url"] {
        assert!(!watch["actor"][key].is_null(), "actor.{key}");
    }
    assert_eq!(watch["actor"]["login"], "ann");
    assert_eq!(watch["repo"]["name"], "acme/api");
    assert!(watch["repo"]["id"].is_i64() && watch["repo"]["url"].is_string());
    assert_eq!(watch["payload"]["action"], "started");
    assert_eq!(watch["public"], true);
    assert!(
        chrono::DateTime::parse_from_rfc3339(watch["created_at"].as_str().expect("date")).is_ok()
    );
    assert_eq!(
        watch["org"]["login"], "acme",
        "an organization's repository names it"
    );
    let push = &events[1];
    assert!(push.get("org").is_none(), "a user's repository has no org");
    assert!(push["payload"].get("action").is_none());
    assert!(push["payload"]["head"].is_string());
    let (status, headers, body) = events_page(&format!("{}/repos/acme/api/events", fake.url)).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-poll-interval"), Some("60"));
    let types: Vec<&str> = body
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, ["WatchEvent", "IssuesEvent"]);
}

#[tokio::test]
async fn an_unchanged_feed_answers_a_free_304_with_its_poll_interval_until_an_event_arrives() {
    let (graph, api, _) = eventful(5);
    let fake = FakeGithub::start(graph).await;
    fake.set_poll_interval(17);
    let url = format!("{}/events", fake.url);
    let first = get(&url).await;
    let etag = header(first.headers(), "etag")
        .expect("an ETag")
        .to_string();
    let spent = fake.quota_spent();
    let again = client()
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("answer");
    assert_eq!(again.status(), 304);
    assert_eq!(header(again.headers(), "x-poll-interval"), Some("17"));
    assert_eq!(fake.quota_spent(), spent, "a 304 is free");
    let ann = fake.graph().user_id("ann").expect("ann");
    let added = fake.with_graph(|graph| graph.add_event("ForkEvent", ann, api, None));
    let changed = client()
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("answer");
    assert_eq!(changed.status(), 200);
    let body: Value = changed.json().await.expect("JSON");
    assert_eq!(body[0]["id"], added.to_string());
    assert_eq!(fake.feed_requests().len(), 3);
}

// ---------------------------------------------------------------------------
// GraphQL
// ---------------------------------------------------------------------------

/// `POST /graphql` with a token; answers the status, the headers and the JSON body.
async fn graphql(
    fake: &FakeGithub,
    token: &str,
    query: &str,
    variables: Value,
) -> (u16, HeaderMap, Value) {
    let mut request = client()
        .post(format!("{}/graphql", fake.url))
        .json(&serde_json::json!({"query": query, "variables": variables}));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("a JSON body"))
}

const FOLLOWERS_QUERY: &str = "query($login: String!, $after: String) {
  star: user(login: $login) {
    login
    followers(first: 100, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { login databaseId }
    }
  }
}";

#[tokio::test]
async fn graphql_pages_a_connection_by_cursor_and_charges_points_not_requests() {
    let (graph, _) = star_with_followers(150);
    let fake = FakeGithub::start(graph).await;
    let (core_before, graphql_before) = (
        fake.token_quota("tok", "core").remaining,
        fake.token_quota("tok", "graphql").remaining,
    );
    let mut logins = Vec::new();
    let mut after = Value::Null;
    let mut queries = 0;
    loop {
        let variables = serde_json::json!({"login": "star", "after": after});
        let (status, headers, body) = graphql(&fake, "tok", FOLLOWERS_QUERY, variables).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(header(&headers, "x-ratelimit-resource"), Some("graphql"));
        queries += 1;
        let star = &body["data"]["star"];
        assert_eq!(star["login"], "star", "the alias names the field");
        let followers = &star["followers"];
        assert_eq!(followers["totalCount"], 150);
        logins.extend(
            followers["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|node| node["login"].as_str().expect("login").to_owned()),
        );
        if followers["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = followers["pageInfo"]["endCursor"].clone();
        assert!(after.is_string(), "{followers}");
    }
    assert_eq!(queries, 2);
    let expected: Vec<String> = (1..=150).map(|n| format!("f{n}")).collect();
    assert_eq!(logins, expected, "every follower once, in order");
    // One connection of 100 under one user: 1 request, 1 point per query; no REST quota.
    assert_eq!(
        fake.token_quota("tok", "graphql").remaining,
        graphql_before - 2
    );
    assert_eq!(fake.token_quota("tok", "core").remaining, core_before);
}

#[tokio::test]
async fn graphql_reports_a_missing_login_beside_the_data_it_found_and_can_be_switched_off() {
    let (graph, _) = star_with_followers(3);
    let fake = FakeGithub::start(graph).await;
    let query = "{ a: user(login: \"star\") { login } b: user(login: \"nobody-here\") { login } }";
    let (status, _, body) = graphql(&fake, "tok", query, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["a"]["login"], "star");
    assert!(body["data"]["b"].is_null(), "{body}");
    assert_eq!(body["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(body["errors"][0]["path"][0], "b");

    // Without a token GitHub refuses GraphQL; a stand-in without it answers 404.
    let (status, _, _) = graphql(&fake, "", query, Value::Null).await;
    assert_eq!(status, 401, "no token");
    fake.disable_graphql();
    let response = client()
        .post(format!("{}/graphql", fake.url))
        .bearer_auth("tok")
        .json(&serde_json::json!({"query": query}))
        .send()
        .await
        .expect("the fake answers");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn graphql_refuses_a_document_github_s_schema_refuses_with_errors_and_no_data() {
    let (graph, _) = star_with_followers(3);
    let fake = FakeGithub::start(graph).await;
    let before = fake.token_quota("tok", "graphql").remaining;
    // `followers` lists users: a fragment on `Organization` can never apply there.
    let query = "{ star: user(login: \"star\") {
  followers(first: 10) { nodes { login ... on Organization { databaseId } } }
} }";
    let (status, _, body) = graphql(&fake, "tok", query, Value::Null).await;
    assert_eq!(status, 200, "GitHub answers an invalid document with a 200");
    assert!(body.get("data").is_none(), "no data key at all: {body}");
    let error = &body["errors"][0];
    assert_eq!(
        error["message"],
        "inline fragment with type condition `Organization` cannot be applied to `User`"
    );
    assert_eq!(error["locations"][0]["line"], 2, "{body}");
    // A field the schema does not have, an argument of the wrong type.
    for query in [
        "{ user(login: \"star\") { followerCount } }",
        "{ user(login: 1) { login } }",
    ] {
        let (status, _, body) = graphql(&fake, "tok", query, Value::Null).await;
        assert_eq!(status, 200);
        assert!(body.get("data").is_none() && body["errors"][0]["message"].is_string());
    }
    assert_eq!(
        fake.token_quota("tok", "graphql").remaining,
        before,
        "refused documents cost nothing"
    );
    let received = fake.graphql_queries();
    assert_eq!(received.len(), 3);
    assert!(
        received.iter().all(|q| !q.data && !q.errors.is_empty()),
        "{received:#?}"
    );
}

#[tokio::test]
async fn graphql_answers_rate_limited_and_too_heavy_queries_as_injected() {
    let (graph, _) = star_with_followers(3);
    let fake = FakeGithub::start(graph).await;
    let one = "{ a: user(login: \"star\") { login } }";
    let two = "{ a: user(login: \"star\") { login } b: user(login: \"f1\") { login } }";

    fake.graphql_rate_limited_next(1);
    let (status, _, body) = graphql(&fake, "tok", one, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["type"], "RATE_LIMITED", "{body}");
    assert!(body.get("data").is_none());
    let (_, _, body) = graphql(&fake, "tok", one, Value::Null).await;
    assert_eq!(body["data"]["a"]["login"], "star", "only the next query");

    // More than one user is too heavy; `f1` even alone.
    fake.graphql_too_heavy_over(1, fake_github::graphql::Heavy::GatewayTimeout);
    fake.graphql_heavy_login("f1");
    assert_eq!(graphql(&fake, "tok", two, Value::Null).await.0, 504);
    assert_eq!(graphql(&fake, "tok", one, Value::Null).await.0, 200);
    let alone = "{ b: user(login: \"f1\") { login } }";
    assert_eq!(graphql(&fake, "tok", alone, Value::Null).await.0, 504);
    fake.graphql_too_heavy_over(1, fake_github::graphql::Heavy::SomethingWentWrong);
    let (status, _, body) = graphql(&fake, "tok", two, Value::Null).await;
    assert_eq!(status, 200);
    assert!(body["data"].is_null(), "{body}");
    let message = body["errors"][0]["message"].as_str().expect("a message");
    assert!(message.starts_with("Something went wrong while executing your query"));

    fake.graphql_refuse_next("Field 'gone' doesn't exist on type 'User'");
    let (status, _, body) = graphql(&fake, "tok", one, Value::Null).await;
    assert_eq!(status, 200);
    assert!(body.get("data").is_none());
    assert_eq!(
        body["errors"][0]["message"],
        "Field 'gone' doesn't exist on type 'User'"
    );

    let logins: Vec<Vec<String>> = fake
        .graphql_queries()
        .into_iter()
        .map(|q| q.logins)
        .collect();
    assert_eq!(logins[2], ["star", "f1"], "{logins:?}");
}
