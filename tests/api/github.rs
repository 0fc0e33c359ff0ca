//! The GitHub client against the fake GitHub: paging, ETags, the quota ledger, the
//! throttle, retries and errors.

use std::time::{Duration, Instant};

use gitomatic::db::queries::pages;
use gitomatic::db::queries::rate_limits;
use gitomatic::github::types::SimpleUser;
use gitomatic::github::{BeyondFullPage, GithubError, PageItems, RequestStats};

use crate::helpers::{Graph, TestApp, spawn_crawler, spawn_crawler_with};

/// A graph where `star` has `n` followers.
fn star_with_followers(n: usize) -> Graph {
    let mut graph = Graph::default();
    let star = graph.add_user("star");
    for i in 0..n {
        let fan = graph.add_user(&format!("fan-{i}"));
        graph.follow(fan, star);
    }
    graph
}

/// Fetches every page of a list the way the crawl does, storing each page's cache entry.
async fn fetch_all(app: &TestApp, stats: &RequestStats, path: &str) -> (Vec<i64>, usize) {
    fetch_all_with(app, stats, path, BeyondFullPage::NextPageNumber).await
}

/// `fetch_all`, choosing what happens past an unchanged full last page.
async fn fetch_all_with(
    app: &TestApp,
    stats: &RequestStats,
    path: &str,
    beyond: BeyondFullPage,
) -> (Vec<i64>, usize) {
    let github = &app.ctx.github;
    let mut next = Some(github.first_page_url(path));
    let (mut ids, mut pages_seen) = (Vec::new(), 0);
    while let Some(url) = next {
        let page = github
            .list_page::<SimpleUser>(stats, &url, "test list", beyond)
            .await
            .expect("page");
        pages_seen += 1;
        ids.extend(page.ids());
        if let (PageItems::Fresh(_), Some(cache)) = (&page.items, &page.cache) {
            let mut conn = app.ctx.db.get().await.expect("connection");
            pages::store(&mut conn, cache).await.expect("store page");
        }
        next = page.next;
    }
    (ids, pages_seen)
}

async fn core_row(app: &TestApp) -> rate_limits::RateLimitRow {
    rate_limits::find(
        &mut app.ctx.conn().await.expect("a connection"),
        app.ctx.github.identity(),
        "core",
    )
    .await
    .expect("ledger")
    .expect("a core row")
}

async fn assert_ledger_matches_fake(app: &TestApp) {
    let row = core_row(app).await;
    let quota = app.fake().quota();
    assert_eq!(row.rate_limit, quota.limit as i32);
    assert_eq!(row.rate_remaining, quota.remaining as i32);
    assert_eq!(row.rate_used, quota.used as i32);
    assert_eq!(row.rate_reset.timestamp(), quota.reset_epoch);
    assert_eq!(row.rate_reserved, 0, "no reservation left behind");
}

#[tokio::test]
async fn a_250_item_list_costs_3_requests_then_nothing_when_unchanged() {
    let app = spawn_crawler(star_with_followers(250)).await;
    let before = app.fake().quota().remaining;

    let stats = RequestStats::default();
    let (first, pages_seen) = fetch_all(&app, &stats, "/users/star/followers").await;
    assert_eq!(pages_seen, 3);
    assert_eq!(first.len(), 250);
    assert_eq!(stats.requests(), 3);
    let list_requests: Vec<_> = app
        .fake()
        .requests()
        .into_iter()
        .filter(|r| r.path == "/users/star/followers")
        .collect();
    assert_eq!(list_requests.len(), 3);
    assert!(
        list_requests
            .iter()
            .all(|r| r.query.contains("per_page=100"))
    );
    assert_eq!(app.fake().quota().remaining, before - 3);

    let again = RequestStats::default();
    let (second, _) = fetch_all(&app, &again, "/users/star/followers").await;
    assert_eq!(second, first, "the same items, from the cache");
    assert_eq!(again.requests(), 0, "no quota-costing request");
    assert_eq!(again.not_modified(), 3);
    assert_eq!(app.fake().quota().remaining, before - 3);
    assert_ledger_matches_fake(&app).await;
}

