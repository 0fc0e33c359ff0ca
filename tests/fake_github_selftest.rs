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
