//! GitHub's GraphQL failure answers (SPEC-3 section 0), each met by the real worker on the
//! fake: `RATE_LIMITED` defers, a query too heavy is split down to the developer that still
//! fails (who goes to REST), a refused document or a missing `/graphql` sends the batch to
//! REST; every fallback is counted in `/metrics` and named in the task's `error`.

use std::time::Duration;

use gitomatic::db::queries::rate_limits;
use gitomatic::db::queries::tasks::TaskRow;
use gitomatic::domain::GithubLogin;
use gitomatic::github::client::identity_label;
use gitomatic::jobs::GraphqlProfileBatch;

use crate::helpers::fake_github::graphql::Heavy;
use crate::helpers::{Graph, Snapshot, TestApp, spawn_crawler_with};

const TOKEN: &str = "ghp_graphqlAnswersTestToken000000000000";
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// Developers named `logins`, each following the next (the last the first), owning a
/// repository and starring the next one's.
fn ring(logins: &[&str]) -> Graph {
    let mut graph = Graph::default();
    let ids: Vec<i64> = logins.iter().map(|login| graph.add_user(login)).collect();
    let repos: Vec<i64> = ids
        .iter()
        .zip(logins)
        .map(|(id, login)| graph.add_repo(*id, &format!("{login}-tool")))
        .collect();
    for (n, id) in ids.iter().enumerate() {
        let next = (n + 1) % ids.len();
        graph.follow(*id, ids[next]);
        graph.star(*id, repos[next]);
    }
    graph
}

async fn start(graph: Graph) -> TestApp {
    let mut app = spawn_crawler_with(graph, |env| {
        env.insert("GITHUB_TOKEN".into(), TOKEN.into());
    })
    .await;
    app.start_worker();
    app
}

fn batch(logins: &[&str]) -> GraphqlProfileBatch {
    GraphqlProfileBatch {
        usernames: logins
            .iter()
            .map(|login| GithubLogin::parse(login).expect("login"))
            .collect(),
    }
}

/// Runs a batch to its end, then everything it enqueued.
async fn run_batch(app: &TestApp, logins: &[&str]) -> TaskRow {
    let task = app.enqueue(batch(logins)).await;
    let done = app.wait_for_task(task.id, JOB_TIMEOUT).await;
    app.wait_until_idle(JOB_TIMEOUT).await;
    done
}

