//! Crawl benchmark: a generated follower graph crawled from the fake GitHub at zero latency,
//! then re-crawled unchanged — once REST-only (anonymous, as before) and once with a pool of
//! three tokens and GraphQL-batched first syncs; prints throughput, REST requests and
//! GraphQL points per developer.
//!
//! `cargo bench --bench crawl`; `BENCH_DEVELOPERS=300` sets the graph size (default 5000).
//! `BENCH_CRAWL_MODES=rest` (or `graphql`) runs only that crawl (default `rest,graphql`).
//! `BENCH_ORDERING_INDEXES` sets the list ordering indexes of `developers` and
//! `repositories`, every crawler upsert's write cost (issue 22): `one` (default) keeps the
//! schema as migrated, one `(field ASC NULLS LAST, id)` b-tree per orderable field; `two`
//! adds back the descending twins that migration `2026-12-07-000020_one_index_per_ordering`
//! dropped (its `down.sql`); `none` drops every `*_asc_idx` and `*_trgm_idx` and recreates
//! the core's single-column indexes that `2026-12-04-000001_graph_at_scale` replaced — the
//! schema before the ordering indexes were added. `BENCH_SEARCH_INDEX=off` drops the
//! full-text search's triggers and GIN indexes (issue 24) to measure what they cost the
//! crawl (default `on`).
//! After each crawl it prints the rows written to `developers`, `repositories`, `follows` and
//! `stars` (inserted, updated, of which HOT), PostgreSQL's own count of the write work.
//! `RUST_LOG=info` also prints the app's log on stderr.
//!
//! Scale-out (issue 22): `BENCH_CRAWL_WORKERS=1,2,4` runs, instead of the crawls above, one
//! REST-only (anonymous) first crawl per listed count of worker processes, each on a fresh
//! database and queue prefix: that many `gitomatic worker` OS processes of this build
//! (`WORKER_CONCURRENCY` 8 each, scheduled jobs off, killed at the end or on an error) crawl
//! the same graph from the fake GitHub, which answers every request after
//! `BENCH_CRAWL_LATENCY_MS` (default 50); prints a Markdown table of GitHub responses and
//! developers synced per second. `BENCH_DEVELOPERS` defaults to 2000 there. The fake's
//! quota never binds unless `BENCH_CRAWL_QUOTA` sets the requests a window allows, windows
//! lasting `BENCH_CRAWL_WINDOW_SECS` (default 60): a ceiling of quota / window responses a
//! second, which the workers meet by deferring to the reset as they would against GitHub.
//! `BENCH_CRAWL_MODES` does not apply to it; `BENCH_ORDERING_INDEXES` and `RUST_LOG` (passed
//! to the worker processes, `warn` when unset) do.
//! Needs PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672, like the tests.

#[path = "../tests/api/helpers/fake_github.rs"]
mod fake_github;
#[path = "support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::{StreamExt, stream};
use gitomatic::context::AppContext;
use gitomatic::db::queries::developers::Picked;
use gitomatic::db::queries::tasks::{self, TaskRow};
use gitomatic::domain::GithubLogin;
use gitomatic::jobs::{self, BackgroundJob, DiscoveryScraper, FullProfileSync};
use gitomatic::queue::Topology;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use fake_github::{FakeGithub, Graph, LoggedRequest};

const DEFAULT_DEVELOPERS: usize = 5000;
/// Graph size of the scale-out runs (`BENCH_CRAWL_WORKERS`).
const SCALE_OUT_DEVELOPERS: usize = 2000;
/// The fake's latency in the scale-out runs, in milliseconds.
const SCALE_OUT_LATENCY_MS: u64 = 50;
/// Length of the fake's quota windows when `BENCH_CRAWL_QUOTA` is set, in seconds.
const DEFAULT_WINDOW_SECS: u64 = 60;
/// How long worker processes may take to start consuming.
const PROCESS_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long worker processes may take to stop after SIGTERM before they are killed.
const PROCESS_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Seed of the generated graph, fixed so that runs compare.
const GRAPH_SEED: u64 = 42;
const WORKER_CONCURRENCY: u16 = 8;
const DISCOVERY_BATCH: usize = 500;
/// Items per page gitomatic asks for (`per_page=100`), which the ideal assumes.
const PER_PAGE: usize = 100;
/// Quota so large that the throttle never defers.
const QUOTA: u32 = 10_000_000;
/// Enqueues in flight at once when triggering the re-crawl.
const ENQUEUE_CONCURRENCY: usize = 16;
const POLL: Duration = Duration::from_millis(20);
const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const TASK_TIMEOUT: Duration = Duration::from_secs(60);

const ACTIVE_TASKS: &str =
    "SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'running', 'deferred')";
const UNSYNCED_DEVELOPERS: &str =
    "SELECT count(*) AS n FROM developers WHERE last_synced_at IS NULL";
const STORED_DEVELOPERS: &str = "SELECT count(*) AS n FROM developers";
const PROFILE_SYNC_LEDGER: &str =
    "SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
        count(*) FILTER (WHERE status = 'failed') AS failed,
        coalesce(sum(github_requests), 0)::bigint AS requests
     FROM tasks WHERE name IN ('full_profile_sync', 'graphql_profile_batch')";
/// Tokens of the pooled run (the fake keeps a quota per token).
const TOKENS: &str = "ghp_benchTokenOne,ghp_benchTokenTwo,ghp_benchTokenThree";

