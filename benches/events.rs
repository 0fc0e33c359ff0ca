//! Event-metrics benchmark: 1,000,000 stored events (18 types, 10,000 repositories, 30 days),
//! then p50/p99 of each metric over real HTTP, sequentially, each request of a row cycling
//! through the event types (or repositories).
//!
//! `cargo bench --bench events`; `BENCH_EVENTS` (default 1000000) and `BENCH_EVENTS_REQUESTS`
//! (default 200 per row) scale it. Needs PostgreSQL on 127.0.0.1:5432 (RabbitMQ is not used:
//! nothing is enqueued).

#[path = "support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use gitomatic::context::AppContext;
use gitomatic::github::types::EVENT_TYPES;

const REPOSITORIES: u64 = 10_000;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let events = env_number("BENCH_EVENTS", 1_000_000);
    let requests = env_number("BENCH_EVENTS_REQUESTS", 200);
    let db = support::BenchDb::create().await?;
    let mut conn = AsyncPgConnection::establish(&db.url).await?;
    let started = Instant::now();
    seed(&mut conn, events).await?;
    println!(
        "seeded {events} events (with their 6 indexes) and vacuumed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let ctx = AppContext::new(support::config(&db.url, "http://127.0.0.1:9", &[])?)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(gitomatic::api::serve(ctx, support::registry(), listener)?);
    let http = reqwest::Client::new();

    let types = || EVENT_TYPES.iter().copied();
    let repository = |n: u64| format!("owner{}/repo", (n * 7) % REPOSITORIES);
    let rows: Vec<(&str, Vec<String>)> = vec![
        (
            "event-avg-time?event_type=T",
            types()
                .map(|t| format!("{base}/github/metrics/event-avg-time?event_type={t}"))
                .collect(),
        ),
        (
            "event-avg-time?event_type=IssuesEvent&action=opened",
            vec![format!(
                "{base}/github/metrics/event-avg-time?event_type=IssuesEvent&action=opened"
            )],
        ),
        (
            "event-avg-time?event_type=T&repository_name=R",
            (0..100)
                .map(|n| {
                    format!(
                        "{base}/github/metrics/event-avg-time?event_type={}&repository_name={}",
                        EVENT_TYPES[n as usize % EVENT_TYPES.len()],
                        repository(n)
                    )
                })
                .collect(),
        ),
        (
            "events-total-count?offset=60",
            vec![format!("{base}/github/metrics/events-total-count?offset=60")],
        ),
        (
            "events-total-count?offset=1440 (a day)",
            vec![format!("{base}/github/metrics/events-total-count?offset=1440")],
        ),
        (
            "events-total-count?offset=1440&repository_name=R",
            (0..100)
                .map(|n| {
                    format!(
                        "{base}/github/metrics/events-total-count?offset=1440&repository_name={}",
                        repository(n)
                    )
                })
                .collect(),
        ),
        (
            "events-total-count?offset=43200 (all 30 days)",
            vec![format!(
                "{base}/github/metrics/events-total-count?offset=43200"
            )],
        ),
        (
            "multiple-events-repos?event_type=T",
            types()
                .map(|t| format!("{base}/github/metrics/multiple-events-repos?event_type={t}"))
                .collect(),
        ),
        (
            "multiple-events-repos?event_type=T&minimal_events_count=10",
            types()
                .map(|t| {
                    format!(
                        "{base}/github/metrics/multiple-events-repos?event_type={t}&minimal_events_count=10"
                    )
                })
                .collect(),
        ),
        (
            "visualization/event-avg-time (18 charts)",
            vec![format!("{base}/github/visualization/event-avg-time")],
        ),
        (
            "visualization/events-total-count?offset=1440",
            vec![format!(
                "{base}/github/visualization/events-total-count?offset=1440"
            )],
        ),
    ];
    println!();
    println!("| request ({requests} each, sequential) | p50 ms | p99 ms |");
    println!("|---|---|---|");
    for (label, urls) in rows {
        let (p50, p99) = measure(&http, &urls, requests).await?;
        println!("| {label} | {p50:.1} | {p99:.1} |");
    }
    Ok(())
}

/// One `INSERT ... SELECT generate_series` (types, repositories, actors and times spread by
/// multiplicative hashing of the row number), then `VACUUM ANALYZE`.
async fn seed(conn: &mut AsyncPgConnection, events: u64) -> anyhow::Result<()> {
    let types = EVENT_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    diesel::sql_query(format!(
        "INSERT INTO events (github_id, type, action, actor_login, repository_name, org_login, \
                             created_at, fetched_at, payload) \
         SELECT 40000000000 + g, t.type, \
                CASE WHEN t.type IN ('IssuesEvent', 'PullRequestEvent') \
                          THEN (ARRAY['opened', 'closed', 'reopened'])[1 + (g * 31 % 3)::int] \
                     WHEN t.type = 'WatchEvent' THEN 'started' \
                     WHEN t.type IN ('IssueCommentEvent', 'PullRequestReviewEvent') THEN 'created' \
                END, \
                'actor' || (g * 40503 % 50000), \
                'owner' || (g * 16807 % {REPOSITORIES}) || '/repo', \
                CASE WHEN g % 3 = 0 THEN 'owner' || (g * 16807 % {REPOSITORIES}) END, \
                now() - (g * 48271 % 2592000) * interval '1 second', now(), \
                jsonb_build_object('ref', 'refs/heads/main', 'head', md5(g::text), \
                                   'before', md5((g + 1)::text), 'size', g % 20) \
         FROM generate_series(1::bigint, {events}) AS g \
         CROSS JOIN LATERAL (SELECT (ARRAY[{types}])[1 + (g * 2654435761 % 18)::int] AS type) t"
    ))
    .execute(conn)
    .await?;
    diesel::sql_query("VACUUM ANALYZE events")
        .execute(conn)
        .await?;
    Ok(())
}

/// Sends `count` sequential GETs cycling through `urls` (after a warm-up round) and returns
/// p50 and p99 in milliseconds.
async fn measure(
    http: &reqwest::Client,
    urls: &[String],
    count: u64,
) -> anyhow::Result<(f64, f64)> {
    for url in urls.iter().cycle().take(urls.len().max(10)) {
        http.get(url).send().await?.error_for_status()?;
    }
    let mut samples: Vec<Duration> = Vec::new();
    for url in urls.iter().cycle().take(count as usize) {
        let started = Instant::now();
        let response = http.get(url).send().await?.error_for_status()?;
        response.bytes().await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    Ok((at(0.5), at(0.99)))
}
