//! GitHub's secondary rate limit (abuse protection): the identity it names sends nothing —
//! `/rate_limit` included, from any worker process — until `Retry-After` (or a minute,
//! doubling while it repeats), and the other identities go on meanwhile (SPEC-3 section 0).

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use gitomatic::db::queries::rate_limit_pauses;
use gitomatic::domain::GithubLogin;
use gitomatic::github::client::identity_label;
use gitomatic::github::{GithubError, RequestStats};
use gitomatic::jobs::FullProfileSync;

use crate::helpers::fake_github::LoggedRequest;
use crate::helpers::{Graph, Snapshot, TestApp, binary_command, spawn_crawler_with};
use crate::quota::crawl;

const LIMITED: &str = "ghp_secondaryLimitedToken000000000000";
const OTHER: &str = "ghp_secondaryOtherToken00000000000000";
/// Requests that were already on their way when the pause began may land this long after.
const IN_FLIGHT: Duration = Duration::from_secs(2);

/// A `gitomatic worker` process, killed when dropped.
struct Worker(Child);

impl Worker {
    fn start(app: &TestApp) -> Worker {
        let child = binary_command(&app.env, &["worker"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the worker starts");
        Worker(child)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn by(requests: &[LoggedRequest], token: &str) -> Vec<LoggedRequest> {
    requests
        .iter()
        .filter(|request| request.token() == token)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_limited_identity_sends_nothing_from_any_worker_until_retry_after_while_the_other_goes_on()
 {
    let graph = Graph::generate(60, 11);
    let app = spawn_crawler_with(graph.clone(), |env| {
        env.insert("GITHUB_TOKENS".into(), format!("{LIMITED},{OTHER}"));
        env.insert("GITHUB_GRAPHQL".into(), "off".into());
        env.insert("WORKER_CONCURRENCY".into(), "4".into());
    })
    .await;
    let pause = Duration::from_secs(5);
    app.fake().set_latency(Duration::from_millis(30));
    let limited_at = Instant::now();
    app.fake().secondary_limit_token(LIMITED, pause, true, 403);
    let limit_ends = limited_at + pause;
    let workers = [Worker::start(&app), Worker::start(&app)];

    crawl(&app, &graph).await;
    drop(workers);
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph),
        "nothing lost to the limit"
    );

    let requests = app.fake().requests();
    let limited = by(&requests, LIMITED);
    let refused: Vec<&LoggedRequest> = limited.iter().filter(|r| r.status == 403).collect();
    let first = refused.first().expect("the limited token met the limit").at;
    for request in &refused {
        assert!(
            request.at <= first + IN_FLIGHT,
            "{} {} sent {:?} after the pause began",
            request.path,
            request.query,
            request.at - first
        );
    }
    assert!(
        limited
            .iter()
            .all(|r| r.at <= first + IN_FLIGHT || r.at >= limit_ends),
        "nothing from the limited token during its pause"
    );
    let other_during_pause = by(&requests, OTHER)
        .iter()
        .filter(|r| r.at > first && r.at < limit_ends && r.status == 200)
        .count();
    assert!(
        other_during_pause > 10,
        "the other identity goes on meanwhile ({other_during_pause} requests)"
    );
    if requests.iter().any(|r| r.at > limit_ends + IN_FLIGHT) {
        assert!(
            limited
                .iter()
                .any(|r| r.at >= limit_ends && r.status == 200),
            "the limited identity sends again once its pause is over"
        );
    }
    // The pause ends when GitHub said, whenever the crawl finished.
    tokio::time::sleep(limit_ends.saturating_duration_since(Instant::now()) + IN_FLIGHT).await;
    let stored = rate_limit_pauses::active(
        &mut app.ctx.conn().await.expect("a connection"),
        &[identity_label(Some(&LIMITED.into()))],
    )
    .await
    .expect("pauses");
    assert!(stored.is_empty(), "the pause is over: {stored:?}");
}

#[tokio::test]
async fn without_retry_after_the_pause_is_a_minute_doubling_while_it_repeats() {
    let graph = Graph::generate(5, 3);
    let seed = graph.users.values().next().expect("a seed").login.clone();
    let mut app = spawn_crawler_with(graph, |env| {
        env.insert("GITHUB_TOKEN".into(), LIMITED.into());
        env.insert("GITHUB_GRAPHQL".into(), "off".into());
    })
    .await;
    app.fake()
        .secondary_limit_token(LIMITED, Duration::from_secs(3), false, 429);
    app.start_worker();
    let task = app
        .enqueue(FullProfileSync {
            username: GithubLogin::parse(&seed).expect("login"),
        })
        .await;
    let deferred = app.wait_for_status(task.id, "deferred").await;
    let error = deferred.error.expect("the deferral says why");
    assert!(error.contains("secondary rate limit"), "{error}");

    let label = identity_label(Some(&LIMITED.into()));
    let mut conn = app.ctx.conn().await.expect("a connection");
    let pause = only_pause(&mut conn, &label).await;
    assert_eq!(
        pause.pause_seconds, 60,
        "GitHub's minimum wait when none is named"
    );
    let left = (pause.paused_until - Utc::now()).num_seconds();
    assert!(
        (55..=60).contains(&left),
        "paused for a minute: {left} s left"
    );
    // The refused `/rate_limit` reading was the only request: nothing else is tried.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent: Vec<String> = app
        .fake()
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.status, r.path))
        .collect();
    assert_eq!(sent, vec!["429 /rate_limit"]);

    // The limit met again right after the pause ended: twice as long.
    rate_limit_pauses::set_until(&mut conn, &label, Utc::now() - chrono::Duration::seconds(1))
        .await
        .expect("end the pause");
    app.fake()
        .secondary_limit_token(LIMITED, Duration::from_secs(3), false, 429);
    let login = GithubLogin::parse(&seed).expect("login");
    let error = app
        .ctx
        .github
        .fetch_user(&RequestStats::default(), &login, None)
        .await
        .expect_err("paused again");
    assert!(
        matches!(error, GithubError::SecondaryLimit { retry_after } if retry_after > Duration::from_secs(115)),
        "{error:?}"
    );
    assert_eq!(only_pause(&mut conn, &label).await.pause_seconds, 120);

    // Long after a pause, the next limit starts from a minute again.
    rate_limit_pauses::set_until(
        &mut conn,
        &label,
        Utc::now() - chrono::Duration::minutes(11),
    )
    .await
    .expect("an old pause");
    let again = rate_limit_pauses::pause(&mut conn, &label, None)
        .await
        .expect("pause");
    assert_eq!(again.pause_seconds, 60);
    // GitHub's Retry-After is obeyed exactly, however often the limit repeats.
    rate_limit_pauses::set_until(&mut conn, &label, Utc::now() - chrono::Duration::seconds(1))
        .await
        .expect("end the pause");
    let named = rate_limit_pauses::pause(&mut conn, &label, Some(7))
        .await
        .expect("pause");
    assert_eq!(named.pause_seconds, 7);
}

#[tokio::test]
async fn a_request_in_flight_when_the_pause_began_neither_doubles_nor_shortens_it() {
    let app = spawn_crawler_with(Graph::default(), |_| {}).await;
    let mut conn = app.ctx.conn().await.expect("a connection");
    let first = rate_limit_pauses::pause(&mut conn, "anonymous", Some(30))
        .await
        .expect("pause");
    let late = rate_limit_pauses::pause(&mut conn, "anonymous", None)
        .await
        .expect("a late refusal");
    assert_eq!(late.pause_seconds, 60, "the longer of the two waits");
    assert!(late.paused_until >= first.paused_until);
    let shorter = rate_limit_pauses::pause(&mut conn, "anonymous", Some(5))
        .await
        .expect("a shorter one");
    assert_eq!(shorter.paused_until, late.paused_until, "never shortened");
}

async fn only_pause(
    conn: &mut diesel_async::AsyncPgConnection,
    label: &str,
) -> rate_limit_pauses::Pause {
    let mut pauses = rate_limit_pauses::active(conn, &[label.to_owned()])
        .await
        .expect("pauses");
    assert_eq!(pauses.len(), 1, "{pauses:?}");
    pauses.remove(0)
}