/// How the crawler is configured for a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Anonymous: REST only, as the service always crawled.
    RestOnly,
    /// Three tokens, GraphQL batches for never-synced developers (the README's default).
    PooledGraphql,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::RestOnly => "REST only",
            Mode::PooledGraphql => "3 tokens + GraphQL",
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        // The app's JSON log lines on stderr, for looking into a slow run.
        gitomatic::telemetry::init();
    }
    let indexes = OrderingIndexes::from_env()?;
    if let Some(counts) = worker_processes_from_env()? {
        return scale_out(&counts, indexes).await;
    }
    let developers = developers_from_env(DEFAULT_DEVELOPERS)?;
    let modes = modes_from_env()?;
    let graph = Graph::generate(developers, GRAPH_SEED);
    let ideal = ideal_first_syncs(&graph);
    let (seed_id, seed) = graph
        .users
        .values()
        .next()
        .map(|user| (user.id, user.login.clone()))
        .context("the generated graph has no developer")?;

    let mut runs = Vec::new();
    let mut index_counts = (0, 0);
    for &mode in &modes {
        let mut bench = Bench::start(graph.clone(), mode, indexes).await?;
        index_counts = bench.index_counts().await?;
        let first = bench.first_crawl(&seed, developers).await?;
        let second = bench.recrawl().await?;
        let writes = bench.stop().await;
        runs.push((mode, first, second));
        match writes {
            Ok(writes) => print_writes(mode, &writes),
            Err(error) => eprintln!("warning: could not read the rows written: {error:#}"),
        }
    }

    let seed_ideal = ideal.get(&seed_id).copied().unwrap_or_default();
    let crawl_ideal = ideal.values().sum();
    let (mode, first, second) = &runs[0];
    let (on_developers, on_repositories) = index_counts;
    println!(
        "ordering indexes: {} ({on_developers} indexes on developers, {on_repositories} on \
         repositories); search vector and index: {}; throughput below: {}",
        indexes.label(),
        if search_index_from_env()? {
            "on"
        } else {
            "off"
        },
        mode.label()
    );
    print_report(developers, &seed, seed_ideal, crawl_ideal, first, second);
    println!();
    print_spend_table(developers, crawl_ideal, &runs);
    Ok(())
}

/// REST requests, GraphQL points and their sum per developer, for each mode and phase.
fn print_spend_table(developers: usize, crawl_ideal: usize, runs: &[(Mode, FirstCrawl, Phase)]) {
    let per = |n: f64| n / developers as f64;
    println!(
        "{:<34} {:>10} {:>10} {:>14} {:>10}",
        "quota spent", "REST req.", "GQL points", "sum", "per dev."
    );
    for (mode, first, second) in runs {
        for (phase, p) in [
            ("first crawl", &first.phase),
            ("unchanged re-crawl", second),
        ] {
            let sum = p.rest as f64 + p.graphql_points as f64;
            println!(
                "{:<34} {:>10} {:>10} {:>14} {:>10.3}",
                format!("{}: {phase}", mode.label()),
                p.rest,
                p.graphql_points,
                sum,
                per(sum)
            );
        }
    }
    println!(
        "{:<34} {:>10} {:>10} {:>14} {:>10.3}",
        "REST ideal: first crawl",
        crawl_ideal,
        0,
        crawl_ideal,
        per(crawl_ideal as f64)
    );
}

/// `BENCH_DEVELOPERS`, or `default`.
fn developers_from_env(default: usize) -> anyhow::Result<usize> {
    let Ok(value) = std::env::var("BENCH_DEVELOPERS") else {
        return Ok(default);
    };
    let developers: usize = value
        .trim()
        .parse()
        .with_context(|| format!("BENCH_DEVELOPERS={value:?}: expected a whole number"))?;
    ensure!(developers > 0, "BENCH_DEVELOPERS must be at least 1");
    Ok(developers)
}

/// `BENCH_CRAWL_MODES`: a comma-separated list of `rest` and `graphql`, run in that order.
fn modes_from_env() -> anyhow::Result<Vec<Mode>> {
    let Ok(value) = std::env::var("BENCH_CRAWL_MODES") else {
        return Ok(vec![Mode::RestOnly, Mode::PooledGraphql]);
    };
    let modes = value
        .split(',')
        .map(|name| match name.trim() {
            "rest" => Ok(Mode::RestOnly),
            "graphql" => Ok(Mode::PooledGraphql),
            other => anyhow::bail!(
                "BENCH_CRAWL_MODES={value:?}: {other:?} is not a crawl mode (rest, graphql)"
            ),
        })
        .collect::<anyhow::Result<Vec<Mode>>>()?;
    ensure!(!modes.is_empty(), "BENCH_CRAWL_MODES names no crawl mode");
    Ok(modes)
}

// ---------------------------------------------------------------------------
// Scale-out: worker processes
// ---------------------------------------------------------------------------

/// The fake's quota in the scale-out runs: `requests` per window of `window`.
#[derive(Clone, Copy)]
struct QuotaWindow {
    requests: u32,
    window: Duration,
}

impl QuotaWindow {
    /// `BENCH_CRAWL_QUOTA` and `BENCH_CRAWL_WINDOW_SECS`; `None` (a quota that never
    /// binds) when the first is unset.
    fn from_env() -> anyhow::Result<Option<QuotaWindow>> {
        if std::env::var_os("BENCH_CRAWL_QUOTA").is_none() {
            return Ok(None);
        }
        let requests = u32::try_from(whole_from_env("BENCH_CRAWL_QUOTA", 0)?)
            .context("BENCH_CRAWL_QUOTA is too large")?;
        ensure!(requests > 0, "BENCH_CRAWL_QUOTA must be at least 1");
        let secs = whole_from_env("BENCH_CRAWL_WINDOW_SECS", DEFAULT_WINDOW_SECS)?;
        ensure!(secs > 0, "BENCH_CRAWL_WINDOW_SECS must be at least 1");
        Ok(Some(QuotaWindow {
            requests,
            window: Duration::from_secs(secs),
        }))
    }

