//! The graph at scale (issue 14): 1,000,000 developers and 10,000,000 follow edges seeded
//! server-side, then the API served in-process and measured under concurrent load — list
//! pages, deep sub-collection pages of the most-followed developer, path queries at depth
//! 4–6, mutuals and suggestions of a high-degree developer, graph stats (read from the
//! snapshot, which the `graph_snapshot` computation takes once after the seed; its duration
//! is its own line) — as a Markdown table of p50 / p99 / throughput; and one full streamed
//! export (time, bytes, and how much the process's resident memory grew meanwhile).
//!
//! The follow rank (`developer_rank`, SPEC-3 C) runs once after the snapshot, in a child
//! process (this bench binary run again with `BENCH_RANK_CHILD_URL` set, which runs the
//! job's computation alone — read, iterate, write back — and exits): its duration and its
//! peak memory (the child's `VmHWM`, the whole process's high-water resident set, runtime
//! included) are their own line, and the list cases by rank (`ordering=rank`,
//! `rank__lte`) read the ranks it stored.
//!
//! `cargo bench --bench graph`; `BENCH_GRAPH_DEVELOPERS` (default 1000000) and
//! `BENCH_GRAPH_EDGES` (10000000) scale the graph, `BENCH_GRAPH_CONCURRENCY` (8 clients)
//! and `BENCH_GRAPH_REQUESTS` (400 per case; none started after `BENCH_GRAPH_CASE_SECONDS`,
//! default 60, so that a pathologically slow case does not take an hour) the load;
//! `WEB_STATEMENT_TIMEOUT_MS`, when set, is passed to the app (0 shows how long what the
//! default timeout cuts off takes); `BENCH_JSON=path` writes the results there too, a JSON
//! array of one object per case; `BENCH_GRAPH_DATABASE=name` seeds a database of that name
//! once and keeps it, so later runs (after a query changed) skip the seed. Needs
//! PostgreSQL on 127.0.0.1:5432 (RabbitMQ is not used: nothing is enqueued).
//!
//! The shape: each edge's followee is developer `1 + floor(n·u³)` for a uniform `u` (the
//! power law of `benches/api.rs`), so developer 1 has about `edges / n^(1/3)` followers
//! (about 100,000 at the default scale) and the median developer a handful; its follower
//! is a uniformly drawn non-hub developer, so most follow about `edges / developers`
//! others; the `HUBS` most-followed developers also follow each other and `HUB_FOLLOWING`
//! developers each, so the most-followed developer is a high-degree one both ways (it is
//! the one whose sub-collections, mutuals and suggestions are measured). The seed is a
//! bulk load (see `seed`). Path pairs come from a breadth-first search in SQL, so their
//! distance is known before the endpoint answers (and checked against its `length`).
//!
//! Endpoints that do not exist yet (a 404 from the router) are reported as "not
//! available"; any other unexpected status aborts the run.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use diesel::sql_types::{BigInt, Bool, Integer, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use gitomatic::context::AppContext;
use reqwest::StatusCode;
use uuid::Uuid;

