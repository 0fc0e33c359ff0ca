//! Faults lose nothing: a broker restart, a database restart, GitHub outages and timeouts,
//! lost messages, and three workers sharing one quota.

use std::time::Duration;

use gitomatic::domain::GithubLogin;
use gitomatic::github::ClientOptions;
use gitomatic::jobs::{DiscoveryScraper, FullProfileSync};

use crate::helpers::services::{PrivatePostgres, PrivateRabbit};
use crate::helpers::{
    Graph, Snapshot, TestApp, binary_command, spawn_crawler, spawn_crawler_on, spawn_crawler_with,
    test_client_options,
};

fn profile_sync(login: &str) -> FullProfileSync {
    FullProfileSync {
        username: GithubLogin::parse(login).expect("login"),
    }
}

/// Settings that make recovery quick enough for a test.
fn fast_recovery(env: &mut std::collections::HashMap<String, String>) {
    env.insert("TASK_LEASE_SECS".into(), "4".into());
    env.insert("TASK_RETRY_SECS".into(), "1".into());
    env.insert("DISCOVERY_BATCH".into(), "50".into());
    env.insert("WORKER_CONCURRENCY".into(), "4".into());
    // Discovery is triggered by the test, not the clock; the activity and event pollers
    // (events every minute) have nothing to do here and would keep tasks active.
    env.insert("DISCOVERY_CRON".into(), "0 0 0 1 1 *".into());
    for entry in [
        "ACTIVITY_CRON",
        "TIMELINE_CRON",
        "RECONCILE_CRON",
        "MEMBERS_CRON",
        "EVENTS_CRON",
        "GRAPH_CRON",
        "RANK_CRON",
    ] {
        env.insert(entry.into(), "off".into());
    }
}

/// Seeds the crawl, then runs discovery until every developer was synced; `disturb` runs
/// once early in the crawl and `recover` 3 s later. Panics if it does not converge.
async fn crawl_to_fixpoint(
    app: &TestApp,
    seed: &str,
    disturb: impl FnOnce(),
    recover: impl FnOnce(),
) {
    app.enqueue(profile_sync(seed)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.enqueue(DiscoveryScraper {}).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    disturb();
    tokio::time::sleep(Duration::from_secs(3)).await;
    recover();
    for round in 0..20 {
        if round > 0 {
            app.enqueue(DiscoveryScraper {}).await;
        }
        app.wait_until_idle(Duration::from_secs(180)).await;
        let unsynced = app
            .count("SELECT count(*) AS n FROM developers WHERE last_synced_at IS NULL")
            .await;
        let synced = app
            .count("SELECT count(*) AS n FROM developers WHERE last_synced_at IS NOT NULL")
            .await;
        if unsynced == 0 && synced > 0 {
            return;
        }
    }
    panic!("the crawl did not converge");
}

async fn assert_whole_graph(app: &TestApp, graph: &Graph) {
    assert_eq!(Snapshot::of_database(app).await, Snapshot::of_graph(graph));
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'running', 'deferred')"
        )
        .await,
        0,
        "no task left behind, none stuck running"
    );
}

#[tokio::test]
async fn a_broker_restart_during_a_crawl_loses_nothing() {
    let rabbit = PrivateRabbit::start();
    let graph = Graph::generate(60, 3);
    let url = rabbit.url.clone();
    let mut app = spawn_crawler_with(graph.clone(), |env| {
        fast_recovery(env);
        env.insert("AMQP_URL".into(), url);
    })
    .await;
    app.fake().set_latency(Duration::from_millis(20));
    app.start_worker();
    app.start_scheduler();
    let seed = graph.users.values().next().expect("seed").login.clone();
    crawl_to_fixpoint(
        &app,
        &seed,
        || rabbit.restart(Duration::from_secs(2)),
        || {},
    )
    .await;
    assert_whole_graph(&app, &graph).await;
}

#[tokio::test]
async fn a_database_restart_during_a_crawl_loses_nothing() {
    let postgres = PrivatePostgres::start();
    let graph = Graph::generate(60, 4);
    let mut app = spawn_crawler_on(
        &postgres.server_url,
        graph.clone(),
        test_client_options(),
        fast_recovery,
    )
    .await;
    app.fake().set_latency(Duration::from_millis(20));
    app.start_worker();
    app.start_scheduler();
    let seed = graph.users.values().next().expect("seed").login.clone();
    crawl_to_fixpoint(
        &app,
        &seed,
        || postgres.restart(Duration::from_secs(2)),
        || {},
    )
    .await;
    assert_whole_graph(&app, &graph).await;
}

#[tokio::test]
async fn github_errors_and_timeouts_for_a_while_are_ridden_out() {
    let graph = Graph::generate(40, 5);
    let options = ClientOptions {
        read_timeout: Duration::from_millis(500),
        ..test_client_options()
    };
    let postgres_server = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let mut app = spawn_crawler_on(&postgres_server, graph.clone(), options, fast_recovery).await;
    app.start_worker();
    app.start_scheduler();
    let seed = graph.users.values().next().expect("seed").login.clone();
    let fake = app.fake();
    crawl_to_fixpoint(
        &app,
        &seed,
        || {
            // More failures in a row than one request retries, then a spell of timeouts.
            fake.fail_next(12, 502);
            fake.set_latency(Duration::from_millis(800));
        },
        || fake.set_latency(Duration::ZERO),
    )
    .await;
    assert_whole_graph(&app, &graph).await;
    let failed_attempts = app
        .count("SELECT count(*) AS n FROM tasks WHERE attempts > 1")
        .await;
    assert!(failed_attempts > 0, "some tasks had to be retried");
}

