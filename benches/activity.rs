//! Repository-activity benchmark: tracked repositories with generated activity synced from
//! the fake GitHub, then synced again unchanged; prints the quota each phase cost per
//! repository beside what Perceval-style collection spends on the same fake (every issue
//! page, one request per pull request for its merged state, every timeline page, every run,
//! no conditional requests).
//!
//! `cargo bench --bench activity`; `BENCH_REPOSITORIES=10` sets the number of tracked
//! repositories (default 10, each with 60 issues and 40 pull requests).
//! Needs PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672, like the tests.

#[path = "../tests/api/helpers/fake_github.rs"]
mod fake_github;
#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use gitomatic::context::AppContext;
use gitomatic::db::queries::tracked;
use gitomatic::domain::FullName;
use gitomatic::jobs::{self, BackgroundJob, IssueTimelineSync, RepositoryActivitySync};
use tokio::sync::watch;

use fake_github::{FakeGithub, Graph};

const DEFAULT_REPOSITORIES: usize = 10;
const ISSUES: usize = 60;
const PULLS: usize = 40;
const SEED: u64 = 7;
const QUOTA: u32 = 10_000_000;
const POLL: Duration = Duration::from_millis(20);
const IDLE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What one phase cost, as the fake counted it.
#[derive(Clone, Copy, Debug)]
struct Cost {
    /// Requests that cost quota.
    quota: usize,
    /// 304 answers (free).
    not_modified: usize,
    elapsed: Duration,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let repositories = repositories_from_env()?;
    let (graph, names) = world(repositories);
    let fake = FakeGithub::start(graph).await;
    fake.set_quota(QUOTA, QUOTA, chrono::Utc::now().timestamp() + 3600);
    let db = support::BenchDb::create().await?;
    let ctx = AppContext::new(support::config(
        &db.url,
        &fake.url,
        &[("WORKER_CONCURRENCY", "4".to_owned())],
    )?)?;
    let mut conn = AsyncPgConnection::establish(&db.url).await?;
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(gitomatic::worker::run(
        ctx.clone(),
        support::registry(),
        stopped,
    ));

    for name in &names {
        tracked::track_repository(&mut *ctx.conn().await?, name.as_str(), None).await?;
    }
    // The first sync; it enqueues the timeline syncs of what it stored.
    let first = phase(&fake, &mut conn, || sync_all(&ctx, &names, false)).await?;
    // The first re-sync moves every walk to its watermark (one `since` page each).
    let settle = phase(&fake, &mut conn, || sync_all(&ctx, &names, true)).await?;
    // Nothing changed since: what a routine ACTIVITY_CRON + TIMELINE_CRON tick costs.
    let unchanged = phase(&fake, &mut conn, || sync_all(&ctx, &names, true)).await?;
    let perceval = perceval_style(&fake, &names).await?;

    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), worker).await;
    if let Err(error) = support::delete_topology(&ctx).await {
        eprintln!("warning: could not delete the benchmark's queues: {error}");
    }
    report(
        &fake.graph(),
        repositories,
        first,
        settle,
        unchanged,
        perceval,
    );
    Ok(())
}

fn repositories_from_env() -> anyhow::Result<usize> {
    let Ok(value) = std::env::var("BENCH_REPOSITORIES") else {
        return Ok(DEFAULT_REPOSITORIES);
    };
    let n: usize = value
        .trim()
        .parse()
        .with_context(|| format!("BENCH_REPOSITORIES={value:?}: expected a whole number"))?;
    ensure!(n > 0, "BENCH_REPOSITORIES must be at least 1");
    Ok(n)
}

/// `n` repositories of one owner, each with generated activity; statistics computed.
fn world(n: usize) -> (Graph, Vec<FullName>) {
    let mut graph = Graph::default();
    let owner = graph.add_user("bench-owner");
    let mut names = Vec::new();
    for k in 0..n {
        let repo = graph.add_repo(owner, &format!("project-{k}"));
        graph.generate_activity(repo, ISSUES, PULLS, SEED + k as u64);
        graph.activity.stats_cached.insert(repo);
        names.push(FullName::parse(&graph.full_name(repo)).expect("a valid name"));
    }
    (graph, names)
}

/// Enqueues an activity sync (and, when `timelines`, a timeline sync) per repository and
/// waits until every task is done.
async fn sync_all(ctx: &AppContext, names: &[FullName], timelines: bool) -> anyhow::Result<()> {
    for name in names {
        jobs::enqueue(ctx, &RepositoryActivitySync::of(name.clone()).to_task()?).await?;
        if timelines {
            let task = IssueTimelineSync {
                full_name: name.clone(),
            };
            jobs::enqueue(ctx, &task.to_task()?).await?;
        }
    }
    Ok(())
}

