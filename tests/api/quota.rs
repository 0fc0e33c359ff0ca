//! Quota at the physical limit: the token pool and GraphQL-batched first syncs, end to end
//! (real PostgreSQL, RabbitMQ, workers and the fake GitHub with a quota per token).

use std::collections::BTreeMap;
use std::time::Duration;

use gitomatic::db::queries::rate_limits;
use gitomatic::domain::GithubLogin;
use gitomatic::github::client::identity_label;
use gitomatic::jobs::{DiscoveryScraper, FullProfileSync};

use crate::helpers::{Graph, Snapshot, TestApp, spawn_crawler_with};

const TOKENS: [&str; 3] = [
    "ghp_poolTokenNumberOne000000000000000",
    "ghp_poolTokenNumberTwo000000000000000",
    "ghp_poolTokenNumberThree0000000000000",
];
const RESERVE: u32 = 100;
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

fn pool_env(env: &mut std::collections::HashMap<String, String>) {
    env.insert("GITHUB_TOKENS".into(), TOKENS.join(","));
    env.insert("DISCOVERY_BATCH".into(), "200".into());
    env.insert("WORKER_CONCURRENCY".into(), "8".into());
}

/// Syncs the graph's first developer, then runs discovery until nobody is left unsynced.
pub async fn crawl(app: &TestApp, graph: &Graph) {
    let seed = graph.users.values().next().expect("a seed").login.clone();
    let task = app
        .enqueue(FullProfileSync {
            username: GithubLogin::parse(&seed).expect("login"),
        })
        .await;
    let done = app.wait_for_task(task.id, JOB_TIMEOUT).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    discover_until_synced(app).await;
}

/// Discovery rounds until every stored developer is synced.
pub async fn discover_until_synced(app: &TestApp) {
    let mut rounds = 0;
    while app
        .count(
            "SELECT count(*) AS n FROM developers WHERE last_synced_at IS NULL AND gone_at IS NULL",
        )
        .await
        > 0
    {
        rounds += 1;
        assert!(rounds <= 30, "discovery does not converge");
        let task = app.enqueue(DiscoveryScraper {}).await;
        app.wait_for_task(task.id, JOB_TIMEOUT).await;
        app.wait_until_idle(Duration::from_secs(180)).await;
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE status <> 'succeeded'")
            .await,
        0,
        "every task succeeded"
    );
}

/// Quota-costing requests the fake received, by token.
fn spent_by_token(app: &TestApp) -> BTreeMap<String, usize> {
    let mut spent = BTreeMap::new();
    for request in app.fake().requests() {
        if request.costs_quota {
            *spent.entry(request.token().to_owned()).or_default() += 1;
        }
    }
    spent
}

#[tokio::test]
async fn three_tokens_one_near_its_reserve_the_other_two_carry_the_crawl() {
    let graph = Graph::generate(60, 7);
    let mut app = spawn_crawler_with(graph.clone(), |env| {
        pool_env(env);
        // REST only here: the pool must carry plain REST crawls too.
        env.insert("GITHUB_GRAPHQL".into(), "off".into());
    })
    .await;
    let reset = chrono::Utc::now().timestamp() + 3600;
    app.fake()
        .set_token_quota(TOKENS[0], "core", 5000, RESERVE + 3, reset);
    app.start_worker();

    crawl(&app, &graph).await;
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );

    let near = app.fake().token_quota(TOKENS[0], "core");
    assert!(
        near.remaining >= RESERVE,
        "the token near its reserve kept it: {} left",
        near.remaining
    );
    let spent = spent_by_token(&app);
    let (one, two, three) = (
        spent.get(TOKENS[0]).copied().unwrap_or(0),
        spent.get(TOKENS[1]).copied().unwrap_or(0),
        spent.get(TOKENS[2]).copied().unwrap_or(0),
    );
    assert!(one <= 3, "at most 3 requests above the reserve: {spent:?}");
    assert!(
        two > 50 && three > 50,
        "the other two carry the work: {spent:?}"
    );
    assert!(!spent.contains_key(""), "nothing anonymous: {spent:?}");

    // Every identity has its own rows, and /metrics shows each one.
    let metrics = app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics body");
    let mut conn = app.ctx.conn().await.expect("a connection");
    for token in TOKENS {
        let label = identity_label(Some(&token.into()));
        let row = rate_limits::find(&mut conn, &label, "core")
            .await
            .expect("ledger")
            .expect("a core row per identity");
        assert!(row.rate_remaining >= RESERVE as i32, "{row:?}");
        assert_eq!(row.rate_reserved, 0, "no reservation left behind");
        assert!(
            metrics.contains(&format!(
                r#"gitomatic_github_quota_remaining{{identity="{label}",resource="core"}}"#
            )),
            "{label} in /metrics"
        );
        assert!(!metrics.contains(token));
    }
}

#[tokio::test]
async fn with_every_identity_at_its_reserve_tasks_defer_to_the_earliest_reset_and_resume() {
    let graph = Graph::generate(12, 3);
    let mut app = spawn_crawler_with(graph.clone(), |env| {
        pool_env(env);
        env.insert("GITHUB_GRAPHQL".into(), "off".into());
    })
    .await;
    let now = chrono::Utc::now().timestamp();
    let resets = [now + 1800, now + 3, now + 2400];
    for (token, reset) in TOKENS.iter().zip(resets) {
        app.fake()
            .set_token_quota(token, "core", 5000, RESERVE, reset);
    }
    app.start_worker();

    let seed = graph.users.values().next().expect("seed").login.clone();
    let task = app
        .enqueue(FullProfileSync {
            username: GithubLogin::parse(&seed).expect("login"),
        })
        .await;
    let deferred = wait_for_status(&app, task.id, "deferred").await;
    let not_before = deferred.not_before.expect("not_before").timestamp();
    let earliest = resets[1];
    assert!(
        (earliest + 1..=earliest + 60).contains(&not_before),
        "not_before {not_before} is the earliest reset {earliest} plus 1-60 s"
    );
    assert!(
        app.fake()
            .requests()
            .iter()
            .all(|r| r.path == "/rate_limit"),
        "nothing spent below any reserve"
    );

    let done = app.wait_for_task(task.id, Duration::from_secs(90)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    let spent = spent_by_token(&app);
    assert_eq!(
        spent.keys().collect::<Vec<_>>(),
        [TOKENS[1]],
        "only the renewed identity spent: {spent:?}"
    );
    for (token, reset) in TOKENS.iter().zip(resets) {
        if reset != earliest {
            assert_eq!(app.fake().token_quota(token, "core").remaining, RESERVE);
        }
    }
}

async fn wait_for_status(
    app: &TestApp,
    id: uuid::Uuid,
    status: &str,
) -> gitomatic::db::queries::tasks::TaskRow {
    for _ in 0..600 {
        let row = gitomatic::db::queries::tasks::find(
            &mut app.ctx.conn().await.expect("a connection"),
            id,
        )
        .await
        .expect("lookup")
        .expect("task");
        if row.status == status {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never became {status}");
}
