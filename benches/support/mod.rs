//! What the benchmarks share: a database of the run's own, the app's configuration
//! against the fake GitHub, and clean-up of the run's queues.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use gitomatic::config::Config;
use gitomatic::context::AppContext;
use gitomatic::jobs::Registry;
use gitomatic::queue::Topology;
use gitomatic::queue::topology::DELAY_BUCKETS;
use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};

/// Every job kind gitomatic has, as the API, the worker and the scheduler take them.
pub fn registry() -> Arc<Registry> {
    Arc::new(Registry::builtin())
}

/// A freshly created and migrated database of the run's own, dropped `WITH (FORCE)` at the
/// end — unless it was named by the caller ([`BenchDb::kept`]), which keeps it.
pub struct BenchDb {
    /// The database's name.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// Whether it outlives the run.
    keep: bool,
}

impl BenchDb {
    /// A new database, dropped at the end unless `BENCH_KEEP_DATABASE=1` (then its name is
    /// printed, to look at the seeded data with `psql` afterwards).
    pub async fn create() -> anyhow::Result<BenchDb> {
        let name = format!("gitomatic_bench_{}", uuid::Uuid::new_v4().simple());
        let keep = std::env::var("BENCH_KEEP_DATABASE").is_ok_and(|value| value == "1");
        Self::created(name, keep).await
    }

    /// The database `name`, kept after the run: `(db, true)` when it already existed (a
    /// previous run seeded it), else created and migrated now, `(db, false)`.
    pub async fn kept(name: &str) -> anyhow::Result<(BenchDb, bool)> {
        anyhow::ensure!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a kept benchmark database name takes letters, digits and underscores, got {name:?}"
        );
        #[derive(diesel::QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }
        let mut admin = admin_connection().await?;
        let found: Exists = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
        )
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result(&mut admin)
        .await?;
        if found.exists {
            return Ok((Self::migrated(name.to_owned(), true).await?, true));
        }
        Ok((Self::created(name.to_owned(), true).await?, false))
    }

    async fn created(name: String, keep: bool) -> anyhow::Result<BenchDb> {
        let mut admin = admin_connection().await?;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        Self::migrated(name, keep).await
    }

    /// The existing database `name`, its pending migrations run.
    async fn migrated(name: String, keep: bool) -> anyhow::Result<BenchDb> {
        let db = BenchDb {
            url: format!("{}/{name}", postgres_server()),
            name,
            keep,
        };
        gitomatic::db::run_pending_migrations(&db.url).await?;
        Ok(db)
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if self.keep {
            println!("kept the benchmark database {}", self.name);
            return;
        }
        let drop_database = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs outside async context: a private runtime on a plain thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let mut admin = admin_connection().await?;
                diesel::sql_query(drop_database).execute(&mut admin).await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "warning: could not drop the benchmark database {}",
                self.name
            );
        }
    }
}

/// A number from the environment, `default` when unset or not a number.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The PostgreSQL server of the tests (`TEST_POSTGRES_URL`), without a database name.
pub fn postgres_server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub async fn admin_connection() -> anyhow::Result<AsyncPgConnection> {
    let url = format!("{}/postgres", postgres_server());
    AsyncPgConnection::establish(&url)
        .await
        .with_context(|| format!("connect to {url} (is PostgreSQL running?)"))
}

/// The app's configuration: its own database and queue prefix, the fake GitHub, no pacing
/// and no quota reserve, plus `extra` variables.
pub fn config(
    database_url: &str,
    github_url: &str,
    extra: &[(&'static str, String)],
) -> anyhow::Result<Config> {
    config_of(&app_env(database_url, github_url, extra))
}

/// The variables `config` reads, for a `gitomatic` process of the real binary to get the
/// same configuration (`QUEUE_PREFIX` included).
pub fn app_env(
    database_url: &str,
    github_url: &str,
    extra: &[(&'static str, String)],
) -> HashMap<&'static str, String> {
    let mut env: HashMap<&'static str, String> = HashMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        (
            "QUEUE_PREFIX",
            format!("bench-{}", uuid::Uuid::new_v4().simple()),
        ),
        ("GITHUB_API_URL", github_url.to_owned()),
        ("GITHUB_MAX_RPS", "1000000".to_owned()),
        ("GITHUB_QUOTA_RESERVE", "0".to_owned()),
    ]);
    env.extend(extra.iter().cloned());
    env
}

/// The app's configuration from exactly these variables.
pub fn config_of(env: &HashMap<&'static str, String>) -> anyhow::Result<Config> {
    Ok(Config::from_lookup(
        &gitomatic::jobs::Registry::builtin().schedules(),
        |name| env.get(name).cloned(),
    )?)
}