    /// The most responses a second it allows, on average.
    fn ceiling(self) -> f64 {
        f64::from(self.requests) / self.window.as_secs_f64()
    }
}

/// A whole number from the environment, `default` when unset; an error when malformed.
fn whole_from_env(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(value) => value
            .trim()
            .parse()
            .with_context(|| format!("{name}={value:?}: expected a whole number")),
    }
}

/// `BENCH_CRAWL_WORKERS`: a comma-separated list of worker-process counts, run in that
/// order; `None` when unset (the in-process crawls).
fn worker_processes_from_env() -> anyhow::Result<Option<Vec<usize>>> {
    let Ok(value) = std::env::var("BENCH_CRAWL_WORKERS") else {
        return Ok(None);
    };
    let counts = value
        .split(',')
        .map(|count| match count.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => anyhow::bail!(
                "BENCH_CRAWL_WORKERS={value:?}: {count:?} is not a number of worker processes \
                 (1 or more)"
            ),
        })
        .collect::<anyhow::Result<Vec<usize>>>()?;
    ensure!(
        std::env::var_os("BENCH_CRAWL_MODES").is_none(),
        "BENCH_CRAWL_WORKERS runs REST-only crawls: leave BENCH_CRAWL_MODES unset"
    );
    Ok(Some(counts))
}

/// One scale-out run: how many worker processes, and what their crawl did.
struct ScaleOutRun {
    processes: usize,
    crawl: FirstCrawl,
    /// Answers `403` for an exhausted quota (the throttle should leave none).
    rate_limited: usize,
}

/// The same first crawl (REST only, anonymous) by each count of worker processes, each on
/// a fresh database, queue prefix and fake; prints the Markdown table.
async fn scale_out(counts: &[usize], indexes: OrderingIndexes) -> anyhow::Result<()> {
    let developers = developers_from_env(SCALE_OUT_DEVELOPERS)?;
    let latency = Duration::from_millis(whole_from_env(
        "BENCH_CRAWL_LATENCY_MS",
        SCALE_OUT_LATENCY_MS,
    )?);
    let quota = QuotaWindow::from_env()?;
    let graph = Graph::generate(developers, GRAPH_SEED);
    let seed = graph
        .users
        .values()
        .next()
        .map(|user| user.login.clone())
        .context("the generated graph has no developer")?;
    let mut runs = Vec::new();
    for &processes in counts {
        let mut bench =
            Bench::start_processes(graph.clone(), indexes, processes, latency, quota).await?;
        let log_len = bench.fake.requests().len();
        let crawl = bench.first_crawl(&seed, developers).await?;
        let rate_limited = bench.fake.requests()[log_len..]
            .iter()
            .filter(|r| r.status == 403 && !r.costs_quota)
            .count();
        let _ = bench.stop().await;
        eprintln!(
            "{processes} worker processes: {} GitHub responses in {:.1} s",
            crawl.phase.responses,
            crawl.phase.elapsed.as_secs_f64()
        );
        runs.push(ScaleOutRun {
            processes,
            crawl,
            rate_limited,
        });
    }
    print_scale_out(developers, latency, quota, indexes, &runs);
    Ok(())
}

fn print_scale_out(
    developers: usize,
    latency: Duration,
    quota: Option<QuotaWindow>,
    indexes: OrderingIndexes,
    runs: &[ScaleOutRun],
) {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "gitomatic scale-out crawl: {developers} developers (graph seed {GRAPH_SEED}), first \
         crawl, REST only (anonymous); fake GitHub answering each request after {} ms",
        latency.as_millis()
    );
    println!(
        "each worker process: WORKER_CONCURRENCY {WORKER_CONCURRENCY}, at most 8 GitHub \
         requests in flight, GITHUB_MAX_RPS unbounded; DISCOVERY_BATCH {DISCOVERY_BATCH}; \
         ordering indexes: {}; {cpus} CPUs shared by the fake, the workers, PostgreSQL and \
         RabbitMQ",
        indexes.label()
    );
    match quota {
        None => println!(
            "quota: {QUOTA} requests an hour (never binds); the throttle still reserves and \
             records every request in the shared ledger"
        ),
        Some(quota) => println!(
            "quota: {} requests per {} s window (BENCH_CRAWL_QUOTA, BENCH_CRAWL_WINDOW_SECS), \
             a ceiling of {:.0} responses/s shared by every process through the ledger; a \
             task short of quota is deferred to the reset plus 1-60 s",
            quota.requests,
            quota.window.as_secs(),
            quota.ceiling()
        ),
    }
    println!();
    let base = runs
        .iter()
        .find(|run| run.processes == 1)
        .or_else(|| runs.first());
    let base_label = base.map_or(1, |run| run.processes);
    let base_rate = base.map_or(f64::NAN, |run| run.crawl.phase.responses_per_sec());
    println!(
        "| worker processes | WORKER_CONCURRENCY | developers synced | GitHub responses | \
         seconds | responses/s | developers/s | speed-up vs {base_label} |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for run in runs {
        let phase = &run.crawl.phase;
        let seconds = phase.elapsed.as_secs_f64();
        println!(
            "| {} | {WORKER_CONCURRENCY} | {} | {} | {seconds:.1} | {:.0} | {:.1} | {:.2} |",
            run.processes,
            phase.synced,
            phase.responses,
            phase.responses_per_sec(),
            phase.synced as f64 / seconds.max(f64::EPSILON),
            phase.responses_per_sec() / base_rate
        );
    }
    println!();
    for run in runs {
        let phase = &run.crawl.phase;
        println!(
            "{} processes: {} profile syncs failed, {} discovery rounds, {} quota-costing \
             requests, {} free 304s, {} GET /rate_limit, {} answered 403 (quota exhausted)",
            run.processes,
            phase.failed,
            run.crawl.rounds,
            phase.quota,
            phase.not_modified,
            phase.rate_limit_calls,
            run.rate_limited
        );
    }
}