#[tokio::test]
async fn a_grown_list_is_seen_even_when_its_full_last_page_is_unchanged() {
    for beyond in [BeyondFullPage::NextPageNumber, BeyondFullPage::ReadAgain] {
        let app = spawn_crawler(star_with_followers(100)).await;
        let path = "/users/star/followers";
        let (first, _) = fetch_all_with(&app, &RequestStats::default(), path, beyond).await;
        assert_eq!(first.len(), 100);
        app.fake().with_graph(|graph| {
            let star = graph.user_id("star").expect("star");
            let late = graph.add_user("late-fan");
            graph.follow(late, star);
        });
        let logged = app.fake().requests().len();
        let stats = RequestStats::default();
        let (second, _) = fetch_all_with(&app, &stats, path, beyond).await;
        assert_eq!(second.len(), 101, "{beyond:?}");
        let asked: Vec<String> = app.fake().requests()[logged..]
            .iter()
            .map(|r| r.query.clone())
            .collect();
        match beyond {
            // A 304 for page 1 (free), then page 2 by number.
            BeyondFullPage::NextPageNumber => {
                assert_eq!(asked, ["per_page=100", "per_page=100&page=2"]);
                assert_eq!((stats.not_modified(), stats.requests()), (1, 1));
            }
            // A 304 for page 1, page 1 read again for its Link, then the page it names.
            BeyondFullPage::ReadAgain => {
                assert_eq!(asked.len(), 3, "{asked:?}");
                assert_eq!(asked[..2], ["per_page=100", "per_page=100"]);
                assert_eq!((stats.not_modified(), stats.requests()), (1, 2));
            }
        }
    }
}

#[tokio::test]
async fn the_ledger_equals_githubs_headers_after_every_kind_of_response() {
    let app = spawn_crawler(star_with_followers(3)).await;
    let github = &app.ctx.github;
    let stats = RequestStats::default();
    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");

    github.fetch_user(&stats, &login, None).await.expect("200");
    assert_ledger_matches_fake(&app).await;

    let missing = gitomatic::domain::GithubLogin::parse("nobody").expect("login");
    let error = github
        .fetch_user(&stats, &missing, None)
        .await
        .expect_err("404");
    assert!(matches!(&error, GithubError::NotFound { what } if what == "GitHub user nobody"));
    assert_eq!(error.to_string(), "GitHub user nobody not found on GitHub");
    assert_ledger_matches_fake(&app).await;

    // A conditional request answered 304 still carries the headers.
    let fresh = github.fetch_user(&stats, &login, None).await.expect("200");
    let gitomatic::github::Conditional::Modified { etag, .. } = fresh else {
        panic!("expected content");
    };
    let unchanged = github
        .fetch_user(&stats, &login, etag.as_deref())
        .await
        .expect("304");
    assert!(matches!(
        unchanged,
        gitomatic::github::Conditional::NotModified
    ));
    assert_ledger_matches_fake(&app).await;
}

#[tokio::test]
async fn at_or_below_the_reserve_the_throttle_defers_to_the_reset_and_sends_nothing() {
    let app = spawn_crawler_with(star_with_followers(3), |env| {
        env.insert("GITHUB_QUOTA_RESERVE".into(), "100".into());
    })
    .await;
    let reset = chrono::Utc::now().timestamp() + 1800;
    app.fake().set_quota(5000, 100, reset);

    let error = app.ctx.github.ensure_quota(1).await.expect_err("defer");
    match error {
        GithubError::QuotaReserve { reset: at } => assert_eq!(at.timestamp(), reset),
        other => panic!("expected QuotaReserve, got {other:?}"),
    }
    // The reading came from GET /rate_limit, which costs nothing; no API request was sent.
    let sent: Vec<_> = app.fake().requests();
    assert!(sent.iter().all(|r| r.path == "/rate_limit"), "{sent:?}");
    assert_eq!(app.fake().quota().remaining, 100);

    // A request is refused before it is sent, too.
    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");
    let error = app
        .ctx
        .github
        .fetch_user(&RequestStats::default(), &login, None)
        .await
        .expect_err("reserve");
    assert!(matches!(error, GithubError::QuotaReserve { .. }));
    assert_eq!(app.fake().quota().remaining, 100);
}

