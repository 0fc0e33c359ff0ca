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
    let deferred = app.wait_for_status(task.id, "deferred").await;
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

// ---------------------------------------------------------------------------
// GraphQL-batched first syncs
// ---------------------------------------------------------------------------

/// The generated graph plus what makes batches interesting: a developer followed by
/// everyone (two GraphQL pages), and an organization owning a starred repository.
fn graph_for_batches(developers: usize, seed: u64) -> Graph {
    let mut graph = Graph::generate(developers, seed);
    let everyone: Vec<i64> = graph.users.keys().copied().collect();
    let celebrity = graph.add_user("celebrity");
    for user in &everyone {
        graph.follow(*user, celebrity);
    }
    let org = graph.add_org("acme-org");
    let tool = graph.add_repo(org, "tool");
    graph.star(everyone[0], tool);
    graph
}

/// REST requests and GraphQL points the fake was charged since `from` (an index in its log).
fn spent_since(app: &TestApp, from: usize) -> (usize, u64) {
    let log = app.fake().requests();
    let since = log.get(from..).unwrap_or_default();
    let rest = since
        .iter()
        .filter(|r| r.costs_quota && r.path != "/graphql")
        .count();
    let points = since.iter().map(|r| u64::from(r.graphql_points)).sum();
    (rest, points)
}

#[tokio::test]
async fn a_graphql_first_crawl_costs_under_one_per_developer_and_a_re_crawl_under_a_tenth() {
    let graph = graph_for_batches(150, 11);
    let developers = graph.users.len() as f64;
    let mut app = spawn_crawler_with(graph.clone(), pool_env).await;
    app.start_worker();

    crawl(&app, &graph).await;
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );
    let (rest, points) = spent_since(&app, 0);
    let per_developer = (rest as f64 + points as f64) / developers;
    assert!(
        per_developer < 1.0,
        "first crawl: {rest} REST requests + {points} GraphQL points for {developers} developers"
    );
    assert!(points > 0, "GraphQL carried the first syncs");
    assert!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'graphql_profile_batch'")
            .await
            > 0
    );
    for token in TOKENS {
        let graphql = app.fake().token_quota(token, "graphql");
        assert!(graphql.remaining >= RESERVE, "{graphql:?}");
    }

    // Everyone is due again; nothing changed on GitHub.
    app.count("WITH x AS (UPDATE developers SET last_synced_at = now() - interval '2 days' RETURNING 1) SELECT count(*) AS n FROM x")
        .await;
    let mark = app.fake().requests().len();
    discover_until_synced_again(&app).await;
    let (rest, points) = spent_since(&app, mark);
    let per_developer = (rest as f64 + points as f64) / developers;
    let queries: Vec<u32> = app.fake().requests()[mark..]
        .iter()
        .filter(|r| r.path == "/graphql")
        .map(|r| r.graphql_points)
        .collect();
    eprintln!("re-crawl GraphQL queries and their points: {queries:?}");
    assert!(
        per_developer < 0.1,
        "unchanged re-crawl: {rest} REST requests + {points} GraphQL points for {developers} developers"
    );
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );
}

/// Discovery rounds until nobody is older than a day again.
async fn discover_until_synced_again(app: &TestApp) {
    let mut rounds = 0;
    while app
        .count("SELECT count(*) AS n FROM developers WHERE gone_at IS NULL AND (last_synced_at IS NULL OR last_synced_at < now() - interval '1 day')")
        .await
        > 0
    {
        rounds += 1;
        assert!(rounds <= 30, "discovery does not converge");
        let task = app.enqueue(DiscoveryScraper {}).await;
        app.wait_for_task(task.id, JOB_TIMEOUT).await;
        app.wait_until_idle(Duration::from_secs(180)).await;
    }
}

#[tokio::test]
async fn an_organization_and_a_missing_user_do_not_cost_the_batch() {
    let mut graph = Graph::default();
    let alice = graph.add_user("alice");
    let bob = graph.add_user("bob");
    let carol = graph.add_user("carol");
    graph.follow(alice, bob);
    graph.follow(alice, carol);
    graph.follow(bob, alice);
    let org = graph.add_org("acme-org");
    let tool = graph.add_repo(org, "tool");
    graph.star(alice, tool);
    let mut app = spawn_crawler_with(graph, pool_env).await;
    app.start_worker();
    let task = app
        .enqueue(FullProfileSync {
            username: GithubLogin::parse("alice").expect("login"),
        })
        .await;
    assert_eq!(
        app.wait_for_task(task.id, JOB_TIMEOUT).await.status,
        "succeeded"
    );
    app.fake().with_graph(|graph| graph.remove_user(carol));

    let task = app.enqueue(DiscoveryScraper {}).await;
    app.wait_for_task(task.id, JOB_TIMEOUT).await;
    app.wait_until_idle(Duration::from_secs(60)).await;
    let batches = app
        .count("SELECT count(*) AS n FROM tasks WHERE name = 'graphql_profile_batch' AND status = 'succeeded'")
        .await;
    assert_eq!(batches, 1, "bob, carol and acme-org in one batch");
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM developers WHERE login = 'carol' AND gone_at IS NOT NULL"
        )
        .await,
        1,
        "carol is marked gone"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM developers WHERE login IN ('bob', 'acme-org') AND last_synced_at IS NOT NULL")
            .await,
        2,
        "bob over GraphQL, the organization over REST"
    );
    let org_rest = app
        .fake()
        .requests()
        .iter()
        .filter(|r| r.path == "/users/acme-org")
        .count();
    assert_eq!(org_rest, 1, "the organization's profile came from REST");
}