/// The most-followed developers, which also follow many.
const HUBS: u64 = 10;
/// Developers each hub follows (the other hubs included).
const HUB_FOLLOWING: u64 = 1_000;
/// Exponent of the followee draw `1 + floor(n·u^SKEW)`.
const SKEW: f64 = 3.0;
/// Path pairs the path cases rotate over.
const PATH_PAIRS: usize = 24;
/// The body of a 404 from the router (no such route), as opposed to one from a handler.
const NO_ROUTE: &str = "\"Not found: ";

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    if let Ok(url) = std::env::var("BENCH_RANK_CHILD_URL") {
        return rank_child(&url).await;
    }
    let developers = support::env_number("BENCH_GRAPH_DEVELOPERS", 1_000_000);
    let edges = support::env_number("BENCH_GRAPH_EDGES", 10_000_000);
    let concurrency = support::env_number("BENCH_GRAPH_CONCURRENCY", 8).max(1) as usize;
    let requests = support::env_number("BENCH_GRAPH_REQUESTS", 400).max(1);
    let budget = Duration::from_secs(support::env_number("BENCH_GRAPH_CASE_SECONDS", 60));
    anyhow::ensure!(
        developers >= 1_000 && edges >= developers,
        "BENCH_GRAPH_DEVELOPERS must be at least 1000 and BENCH_GRAPH_EDGES at least as many"
    );

    // A named database is kept, and seeded only once: later runs measure it again.
    let (db, seeded_before) = match std::env::var("BENCH_GRAPH_DATABASE") {
        Ok(name) => support::BenchDb::kept(&name).await,
        Err(_) => support::BenchDb::create().await.map(|db| (db, false)),
    }
    .context("create and migrate the benchmark database")?;
    let mut conn = AsyncPgConnection::establish(&db.url)
        .await
        .with_context(|| format!("connect to the benchmark database {}", db.name))?;
    let edge_count = if seeded_before {
        let stored = scalar(&mut conn, "SELECT count(*) AS n FROM developers").await?;
        anyhow::ensure!(
            u64::try_from(stored).is_ok_and(|stored| stored == developers),
            "the kept database {} holds {stored} developers, not the {developers} asked for",
            db.name
        );
        println!("measuring the kept database {} as seeded before", db.name);
        scalar(&mut conn, "SELECT count(*) AS n FROM follows").await?
    } else {
        let seeded = seed(&mut conn, &db.url, developers, edges).await?;
        println!("{seeded}");
        seeded.edges
    };
    let shape = Shape::read(&mut conn).await?;
    println!("{shape}");
    // `/github/graph/` reads the snapshot the `graph_snapshot` job stores: take it once,
    // as the job does, and report what the computation costs.
    let snapshot = snapshot(&mut conn).await?;
    println!("{snapshot}");
    // The follow rank, once, in a process of its own (its peak memory is its own).
    let rank = rank(&db.url).context("the developer_rank run")?;
    println!("{rank}");

    // The app's own configuration, but for a statement timeout given to the run.
    let extra: Vec<(&'static str, String)> = std::env::var("WEB_STATEMENT_TIMEOUT_MS")
        .ok()
        .map(|value| ("WEB_STATEMENT_TIMEOUT_MS", value))
        .into_iter()
        .collect();
    let ctx = AppContext::new(support::config(&db.url, "http://127.0.0.1:9", &extra)?)
        .context("build the app context")?;
    let listener = TcpListener::bind("127.0.0.1:0").context("bind the API listener")?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(
        gitomatic::api::serve(ctx, support::registry(), listener)
            .context("start the API server")?,
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .timeout(Duration::from_secs(300))
        .build()
        .context("build the HTTP client")?;

    // First, while the process has allocated little: the export's memory is what it adds.
    // A wrong answer fails the run, at the end: the latency table is still measured.
    let export = export(&http, &format!("{base}/github/graph/export/?format=jsonl")).await;

    let started = Instant::now();
    let pairs = path_pairs(&mut conn, developers, PATH_PAIRS).await?;
    let mut by_distance = BTreeMap::new();
    for pair in &pairs {
        *by_distance.entry(pair.distance).or_insert(0) += 1;
    }
    println!(
        "path pairs: {} by BFS in SQL in {:.1} s (pairs by shortest distance: {by_distance:?})",
        pairs.len(),
        started.elapsed().as_secs_f64()
    );
    anyhow::ensure!(
        !pairs.is_empty(),
        "no developer pair at distance 4 to 6 found"
    );

    let developer = |id: Uuid| format!("{base}/github/developers/{id}");
    let top = shape.top;
    let follower_pages = (shape.top_followers as u64).div_ceil(10).max(1);
    let path_urls = |max_depth: u32| -> Vec<String> {
        pairs
            .iter()
            .map(|pair| {
                format!(
                    "{}/path/{}/?max_depth={max_depth}",
                    developer(pair.from),
                    pair.to
                )
            })
            .collect()
    };
    // Cursor pages deep in a list: the `next` link of a page reached by number past row
    // 10,000 (or of a walk by cursor) is a cursor; each case asks for that page.
    let filtered = "followers_count__gte=5&location__contains=ber&ordering=-followers_count";
    let cursor_cases = [
        (
            "developer list by rank, next page after the middle (a cursor past row 10,000)",
            format!(
                "{base}/github/developers/?ordering=rank&page={}",
                developers / 20
            ),
        ),
        (
            "developer list, next page after the middle (a cursor past row 10,000)",
            format!("{base}/github/developers/?page={}", developers / 20),
        ),
        (
            "followers of the most-followed, next page after the middle (a cursor past row 10,000)",
            format!(
                "{}/followers/?page={}",
                developer(top),
                follower_pages / 2 + 1
            ),
        ),
        (
            "filtered, ordered list, cursor page 2",
            format!("{base}/github/developers/?{filtered}&cursor="),
        ),
    ];
    let mut cursor_urls = Vec::new();
    for (label, from) in cursor_cases {
        cursor_urls.push((label, next_link(&http, &from).await?));
    }
    // A sub-collection of the most-followed developer (`rest` after its URL).
    let top_case =
        |label: &str, rest: &str| Case::ok(label, vec![format!("{}/{rest}", developer(top))]);
    let cases = vec![
        Case::ok(
            "filtered, ordered list page (`followers_count__gte=5&location__contains=ber&ordering=-followers_count&page=3`)",
            vec![format!(
                "{base}/github/developers/?followers_count__gte=5&location__contains=ber&ordering=-followers_count&page=3"
            )],
        ),
        Case::ok(
            "`__contains` list page (`login__contains=dev-12345`)",
            vec![format!(
                "{base}/github/developers/?login__contains=dev-12345&page=1"
            )],
        ),
        Case::ok(
            "developer list, default order, page 500",
            vec![format!("{base}/github/developers/?page=500")],
        ),
        Case::ok(
            &format!(
                "followers of the most-followed, page {} of {follower_pages}",
                follower_pages / 2 + 1
            ),
            vec![format!(
                "{}/followers/?page={}",
                developer(top),
                follower_pages / 2 + 1
            )],
        ),
        top_case(
            "followers of the most-followed, page 2",
            "followers/?page=2",
        ),
        top_case("following of the most-followed, page 1", "following/"),
        Case::ok(
            &format!("path, depth 4–6, `max_depth=6` ({} pairs)", pairs.len()),
            path_urls(6),
        )
        .with_lengths(pairs.iter().map(|pair| pair.distance).collect()),
        Case::no_path(
            &format!(
                "path, no path within 3 (`max_depth=3`, 404; {} pairs)",
                pairs.len()
            ),
            path_urls(3),
        ),
        top_case("mutuals of the high-degree developer", "mutuals/"),
        top_case("suggestions for the high-degree developer", "suggestions/"),
        Case::ok("graph stats", vec![format!("{base}/github/graph/")]),
        Case::ok(
            "developer list by follow rank (`ordering=rank`), page 1",
            vec![format!("{base}/github/developers/?ordering=rank")],
        ),
        Case::ok(
            "developer list by score (`ordering=-rank_score&page=50`)",
            vec![format!("{base}/github/developers/?ordering=-rank_score&page=50")],
        ),
        Case::ok(
            "top ranked, default order (`rank__lte=1000`)",
            vec![format!("{base}/github/developers/?rank__lte=1000")],
        ),
        Case::ok(
            "rank range by followers (`rank__gte=1000&rank__lte=5000&ordering=-followers_count&page=3`)",
            vec![format!(
                "{base}/github/developers/?rank__gte=1000&rank__lte=5000&ordering=-followers_count&page=3"
            )],
        ),
        top_case(
            "followers of the most-followed by rank (`ordering=rank`)",
            "followers/?ordering=rank",
        ),
        // Full-text search (SPEC-3 C: p99 < 50 ms), by relevance unless ordered.
        Case::ok(
            "search, a selective word (`search=dev-12345`, ~110 matches, by relevance)",
            vec![format!("{base}/github/developers/?search=dev-12345")],
        ),
        Case::ok(
            "search, a common city (`search=berlin`, ~2 % of developers, by relevance)",
            vec![format!("{base}/github/developers/?search=berlin")],
        ),
        Case::ok(
            "search, two words (`search=grace%20hopper`, by relevance)",
            vec![format!("{base}/github/developers/?search=grace%20hopper")],
        ),
        Case::ok(
            "search, a two-letter prefix (`search=ma`, most developers, by relevance)",
            vec![format!("{base}/github/developers/?search=ma")],
        ),
        Case::ok(
            "search, accents and a filter (`search=MUNCHEN&followers_count__gte=5`)",
            vec![format!(
                "{base}/github/developers/?search=MUNCHEN&followers_count__gte=5"
            )],
        ),
        Case::ok(
            "search with an ordering (`search=berlin&ordering=-followers_count&page=2`)",
            vec![format!(
                "{base}/github/developers/?search=berlin&ordering=-followers_count&page=2"
            )],
        ),
    ]
    .into_iter()
    .chain(
        cursor_urls
            .into_iter()
            .map(|(label, url)| Case::ok(label, vec![url])),
    )
    .collect::<Vec<_>>();

    let mut table = Vec::new();
    let mut failures = Vec::new();
    let export = export.map_err(|error| failures.push(error.context("the export")));
    for case in &cases {
        let started = Instant::now();
        match case.run(&http, requests, concurrency, budget).await {
            Ok(outcome) => {
                if let Outcome::Measured(_) = outcome {
                    eprintln!(
                        "measured {} in {:.1} s",
                        case.label,
                        started.elapsed().as_secs_f64()
                    );
                }
                table.push((case.label.clone(), outcome));
            }
            // The cases stop at the first wrong answer, after showing what they measured.
            Err(error) => {
                failures.push(error);
                break;
            }
        }
    }

    println!();
    println!(
        "{developers} developers, {} follow edges; {requests} requests per case (none started \
         after {} s) from {concurrency} concurrent clients",
        edge_count,
        budget.as_secs()
    );
    println!();
    println!("| request | p50 ms | p99 ms | req/s | requests |");
    println!("|---|---|---|---|---|");
    for (label, outcome) in &table {
        match outcome {
            Outcome::Measured(latency) => println!(
                "| {label} | {:.1} | {:.1} | {:.1} | {} |",
                latency.p50_ms, latency.p99_ms, latency.per_second, latency.requests
            ),
            Outcome::NotAvailable => println!("| {label} | not available | | | |"),
        }
    }
    println!();
    if let Some(path) = std::env::var_os("BENCH_JSON") {
        write_json(std::path::Path::new(&path), &table)?;
    }
    println!("{snapshot}");
    println!("{rank}");
    match &export {
        Ok(export) => println!("{export}"),
        Err(()) => println!("export (`/github/graph/export/?format=jsonl`): failed"),
    }
    if failures.is_empty() {
        return Ok(());
    }
    let messages: Vec<String> = failures.iter().map(|error| format!("{error:#}")).collect();
    bail!("the run met a wrong answer: {}", messages.join("; "))
}

/// Takes the graph snapshot with the `graph_snapshot` job's own computation, and says how
/// long it took.
async fn snapshot(conn: &mut AsyncPgConnection) -> anyhow::Result<String> {
    let started = Instant::now();
    let snapshot = gitomatic::db::queries::graph_snapshot::refresh(conn)
        .await
        .context("take the graph snapshot")?;
    Ok(format!(
        "graph snapshot (the `graph_snapshot` job, read by `/github/graph/`): {:.2} s \
         ({} developers, {} follow edges counted)",
        started.elapsed().as_secs_f64(),
        snapshot.developers,
        snapshot.follow_edges
    ))
}

/// Runs the follow rank once in a child process (this binary again, with
/// `BENCH_RANK_CHILD_URL`), and reports its wall time and the child's peak memory.
fn rank(database_url: &str) -> anyhow::Result<String> {
    let started = Instant::now();
    let output = std::process::Command::new(std::env::current_exe()?)
        .env("BENCH_RANK_CHILD_URL", database_url)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("run the rank child")?;
    let wall = started.elapsed();
    anyhow::ensure!(
        output.status.success(),
        "the rank child failed: {}",
        output.status
    );
    let report: serde_json::Value = serde_json::from_slice(
        output
            .stdout
            .split(|&b| b == b'\n')
            .rfind(|line| line.starts_with(b"{"))
            .context("the rank child printed no report")?,
    )
    .context("the rank child's report")?;
    Ok(format!(
        "follow rank (`developer_rank`, in a child process): {:.1} s in the job ({:.1} s wall, \
         process start included): read {:.1} s, compute {:.1} s ({} iterations, last L1 change \
         {:.1e}), write {:.1} s; {} developers, {} follow edges; peak memory (child VmHWM) \
         {:.1} MiB, the in-memory graph {:.1} MiB",
        report["seconds"].as_f64().unwrap_or(f64::NAN),
        wall.as_secs_f64(),
        report["read_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0,
        report["compute_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0,
        report["iterations"],
        report["l1_change"].as_f64().unwrap_or(f64::NAN),
        report["write_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0,
        report["developers"],
        report["follow_edges"],
        report["vmhwm_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0,
        report["graph_bytes"].as_f64().unwrap_or(f64::NAN) / 1_048_576.0,
    ))
}

/// The rank child: the job's computation, once, then one JSON line with what it took and
/// this process's high-water resident memory.
async fn rank_child(database_url: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let summary = gitomatic::jobs::developer_rank::rank_developers(database_url, || Ok(()))
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let report = serde_json::json!({
        "seconds": seconds,
        "read_ms": summary.read_ms,
        "compute_ms": summary.compute_ms,
        "write_ms": summary.write_ms,
        "iterations": summary.iterations,
        "l1_change": summary.l1_change,
        "developers": summary.developers,
        "follow_edges": summary.follow_edges,
        "graph_bytes": summary.graph_bytes,
        "vmhwm_kib": memory()?.high_water,
    });
    println!("{report}");
    Ok(())
}

// ----------------------------------------------------------------------------------------
// Seed

/// Developer columns the crawl keeps equal to a count of stored edges (triggers on
/// `follows` in the schema of issue 14): filled by the seed from the drawn edges when the
/// schema has them, and checked against `follows` afterwards.
const STORED_COUNTS: [(&str, &str); 2] = [
    ("stored_followers", "followee_id"),
    ("stored_following", "follower_id"),
];

/// How long each phase of the seed took, and what it did to the schema meanwhile.
struct Seeded {
    developers: u64,
    edges: i64,
    drawn: Duration,
    developers_insert: Duration,
    follows_insert: Duration,
    rebuilt: Duration,
    vacuum: Duration,
    checked: Duration,
    follows_columns: Vec<String>,
    stored_counts: Vec<&'static str>,
    dropped: Vec<String>,
    disabled_triggers: Vec<String>,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.drawn
            + self.developers_insert
            + self.follows_insert
            + self.rebuilt
            + self.vacuum
            + self.checked;
        let seconds = |phase: Duration| format!("{:.1} s", phase.as_secs_f64());
        writeln!(
            f,
            "seeded {} developers and {} follow edges in {}: edges drawn {}, developers {}, \
             follows {}, keys and indexes rebuilt {}, VACUUM ANALYZE {}, consistency check {}",
            self.developers,
            self.edges,
            seconds(total),
            seconds(self.drawn),
            seconds(self.developers_insert),
            seconds(self.follows_insert),
            seconds(self.rebuilt),
            seconds(self.vacuum),
            seconds(self.checked),
        )?;
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        let stored: Vec<String> = self.stored_counts.iter().map(|c| c.to_string()).collect();
        write!(
            f,
            "  follows columns filled: {}; stored edge counts filled: {}; triggers on follows \
             disabled during the load: {}; dropped during the load and recreated: {}",
            list(
                &self
                    .follows_columns
                    .iter()
                    .map(|column| column.trim_matches('"').to_owned())
                    .collect::<Vec<_>>()
            ),
            list(&stored),
            list(&self.disabled_triggers),
            list(&self.dropped),
        )
    }
}

async fn session(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    for setting in [
        "SET work_mem = '256MB'",
        "SET maintenance_work_mem = '1GB'",
        "SET synchronous_commit = off",
    ] {
        exec(conn, setting).await?;
    }
    Ok(())
}

/// Seeds the graph as a bulk load (what `pg_restore --disable-triggers` does): the edges
/// are drawn by GitHub id into an unlogged staging table, developers are inserted with
/// their stored edge counts, then follows with every denormalized column filled in the
/// same `INSERT ... SELECT`, with the tables' indexes, keys and foreign keys dropped and
/// afterwards recreated from their catalogued definitions, and the user triggers of
/// `follows` (which would fill the same columns and counts row by row) disabled. Then
/// `VACUUM ANALYZE`, and a check that the stored counts equal the edges.
async fn seed(
    conn: &mut AsyncPgConnection,
    url: &str,
    developers: u64,
    edges: u64,
) -> anyhow::Result<Seeded> {
    session(conn).await?;
    let developer_columns = columns_of(conn, "developers").await?;
    let stored_counts: Vec<&'static str> = STORED_COUNTS
        .iter()
        .map(|(column, _)| *column)
        .filter(|column| developer_columns.iter().any(|c| c.name == *column))
        .collect();
    check_developer_columns(&developer_columns, &stored_counts)?;

    let started = Instant::now();
    exec(conn, &edges_sql(developers, edges)).await?;
    exec(
        conn,
        "CREATE UNLOGGED TABLE seed_degrees AS
         SELECT github_id, sum(followers)::int AS followers, sum(following)::int AS following
         FROM (SELECT dst AS github_id, 1 AS followers, 0 AS following FROM seed_edges
               UNION ALL
               SELECT src, 0, 1 FROM seed_edges) AS ends
         GROUP BY github_id",
    )
    .await?;
    let drawn = started.elapsed();

    // The keys of developers stay: other tables reference its primary key.
    let developer_indexes = Indexes::take(conn, "developers", false).await?;
    let keep_keys = std::env::var("BENCH_GRAPH_SEED_KEEP_KEYS").is_ok_and(|v| v == "1");
    let follows_indexes = Indexes::take(conn, "follows", !keep_keys).await?;
    let started = Instant::now();
    exec(conn, &developers_sql(developers, &stored_counts)).await?;
    exec(conn, "ANALYZE developers").await?;
    let developers_insert = started.elapsed();

    let disabled_triggers = user_triggers(conn, "follows").await?;
    let (columns, expressions) = follows_columns(conn, &developer_columns).await?;
    let started = Instant::now();
    if !disabled_triggers.is_empty() {
        exec(conn, "ALTER TABLE follows DISABLE TRIGGER USER").await?;
    }
    exec(conn, &follows_sql(&columns, &expressions)).await?;
    if !disabled_triggers.is_empty() {
        exec(conn, "ALTER TABLE follows ENABLE TRIGGER USER").await?;
    }
    exec(conn, "DROP TABLE seed_edges, seed_degrees").await?;
    let follows_insert = started.elapsed();

    // Two connections: a GIN index build is single-threaded.
    let started = Instant::now();
    let mut other = AsyncPgConnection::establish(url)
        .await
        .context("open a second connection for index builds")?;
    session(&mut other).await?;
    let mut statements = follows_indexes.statements();
    statements.extend(developer_indexes.statements());
    run_on_two(conn, &mut other, statements).await?;
    let rebuilt = started.elapsed();

    let started = Instant::now();
    exec(conn, "VACUUM ANALYZE").await?;
    let vacuum = started.elapsed();

    let started = Instant::now();
    check_stored_counts(conn, &stored_counts).await?;
    let checked = started.elapsed();

    let mut dropped = developer_indexes.names();
    dropped.extend(follows_indexes.names());
    Ok(Seeded {
        developers,
        edges: scalar(conn, "SELECT count(*) AS n FROM follows").await?,
        drawn,
        developers_insert,
        follows_insert,
        rebuilt,
        vacuum,
        checked,
        follows_columns: columns,
        stored_counts,
        dropped,
        disabled_triggers,
    })
}

/// Runs the statements on two connections at once, each taking the next in order.
async fn run_on_two(
    first: &mut AsyncPgConnection,
    second: &mut AsyncPgConnection,
    statements: Vec<String>,
) -> anyhow::Result<()> {
    let queue = std::sync::Mutex::new(std::collections::VecDeque::from(statements));
    tokio::try_join!(drain(first, &queue), drain(second, &queue))?;
    Ok(())
}

async fn drain(
    conn: &mut AsyncPgConnection,
    queue: &std::sync::Mutex<std::collections::VecDeque<String>>,
) -> anyhow::Result<()> {
    loop {
        let statement = queue
            .lock()
            .map_err(|_| anyhow::anyhow!("the statement queue is poisoned"))?
            .pop_front();
        let Some(statement) = statement else {
            return Ok(());
        };
        exec(conn, &statement).await?;
    }
}

/// Names of the user (not internal) triggers of a table.
async fn user_triggers(conn: &mut AsyncPgConnection, table: &str) -> anyhow::Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Trigger {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let triggers: Vec<Trigger> = diesel::sql_query(
        "SELECT tgname::text AS name FROM pg_trigger
         WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname",
    )
    .bind::<Text, _>(table)
    .load(conn)
    .await
    .with_context(|| format!("list the triggers of {table}"))?;
    Ok(triggers.into_iter().map(|trigger| trigger.name).collect())
}

/// Fails unless every stored edge count equals the developer's edges in `follows`.
async fn check_stored_counts(
    conn: &mut AsyncPgConnection,
    stored_counts: &[&str],
) -> anyhow::Result<()> {
    for (column, side) in STORED_COUNTS {
        if !stored_counts.contains(&column) {
            continue;
        }
        let wrong = scalar(
            conn,
            &format!(
                "SELECT count(*) AS n FROM developers d
                 LEFT JOIN (SELECT {side} AS id, count(*) AS n FROM follows GROUP BY {side}) AS c
                        ON c.id = d.id
                 WHERE d.{column} <> coalesce(c.n, 0)"
            ),
        )
        .await?;
        anyhow::ensure!(
            wrong == 0,
            "the seed left {wrong} developers whose {column} differs from their edges"
        );
    }
    Ok(())
}

/// A uniform pseudo-random integer in `0..2^31` from `x` and a salt: reproducible runs.
fn hash(x: &str, salt: u32) -> String {
    format!("(hashint8extended({x}, {salt}) & 2147483647)")
}

/// The hubs at this scale.
fn hubs(developers: u64) -> u64 {
    HUBS.min(developers / 100)
}

/// `seed_edges (src, dst)`: `edges` distinct follow edges by GitHub id. Non-hubs follow
/// uniformly drawn developers `1 + floor(n·u^SKEW)` (a power law of followers); each hub
/// follows the other hubs and uniformly drawn developers, `HUB_FOLLOWING` in all.
fn edges_sql(developers: u64, edges: u64) -> String {
    let n = developers;
    let hubs = hubs(n);
    let hub_following = HUB_FOLLOWING.min(n - 1);
    let regular = edges.saturating_sub(hubs * hub_following);
    // Repeated pairs are about 0.1 % of the draws: 2 % more is plenty.
    let candidates = regular + regular / 50 + 1_000;
    let hub_candidates = hub_following + hub_following / 5 + 100;
    let source = format!("{hubs} + 1 + {} % {}", hash("e", 1), n - hubs);
    let target = format!(
        "1 + floor({n}::float8 * power({}::float8 / 2147483648.0::float8, {SKEW}::float8))::bigint",
        hash("e", 2)
    );
    let hub_target = format!("1 + {} % {n}", hash("h * 1000003 + k", 3));
    format!(
        "CREATE UNLOGGED TABLE seed_edges AS
         (SELECT src, dst FROM (
              SELECT DISTINCT src, dst
              FROM (SELECT {source} AS src, {target} AS dst
                    FROM generate_series(1::bigint, {candidates}) AS e) AS draws
              WHERE src <> dst) AS distinct_draws
          LIMIT {regular})
         UNION ALL
         (SELECT src, dst FROM (
              SELECT src, dst, row_number() OVER (PARTITION BY src ORDER BY min(rank)) AS nth
              FROM (SELECT h AS src, o AS dst, o AS rank
                    FROM generate_series(1::bigint, {hubs}) AS h,
                         generate_series(1::bigint, {hubs}) AS o
                    UNION ALL
                    SELECT h, {hub_target}, {hubs} + k
                    FROM generate_series(1::bigint, {hubs}) AS h,
                         generate_series(1::bigint, {hub_candidates}) AS k) AS hub_draws
              WHERE src <> dst
              GROUP BY src, dst) AS ranked
          WHERE nth <= {hub_following})"
    )
}

/// One `INSERT ... SELECT generate_series`: logins `dev-N` (`github_id` N), names, 30
/// locations (5 of them containing "ber") or none, GitHub's follower and following counts
/// at least the stored edges, creation dates spread over 17 years, 40 % synced; and the
/// stored edge counts the schema has.
fn developers_sql(n: u64, stored_counts: &[&str]) -> String {
    let r1 = hash("g", 11);
    let r2 = hash("g", 12);
    let r3 = hash("g", 13);
    let r4 = hash("g", 14);
    let u4 = format!("({r4}::float8 / 2147483648.0::float8)");
    let (mut stored_columns, mut stored_values) = (String::new(), String::new());
    for column in stored_counts {
        let value = if *column == "stored_followers" {
            "coalesce(s.followers, 0)"
        } else {
            "coalesce(s.following, 0)"
        };
        stored_columns.push_str(&format!(", {column}"));
        stored_values.push_str(&format!(", {value}"));
    }
    format!(
        "INSERT INTO developers (github_id, login, name, location, bio, company, html_url,
                                 avatar_url, created_at, updated_at, followers_count,
                                 following_count, public_repos, public_gists,
                                 last_synced_at{stored_columns})
         SELECT g, 'dev-' || g,
                CASE WHEN {r1} % 10 < 8 THEN
                    (ARRAY['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis',
                           'Frances', 'Guido', 'Radia', 'Yukihiro', 'Hedy', 'Bjarne', 'Anita',
                           'Niklaus', 'Sophie', 'Rob', 'Shafi', 'Tim', 'Katherine'])[1 + {r1} % 20]
                    || ' ' ||
                    (ARRAY['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov',
                           'Ritchie', 'Allen', 'van Rossum', 'Perlman', 'Matsumoto', 'Lamarr',
                           'Stroustrup', 'Borg', 'Wirth', 'Wilson', 'Pike', 'Goldwasser',
                           'Berners-Lee', 'Johnson'])[1 + {r2} % 20]
                END,
                CASE WHEN {r2} % 10 < 7 THEN
                    (ARRAY['Berlin, Germany', 'Bern, Switzerland', 'Oberhausen', 'Bergen, Norway',
                           'Alberta, Canada', 'Tokyo', 'Lagos, Nigeria', 'Paris, France', 'Lima, Peru',
                           'São Paulo', 'San Francisco, CA', 'London', 'Amsterdam', 'Bangalore, India',
                           'Seattle, WA', 'Toronto', 'Sydney', 'Cape Town', 'Nairobi', 'Warsaw',
                           'Kraków', 'Hamburg', 'München, Germany', 'Beijing', 'Shanghai', 'Seoul',
                           'Mexico City', 'Buenos Aires', 'Malmö, Sweden', 'New York'])[1 + {r3} % 30]
                END,
                CASE WHEN {r3} % 3 > 0 THEN
                    (ARRAY['Building things, mostly in Rust', 'Backend developer (Go/Python)',
                           'Data scientist: ML & statistics', 'Open-source maintainer; TypeScript',
                           'Café-powered C++ hacker', 'Kubernetes/DevOps engineer',
                           'Désigner & front-end développeur', 'Compilers, type systems, Haskell'])
                        [1 + {r4} % 8] || ' #' || g
                END,
                CASE WHEN {r4} % 4 = 0 THEN '@company-' || {r4} % 5000 END,
                'https://github.com/dev-' || g,
                'https://avatars.githubusercontent.com/u/' || g,
                timestamptz '2008-04-10' + ({r1} % 536112000) * interval '1 second',
                timestamptz '2025-06-01' + ({r2} % 31536000) * interval '1 second',
                coalesce(s.followers, 0) + round(coalesce(s.followers, 0) * 0.3 * {u4})::int
                    + ({r1} % 3)::int,
                coalesce(s.following, 0) + ({r2} % 3)::int,
                (({r4} % 1000) * ({r4} % 1000) / 10000)::int,
                ({r1} % 20)::int,
                CASE WHEN {r4} % 5 < 2 THEN now() - ({r3} % 2592000) * interval '1 second' END
                {stored_values}
         FROM generate_series(1::bigint, {n}) AS g
         LEFT JOIN seed_degrees s ON s.github_id = g",
    )
}

/// One `INSERT ... SELECT` of the staged edges, their uuids (and any denormalized
/// developer column of `follows`) joined in by GitHub id.
fn follows_sql(columns: &[String], expressions: &[String]) -> String {
    format!(
        "INSERT INTO follows ({columns})
         SELECT {expressions}
         FROM seed_edges p
         JOIN developers a ON a.github_id = p.src
         JOIN developers b ON b.github_id = p.dst",
        columns = columns.join(", "),
        expressions = expressions.join(", "),
    )
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    /// NOT NULL without a default: an insert must give it.
    #[diesel(sql_type = Bool)]
    required: bool,
}

async fn columns_of(conn: &mut AsyncPgConnection, table: &str) -> anyhow::Result<Vec<Column>> {
    diesel::sql_query(
        "SELECT column_name::text AS name,
                (is_nullable::text = 'NO' AND column_default IS NULL
                 AND is_generated::text = 'NEVER' AND is_identity::text = 'NO') AS required
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1
         ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(conn)
    .await
    .with_context(|| format!("read the columns of {table}"))
}

/// Fails clearly if `developers` gained a column the seed must but does not fill.
fn check_developer_columns(columns: &[Column], stored_counts: &[&str]) -> anyhow::Result<()> {
    // `search` is filled by its trigger from the searched columns.
    let filled = ["github_id", "login", "search"];
    for column in columns {
        let name = column.name.as_str();
        if column.required && !filled.contains(&name) && !stored_counts.contains(&name) {
            bail!(
                "developers.{name} is NOT NULL without a default: the seed (developers_sql) must fill it"
            );
        }
    }
    Ok(())
}

/// The columns of `follows` to insert and the expression of each: `follower_X` is column X
/// of the follower `a` (`follower_id` its id, `follower_created_at` its creation date...),
/// `followee_X` of the followee `b`; other columns keep their default.
async fn follows_columns(
    conn: &mut AsyncPgConnection,
    developer_columns: &[Column],
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let (mut columns, mut expressions) = (Vec::new(), Vec::new());
    for column in columns_of(conn, "follows").await? {
        let side = [("follower_", "a"), ("followee_", "b")]
            .into_iter()
            .find_map(|(prefix, alias)| {
                let rest = column.name.strip_prefix(prefix)?;
                developer_columns
                    .iter()
                    .any(|developer_column| developer_column.name == rest)
                    .then(|| format!("{alias}.{}", quote(rest)))
            });
        match side {
            Some(expression) => {
                columns.push(quote(&column.name));
                expressions.push(expression);
            }
            None if column.required => bail!(
                "follows.{} is NOT NULL without a default and names no developer column: \
                 the seed (follows_columns) must learn to fill it",
                column.name
            ),
            None => {}
        }
    }
    anyhow::ensure!(
        columns.len() >= 2,
        "follows has no follower_id/followee_id columns"
    );
    Ok((columns, expressions))
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// A table's indexes (and optionally keys and foreign keys) as the catalog defines them,
/// dropped by `take` and recreated by `restore`.
struct Indexes {
    table: &'static str,
    /// Primary keys, unique and exclusion constraints: `(name, definition)`.
    keys: Vec<(String, String)>,
    /// Plain indexes: `(name, CREATE INDEX ...)`.
    plain: Vec<(String, String)>,
    /// Foreign keys: `(name, definition)`.
    foreign: Vec<(String, String)>,
}

#[derive(QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

impl Indexes {
    async fn take(
        conn: &mut AsyncPgConnection,
        table: &'static str,
        with_constraints: bool,
    ) -> anyhow::Result<Indexes> {
        // Plain indexes back no constraint of the table; keys are taken only when no other
        // table's foreign key references them.
        let definitions: Vec<Definition> = diesel::sql_query(
            "SELECT c.relname::text AS name, pg_get_indexdef(i.indexrelid) AS definition,
                    'i'::text AS kind
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = $1::regclass
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                               WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid)
             UNION ALL
             SELECT k.conname::text, pg_get_constraintdef(k.oid), k.contype::text
             FROM pg_constraint k
             WHERE $2 AND k.conrelid = $1::regclass AND k.contype IN ('p', 'u', 'x', 'f')
               AND NOT EXISTS (SELECT 1 FROM pg_constraint r
                               WHERE r.contype = 'f' AND r.conindid = k.conindid
                                 AND r.conrelid <> k.conrelid AND k.contype <> 'f')",
        )
        .bind::<Text, _>(table)
        .bind::<Bool, _>(with_constraints)
        .load(conn)
        .await
        .with_context(|| format!("read the index definitions of {table}"))?;
        let mut indexes = Indexes {
            table,
            keys: Vec::new(),
            plain: Vec::new(),
            foreign: Vec::new(),
        };
        for definition in definitions {
            let entry = (definition.name, definition.definition);
            match definition.kind.as_str() {
                "i" => indexes.plain.push(entry),
                "f" => indexes.foreign.push(entry),
                _ => indexes.keys.push(entry),
            }
        }
        for (name, _) in &indexes.foreign {
            exec(
                conn,
                &format!("ALTER TABLE {table} DROP CONSTRAINT {}", quote(name)),
            )
            .await?;
        }
        for (name, _) in &indexes.keys {
            exec(
                conn,
                &format!("ALTER TABLE {table} DROP CONSTRAINT {}", quote(name)),
            )
            .await?;
        }
        for (name, _) in &indexes.plain {
            exec(conn, &format!("DROP INDEX {}", quote(name))).await?;
        }
        Ok(indexes)
    }

    /// The statements recreating what `take` dropped: keys, indexes, then foreign keys.
    fn statements(&self) -> Vec<String> {
        let table = self.table;
        let constraint = |(name, definition): &(String, String)| {
            format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} {definition}",
                quote(name)
            )
        };
        self.keys
            .iter()
            .map(constraint)
            .chain(self.plain.iter().map(|(_, definition)| definition.clone()))
            .chain(self.foreign.iter().map(constraint))
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.keys
            .iter()
            .chain(&self.plain)
            .chain(&self.foreign)
            .map(|(name, _)| name.clone())
            .collect()
    }
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<()> {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .with_context(|| {
            let shown: String = sql.chars().take(200).collect();
            format!("run {shown}")
        })?;
    Ok(())
}

/// Runs `SELECT ... AS n` returning one bigint.
async fn scalar(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<i64> {
    #[derive(QueryableByName)]
    struct Scalar {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: Scalar = diesel::sql_query(sql)
        .get_result(conn)
        .await
        .with_context(|| format!("run {sql}"))?;
    Ok(row.n)
}

// ----------------------------------------------------------------------------------------
// The seeded graph

/// What the seed made: degrees of the most-followed developer and of the typical one.
struct Shape {
    top: Uuid,
    top_login: String,
    top_followers: i64,
    top_following: i64,
    followed: i64,
    median_followers: i64,
    median_following: i64,
    developers: i64,
}

impl Shape {
    async fn read(conn: &mut AsyncPgConnection) -> anyhow::Result<Shape> {
        #[derive(QueryableByName)]
        struct Top {
            #[diesel(sql_type = SqlUuid)]
            id: Uuid,
            #[diesel(sql_type = Text)]
            login: String,
            #[diesel(sql_type = BigInt)]
            followers: i64,
            #[diesel(sql_type = BigInt)]
            following: i64,
            #[diesel(sql_type = BigInt)]
            followed: i64,
            #[diesel(sql_type = BigInt)]
            median: i64,
        }
        let top: Top = diesel::sql_query(
            "WITH indegree AS MATERIALIZED
                 (SELECT followee_id AS id, count(*) AS n FROM follows GROUP BY followee_id)
             SELECT t.id, d.login, t.n AS followers,
                    (SELECT count(*) FROM follows WHERE follower_id = t.id) AS following,
                    (SELECT count(*) FROM indegree) AS followed,
                    (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM indegree) AS median
             FROM (SELECT * FROM indegree ORDER BY n DESC, id LIMIT 1) AS t
             JOIN developers d ON d.id = t.id",
        )
        .get_result(conn)
        .await
        .context("find the most-followed developer")?;
        Ok(Shape {
            top: top.id,
            top_login: top.login,
            top_followers: top.followers,
            top_following: top.following,
            followed: top.followed,
            median_followers: top.median,
            median_following: scalar(
                conn,
                "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n) AS n
                 FROM (SELECT count(*) AS n FROM follows GROUP BY follower_id) AS outdegree",
            )
            .await?,
            developers: scalar(conn, "SELECT count(*) AS n FROM developers").await?,
        })
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "graph: most-followed (and high-degree) developer {} ({}): {} followers, follows {}; \
             {} of {} developers have a follower, median {} followers (of those) and median \
             {} following (of those following anyone)",
            self.top_login,
            self.top,
            self.top_followers,
            self.top_following,
            self.followed,
            self.developers,
            self.median_followers,
            self.median_following
        )
    }
}

/// A pair of developers and the length of the shortest follow chain between them.
struct Pair {
    from: Uuid,
    to: Uuid,
    distance: i32,
}

/// Pairs at distance 4, 5 and 6 by breadth-first search in SQL from sources spread over the
/// non-hub developers: levels 1 to 5 complete (so depths up to 5 are exact), level 6 from a
/// sample of level 5 (a node it reaches that is not within 5 is exactly at 6).
async fn path_pairs(
    conn: &mut AsyncPgConnection,
    developers: u64,
    wanted: usize,
) -> anyhow::Result<Vec<Pair>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    exec(
        conn,
        "CREATE TEMPORARY TABLE bfs (id uuid PRIMARY KEY, depth integer NOT NULL)",
    )
    .await?;
    let per_distance = 2;
    let mut pairs = Vec::new();
    for k in 0..(wanted as u64) * 2 {
        if pairs.len() >= wanted {
            break;
        }
        // A source following a few developers (most do).
        let github_id = hubs(developers) + 1 + (k * 7_919 + 104_729) % (developers / 2);
        let source: Option<Id> = diesel::sql_query(
            "SELECT d.id FROM developers d
             WHERE d.github_id = $1
               AND (SELECT count(*) FROM follows WHERE follower_id = d.id) >= 3",
        )
        .bind::<BigInt, _>(github_id as i64)
        .get_result(conn)
        .await
        .optional()
        .context("pick a path source")?;
        let Some(source) = source else { continue };
        exec(conn, "TRUNCATE bfs").await?;
        diesel::sql_query("INSERT INTO bfs VALUES ($1, 0)")
            .bind::<SqlUuid, _>(source.id)
            .execute(conn)
            .await
            .context("start a breadth-first search")?;
        for depth in 0..6 {
            let frontier = if depth == 5 {
                "(SELECT id FROM bfs WHERE depth = $1 ORDER BY id LIMIT 2000)"
            } else {
                "(SELECT id FROM bfs WHERE depth = $1)"
            };
            diesel::sql_query(format!(
                "INSERT INTO bfs (id, depth)
                 SELECT f.followee_id, $1 + 1 FROM {frontier} AS l
                 JOIN follows f ON f.follower_id = l.id
                 ON CONFLICT (id) DO NOTHING"
            ))
            .bind::<Integer, _>(depth)
            .execute(conn)
            .await
            .context("expand a breadth-first search")?;
            exec(conn, "ANALYZE bfs").await?;
        }
        for distance in 4..=6 {
            let targets: Vec<Id> = diesel::sql_query(
                "SELECT id FROM bfs WHERE depth = $1 ORDER BY md5(id::text) LIMIT $2",
            )
            .bind::<Integer, _>(distance)
            .bind::<BigInt, _>(per_distance)
            .load(conn)
            .await
            .context("pick path targets")?;
            pairs.extend(targets.into_iter().map(|target| Pair {
                from: source.id,
                to: target.id,
                distance,
            }));
        }
    }
    exec(conn, "DROP TABLE bfs").await?;
    pairs.truncate(wanted);
    Ok(pairs)
}

/// The `next` link of the page at `url` (a cursor link past row 10,000).
async fn next_link(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let (status, body) = support::get(http, url).await?;
    let body: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("GET {url}: not JSON"))?;
    anyhow::ensure!(
        status == StatusCode::OK,
        "GET {url} answered {status}: {body}"
    );
    let next = body["next"]
        .as_str()
        .with_context(|| format!("GET {url}: no next link"))?;
    Ok(next.to_owned())
}

// ----------------------------------------------------------------------------------------
// Cases

enum Expect {
    /// 200, and for a path its `length`.
    Ok { lengths: Option<Vec<i32>> },
    /// 404 with "no follow path" in the body.
    NoPath,
}

struct Case {
    label: String,
    urls: Vec<String>,
    expect: Expect,
}

enum Outcome {
    Measured(support::Latency),
    NotAvailable,
}

impl Case {
    fn ok(label: &str, urls: Vec<String>) -> Case {
        Case {
            label: label.to_owned(),
            urls,
            expect: Expect::Ok { lengths: None },
        }
    }

    fn no_path(label: &str, urls: Vec<String>) -> Case {
        Case {
            label: label.to_owned(),
            urls,
            expect: Expect::NoPath,
        }
    }

    fn with_lengths(mut self, lengths: Vec<i32>) -> Case {
        self.expect = Expect::Ok {
            lengths: Some(lengths),
        };
        self
    }

    fn status(&self) -> StatusCode {
        match self.expect {
            Expect::Ok { .. } => StatusCode::OK,
            Expect::NoPath => StatusCode::NOT_FOUND,
        }
    }

    /// Checks every URL once (a 404 from the router: not available), then measures.
    async fn run(
        &self,
        http: &reqwest::Client,
        requests: u64,
        concurrency: usize,
        budget: Duration,
    ) -> anyhow::Result<Outcome> {
        for (i, url) in self.urls.iter().enumerate() {
            let (status, body) = support::get(http, url).await?;
            let shown = support::snippet(&body);
            let body = String::from_utf8_lossy(&body);
            if no_route(status, &body) {
                eprintln!("{}: not available (GET {url}: {shown})", self.label);
                return Ok(Outcome::NotAvailable);
            }
            if status != self.status() {
                bail!(
                    "case {:?}: GET {url} answered {status}, expected {}: {shown}",
                    self.label,
                    self.status()
                );
            }
            match &self.expect {
                Expect::NoPath if !body.contains("no follow path") => bail!(
                    "case {:?}: GET {url} answered 404 without \"no follow path\": {shown}",
                    self.label
                ),
                Expect::Ok {
                    lengths: Some(lengths),
                } => {
                    let answer: serde_json::Value = serde_json::from_str(&body)
                        .with_context(|| format!("GET {url}: not JSON: {shown}"))?;
                    let length = answer.get("length").and_then(serde_json::Value::as_i64);
                    let expected = lengths.get(i).copied().map(i64::from);
                    if length != expected {
                        bail!(
                            "case {:?}: GET {url}: length {length:?}, but the shortest path by \
                             BFS has {expected:?} steps: {shown}",
                            self.label
                        );
                    }
                }
                _ => {}
            }
        }
        let latency = support::measure_concurrent(
            http,
            &self.urls,
            self.status(),
            requests,
            concurrency,
            budget,
        )
        .await
        .with_context(|| format!("case {:?}", self.label))?;
        Ok(Outcome::Measured(latency))
    }
}

// ----------------------------------------------------------------------------------------
// Export

/// Resident memory of this process (the server runs in it), in KiB.
#[derive(Clone, Copy)]
struct Memory {
    rss: u64,
    high_water: u64,
}

fn memory() -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").context("read /proc/self/status")?;
    let field = |name: &str| -> anyhow::Result<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {name} in /proc/self/status"))
    };
    Ok(Memory {
        rss: field("VmRSS:")?,
        high_water: field("VmHWM:")?,
    })
}