// ---------------------------------------------------------------------------
// The ordering indexes under test
// ---------------------------------------------------------------------------

/// The migration that left one index per ordering; its `down.sql` recreates the twins.
const ONE_INDEX_PER_ORDERING_DOWN: &str =
    include_str!("../migrations/2026-12-07-000020_one_index_per_ordering/down.sql");
/// The migration that added the ordering and trigram indexes, dropping core indexes.
const GRAPH_AT_SCALE_UP: &str =
    include_str!("../migrations/2026-12-04-000001_graph_at_scale/up.sql");
/// The migration whose single-column indexes `graph_at_scale` dropped.
const CORE_UP: &str = include_str!("../migrations/2026-11-23-000001_create_core/up.sql");
/// Descending twins the one-index-per-ordering migration dropped.
const DESCENDING_TWINS: usize = 39;
/// Ordering (b-tree) and `__contains` (trigram GIN) indexes of the graph-at-scale schema.
const ORDERING_AND_TRIGRAM_INDEXES: &str = "SELECT indexname AS name FROM pg_indexes
     WHERE schemaname = current_schema() AND tablename IN ('developers', 'repositories')
       AND (indexname LIKE '%\\_asc\\_idx' OR indexname LIKE '%\\_trgm\\_idx')
     ORDER BY indexname";
const INDEXES_PER_TABLE: &str = "SELECT
        count(*) FILTER (WHERE tablename = 'developers')::bigint AS developers,
        count(*) FILTER (WHERE tablename = 'repositories')::bigint AS repositories
     FROM pg_indexes WHERE schemaname = current_schema()";

/// What `BENCH_SEARCH_INDEX=off` does to a migrated database: no search vector is computed
/// nor indexed (the triggers and GIN indexes of migration `2026-12-11-000001_search` and the
/// sample's indexes of `2026-12-13-000001_search_sample` are dropped; the column stays,
/// empty), to measure what search adds to the crawl's writes.
const WITHOUT_SEARCH: [&str; 6] = [
    "DROP TRIGGER developers_search ON developers",
    "DROP TRIGGER repositories_search ON repositories",
    "DROP INDEX developers_search_idx, repositories_search_idx",
    "DROP INDEX developers_search_sample_idx, repositories_search_sample_idx",
    "ALTER TABLE developers ALTER COLUMN search SET DEFAULT ''::tsvector",
    "ALTER TABLE repositories ALTER COLUMN search SET DEFAULT ''::tsvector",
];

/// `BENCH_SEARCH_INDEX`: `on` (default, the schema as migrated) or `off`.
fn search_index_from_env() -> anyhow::Result<bool> {
    match std::env::var("BENCH_SEARCH_INDEX").as_deref() {
        Err(_) | Ok("on") => Ok(true),
        Ok("off") => Ok(false),
        Ok(other) => anyhow::bail!("BENCH_SEARCH_INDEX={other:?}: expected on or off"),
    }
}

/// Which list ordering indexes the crawled database has (`BENCH_ORDERING_INDEXES`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum OrderingIndexes {
    /// None: the core's single-column indexes, no trigram indexes.
    None,
    /// Two b-trees per orderable field, ascending and descending.
    Two,
    /// One b-tree per orderable field (the schema as migrated).
    One,
}

#[derive(QueryableByName)]
struct IndexName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Rows a run wrote to each crawled table (PostgreSQL's cumulative statistics).
const TABLE_WRITES: &str = "SELECT relname::text AS name, n_tup_ins AS inserted,
        n_tup_upd AS updated, n_tup_hot_upd AS hot
     FROM pg_stat_user_tables
     WHERE relname IN ('developers', 'repositories', 'follows', 'stars')
     ORDER BY relname";

/// The rows a run inserted into and updated in one table; a HOT update writes no index.
#[derive(QueryableByName)]
struct TableWrites {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    inserted: i64,
    #[diesel(sql_type = BigInt)]
    updated: i64,
    #[diesel(sql_type = BigInt)]
    hot: i64,
}

fn print_writes(mode: Mode, writes: &[TableWrites]) {
    println!();
    println!(
        "rows written by the {} first crawl and re-crawl (an update that is not HOT writes \
         every index of its table)",
        mode.label()
    );
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>10}",
        "table", "inserted", "updated", "HOT", "not HOT"
    );
    for table in writes {
        println!(
            "{:<14} {:>10} {:>10} {:>10} {:>10}",
            table.name,
            table.inserted,
            table.updated,
            table.hot,
            table.updated - table.hot
        );
    }
}

#[derive(QueryableByName)]
struct IndexCounts {
    #[diesel(sql_type = BigInt)]
    developers: i64,
    #[diesel(sql_type = BigInt)]
    repositories: i64,
}

impl OrderingIndexes {
    fn from_env() -> anyhow::Result<OrderingIndexes> {
        match std::env::var("BENCH_ORDERING_INDEXES").as_deref() {
            Err(_) | Ok("one") => Ok(OrderingIndexes::One),
            Ok("two") => Ok(OrderingIndexes::Two),
            Ok("none") => Ok(OrderingIndexes::None),
            Ok(other) => {
                anyhow::bail!("BENCH_ORDERING_INDEXES={other:?}: expected one, two or none")
            }
        }
    }