/// Deletes the queues and exchanges under the run's QUEUE_PREFIX: they are durable and
/// would otherwise stay in the broker after every run.
pub async fn delete_topology(ctx: &AppContext) -> anyhow::Result<()> {
    let topology = Topology::new(&ctx.config.queue_prefix);
    let channel = ctx.broker.channel().await?;
    let delay_queues = DELAY_BUCKETS.map(|bucket| topology.delay_queue(bucket));
    for queue in [topology.jobs(), topology.dead_queue()]
        .into_iter()
        .chain(delay_queues)
    {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await?;
    }
    for exchange in [topology.jobs(), topology.dead_letter_exchange()] {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await?;
    }
    Ok(())
}

/// Sends `count` sequential GETs (after a warm-up) and returns p50 and p99 in milliseconds.
pub async fn measure(http: &reqwest::Client, url: &str, count: u64) -> anyhow::Result<(f64, f64)> {
    for _ in 0..10 {
        http.get(url).send().await?.error_for_status()?;
    }
    let mut samples: Vec<Duration> = Vec::new();
    for _ in 0..count {
        let started = Instant::now();
        let response = http.get(url).send().await?.error_for_status()?;
        response.bytes().await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok((percentile_ms(&samples, 0.5), percentile_ms(&samples, 0.99)))
}

/// The `q` quantile of sorted samples, in milliseconds (NaN when there are none).
pub fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted
        .get(index)
        .map_or(f64::NAN, |sample| sample.as_secs_f64() * 1000.0)
}

/// One GET, its status and whole body; errors say which request failed.
pub async fn get(
    http: &reqwest::Client,
    url: &str,
) -> anyhow::Result<(reqwest::StatusCode, Vec<u8>)> {
    let response = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .with_context(|| format!("read the body of GET {url}"))?;
    Ok((status, body.to_vec()))
}

/// The start of a body, for an error message.
pub fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
}

/// Latency and throughput of one case under concurrent load.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Completed requests per second of wall-clock time over the measured requests.
    pub per_second: f64,
    /// Requests measured (fewer than asked when the time budget ran out).
    pub requests: usize,
}

/// Sends `count` GETs from `concurrency` clients at once, request `i` to `urls[i % len]`,
/// after a warm-up of every URL once (and at least one request per client); every answer
/// must have status `expected`, its body read whole. No request starts after `budget`
/// (so a pathologically slow case measures fewer). Returns p50, p99 and throughput.
pub async fn measure_concurrent(
    http: &reqwest::Client,
    urls: &[String],
    expected: reqwest::StatusCode,
    count: u64,
    concurrency: usize,
    budget: Duration,
) -> anyhow::Result<Latency> {
    anyhow::ensure!(!urls.is_empty(), "no URL to measure");
    let urls = Arc::new(urls.to_vec());
    let warm_up = (urls.len() as u64).max(concurrency as u64);
    load(http, &urls, expected, warm_up, concurrency, budget).await?;
    let started = Instant::now();
    let mut samples = load(http, &urls, expected, count, concurrency, budget).await?;
    let wall = started.elapsed();
    samples.sort();
    Ok(Latency {
        p50_ms: percentile_ms(&samples, 0.5),
        p99_ms: percentile_ms(&samples, 0.99),
        per_second: samples.len() as f64 / wall.as_secs_f64(),
        requests: samples.len(),
    })
}

/// `count` GETs from `concurrency` tasks sharing one counter, none started after `budget`;
/// each request's latency.
async fn load(
    http: &reqwest::Client,
    urls: &Arc<Vec<String>>,
    expected: reqwest::StatusCode,
    count: u64,
    concurrency: usize,
    budget: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let deadline = Instant::now() + budget;
    let next = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (http, urls, next) = (http.clone(), Arc::clone(urls), Arc::clone(&next));
            tokio::spawn(async move {
                let mut samples = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || Instant::now() >= deadline {
                        return anyhow::Ok(samples);
                    }
                    let url = &urls[(i % urls.len() as u64) as usize];
                    let started = Instant::now();
                    let (status, body) = get(&http, url).await?;
                    samples.push(started.elapsed());
                    if status != expected {
                        let shown = snippet(&body);
                        anyhow::bail!("GET {url} answered {status}, expected {expected}: {shown}");
                    }
                }
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(count as usize);
    for client in clients {
        samples.extend(client.await.context("a load client panicked")??);
    }
    Ok(samples)
}