#[tokio::test]
async fn above_the_reserve_the_throttle_runs_and_each_request_respects_the_reserve() {
    let app = spawn_crawler(star_with_followers(3)).await;
    let reset = chrono::Utc::now().timestamp() + 1800;
    app.fake().set_quota(5000, 102, reset);
    app.ctx.github.ensure_quota(1).await.expect("run");

    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");
    let stats = RequestStats::default();
    for _ in 0..2 {
        app.ctx
            .github
            .fetch_user(&stats, &login, None)
            .await
            .expect("above the reserve");
    }
    let error = app
        .ctx
        .github
        .fetch_user(&stats, &login, None)
        .await
        .expect_err("the third would touch the reserve");
    assert!(matches!(error, GithubError::QuotaReserve { .. }));
    assert_eq!(app.fake().quota().remaining, 100, "the reserve is intact");
    assert_eq!(stats.requests(), 2);
}

#[tokio::test]
async fn an_expired_reading_is_refreshed_for_free_before_deciding() {
    let app = spawn_crawler(star_with_followers(1)).await;
    // The stored row says "exhausted", but its window has passed.
    rate_limits::record(
        &mut app.ctx.conn().await.expect("a connection"),
        app.ctx.github.identity(),
        &rate_limits::Observed {
            resource: "core".into(),
            limit: 5000,
            remaining: 0,
            used: 5000,
            reset: chrono::Utc::now() - chrono::Duration::seconds(10),
        },
        0,
    )
    .await
    .expect("seed the ledger");
    app.ctx.github.ensure_quota(1).await.expect("fresh window");
    assert_ledger_matches_fake(&app).await;
}

#[tokio::test]
async fn a_refresh_of_the_same_window_forgets_neither_in_flight_requests_nor_lower_readings() {
    let app = spawn_crawler(Graph::default()).await;
    let mut conn = app.ctx.conn().await.expect("a connection");
    let identity = app.ctx.github.identity();
    let reset = chrono::Utc::now() + chrono::Duration::seconds(600);
    let observed = |remaining: i32, reset| rate_limits::Observed {
        resource: "core".into(),
        limit: 5000,
        remaining,
        used: 5000 - remaining,
        reset,
    };
    rate_limits::record(&mut conn, identity, &observed(88, reset), 0)
        .await
        .expect("a response's headers");
    for _ in 0..2 {
        rate_limits::try_reserve(&mut conn, &[identity.to_owned()], "core", 50, 1)
            .await
            .expect("reserve")
            .expect("above the reserve");
    }
    // A GET /rate_limit answered by GitHub before the 88 was seen, while two requests of
    // other workers are still in flight: neither may be forgotten.
    rate_limits::record(&mut conn, identity, &observed(90, reset), 0)
        .await
        .expect("the refresh");
    let row = rate_limits::find(&mut conn, identity, "core")
        .await
        .expect("lookup")
        .expect("row");
    assert_eq!((row.rate_remaining, row.rate_reserved), (88, 2));
    // A new window starts afresh.
    let next = reset + chrono::Duration::seconds(3600);
    rate_limits::record(&mut conn, identity, &observed(5000, next), 0)
        .await
        .expect("the next window");
    let row = rate_limits::find(&mut conn, identity, "core")
        .await
        .expect("lookup")
        .expect("row");
    assert_eq!((row.rate_remaining, row.rate_reserved), (5000, 0));
}

#[tokio::test]
async fn a_secondary_limit_is_waited_out_and_the_request_then_succeeds() {
    let app = spawn_crawler(star_with_followers(1)).await;
    app.fake().secondary_limit_next(1, 1, 403);
    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");
    let started = Instant::now();
    let fetched = app
        .ctx
        .github
        .fetch_user(&RequestStats::default(), &login, None)
        .await
        .expect("succeeds after waiting");
    assert!(matches!(
        fetched,
        gitomatic::github::Conditional::Modified { .. }
    ));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    let statuses: Vec<u16> = app
        .fake()
        .requests()
        .iter()
        .filter(|r| r.path == "/users/star")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![403, 200]);
}

#[tokio::test]
async fn a_long_secondary_limit_becomes_an_error_carrying_the_wait() {
    let app = spawn_crawler(star_with_followers(1)).await;
    app.fake().secondary_limit_next(1, 120, 429);
    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");
    let error = app
        .ctx
        .github
        .fetch_user(&RequestStats::default(), &login, None)
        .await
        .expect_err("too long to wait in place");
    assert!(
        matches!(error, GithubError::SecondaryLimit { retry_after } if retry_after == Duration::from_secs(120))
    );
    assert!(error.retry_at().is_some());
}