    fn label(self) -> &'static str {
        match self {
            OrderingIndexes::None => "none",
            OrderingIndexes::Two => "two per field",
            OrderingIndexes::One => "one per field",
        }
    }

    /// Turns a freshly migrated database into this variant.
    async fn apply(self, conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
        let changes = match self {
            OrderingIndexes::One => return Ok(()),
            OrderingIndexes::Two => descending_twins()?,
            OrderingIndexes::None => {
                let dropped: Vec<IndexName> = diesel::sql_query(ORDERING_AND_TRIGRAM_INDEXES)
                    .load(conn)
                    .await?;
                ensure!(!dropped.is_empty(), "no ordering or trigram index to drop");
                dropped
                    .iter()
                    .map(|index| format!("DROP INDEX {}", index.name))
                    .chain(core_indexes_graph_at_scale_dropped()?)
                    .collect()
            }
        };
        for statement in changes {
            diesel::sql_query(&statement)
                .execute(conn)
                .await
                .with_context(|| format!("BENCH_ORDERING_INDEXES: {statement}"))?;
        }
        Ok(())
    }
}

/// The SQL statements of a migration file, comment lines removed.
fn statements(sql: &str) -> Vec<String> {
    sql.split(';')
        .map(|statement| {
            statement
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_owned()
        })
        .filter(|statement| !statement.is_empty())
        .collect()
}

/// The index a `CREATE INDEX name ON …` statement creates.
fn created_index(statement: &str) -> Option<&str> {
    statement
        .strip_prefix("CREATE INDEX ")?
        .split_whitespace()
        .next()
}

/// `CREATE INDEX …_desc_idx` statements of the one-index-per-ordering `down.sql`.
fn descending_twins() -> anyhow::Result<Vec<String>> {
    let twins: Vec<String> = statements(ONE_INDEX_PER_ORDERING_DOWN)
        .into_iter()
        .filter(|s| created_index(s).is_some_and(|name| name.ends_with("_desc_idx")))
        .collect();
    ensure!(
        twins.len() == DESCENDING_TWINS,
        "the one-index-per-ordering down.sql creates {} descending indexes, expected \
         {DESCENDING_TWINS}",
        twins.len()
    );
    Ok(twins)
}

