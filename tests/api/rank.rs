//! The follow rank (SPEC-3 C): the `developer_rank` job against an independent PageRank,
//! the rank fields, orderings, filters and cursors, `rank_computed_at`, a run that fails
//! before its commit and a worker killed half way through a run.

use std::collections::HashMap;
use std::time::Duration;

use gitomatic::jobs::JobError;
use gitomatic::jobs::developer_rank::rank_developers;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::seed::{self, Dev, get_json, get_url};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// PageRank by dense power iteration over an adjacency matrix: another implementation
/// than the job's (no sparse rows, no shares), as SPEC-3 C defines it.
fn dense_pagerank(n: usize, edges: &[(usize, usize)]) -> Vec<f64> {
    let d = 0.85;
    let mut out = vec![0usize; n];
    for &(from, _) in edges {
        out[from] += 1;
    }
    // m[to][from]: the probability of stepping from `from` to `to`.
    let mut m = vec![vec![0.0f64; n]; n];
    for &(from, to) in edges {
        m[to][from] += 1.0 / out[from] as f64;
    }
    for (from, &degree) in out.iter().enumerate() {
        if degree == 0 {
            for row in m.iter_mut() {
                row[from] = 1.0 / n as f64;
            }
        }
    }
    let mut x = vec![1.0 / n as f64; n];
    for _ in 0..100 {
        let next: Vec<f64> = (0..n)
            .map(|to| {
                (1.0 - d) / n as f64 + d * (0..n).map(|from| m[to][from] * x[from]).sum::<f64>()
            })
            .collect();
        let change: f64 = next.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum();
        x = next;
        if change < 1e-9 {
            break;
        }
    }
    let total: f64 = x.iter().sum();
    x.iter().map(|v| v / total).collect()
}

/// The small world: a cycle with a chord and a dangling end, a disconnected pair, two
/// isolated developers whose scores tie (`Zed` and `adam`: `Zed` first in byte order),
/// and a never-synced (frontier) developer followed by one of the cycle.
const LOGINS: [&str; 9] = [
    "ada", "bob", "cy", "dee", "eve", "fay", "gus", "Zed", "adam",
];
const EDGES: [(usize, usize); 9] = [
    (0, 1),
    (1, 2),
    (2, 0),
    (3, 0),
    (3, 2),
    (0, 4),
    (5, 6),
    (6, 5),
    (2, 4),
];

async fn seed_world(app: &TestApp) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for (n, login) in LOGINS.iter().enumerate() {
        let mut dev = Dev::new(1000 + n as i64, login);
        if *login != "eve" {
            dev.last_synced_at = Some(seed::at("2026-12-01T00:00:00Z"));
        }
        ids.push(seed::developer(app, dev).await);
    }
    for &(from, to) in &EDGES {
        seed::follow(app, ids[from], ids[to]).await;
    }
    ids
}

/// Every row of a list, following `next` links from `path` with `query`.
async fn walk(app: &TestApp, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let (status, body) = get_json(app, path, query).await;
    assert_eq!(status, 200, "{path} {query:?}: {body}");
    let mut rows = seed::results(&body).clone();
    let mut next = body["next"].as_str().map(str::to_owned);
    while let Some(url) = next {
        let (status, body) = get_url(app, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        rows.extend(seed::results(&body).iter().cloned());
        next = body["next"].as_str().map(str::to_owned);
    }
    rows
}

fn logins_of(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|row| row["login"].as_str().expect("a login").to_owned())
        .collect()
}