#[tokio::test]
async fn lost_messages_and_dead_workers_leases_are_recovered_by_the_sweep() {
    let mut graph = Graph::default();
    let a = graph.add_user("alice");
    let b = graph.add_user("bob");
    graph.follow(a, b);
    let mut app = spawn_crawler_with(graph, fast_recovery).await;
    // Rows whose messages never reached the broker: one queued long ago, one "running"
    // under a worker that died an hour ago.
    let mut conn = app.db.connect().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "INSERT INTO tasks (name, username, args, dedupe_key, status, created_at) VALUES
           ('full_profile_sync', 'alice', '{\"username\": \"alice\"}', 'alice', 'queued',
            now() - interval '1 hour'),
           ('full_profile_sync', 'bob', '{\"username\": \"bob\"}', 'bob', 'running',
            now() - interval '1 hour')",
    )
    .execute(&mut conn)
    .await
    .expect("stranded tasks");
    diesel::sql_query("UPDATE tasks SET heartbeat_at = now() - interval '1 hour', attempts = 1 WHERE status = 'running'")
        .execute(&mut conn)
        .await
        .expect("stale lease");
    app.start_worker();
    app.start_scheduler();
    app.wait_until_idle(Duration::from_secs(60)).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE status = 'succeeded'")
            .await,
        2
    );
}

#[tokio::test]
async fn three_workers_sharing_one_identity_never_spend_the_reserve() {
    let mut graph = Graph::default();
    let mut logins = Vec::new();
    for i in 0..30 {
        let login = format!("user-{i}");
        let id = graph.add_user(&login);
        for j in 0..3 {
            let fan = graph.add_user(&format!("fan-{i}-{j}"));
            graph.follow(fan, id);
        }
        logins.push(login);
    }
    let reserve = 50;
    let app = spawn_crawler_with(graph, |env| {
        env.insert("GITHUB_QUOTA_RESERVE".into(), reserve.to_string());
        env.insert("WORKER_CONCURRENCY".into(), "4".into());
    })
    .await;
    let reset = chrono::Utc::now().timestamp() + 3600;
    app.fake().set_quota(5000, reserve + 40, reset);
    let mut workers: Vec<_> = (0..3)
        .map(|_| {
            binary_command(&app.env, &["worker"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("worker starts")
        })
        .collect();
    for login in &logins {
        app.enqueue(profile_sync(login)).await;
    }
    // Wait until nothing is queued or running: the rest is deferred to the reset.
    for _ in 0..600 {
        let busy = app
            .count("SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'running')")
            .await;
        if busy == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for worker in &mut workers {
        let _ = worker.kill();
        let _ = worker.wait();
    }
    let remaining = app.fake().quota().remaining;
    assert!(
        remaining >= reserve,
        "the reserve was touched: {remaining} left, reserve {reserve}"
    );
    assert!(
        remaining < reserve + 10,
        "the quota above the reserve was used ({remaining} left)"
    );
    assert!(
        app.count("SELECT count(*) AS n FROM tasks WHERE status = 'deferred'")
            .await
            > 0,
        "the rest waits for the reset"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM tasks WHERE status IN ('failed', 'queued', 'running')"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn hostile_github_payloads_fail_the_task_cleanly_with_the_reason() {
    let mut graph = Graph::default();
    graph.add_user("center");
    let huge = graph.add_user("huge");
    graph.user_mut(huge).bio = Some("x".repeat(200_000));
    let mut app = spawn_crawler(graph).await;
    app.start_worker();

    app.fake()
        .override_body("/users/center", r#"{"id": "not a number", "login": 7}"#);
    let task = app.enqueue(profile_sync("center")).await;
    let done = app.wait_for_task(task.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, "failed");
    let error = done.error.expect("a reason");
    assert!(error.contains("unexpected GitHub payload"), "{error}");

    app.fake()
        .override_body("/users/center", "<html>oops</html>");
    let task = app.enqueue(profile_sync("center")).await;
    let done = app.wait_for_task(task.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, "failed");

    // Nulls everywhere but the essentials are fine.
    app.fake().override_body(
        "/users/center",
        r#"{"id": 1, "login": "center", "name": null, "bio": null, "followers": null, "created_at": null}"#,
    );
    let task = app.enqueue(profile_sync("center")).await;
    let done = app.wait_for_task(task.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");

    // A huge bio is stored whole.
    let task = app.enqueue(profile_sync("huge")).await;
    let done = app.wait_for_task(task.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(
        app.count("SELECT length(bio)::bigint AS n FROM developers WHERE login = 'huge'")
            .await,
        200_000
    );
}