/// Runs `start`, waits until no task is active, and returns what the fake counted.
async fn phase<F, Fut>(
    fake: &FakeGithub,
    conn: &mut AsyncPgConnection,
    start: F,
) -> anyhow::Result<Cost>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let before = fake.requests().len();
    let started = Instant::now();
    start().await?;
    let deadline = Instant::now() + IDLE_TIMEOUT;
    loop {
        let active: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'running', 'deferred')",
        )
        .get_result(conn)
        .await?;
        if active.n == 0 {
            break;
        }
        ensure!(Instant::now() < deadline, "tasks still active");
        tokio::time::sleep(POLL).await;
    }
    #[derive(QueryableByName)]
    struct Failed {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        error: String,
    }
    let failed: Vec<Failed> = diesel::sql_query(
        "SELECT name, coalesce(error, '') AS error FROM tasks WHERE status = 'failed'",
    )
    .load(conn)
    .await?;
    if let [first, ..] = failed.as_slice() {
        anyhow::bail!(
            "{} tasks failed; the first, {}: {}",
            failed.len(),
            first.name,
            first.error
        );
    }
    let log = fake.requests();
    let since = log.get(before..).unwrap_or_default();
    let api = since
        .iter()
        .filter(|r| r.path.trim_end_matches('/') != "/rate_limit");
    Ok(Cost {
        quota: api.clone().filter(|r| r.costs_quota).count(),
        not_modified: api.filter(|r| r.status == 304).count(),
        elapsed: started.elapsed(),
    })
}

/// One Perceval-style run over the same fake: every page of every repository's issues, one
/// `GET /pulls/{n}` per pull request, every page of every timeline; no ETags.
async fn perceval_style(fake: &FakeGithub, names: &[FullName]) -> anyhow::Result<Cost> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let before = fake.requests().len();
    let started = Instant::now();
    for name in names {
        let first = format!("{}/repos/{name}/issues?state=all&per_page=100", fake.url);
        for page in walk(&http, first).await? {
            for issue in page.as_array().context("an issue page")? {
                let number = issue["number"].as_i64().context("a number")?;
                if issue.get("pull_request").is_some() {
                    let url = format!("{}/repos/{name}/pulls/{number}", fake.url);
                    http.get(url).send().await?.error_for_status()?;
                }
                let timeline = format!(
                    "{}/repos/{name}/issues/{number}/timeline?per_page=100",
                    fake.url
                );
                walk(&http, timeline).await?;
            }
        }
    }
    let log = fake.requests();
    let since = log.get(before..).unwrap_or_default();
    Ok(Cost {
        quota: since.iter().filter(|r| r.costs_quota).count(),
        not_modified: 0,
        elapsed: started.elapsed(),
    })
}

/// Every page of a list, along `Link: rel="next"`.
async fn walk(http: &reqwest::Client, first: String) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut pages = Vec::new();
    let mut next = Some(first);
    while let Some(url) = next {
        let response = http.get(&url).send().await?.error_for_status()?;
        next = response
            .headers()
            .get("link")
            .and_then(|link| link.to_str().ok())
            .and_then(next_link);
        pages.push(response.json().await?);
    }
    Ok(pages)
}

fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"")
            .then(|| target.trim().trim_matches(['<', '>']).to_owned())
    })
}

fn report(
    graph: &Graph,
    repositories: usize,
    first: Cost,
    settle: Cost,
    unchanged: Cost,
    perceval: Cost,
) {
    let issues: usize = graph.activity.issues.len();
    let items: usize = graph
        .activity
        .issues
        .values()
        .map(|issue| issue.timeline.len())
        .sum();
    println!(
        "gitomatic activity benchmark: {repositories} tracked repositories, {issues} issues and \
         pull requests, {items} timeline items, fake GitHub at zero latency"
    );
    println!();
    println!(
        "{:<46} {:>10} {:>12} {:>8} {:>10}",
        "phase", "quota", "per repo", "304s", "seconds"
    );
    let row = |label: &str, cost: Cost| {
        println!(
            "{label:<46} {:>10} {:>12.2} {:>8} {:>10.1}",
            cost.quota,
            cost.quota as f64 / repositories as f64,
            cost.not_modified,
            cost.elapsed.as_secs_f64()
        );
    };
    row("first sync (activity + timelines)", first);
    row("first re-sync (walks move to watermarks)", settle);
    row("unchanged re-sync (activity + timelines)", unchanged);
    row("Perceval-style run, same fake (no ETags)", perceval);
}