enum Export {
    NotAvailable,
    Streamed {
        bytes: u64,
        lines: u64,
        time: Duration,
        before: Memory,
        peak_rss: u64,
        after: Memory,
    },
}

impl std::fmt::Display for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |kib: u64| kib as f64 / 1024.0;
        match self {
            Export::NotAvailable => write!(
                f,
                "export (`/github/graph/export/?format=jsonl`): not available"
            ),
            Export::Streamed {
                bytes,
                lines,
                time,
                before,
                peak_rss,
                after,
            } => write!(
                f,
                "export (`/github/graph/export/?format=jsonl`, once): {lines} lines, {:.1} MiB in {:.1} s \
                 ({:.1} MiB/s); bench process RSS {:.1} MiB before, peak {:.1} MiB while streaming \
                 (+{:.1} MiB), {:.1} MiB after; VmHWM {:.1} → {:.1} MiB",
                *bytes as f64 / 1_048_576.0,
                time.as_secs_f64(),
                *bytes as f64 / 1_048_576.0 / time.as_secs_f64(),
                mib(before.rss),
                mib(*peak_rss),
                mib(peak_rss.saturating_sub(before.rss)),
                mib(after.rss),
                mib(before.high_water),
                mib(after.high_water),
            ),
        }
    }
}

/// Streams the whole export once, counting bytes and lines, while a thread samples the
/// process's resident memory every 5 ms.
async fn export(http: &reqwest::Client, url: &str) -> anyhow::Result<Export> {
    let before = memory()?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut peak = 0;
            while !AtomicBool::load(&stop, Ordering::Relaxed) {
                if let Ok(now) = memory() {
                    peak = peak.max(now.rss);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let streamed = stream(http, url).await;
    stop.store(true, Ordering::Relaxed);
    let peak_rss = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("the memory sampler panicked"))?;
    let after = memory()?;
    Ok(match streamed? {
        None => Export::NotAvailable,
        Some((bytes, lines, time)) => Export::Streamed {
            bytes,
            lines,
            time,
            before,
            peak_rss: peak_rss.max(after.rss),
            after,
        },
    })
}

/// Bytes, lines and time of the whole body, or None for a 404 from the router.
async fn stream(http: &reqwest::Client, url: &str) -> anyhow::Result<Option<(u64, u64, Duration)>> {
    let started = Instant::now();
    let response = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    if status != StatusCode::OK {
        let body = response.text().await.unwrap_or_default();
        let shown = support::snippet(body.as_bytes());
        if no_route(status, &body) {
            eprintln!("export: not available (GET {url}: {shown})");
            return Ok(None);
        }
        bail!("export: GET {url} answered {status}, expected 200: {shown}");
    }
    let (mut bytes, mut lines) = (0_u64, 0_u64);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(|| format!("read the export body of GET {url}"))?;
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|&&byte| byte == b'\n').count() as u64;
    }
    Ok(Some((bytes, lines, started.elapsed())))
}