/// Every stored field of developers and repositories, as canonical JSON, keyed by GitHub id;
/// `skip` lists columns that are local (ids, times of our own) and may differ.
async fn rows(app: &TestApp, table: &str, skip: &[&str]) -> BTreeMap<i64, String> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        github_id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let minus: String = skip.iter().map(|column| format!(" - '{column}'")).collect();
    let mut conn = app.db.connect().await;
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT github_id, (to_jsonb(t){minus})::text AS row FROM {table} t ORDER BY github_id"
    ))
    .load(&mut conn)
    .await
    .expect("rows");
    rows.into_iter().map(|r| (r.github_id, r.row)).collect()
}

const LOCAL_COLUMNS: [&str; 6] = [
    "id",
    "owner_id",
    "inserted_at",
    "row_updated_at",
    "last_synced_at",
    "etag",
];
/// Columns GitHub's GraphQL API does not give (see the migration `graphql_repositories`).
const REST_ONLY_COLUMNS: [&str; 3] = ["has_downloads", "has_pages", "open_issues_count"];

#[tokio::test]
async fn a_rest_synced_and_a_graphql_synced_copy_of_the_same_graph_are_equal() {
    let graph = graph_for_batches(60, 5);
    let mut rest = spawn_crawler_with(graph.clone(), |env| {
        pool_env(env);
        env.insert("GITHUB_GRAPHQL".into(), "off".into());
    })
    .await;
    let mut batched = spawn_crawler_with(graph.clone(), pool_env).await;
    rest.start_worker();
    batched.start_worker();
    crawl(&rest, &graph).await;
    crawl(&batched, &graph).await;
    assert!(
        batched
            .count("SELECT count(*) AS n FROM tasks WHERE name = 'graphql_profile_batch'")
            .await
            > 0
    );
    assert_eq!(
        rest.count("SELECT count(*) AS n FROM tasks WHERE name = 'graphql_profile_batch'")
            .await,
        0
    );

    // Relations and identities.
    let snapshot = Snapshot::of_database(&rest).await;
    assert_eq!(snapshot, Snapshot::of_database(&batched).await);
    assert_eq!(snapshot, Snapshot::of_graph(&graph));

    // Every stored field of every developer.
    let developers_rest = rows(&rest, "developers", &LOCAL_COLUMNS).await;
    assert_eq!(developers_rest.len(), graph.users.len());
    assert_eq!(
        developers_rest,
        rows(&batched, "developers", &LOCAL_COLUMNS).await
    );

    // Every stored field of every repository, but those GraphQL does not have ...
    let skip: Vec<&str> = LOCAL_COLUMNS
        .iter()
        .chain(&REST_ONLY_COLUMNS)
        .copied()
        .collect();
    let repositories_rest = rows(&rest, "repositories", &skip).await;
    assert_eq!(repositories_rest.len(), graph.repos.len());
    assert_eq!(
        repositories_rest,
        rows(&batched, "repositories", &skip).await
    );
    // ... which are unknown (null) where only GraphQL listed the repository, never different.
    let only = |columns: &[&str]| {
        LOCAL_COLUMNS
            .iter()
            .copied()
            .chain(
                [
                    "name",
                    "full_name",
                    "description",
                    "homepage",
                    "language",
                    "created_at",
                    "updated_at",
                    "pushed_at",
                    "has_issues",
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
                    "owner_github_id",
                    "gone_at",
                ]
                .into_iter()
                .filter(move |c| !columns.contains(c)),
            )
            .collect::<Vec<_>>()
    };
    let rest_only = rows(&rest, "repositories", &only(&[])).await;
    let batched_only = rows(&batched, "repositories", &only(&[])).await;
    for (id, batched_row) in &batched_only {
        let known: serde_json::Value = serde_json::from_str(batched_row).expect("json");
        let reference: serde_json::Value = serde_json::from_str(&rest_only[id]).expect("json");
        for column in REST_ONLY_COLUMNS {
            assert!(
                known[column].is_null() || known[column] == reference[column],
                "repository {id}: {column} {} where REST stored {}",
                known[column],
                reference[column]
            );
        }
    }
}

#[tokio::test]
async fn without_a_graphql_endpoint_batches_hand_their_developers_to_rest() {
    let graph = graph_for_batches(40, 5);
    let mut app = spawn_crawler_with(graph.clone(), pool_env).await;
    app.fake().disable_graphql();
    app.start_worker();
    crawl(&app, &graph).await;
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );
    assert!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'graphql_profile_batch' AND status = 'succeeded'")
            .await
            > 0,
        "discovery tried GraphQL batches"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE status = 'failed'")
            .await,
        0
    );
}
