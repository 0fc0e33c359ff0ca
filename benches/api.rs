//! API latency benchmark: 100,000 developers and 1,000,000 follow edges, then p50/p99 of a
//! filtered, ordered list page and of a followers sub-collection page over real HTTP.
//!
//! `cargo bench --bench api`; `BENCH_API_DEVELOPERS` / `BENCH_API_EDGES` / `BENCH_API_REQUESTS`
//! scale it. Needs PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672.

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

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let developers = support::env_number("BENCH_API_DEVELOPERS", 100_000);
    let edges = support::env_number("BENCH_API_EDGES", 1_000_000);
    let requests = support::env_number("BENCH_API_REQUESTS", 300);

    let db = TestDb::new().await;
    let started = Instant::now();
    seed(&db, developers, edges).await?;
    let stored = count(&db, "SELECT count(*) AS n FROM follows").await?;
    println!(
        "seeded {developers} developers and {stored} follow edges in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let env = HashMap::from([
        ("DATABASE_URL".to_string(), db.url.clone()),
        (
            "QUEUE_PREFIX".to_string(),
            format!("bench-{}", uuid::Uuid::new_v4().simple()),
        ),
    ]);
    let config = Config::from_lookup(&gitomatic::jobs::Registry::builtin().schedules(), |name| {
        env.get(name).cloned()
    })?;
    let ctx = AppContext::new(config)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(gitomatic::api::serve(ctx, support::registry(), listener)?);
    let http = reqwest::Client::new();

    // The most-followed developer: the largest sub-collection.
    let popular = most_followed(&db).await?;
    let followers_url = format!("{base}/github/developers/{popular}/followers/");

    println!();
    println!("| request ({requests} each, sequential) | p50 ms | p99 ms |");
    println!("|---|---|---|");
    let cases = [
        (
            "filtered, ordered list page",
            format!(
                "{base}/github/developers/?followers_count__gte=5&location__contains=ber&ordering=-followers_count&page=3"
            ),
        ),
        (
            "followers sub-collection page",
            format!("{followers_url}?page=2"),
        ),
        (
            "developer list, default order",
            format!("{base}/github/developers/?page=50"),
        ),
    ];
    for (label, url) in cases {
        let (p50, p99) = support::measure(&http, &url, requests).await?;
        println!("| {label} | {p50:.1} | {p99:.1} |");
    }
    Ok(())
}

/// Developers with varied counts and locations; edges from a deterministic pseudo-random
/// spread, skewed so that a few developers have many followers.
async fn seed(db: &TestDb, developers: u64, edges: u64) -> anyhow::Result<()> {
    let mut conn = db.connect().await;
    diesel::sql_query(format!(
        "INSERT INTO developers (github_id, login, name, location, bio, followers_count,
                                 following_count, public_repos, created_at, last_synced_at)
         SELECT g, 'dev-' || g, 'Developer ' || g,
                (ARRAY['Berlin', 'Tokyo', 'Lagos', 'Paris', 'Lima'])[1 + g % 5],
                'bio ' || g, (g * 7919) % 1000, (g * 104729) % 500, g % 50,
                timestamptz '2010-01-01' + (g || ' hours')::interval,
                CASE WHEN g % 3 = 0 THEN now() END
         FROM generate_series(1::bigint, {developers}) AS g"
    ))
    .execute(&mut conn)
    .await?;
    // Candidate pairs repeat (and a few are self-follows): draw 30 % more than wanted and
    // keep the first `edges` distinct ones.
    let candidates = edges + edges * 3 / 10;
    diesel::sql_query(format!(
        "INSERT INTO follows (follower_id, followee_id)
         SELECT follower, followee FROM (
             SELECT DISTINCT ON (a.id, b.id) a.id AS follower, b.id AS followee, e
             FROM generate_series(1::bigint, {candidates}) AS e
             JOIN developers a ON a.github_id = 1 + (e * 7919) % {developers}
             JOIN developers b ON b.github_id = 1 + floor(power((e * 104729 % 1000003) / 1000003.0, 3) * {developers})::bigint
             WHERE a.id <> b.id
             ORDER BY a.id, b.id, e) AS pairs
         ORDER BY e
         LIMIT {edges}"
    ))
    .execute(&mut conn)
    .await?;
    diesel::sql_query("ANALYZE").execute(&mut conn).await?;
    Ok(())
}

/// Runs `SELECT count(*) AS n ...`.
async fn count(db: &TestDb, sql: &str) -> anyhow::Result<i64> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.connect().await;
    let row: Count = diesel::sql_query(sql).get_result(&mut conn).await?;
    Ok(row.n)
}

/// The developer with the most follow edges.
async fn most_followed(db: &TestDb) -> anyhow::Result<uuid::Uuid> {
    #[derive(diesel::QueryableByName)]
    struct Popular {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        followee_id: uuid::Uuid,
    }
    let mut conn = db.connect().await;
    let popular: Popular = diesel::sql_query(
        "SELECT followee_id FROM follows GROUP BY followee_id ORDER BY count(*) DESC LIMIT 1",
    )
    .get_result(&mut conn)
    .await?;
    Ok(popular.followee_id)
}