/// Whether an answer is the router's 404 for a path it does not know (a feature the
/// server under test does not have), not a 404 of the feature itself.
fn no_route(status: StatusCode, body: &str) -> bool {
    status == StatusCode::NOT_FOUND && body.contains(NO_ROUTE)
}

/// Writes the measured cases to `path` as a JSON array, one object per case (`case`,
/// `p50_ms`, `p99_ms`, `requests_per_s`, `requests`; the figures null for a case that was
/// not available), for scripts that compare runs.
fn write_json(path: &std::path::Path, table: &[(String, Outcome)]) -> anyhow::Result<()> {
    let cases: Vec<serde_json::Value> = table
        .iter()
        .map(|(label, outcome)| match outcome {
            Outcome::Measured(latency) => serde_json::json!({
                "case": label,
                "p50_ms": latency.p50_ms,
                "p99_ms": latency.p99_ms,
                "requests_per_s": latency.per_second,
                "requests": latency.requests,
            }),
            Outcome::NotAvailable => serde_json::json!({
                "case": label,
                "p50_ms": null,
                "p99_ms": null,
                "requests_per_s": null,
                "requests": 0,
            }),
        })
        .collect();
    let text = serde_json::to_string_pretty(&cases).context("the results as JSON")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {} cases to {}", cases.len(), path.display());
    Ok(())
}
