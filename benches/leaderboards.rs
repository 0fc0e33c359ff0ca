//! Leaderboard latency: 100,000 scoring facts of 1,000 contributors over 10 tracked
//! repositories, then p50/p99 of the global board, a repository's board and a windowed
//! board with bots over real HTTP; and how long rebuilding one repository's facts takes.
//!
//! `cargo bench --bench leaderboards`; `BENCH_BOARD_ITEMS` / `BENCH_BOARD_CONTRIBUTORS` /
//! `BENCH_BOARD_REQUESTS` scale it. Needs PostgreSQL on 127.0.0.1:5432.

#[path = "support/mod.rs"]
mod support;
#[path = "../tests/api/helpers/test_db.rs"]
mod test_db;

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Instant;

use diesel_async::RunQueryDsl;
use gitomatic::config::Config;
use gitomatic::context::AppContext;
use test_db::TestDb;

const REPOSITORIES: u64 = 10;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let items = env_number("BENCH_BOARD_ITEMS", 100_000);
    let contributors = env_number("BENCH_BOARD_CONTRIBUTORS", 1_000);
    let requests = env_number("BENCH_BOARD_REQUESTS", 200);

    let db = TestDb::new().await;
    let started = Instant::now();
    seed(&db, items, contributors).await?;
    println!(
        "seeded {items} scoring facts of {contributors} contributors in {REPOSITORIES} tracked \
         repositories in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let env = HashMap::from([
        ("DATABASE_URL".to_string(), db.url.clone()),
        (
            "QUEUE_PREFIX".to_string(),
            format!("bench-{}", uuid::Uuid::new_v4().simple()),
        ),
    ]);
    let ctx = AppContext::new(Config::from_lookup(|name| env.get(name).cloned())?)?;
    let repository = first_repository(&db).await?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(gitomatic::api::serve(ctx.clone(), listener)?);
    let http = reqwest::Client::new();

    println!();
    println!("| request ({requests} each, sequential) | p50 ms | p99 ms |");
    println!("|---|---|---|");
    let cases = [
        (
            "global board, first page",
            format!("{base}/github/leaderboards/"),
        ),
        (
            "global board, page 50, with bots, one year",
            format!(
                "{base}/github/leaderboards/?page=50&include_bots=true&since=2025-12-01&until=2026-12-01"
            ),
        ),
        (
            "one repository's board",
            format!("{base}/github/repositories/{repository}/leaderboard/"),
        ),
    ];
    for (label, url) in cases {
        let (p50, p99) = support::measure(&http, &url, requests).await?;
        println!("| {label} | {p50:.1} | {p99:.1} |");
    }
    // Last: the repository's facts become what its (empty) activity tables say.
    let rebuild_started = Instant::now();
    gitomatic::db::queries::leaderboards::rebuild(&mut *ctx.conn().await?, repository).await?;
    let rebuild = rebuild_started.elapsed();
    println!();
    println!(
        "rebuilding one repository's facts from its activity (an empty repository here, the \
         DELETE of its ~{} facts and the INSERT ... SELECT): {:.1} ms",
        items / REPOSITORIES,
        rebuild.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Contributors `dev-1`…, one owner, tracked repositories, and facts of every kind spread
/// over the last two years (a few bots among the contributors).
async fn seed(db: &TestDb, items: u64, contributors: u64) -> anyhow::Result<()> {
    let mut conn = db.connect().await;
    for statement in [
        format!(
            "INSERT INTO developers (github_id, login)
             SELECT g, CASE WHEN g % 50 = 0 THEN 'bot-' || g || '[bot]' ELSE 'dev-' || g END
             FROM generate_series(1::bigint, {contributors}) AS g"
        ),
        format!(
            "INSERT INTO repositories (github_id, owner_id, owner_github_id, name, full_name)
             SELECT 1000000 + r, d.id, 1, 'project-' || r, 'dev-1/project-' || r
             FROM generate_series(1, {REPOSITORIES}) AS r, developers d WHERE d.github_id = 1"
        ),
        "INSERT INTO tracked_repositories (full_name, repository_id)
         SELECT full_name, id FROM repositories"
            .to_owned(),
        format!(
            "INSERT INTO contributions (repository_id, login, bot, kind, occurred_at, amount)
             SELECT r.id, d.login, d.login LIKE '%[bot]',
                    (ARRAY['commit', 'pr_opened', 'pr_merged', 'pr_reviewed', 'issue_opened',
                           'issue_closed', 'comment', 'release', 'lines_added', 'lines_deleted'])[1 + i % 10],
                    now() - ((i * 7919) % 730 || ' days')::interval,
                    CASE WHEN i % 10 >= 8 THEN 1 + (i * 104729) % 400 ELSE 1 END
             FROM generate_series(1::bigint, {items}) AS i
             JOIN developers d ON d.github_id = 1 + floor(power((i * 104729 % 1000003) / 1000003.0, 2) * {contributors})::bigint
             JOIN repositories r ON r.github_id = 1000000 + 1 + i % {REPOSITORIES}"
        ),
        "ANALYZE".to_owned(),
    ] {
        diesel::sql_query(statement).execute(&mut conn).await?;
    }
    Ok(())
}

async fn first_repository(db: &TestDb) -> anyhow::Result<uuid::Uuid> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let mut conn = db.connect().await;
    let row: Id = diesel::sql_query("SELECT id FROM repositories ORDER BY github_id LIMIT 1")
        .get_result(&mut conn)
        .await?;
    Ok(row.id)
}