/// The value of `gitomatic_graphql_fallbacks_total{reason="..."}` in `/metrics` (0 when
/// absent).
async fn fallbacks(app: &TestApp, reason: &str) -> f64 {
    let text = app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics text");
    let series = format!("gitomatic_graphql_fallbacks_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0.0, |value| value.parse().expect("a number"))
}

/// REST requests for a developer's own resources (`/users/{login}` and below).
fn rest_requests_for(app: &TestApp, login: &str) -> usize {
    let profile = format!("/users/{login}");
    app.fake()
        .requests()
        .iter()
        .filter(|r| r.path == profile || r.path.starts_with(&format!("{profile}/")))
        .count()
}

async fn status_of(app: &TestApp, id: uuid::Uuid) -> TaskRow {
    gitomatic::db::queries::tasks::find(&mut app.ctx.conn().await.expect("a connection"), id)
        .await
        .expect("lookup")
        .expect("task")
}

async fn wait_for_status(app: &TestApp, id: uuid::Uuid, status: &str) -> TaskRow {
    for _ in 0..600 {
        let row = status_of(app, id).await;
        if row.status == status {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never became {status}");
}

#[tokio::test]
async fn rate_limited_defers_the_batch_and_the_identity_waits_for_its_graphql_reset() {
    let app = start(ring(&["bob", "carol", "dave"])).await;
    app.fake().graphql_rate_limited_next(1);
    let reset_epoch = app.fake().token_quota(TOKEN, "graphql").reset_epoch;

    let task = app.enqueue(batch(&["bob", "carol"])).await;
    let deferred = wait_for_status(&app, task.id, "deferred").await;
    let error = deferred.error.clone().unwrap_or_default();
    assert!(error.contains("quota"), "{deferred:?}");

    // The ledger: nothing left of `graphql` until GitHub's reset.
    let identity = identity_label(Some(&TOKEN.into()));
    let row = rate_limits::find(
        &mut app.ctx.conn().await.expect("a connection"),
        &identity,
        "graphql",
    )
    .await
    .expect("lookup")
    .expect("the graphql row");
    assert_eq!(row.rate_remaining, 0, "{row:?}");
    assert_eq!(row.rate_reset.timestamp(), reset_epoch, "{row:?}");
    let not_before = deferred.not_before.expect("a deferred task has a time");
    assert!(not_before >= row.rate_reset, "{deferred:?} before {row:?}");

    // Another batch meanwhile sends nothing either: the identity waits.
    let other = app.enqueue(batch(&["dave"])).await;
    wait_for_status(&app, other.id, "deferred").await;
    let queries = app.fake().graphql_queries();
    assert_eq!(queries.len(), 1, "{queries:#?}");
    assert_eq!(queries[0].logins, ["bob", "carol"]);
    assert_eq!(
        queries[0].errors,
        ["API rate limit already exceeded for user ID 1."]
    );

    // Deferred, not failed, nor handed to REST.
    assert_eq!(status_of(&app, task.id).await.status, "deferred");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'full_profile_sync'")
            .await,
        0
    );
    for login in ["bob", "carol", "dave"] {
        assert_eq!(rest_requests_for(&app, login), 0, "{login}");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM developers WHERE last_synced_at IS NOT NULL")
            .await,
        0
    );
    for reason in ["invalid_query", "unavailable", "timeout", "error"] {
        assert_eq!(fallbacks(&app, reason).await, 0.0, "{reason}");
    }
}

/// A batch of five where queries naming more than two developers are too heavy, and
/// `dev3` too heavy even alone: the batch is halved until the parts pass; `dev3` goes to
/// REST, the others are synced from GraphQL.
async fn a_heavy_batch_is_split_and_the_one_still_failing_goes_to_rest(heavy: Heavy) {
    let logins = ["dev1", "dev2", "dev3", "dev4", "dev5"];
    let graph = ring(&logins);
    let app = start(graph.clone()).await;
    app.fake().graphql_too_heavy_over(2, heavy);
    app.fake().graphql_heavy_login("dev3");

    let done = run_batch(&app, &logins).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    let note = done.error.clone().unwrap_or_default();
    assert!(
        note.contains("1 of 5 developers") && note.contains("timeout (dev3)"),
        "the task says why dev3 went to REST: {note}"
    );

    // The queries GitHub received: the whole, then halves of halves.
    let failed = match heavy {
        Heavy::BadGateway => 502,
        Heavy::GatewayTimeout => 504,
        Heavy::SomethingWentWrong => 200,
    };
    let received: Vec<(Vec<String>, u16, bool)> = app
        .fake()
        .graphql_queries()
        .into_iter()
        .map(|q| (q.logins, q.status, q.data && q.errors.is_empty()))
        .collect();
    // (logins, status, answered with data and no errors)
    let part = |names: &[&str], status: u16, ok: bool| {
        (names.iter().map(|n| (*n).to_owned()).collect(), status, ok)
    };
    assert_eq!(
        received,
        [
            part(&logins, failed, false),
            part(&["dev1", "dev2"], 200, true),
            part(&["dev3", "dev4", "dev5"], failed, false),
            part(&["dev3"], failed, false),
            part(&["dev4", "dev5"], 200, true),
        ]
    );

    // dev3 alone went over REST; everyone is stored as GitHub has them.
    assert!(rest_requests_for(&app, "dev3") > 0);
    for login in ["dev1", "dev2", "dev4", "dev5"] {
        assert_eq!(
            rest_requests_for(&app, login),
            0,
            "{login} came from GraphQL"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'full_profile_sync' AND username = 'dev3' AND status = 'succeeded'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'full_profile_sync'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM developers WHERE last_synced_at IS NOT NULL")
            .await,
        5
    );
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );
    assert_eq!(fallbacks(&app, "timeout").await, 1.0);
}

#[tokio::test]
async fn a_504_batch_is_split_and_the_one_still_failing_goes_to_rest() {
    a_heavy_batch_is_split_and_the_one_still_failing_goes_to_rest(Heavy::GatewayTimeout).await;
}

#[tokio::test]
async fn a_502_batch_is_split_and_the_one_still_failing_goes_to_rest() {
    a_heavy_batch_is_split_and_the_one_still_failing_goes_to_rest(Heavy::BadGateway).await;
}

#[tokio::test]
async fn a_timed_out_200_batch_is_split_and_the_one_still_failing_goes_to_rest() {
    a_heavy_batch_is_split_and_the_one_still_failing_goes_to_rest(Heavy::SomethingWentWrong).await;
}

#[tokio::test]
async fn heavy_continuations_are_split_too() {
    // Two developers following and followed by 150 others: two pages of each relation.
    let mut graph = Graph::default();
    let hubs = [graph.add_user("hub1"), graph.add_user("hub2")];
    for n in 1..=150 {
        let fan = graph.add_user(&format!("fan{n}"));
        for hub in hubs {
            graph.follow(fan, hub);
            graph.follow(hub, fan);
        }
    }
    let app = start(graph.clone()).await;
    app.fake().graphql_too_heavy_over(2, Heavy::GatewayTimeout);

    let done = run_batch(&app, &["hub1", "hub2"]).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(done.error, None, "nobody went to REST");
    let received: Vec<(Vec<String>, u16)> = app
        .fake()
        .graphql_queries()
        .into_iter()
        .map(|q| (q.logins, q.status))
        .collect();
    let names = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        received,
        [
            (names(&["hub1", "hub2"]), 200),
            (names(&["hub1", "hub1", "hub2", "hub2"]), 504),
            (names(&["hub1", "hub1"]), 200),
            (names(&["hub2", "hub2"]), 200),
        ]
    );
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );
    assert!(
        app.fake()
            .requests()
            .iter()
            .all(|r| r.path == "/graphql" || r.path == "/rate_limit"),
        "no REST"
    );
}