#[tokio::test]
async fn ranks_match_an_independent_pagerank_and_order_filter_and_page_the_lists() {
    let mut app = spawn_app().await;
    let ids = seed_world(&app).await;

    // Before the first run: null everywhere.
    let (_, body) = get_json(&app, "/github/developers/", &[("page_size", "100")]).await;
    for row in seed::results(&body) {
        assert!(
            row["rank"].is_null() && row["rank_score"].is_null(),
            "{row}"
        );
    }
    let (_, graph) = get_json(&app, "/github/graph/", &[]).await;
    assert!(graph["rank_computed_at"].is_null(), "{graph}");
    assert!(graph["rank_coverage"].is_null(), "{graph}");

    // Posted as a task, run by a worker.
    app.start_worker();
    let token = seed::token(&app).await;
    let task = app.run_posted_job(&token, "developer_rank").await;

    let expected = dense_pagerank(LOGINS.len(), &EDGES);
    let mut score_of = HashMap::new();
    let mut rank_of = HashMap::new();
    for (n, id) in ids.iter().enumerate() {
        let (status, row) = get_json(&app, &format!("/github/developers/{id}/"), &[]).await;
        assert_eq!(status, 200, "{row}");
        let score = row["rank_score"].as_f64().expect("a score");
        assert!(
            (score - expected[n]).abs() < 1e-9,
            "{}: {score} against {}",
            LOGINS[n],
            expected[n]
        );
        score_of.insert(LOGINS[n], score);
        rank_of.insert(LOGINS[n], row["rank"].as_i64().expect("a rank"));
    }
    let total: f64 = score_of.values().sum();
    assert!((total - 1.0).abs() < 1e-12, "{total}");
    // Ranks: 1..n, distinct, by score then login in byte order.
    let mut by_rank: Vec<&str> = LOGINS.to_vec();
    by_rank.sort_by_key(|login| rank_of[login]);
    let ranks: Vec<i64> = by_rank.iter().map(|login| rank_of[login]).collect();
    assert_eq!(ranks, (1..=LOGINS.len() as i64).collect::<Vec<_>>());
    for pair in by_rank.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            score_of[a] > score_of[b]
                || (score_of[a] == score_of[b] && a.as_bytes() < b.as_bytes()),
            "{a} before {b}: {score_of:?}"
        );
    }
    assert_eq!(score_of["Zed"], score_of["adam"], "isolated developers tie");
    assert_eq!(rank_of["Zed"] + 1, rank_of["adam"], "Zed before adam");

    // rank_computed_at: as of the request, within the task's run; the coverage.
    let (_, graph) = get_json(&app, "/github/graph/", &[]).await;
    let computed_at = chrono::DateTime::parse_from_rfc3339(
        graph["rank_computed_at"]
            .as_str()
            .expect("rank_computed_at"),
    )
    .expect("RFC 3339");
    let started = task.started_at.expect("started");
    let finished = task.finished_at.expect("finished");
    assert!(
        started <= computed_at && computed_at <= finished,
        "{computed_at} within {started}..{finished}"
    );
    assert_eq!(
        graph["rank_coverage"],
        json!({"developers": 9, "synced": 8, "frontier": 1, "follow_edges": 9,
               "dangling": 3, "iterations": graph["rank_coverage"]["iterations"]}),
        "{graph}"
    );

    // A developer stored after the run: null until the next, and last in either order.
    let late = seed::developer(&app, Dev::new(2000, "late")).await;
    let (_, row) = get_json(&app, &format!("/github/developers/{late}/"), &[]).await;
    assert!(
        row["rank"].is_null() && row["rank_score"].is_null(),
        "{row}"
    );

    // Orderings, through cursors two rows a page (the score's cursor is exact text).
    let mut ascending: Vec<String> = by_rank.iter().map(|s| s.to_string()).collect();
    let by_score_asc = {
        let mut rows: Vec<&str> = LOGINS.to_vec();
        rows.sort_by(|a, b| {
            score_of[a].total_cmp(&score_of[b]).then(
                ids[LOGINS.iter().position(|l| l == a).expect("a")]
                    .cmp(&ids[LOGINS.iter().position(|l| l == b).expect("b")]),
            )
        });
        rows.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    ascending.push("late".into());
    let mut descending: Vec<String> = by_rank.iter().rev().map(|s| s.to_string()).collect();
    descending.push("late".into());
    let mut score_up = by_score_asc.clone();
    score_up.push("late".into());
    let mut score_down: Vec<String> = by_score_asc.iter().rev().cloned().collect();
    score_down.push("late".into());
    for (ordering, wanted) in [
        ("rank", &ascending),
        ("-rank", &descending),
        ("rank_score", &score_up),
        ("-rank_score", &score_down),
    ] {
        for first in [("page", "1"), ("cursor", "")] {
            let rows = walk(
                &app,
                "/github/developers/",
                &[("ordering", ordering), ("page_size", "2"), first],
            )
            .await;
            assert_eq!(
                &logins_of(&rows),
                wanted,
                "ordering={ordering} from {first:?}"
            );
        }
        // And backwards from the end, through `previous`.
        let (_, body) = get_json(
            &app,
            "/github/developers/",
            &[("ordering", ordering), ("page_size", "3"), ("cursor", "")],
        )
        .await;
        let second = body["next"].as_str().expect("a next page").to_owned();
        let (_, body) = get_url(&app, &second).await;
        let back = body["previous"]
            .as_str()
            .expect("a previous page")
            .to_owned();
        let (_, body) = get_url(&app, &back).await;
        assert_eq!(
            logins_of(seed::results(&body)),
            wanted[..3],
            "{ordering} back"
        );
    }

    // rank__lte / rank__gte, with an ordering and within a sub-collection.
    let rows = walk(
        &app,
        "/github/developers/",
        &[("rank__lte", "3"), ("ordering", "rank")],
    )
    .await;
    assert_eq!(logins_of(&rows), ascending[..3]);
    let rows = walk(
        &app,
        "/github/developers/",
        &[("rank__gte", "8"), ("ordering", "-rank")],
    )
    .await;
    assert_eq!(
        logins_of(&rows),
        [ascending[8].clone(), ascending[7].clone()]
    );
    // A few ranks in another order (the list then starts from the ranks): pages and
    // cursors both ways, the default order, the count, a sub-collection.
    let mut by_login: Vec<String> = ascending[1..6].to_vec();
    by_login.sort();
    for first in [("page", "1"), ("cursor", "")] {
        let range = [("rank__gte", "2"), ("rank__lte", "6"), ("page_size", "2")];
        let rows = walk(
            &app,
            "/github/developers/",
            &[&range[..], &[("ordering", "login"), first]].concat(),
        )
        .await;
        assert_eq!(logins_of(&rows), by_login, "by login from {first:?}");
        let rows = walk(
            &app,
            "/github/developers/",
            &[&range[..], &[("ordering", "-login"), first]].concat(),
        )
        .await;
        let mut reversed = by_login.clone();
        reversed.reverse();
        assert_eq!(logins_of(&rows), reversed, "by -login from {first:?}");
    }
    let (_, body) = get_json(&app, "/github/developers/", &[("rank__lte", "5")]).await;
    assert_eq!(body["count"], 5, "{body}");
    let mut listed = logins_of(seed::results(&body));
    listed.sort();
    let mut top5 = ascending[..5].to_vec();
    top5.sort();
    assert_eq!(listed, top5, "{body}");
    let (low, high) = (
        rank_of["cy"].min(rank_of["dee"]),
        rank_of["cy"].max(rank_of["dee"]),
    );
    for (bound, wanted) in [
        (high, vec!["dee", "cy"]),
        (low, vec![if rank_of["cy"] == low { "cy" } else { "dee" }]),
    ] {
        let followers = walk(
            &app,
            &format!("/github/developers/{}/followers/", ids[0]),
            &[("rank__lte", &bound.to_string()), ("ordering", "-login")],
        )
        .await;
        assert_eq!(
            logins_of(&followers),
            wanted,
            "ada's followers to rank {bound}"
        );
    }
    let (status, body) = get_json(&app, "/github/developers/", &[("rank__lte", "x")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().expect("error").contains("rank__lte"),
        "{body}"
    );
    let (status, body) = get_json(&app, "/github/developers/", &[("rank_score__lte", "1")]).await;
    assert_eq!(status, 400, "rank_score is orderable only: {body}");
    assert_eq!(
        body["error"],
        "Unknown filter: rank_score__lte (rank_score orders lists but filters none)"
    );
    // ada's followers: cy and dee; by rank.
    let followers = walk(
        &app,
        &format!("/github/developers/{}/followers/", ids[0]),
        &[("ordering", "rank")],
    )
    .await;
    let mut wanted: Vec<&str> = vec!["cy", "dee"];
    wanted.sort_by_key(|login| rank_of[login]);
    assert_eq!(logins_of(&followers), wanted);
    let followers = walk(
        &app,
        &format!("/github/developers/{}/followers/", ids[0]),
        &[("rank__gte", "1"), ("ordering", "-rank_score")],
    )
    .await;
    // Highest score first is lowest rank first.
    assert_eq!(logins_of(&followers), wanted);

    // The task list filters by the name.
    let (status, body) = get_json(&app, "/github/tasks/", &[("name", "developer_rank")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 1, "{body}");

    // A second run ranks the late developer too, and the old ranks were replaced at once.
    app.run_posted_job(&token, "developer_rank").await;
    let (_, row) = get_json(&app, &format!("/github/developers/{late}/"), &[]).await;
    assert!(row["rank"].as_i64().is_some(), "{row}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM developer_ranks").await,
        10
    );
}

/// The follows a test adds to [`EDGES`] after a first run.
const ADDED_EDGES: [(usize, usize); 2] = [(7, 8), (5, 0)];

/// Every developer's `rank_score` is the independent PageRank of [`EDGES`] and
/// [`ADDED_EDGES`], to 1e-9.
async fn assert_scores_of_the_changed_graph(app: &TestApp, ids: &[Uuid]) {
    let expected = dense_pagerank(
        LOGINS.len(),
        &[EDGES.as_slice(), ADDED_EDGES.as_slice()].concat(),
    );
    for (n, id) in ids.iter().enumerate() {
        let (_, row) = get_json(app, &format!("/github/developers/{id}/"), &[]).await;
        let score = row["rank_score"].as_f64().expect("a score");
        assert!((score - expected[n]).abs() < 1e-9, "{}: {score}", LOGINS[n]);
    }
}

/// The stored ranks: (developer, rank, score bits), by developer.
async fn stored_ranks(app: &TestApp) -> Vec<(String, i64, String)> {
    let (_, body) = get_json(
        app,
        "/github/developers/",
        &[("page_size", "100"), ("ordering", "rank")],
    )
    .await;
    let mut rows: Vec<(String, i64, String)> = seed::results(&body)
        .iter()
        .map(|row| {
            (
                row["login"].as_str().expect("login").to_owned(),
                row["rank"].as_i64().unwrap_or(0),
                row["rank_score"].to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn a_run_failing_before_its_commit_leaves_the_previous_ranks_and_reruns_agree() {
    let app = spawn_app().await;
    let ids = seed_world(&app).await;
    let url = app.db.url.clone();

    let first = rank_developers(&url, || Ok(())).await.expect("a first run");
    let before = stored_ranks(&app).await;
    assert_eq!(before.len(), LOGINS.len());

    // The graph changes; a run fails after writing every new rank, before the commit.
    for (from, to) in ADDED_EDGES {
        seed::follow(&app, ids[from], ids[to]).await;
    }
    let failed = rank_developers(&url, || Err(JobError::Failed("injected".into()))).await;
    assert!(
        matches!(failed, Err(JobError::Failed(ref m)) if m == "injected"),
        "{failed:?}"
    );
    assert_eq!(stored_ranks(&app).await, before, "the previous ranks stay");
    let (_, graph) = get_json(&app, "/github/graph/", &[]).await;
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(graph["rank_computed_at"].as_str().expect("set"))
            .expect("RFC 3339"),
        first.computed_at,
        "{graph}"
    );
    assert_eq!(graph["rank_coverage"]["follow_edges"], 9, "{graph}");

    // Rerun: the new graph's ranks; once more: the same ranks, bit for bit.
    let second = rank_developers(&url, || Ok(())).await.expect("a rerun");
    let after = stored_ranks(&app).await;
    assert_ne!(after, before, "the new edges change the scores");
    assert_eq!(second.follow_edges, 11);
    let third = rank_developers(&url, || Ok(()))
        .await
        .expect("another rerun");
    assert_eq!(
        stored_ranks(&app).await,
        after,
        "a rerun stores the same ranks"
    );
    assert!(third.computed_at > second.computed_at);
    assert_scores_of_the_changed_graph(&app, &ids).await;
}

#[tokio::test]
async fn a_worker_killed_half_way_through_a_run_leaves_the_previous_ranks_and_the_rerun_agrees() {
    let mut app = spawn_app_with(|env| {
        env.insert("TASK_LEASE_SECS".into(), "4".into());
    })
    .await;
    let ids = seed_world(&app).await;
    let first = rank_developers(&app.db.url, || Ok(()))
        .await
        .expect("a first run");
    let before = stored_ranks(&app).await;
    for (from, to) in ADDED_EDGES {
        seed::follow(&app, ids[from], ids[to]).await;
    }

    // Hold the run's row: a worker's run reads the graph, computes, deletes the previous
    // ranks and copies every new one in, then waits inside its transaction to record itself.
    use diesel_async::{AnsiTransactionManager, RunQueryDsl, TransactionManager};
    let mut holder = app.db.connect().await;
    AnsiTransactionManager::begin_transaction(&mut holder)
        .await
        .expect("begin");
    diesel::sql_query("LOCK TABLE developer_rank_run IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .expect("lock");
    let mut worker = crate::helpers::binary_command(&app.env, &["worker"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the worker starts");
    let token = seed::token(&app).await;
    let response = app
        .http
        .post(format!("{}/github/tasks/", app.address))
        .bearer_auth(&token)
        .json(&json!({"name": "developer_rank"}))
        .send()
        .await
        .expect("trigger");
    assert_eq!(response.status(), 202);
    let task: Value = response.json().await.expect("the task");
    let task_id = Uuid::parse_str(task["id"].as_str().expect("an id")).expect("a uuid");
    app.wait_for_lock_wait(
        "the worker's run waiting to record itself",
        "INSERT INTO developer_rank_run%",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM developer_ranks").await,
        LOGINS.len() as i64,
        "readers see the previous ranks while the new ones are uncommitted"
    );
    worker.kill().expect("SIGKILL");
    let _ = worker.wait();
    // Its server process, waiting for the lock, notices the closed connection only once it
    // has the lock and reads its next command; it then rolls the transaction back.
    AnsiTransactionManager::rollback_transaction(&mut holder)
        .await
        .expect("release");
    drop(holder);
    app.wait_for("the killed worker's connection gone", || async {
        app.count(
            "SELECT count(*) AS n FROM pg_stat_activity
             WHERE query LIKE 'INSERT INTO developer_rank_run%' AND pid <> pg_backend_pid()",
        )
        .await
            == 0
    })
    .await;

    assert_eq!(stored_ranks(&app).await, before, "the previous ranks stay");
    let (_, graph) = get_json(&app, "/github/graph/", &[]).await;
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(graph["rank_computed_at"].as_str().expect("set"))
            .expect("RFC 3339"),
        first.computed_at,
        "{graph}"
    );

    // Another worker takes the task over once its lease expired and ranks the new graph.
    app.start_worker();
    let done = app.wait_for_task(task_id, Duration::from_secs(60)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(done.attempts, 2, "{done:?}");
    let after = stored_ranks(&app).await;
    assert_scores_of_the_changed_graph(&app, &ids).await;
    rank_developers(&app.db.url, || Ok(()))
        .await
        .expect("a rerun");
    assert_eq!(
        stored_ranks(&app).await,
        after,
        "a rerun stores the same ranks"
    );
}