#[tokio::test]
async fn server_errors_are_retried() {
    let app = spawn_crawler(star_with_followers(1)).await;
    app.fake().fail_next(2, 500);
    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");
    app.ctx
        .github
        .fetch_user(&RequestStats::default(), &login, None)
        .await
        .expect("succeeds on the third attempt");
    let statuses: Vec<u16> = app
        .fake()
        .requests()
        .iter()
        .filter(|r| r.path == "/users/star")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![500, 500, 200]);
}

#[tokio::test]
async fn endless_server_errors_give_up_with_a_clear_error() {
    let app = spawn_crawler(star_with_followers(1)).await;
    app.fake().fail_next(100, 502);
    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");
    let error = app
        .ctx
        .github
        .fetch_user(&RequestStats::default(), &login, None)
        .await
        .expect_err("gives up");
    assert!(
        matches!(error, GithubError::Unavailable { attempts: 5, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_exhausted_quota_is_a_typed_error_with_the_reset() {
    let app = spawn_crawler_with(star_with_followers(1), |env| {
        env.insert("GITHUB_QUOTA_RESERVE".into(), "0".into());
    })
    .await;
    let reset = chrono::Utc::now().timestamp() + 900;
    // The ledger believes there is quota, GitHub says otherwise.
    app.fake().set_quota(5000, 1, reset);
    app.ctx.github.ensure_quota(1).await.expect("one left");
    app.fake().set_quota(5000, 0, reset);
    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");
    let error = app
        .ctx
        .github
        .fetch_user(&RequestStats::default(), &login, None)
        .await
        .expect_err("exhausted");
    match error {
        GithubError::QuotaExhausted { reset: at } => assert_eq!(at.timestamp(), reset),
        other => panic!("expected QuotaExhausted, got {other:?}"),
    }
}

#[tokio::test]
async fn the_token_is_sent_but_never_stored_or_shown() {
    let token = "ghp_0123456789abcdefSECRETTOKEN";
    let app = spawn_crawler_with(star_with_followers(1), |env| {
        env.insert("GITHUB_TOKEN".into(), token.into());
    })
    .await;
    let missing = gitomatic::domain::GithubLogin::parse("nobody").expect("login");
    let error = app
        .ctx
        .github
        .fetch_user(&RequestStats::default(), &missing, None)
        .await
        .expect_err("404");
    assert!(!format!("{error} {error:?}").contains(token));
    let sent = app.fake().requests();
    assert!(
        sent.iter().filter(|r| r.path != "/rate_limit").all(|r| r
            .authorization
            .as_deref()
            .is_some_and(|a| a.contains(token))),
        "the token authenticates every request"
    );
    let row = core_row(&app).await;
    assert!(row.identity.starts_with("token:"));
    assert!(!row.identity.contains(&token[..8]));
    assert!(!format!("{row:?}").contains(token));
    assert!(!format!("{:?}", app.ctx.config).contains(token));
}

#[tokio::test]
async fn an_unreachable_github_is_retried_then_reported_unavailable() {
    let app = spawn_crawler_with(star_with_followers(1), |env| {
        env.insert("GITHUB_API_URL".into(), "http://127.0.0.1:1".into());
    })
    .await;
    let error = app
        .ctx
        .github
        .ensure_quota(1)
        .await
        .expect_err("unreachable");
    assert!(
        matches!(error, GithubError::Unavailable { attempts: 5, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn requests_are_paced_to_github_max_rps() {
    let app = spawn_crawler_with(star_with_followers(1), |env| {
        env.insert("GITHUB_MAX_RPS".into(), "2".into());
    })
    .await;
    let login = gitomatic::domain::GithubLogin::parse("star").expect("login");
    let stats = RequestStats::default();
    let started = Instant::now();
    for _ in 0..6 {
        app.ctx
            .github
            .fetch_user(&stats, &login, None)
            .await
            .expect("fetch");
    }
    // A burst of 2, then one every 500 ms: the 6th cannot leave before 2 s.
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "6 requests at 2/s took {:?}",
        started.elapsed()
    );
    assert_eq!(stats.requests(), 6);
}