#[tokio::test]
async fn a_refused_document_sends_the_batch_to_rest_and_says_why() {
    let graph = ring(&["bob", "carol"]);
    let app = start(graph.clone()).await;
    let message = "Fragment cannot be spread here as objects of type 'User' can never be of type 'Organization'";
    app.fake().graphql_refuse_next(message);

    let done = run_batch(&app, &["bob", "carol"]).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    let note = done.error.clone().unwrap_or_default();
    assert!(
        note.contains("invalid_query (bob, carol)") && note.contains(message),
        "{note}"
    );
    let queries = app.fake().graphql_queries();
    assert_eq!(queries.len(), 1, "a refused document is not sent again");
    assert!(!queries[0].data && queries[0].errors == [message]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'full_profile_sync' AND status = 'succeeded'")
            .await,
        2
    );
    assert!(rest_requests_for(&app, "bob") > 0 && rest_requests_for(&app, "carol") > 0);
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );
    assert_eq!(fallbacks(&app, "invalid_query").await, 2.0);
}

#[tokio::test]
async fn a_missing_graphql_endpoint_or_another_status_sends_the_batch_to_rest() {
    let graph = ring(&["bob", "carol"]);
    let app = start(graph.clone()).await;

    // A 403 that is no rate limit: `error`.
    app.fake().fail_next(1, 403);
    let done = run_batch(&app, &["bob"]).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    let note = done.error.clone().unwrap_or_default();
    assert!(
        note.contains("error (bob)") && note.contains("403"),
        "{note}"
    );

    // No `/graphql` at all: `unavailable`.
    app.fake().disable_graphql();
    let done = run_batch(&app, &["carol"]).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    let note = done.error.clone().unwrap_or_default();
    assert!(
        note.contains("unavailable (carol)") && note.contains("404"),
        "{note}"
    );

    let graphql: Vec<u16> = app
        .fake()
        .requests()
        .iter()
        .filter(|r| r.path == "/graphql")
        .map(|r| r.status)
        .collect();
    assert_eq!(graphql, [403, 404]);
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );
    assert_eq!(fallbacks(&app, "error").await, 1.0);
    assert_eq!(fallbacks(&app, "unavailable").await, 1.0);
    assert_eq!(fallbacks(&app, "timeout").await, 0.0);
}