/// The core's `CREATE INDEX` statements of the developer and repository indexes that the
/// graph-at-scale migration dropped (its section 2).
fn core_indexes_graph_at_scale_dropped() -> anyhow::Result<Vec<String>> {
    let dropped: Vec<String> = statements(GRAPH_AT_SCALE_UP)
        .iter()
        .filter_map(|s| s.strip_prefix("DROP INDEX "))
        .flat_map(|names| names.split(','))
        .map(|name| name.trim().to_owned())
        .filter(|name| name.starts_with("developers_") || name.starts_with("repositories_"))
        .collect();
    ensure!(
        !dropped.is_empty(),
        "graph_at_scale's up.sql drops no index"
    );
    let core = statements(CORE_UP);
    dropped
        .iter()
        .map(|name| {
            core.iter()
                .find(|s| created_index(s) == Some(name.as_str()))
                .cloned()
                .with_context(|| format!("the core migration does not create {name}"))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The ideal
// ---------------------------------------------------------------------------

/// Pages of a list of `n` items at `per_page=100`; an empty list still costs one request.
fn pages(n: usize) -> usize {
    n.div_ceil(PER_PAGE).max(1)
}

/// What a first sync of each developer ideally costs: the profile plus every page of its
/// followers, following, starred and owned repositories.
fn ideal_first_syncs(graph: &Graph) -> BTreeMap<i64, usize> {
    let mut lists: BTreeMap<i64, [usize; 4]> = graph.users.keys().map(|&id| (id, [0; 4])).collect();
    let mut count = |user: i64, list: usize| {
        if let Some(counts) = lists.get_mut(&user) {
            counts[list] += 1;
        }
    };
    for &(follower, followee) in &graph.follows {
        count(followee, 0);
        count(follower, 1);
    }
    for &(user, _) in &graph.stars {
        count(user, 2);
    }
    for repo in graph.repos.values() {
        count(repo.owner_id, 3);
    }
    lists
        .into_iter()
        .map(|(id, counts)| (id, 1 + counts.into_iter().map(pages).sum::<usize>()))
        .collect()
}

// ---------------------------------------------------------------------------
// The crawler under test
// ---------------------------------------------------------------------------

/// The fake GitHub, a fresh database and workers crawling one from the other.
struct Bench {
    ctx: AppContext,
    fake: FakeGithub,
    /// A connection of the benchmark's own for polling, outside the app's pool.
    conn: AsyncPgConnection,
    workers: Workers,
    /// Held for its `Drop` (the database is dropped); declared last so it goes after the rest.
    _db: support::BenchDb,
}

/// What crawls.
enum Workers {
    /// `gitomatic::worker::run` in this process.
    InProcess {
        stop: watch::Sender<bool>,
        handle: JoinHandle<()>,
    },
    /// `gitomatic worker` processes of the real binary.
    Processes(WorkerProcesses),
}

impl Workers {
    /// Fails when a worker stopped by itself (the crawl would otherwise wait for nothing).
    fn check(&mut self) -> anyhow::Result<()> {
        match self {
            Workers::InProcess { handle, .. } => {
                ensure!(!handle.is_finished(), "the in-process worker stopped");
                Ok(())
            }
            Workers::Processes(processes) => processes.check_running(),
        }
    }
}

/// `gitomatic worker` OS processes, killed when dropped (after an error too), so that a
/// failed run never leaves one behind.
struct WorkerProcesses(Vec<Child>);

impl WorkerProcesses {
    /// Starts `count` worker processes with exactly these variables (plus `PATH`, and
    /// `RUST_LOG`: the benchmark's, `warn` when unset); their log goes to our stderr.
    fn spawn(count: usize, env: &HashMap<&'static str, String>) -> anyhow::Result<Self> {
        let log = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned());
        let mut processes = WorkerProcesses(Vec::with_capacity(count));
        for _ in 0..count {
            let child = Command::new(env!("CARGO_BIN_EXE_gitomatic"))
                .arg("worker")
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("RUST_LOG", &log)
                .envs(env)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .context("start `gitomatic worker`")?;
            processes.0.push(child);
        }
        Ok(processes)
    }

    fn check_running(&mut self) -> anyhow::Result<()> {
        for child in &mut self.0 {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("worker process {} exited: {status}", child.id());
            }
        }
        Ok(())
    }

    /// Waits until RabbitMQ lists one consumer of the jobs queue per process.
    async fn wait_until_consuming(&mut self, ctx: &AppContext) -> anyhow::Result<()> {
        let queue = Topology::new(&ctx.config.queue_prefix).jobs();
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let deadline = Instant::now() + PROCESS_START_TIMEOUT;
        loop {
            self.check_running()?;
            let channel = ctx.broker.channel().await?;
            // A queue not declared yet closes the channel: the next round opens another.
            let consumers = channel
                .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                .await
                .map(|declared| declared.consumer_count() as usize);
            if consumers.is_ok() {
                let _ = channel.close(200, "consumers counted".into()).await;
            }
            if consumers.as_ref().is_ok_and(|&n| n >= self.0.len()) {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "{} of {} worker processes consuming {queue} after {PROCESS_START_TIMEOUT:?}",
                consumers.unwrap_or(0),
                self.0.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM to each, then waits for them to finish; `Drop` kills any still running.
    async fn stop(mut self) {
        for child in &self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + PROCESS_STOP_TIMEOUT;
        for child in &mut self.0 {
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

impl Drop for WorkerProcesses {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// Where a phase started: the fake's request log, the task ledger and the clock.
struct Mark {
    log_len: usize,
    ledger: Ledger,
    at: Instant,
}

/// Totals over every `full_profile_sync` task row.
#[derive(Clone, Copy, QueryableByName)]
struct Ledger {
    #[diesel(sql_type = BigInt)]
    succeeded: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
    #[diesel(sql_type = BigInt)]
    requests: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What one crawl did and cost.
struct Phase {
    elapsed: Duration,
    /// Profile syncs that succeeded / failed.
    synced: i64,
    failed: i64,
    /// Quota-costing requests summed over the task rows (`github_requests`).
    ledger_requests: i64,
    /// GitHub API responses (not `GET /rate_limit`), as the fake logged them.
    responses: usize,
    /// Requests that cost quota, as the fake counted them (GraphQL queries included).
    quota: usize,
    /// REST requests that cost quota.
    rest: usize,
    /// GraphQL points spent.
    graphql_points: u64,
    not_modified: usize,
    rate_limit_calls: usize,
    /// Time the benchmark spent enqueueing the phase's tasks itself (re-crawl only).
    enqueueing: Option<Duration>,
}

impl Phase {
    fn responses_per_sec(&self) -> f64 {
        self.responses as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn quota_per_sync(&self) -> f64 {
        self.quota as f64 / (self.synced.max(1) as f64)
    }
}

/// The first crawl: the seed's sync, then discovery rounds until the whole graph is synced.
struct FirstCrawl {
    phase: Phase,
    seed_requests: i32,
    rounds: usize,
}

/// What a bench starts from: the fake GitHub serving the graph with a quota that never
/// binds, a fresh database with the ordering indexes under test, a connection to it, and
/// the app's variables (`extra` included).
struct Setup {
    fake: FakeGithub,
    db: support::BenchDb,
    conn: AsyncPgConnection,
    env: HashMap<&'static str, String>,
}

impl Setup {
    async fn new(
        graph: Graph,
        indexes: OrderingIndexes,
        extra: &[(&'static str, String)],
    ) -> anyhow::Result<Setup> {
        let fake = FakeGithub::start(graph).await;
        fake.set_quota(QUOTA, QUOTA, chrono::Utc::now().timestamp() + 3600);
        let db = support::BenchDb::create().await?;
        let mut conn = AsyncPgConnection::establish(&db.url).await?;
        indexes.apply(&mut conn).await?;
        if !search_index_from_env()? {
            for statement in WITHOUT_SEARCH {
                diesel::sql_query(statement)
                    .execute(&mut conn)
                    .await
                    .with_context(|| format!("BENCH_SEARCH_INDEX=off: {statement}"))?;
            }
        }
        let mut env_extra = vec![
            ("WORKER_CONCURRENCY", WORKER_CONCURRENCY.to_string()),
            ("DISCOVERY_BATCH", DISCOVERY_BATCH.to_string()),
        ];
        env_extra.extend(extra.iter().cloned());
        let env = support::app_env(&db.url, &fake.url, &env_extra);
        Ok(Setup {
            fake,
            db,
            conn,
            env,
        })
    }
}

impl Bench {
    /// A bench whose worker runs in this process.
    async fn start(graph: Graph, mode: Mode, indexes: OrderingIndexes) -> anyhow::Result<Bench> {
        let mut extra = Vec::new();
        if mode == Mode::PooledGraphql {
            extra.push(("GITHUB_TOKENS", TOKENS.to_owned()));
        }
        let setup = Setup::new(graph, indexes, &extra).await?;
        let ctx = AppContext::new(support::config_of(&setup.env)?)?;
        let (stop, stopped) = watch::channel(false);
        let handle = tokio::spawn(gitomatic::worker::run(
            ctx.clone(),
            support::registry(),
            stopped,
        ));
        Ok(Bench {
            ctx,
            fake: setup.fake,
            conn: setup.conn,
            workers: Workers::InProcess { stop, handle },
            _db: setup.db,
        })
    }

    /// A bench crawled by `processes` worker processes of the real binary (REST only,
    /// anonymous, scheduled jobs off), the fake answering after `latency` with `quota`;
    /// returns once every process consumes.
    async fn start_processes(
        graph: Graph,
        indexes: OrderingIndexes,
        processes: usize,
        latency: Duration,
        quota: Option<QuotaWindow>,
    ) -> anyhow::Result<Bench> {
        let schedules_off: Vec<(&'static str, String)> = support::registry()
            .schedules()
            .iter()
            .map(|schedule| (schedule.variable, "off".to_owned()))
            .collect();
        let setup = Setup::new(graph, indexes, &schedules_off).await?;
        setup.fake.set_latency(latency);
        if let Some(quota) = quota {
            setup.fake.set_window(quota.window);
            let reset = chrono::Utc::now().timestamp() + i64::try_from(quota.window.as_secs())?;
            setup.fake.set_quota(quota.requests, quota.requests, reset);
        }
        let ctx = AppContext::new(support::config_of(&setup.env)?)?;
        let mut workers = WorkerProcesses::spawn(processes, &setup.env)?;
        workers.wait_until_consuming(&ctx).await?;
        Ok(Bench {
            ctx,
            fake: setup.fake,
            conn: setup.conn,
            workers: Workers::Processes(workers),
            _db: setup.db,
        })
    }

    /// Stops the workers (nothing is in flight by now), waits for them a little, and
    /// removes the run's queues; the database is dropped with `self`.
    /// Stops the workers and returns the rows the run wrote to the crawled tables.
    async fn stop(mut self) -> anyhow::Result<Vec<TableWrites>> {
        match self.workers {
            Workers::InProcess { stop, handle } => {
                let _ = stop.send(true);
                let _ = tokio::time::timeout(PROCESS_STOP_TIMEOUT, handle).await;
            }
            Workers::Processes(processes) => processes.stop().await,
        }
        if let Err(error) = support::delete_topology(&self.ctx).await {
            eprintln!("warning: could not delete the benchmark's queues: {error}");
        }
        // A server process reports its table statistics when it ends: close the app's
        // connections before reading them.
        self.ctx.db.close();
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(diesel::sql_query(TABLE_WRITES).load(&mut self.conn).await?)
    }

    async fn first_crawl(&mut self, seed: &str, developers: usize) -> anyhow::Result<FirstCrawl> {
        let mark = self.mark().await?;
        let seed_task = self.sync(seed).await?;
        ensure!(seed_task.status == "succeeded", "seed sync: {seed_task:?}");
        let max_rounds = developers / DISCOVERY_BATCH + 20;
        let mut rounds = 0;
        while self.count(UNSYNCED_DEVELOPERS).await? > 0 {
            rounds += 1;
            ensure!(rounds <= max_rounds, "discovery does not converge");
            jobs::enqueue(&self.ctx, &DiscoveryScraper {}.to_task()?).await?;
            self.wait_until_idle().await?;
        }
        let phase = self.finish(mark).await?;
        let stored = self.count(STORED_DEVELOPERS).await?;
        ensure!(
            usize::try_from(stored)? == developers,
            "{stored} developers stored, the graph has {developers}"
        );
        Ok(FirstCrawl {
            phase,
            seed_requests: seed_task.github_requests,
            rounds,
        })
    }

    /// Re-syncs every stored developer the way discovery would choose (REST where ETags
    /// are stored, GraphQL batches otherwise); discovery itself would skip them (synced
    /// within the day).
    async fn recrawl(&mut self) -> anyhow::Result<Phase> {
        let picked = self.picked().await?;
        let mark = self.mark().await?;
        let ctx = &self.ctx;
        let enqueue_started = Instant::now();
        let planned = jobs::plan_syncs(ctx, &picked)?;
        let enqueued: Vec<anyhow::Result<()>> = stream::iter(planned)
            .map(|task| async move {
                jobs::enqueue(ctx, &task).await?;
                Ok(())
            })
            .buffer_unordered(ENQUEUE_CONCURRENCY)
            .collect()
            .await;
        enqueued.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        let enqueueing = enqueue_started.elapsed();
        self.wait_until_idle().await?;
        let phase = self.finish(mark).await?;
        Ok(Phase {
            enqueueing: Some(enqueueing),
            ..phase
        })
    }

    /// Enqueues a profile sync and waits for it to finish.
    async fn sync(&mut self, login: &str) -> anyhow::Result<TaskRow> {
        let username = GithubLogin::parse(login).map_err(anyhow::Error::msg)?;
        let (task, _) = jobs::enqueue(&self.ctx, &FullProfileSync { username }.to_task()?).await?;
        let deadline = Instant::now() + TASK_TIMEOUT;
        loop {
            let row = tasks::find(&mut *self.ctx.conn().await?, task.id)
                .await?
                .context("the task row vanished")?;
            if row.is_terminal() {
                return Ok(row);
            }
            self.workers.check()?;
            ensure!(
                Instant::now() < deadline,
                "task still {}: {row:?}",
                row.status
            );
            tokio::time::sleep(POLL).await;
        }
    }

    async fn wait_until_idle(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + IDLE_TIMEOUT;
        while self.count(ACTIVE_TASKS).await? > 0 {
            self.workers.check()?;
            ensure!(
                Instant::now() < deadline,
                "tasks still active after {IDLE_TIMEOUT:?}"
            );
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    async fn mark(&mut self) -> anyhow::Result<Mark> {
        Ok(Mark {
            log_len: self.fake.requests().len(),
            ledger: self.ledger().await?,
            at: Instant::now(),
        })
    }

    /// What happened since `mark`.
    async fn finish(&mut self, mark: Mark) -> anyhow::Result<Phase> {
        let elapsed = mark.at.elapsed();
        let ledger = self.ledger().await?;
        let log = self.fake.requests();
        let since: &[LoggedRequest] = log.get(mark.log_len..).unwrap_or_default();
        let is_rate_limit = |r: &&LoggedRequest| r.path.trim_end_matches('/') == "/rate_limit";
        let rate_limit_calls = since.iter().filter(is_rate_limit).count();
        Ok(Phase {
            elapsed,
            synced: ledger.succeeded - mark.ledger.succeeded,
            failed: ledger.failed - mark.ledger.failed,
            ledger_requests: ledger.requests - mark.ledger.requests,
            responses: since.len() - rate_limit_calls,
            quota: since.iter().filter(|r| r.costs_quota).count(),
            rest: since
                .iter()
                .filter(|r| r.costs_quota && r.path != "/graphql")
                .count(),
            graphql_points: since.iter().map(|r| u64::from(r.graphql_points)).sum(),
            not_modified: since.iter().filter(|r| r.status == 304).count(),
            rate_limit_calls,
            enqueueing: None,
        })
    }

    /// Indexes on `developers` and on `repositories` (primary and unique keys included).
    async fn index_counts(&mut self) -> anyhow::Result<(i64, i64)> {
        let counts: IndexCounts = diesel::sql_query(INDEXES_PER_TABLE)
            .get_result(&mut self.conn)
            .await?;
        Ok((counts.developers, counts.repositories))
    }

    async fn count(&mut self, sql: &str) -> anyhow::Result<i64> {
        let row: Count = diesel::sql_query(sql).get_result(&mut self.conn).await?;
        Ok(row.n)
    }

    async fn ledger(&mut self) -> anyhow::Result<Ledger> {
        Ok(diesel::sql_query(PROFILE_SYNC_LEDGER)
            .get_result(&mut self.conn)
            .await?)
    }

    async fn picked(&mut self) -> anyhow::Result<Vec<Picked>> {
        Ok(diesel::sql_query(
            "SELECT login, etag IS NOT NULL AS has_etag FROM developers ORDER BY github_id",
        )
        .load(&mut self.conn)
        .await?)
    }
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

fn print_report(
    developers: usize,
    seed: &str,
    seed_ideal: usize,
    crawl_ideal: usize,
    first: &FirstCrawl,
    second: &Phase,
) {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "gitomatic crawl benchmark: {developers} developers (graph seed {GRAPH_SEED}), \
         fake GitHub at zero latency"
    );
    println!(
        "WORKER_CONCURRENCY {WORKER_CONCURRENCY}, DISCOVERY_BATCH {DISCOVERY_BATCH}, \
         {cpus} CPUs shared with PostgreSQL and RabbitMQ"
    );
    println!();
    print_quota_table(developers, seed, seed_ideal, crawl_ideal, first, second);
    println!();
    print_throughput_table(first, second);
}

fn print_quota_table(
    developers: usize,
    seed: &str,
    seed_ideal: usize,
    crawl_ideal: usize,
    first: &FirstCrawl,
    second: &Phase,
) {
    let ideal_per_developer = crawl_ideal as f64 / developers as f64;
    println!(
        "{:<44} {:>10} {:>10}   git-o-matic-9k (300-developer graph)",
        "quota-costing GitHub requests", "ours", "ideal"
    );
    let seed_row = format!("seed {seed}: first full_profile_sync");
    println!(
        "{seed_row:<44} {:>10} {seed_ideal:>10}   290",
        first.seed_requests
    );
    println!(
        "{:<44} {:>10} {crawl_ideal:>10}   6,200-6,400",
        "first crawl: whole graph", first.phase.quota
    );
    println!(
        "{:<44} {:>10.2} {ideal_per_developer:>10.2}   20.7-21.3",
        "first crawl: per developer synced",
        first.phase.quota_per_sync()
    );
    println!(
        "{:<44} {:>10.2} {:>10.2}   15",
        "re-crawl, unchanged: per developer synced",
        second.quota_per_sync(),
        0.0
    );
    if developers != 300 {
        println!(
            "(git-o-matic-9k's seed and whole-graph figures are for 300 developers: compare them \
             with BENCH_DEVELOPERS=300)"
        );
    }
}

fn print_throughput_table(first: &FirstCrawl, second: &Phase) {
    let phases = [&first.phase, second];
    println!("{:<44} {:>12} {:>12}", "", "first crawl", "re-crawl");
    let row = |label: &str, value: &dyn Fn(&Phase) -> String| {
        println!(
            "{label:<44} {:>12} {:>12}",
            value(phases[0]),
            value(phases[1])
        );
    };
    row("profile syncs succeeded", &|p| p.synced.to_string());
    row("profile syncs failed", &|p| p.failed.to_string());
    row("wall clock (s)", &|p| {
        format!("{:.2}", p.elapsed.as_secs_f64())
    });
    row("  of which enqueueing the syncs (s)", &|p| {
        p.enqueueing
            .map_or_else(|| "-".to_owned(), |d| format!("{:.2}", d.as_secs_f64()))
    });
    row("GitHub responses (not /rate_limit)", &|p| {
        p.responses.to_string()
    });
    row("  of which 304 Not Modified", &|p| {
        p.not_modified.to_string()
    });
    row("GitHub responses per second", &|p| {
        format!("{:.0}", p.responses_per_sec())
    });
    row("quota-costing requests (fake's count)", &|p| {
        p.quota.to_string()
    });
    row("  task rows' github_requests, summed", &|p| {
        p.ledger_requests.to_string()
    });
    row("GET /rate_limit (free)", &|p| {
        p.rate_limit_calls.to_string()
    });
    println!(
        "{:<44} {:>12} {:>12}",
        "discovery rounds", first.rounds, "-"
    );
}
