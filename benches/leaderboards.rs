//! Leaderboard latency: 100,000 stored activity items (issues and pull requests, timeline
//! comments and reviews, releases, weekly commit figures) of 1,000 contributors over 10
//! tracked repositories; how long rebuilding each repository's board from them takes (what
//! a sync pays), then p50/p99 of the global board, a repository's board and a windowed
//! board with bots over real HTTP.
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
    let stored = seed(&db, items, contributors).await?;
    println!(
        "seeded {stored} activity items of {contributors} contributors in {REPOSITORIES} tracked \
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
    let ctx = AppContext::new(Config::from_lookup(
        &gitomatic::jobs::Registry::builtin().schedules(),
        |name| env.get(name).cloned(),
    )?)?;
    let repositories = repository_ids(&db).await?;
    let mut rebuilds = Vec::new();
    for repository in &repositories {
        let rebuild_started = Instant::now();
        gitomatic::db::queries::leaderboards::rebuild(&mut *ctx.conn().await?, *repository).await?;
        rebuilds.push(rebuild_started.elapsed().as_secs_f64() * 1000.0);
    }
    rebuilds.sort_by(f64::total_cmp);
    println!(
        "rebuilding a repository's board (facts and weekly rollup) from its ~{} activity items \
         (one transaction, the reader never sees it half-built): median {:.1} ms, slowest {:.1} ms",
        stored / REPOSITORIES,
        rebuilds[rebuilds.len() / 2],
        rebuilds[rebuilds.len() - 1]
    );
    diesel::sql_query("ANALYZE contributions, weekly_contributions")
        .execute(&mut db.connect().await)
        .await?;
    let repository = repositories[0];
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(gitomatic::api::serve(
        ctx.clone(),
        support::registry(),
        listener,
    )?);
    let http = reqwest::Client::new();
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Duration::days(365);

    println!();
    println!("| request ({requests} each, sequential) | p50 ms | p99 ms |");
    println!("|---|---|---|");
    let cases = [
        (
            "global board, first page",
            format!("{base}/github/leaderboards/"),
        ),
        (
            "global board, page 50, with bots, the last year",
            format!(
                "{base}/github/leaderboards/?page=50&include_bots=true&since={}&until={}",
                year_ago, today
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
    Ok(())
}

/// Contributors `dev-1`… (every 50th a bot), one owner, tracked repositories, and
/// activity of every kind spread over the last two years; contributors are picked with a
/// skew (a few do much, most do little). Answers how many activity items were stored.
async fn seed(db: &TestDb, items: u64, contributors: u64) -> anyhow::Result<u64> {
    // Of every 100 items: 20 issues and pull requests, 58 timeline comments and reviews,
    // 2 releases, 20 contributor-weeks of commit and line figures.
    let (issues, timeline, releases, weeks) = (items / 5, items * 58 / 100, items / 50, items / 5);
    // A skewed pick of a contributor's github_id from a number.
    let pick = |n: &str| {
        format!(
            "1 + floor(power(({n} * 104729 % 1000003) / 1000003.0, 2) * {contributors})::bigint"
        )
    };
    let ago = |n: &str, days: u32| format!("now() - (({n} * 7919) % {days} || ' days')::interval");
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
        // Half pull requests; a third closed (closed issues by someone, merged pulls).
        format!(
            "INSERT INTO issues (github_id, repository_id, full_name, number, is_pull_request,
                                 title, state, author_login, author_type, created_at, updated_at,
                                 closed_at, closed_by_login, merged, merged_at)
             SELECT 10000000 + i, r.id, r.full_name, i::int, i % 2 = 0, 'item ' || i,
                    CASE WHEN i % 3 = 0 THEN 'closed' ELSE 'open' END,
                    a.login, CASE WHEN a.login LIKE '%[bot]' THEN 'Bot' ELSE 'User' END,
                    {created}, {created}, CASE WHEN i % 3 = 0 THEN {closed} END,
                    CASE WHEN i % 3 = 0 AND i % 2 = 1 THEN c.login END,
                    CASE WHEN i % 2 = 0 AND i % 3 = 0 THEN true END,
                    CASE WHEN i % 2 = 0 AND i % 3 = 0 THEN {closed} END
             FROM generate_series(1::bigint, {issues}) AS i
             JOIN developers a ON a.github_id = {author}
             JOIN developers c ON c.github_id = {closer}
             JOIN repositories r ON r.github_id = 1000000 + 1 + i % {REPOSITORIES}",
            created = ago("i", 730),
            closed = ago("i", 700),
            author = pick("i"),
            closer = pick("(i * 31)"),
        ),
        // Comments, and reviews on pull requests.
        format!(
            "INSERT INTO timeline_items (issue_id, position, event, item_key, actor_login,
                                         actor_type, created_at, details)
             SELECT s.id, k::int,
                    CASE WHEN k % 3 = 0 AND s.is_pull_request THEN 'reviewed' ELSE 'commented' END,
                    'item-' || k, d.login, 'User', s.created_at + (k % 500 || ' minutes')::interval,
                    CASE WHEN k % 3 = 0 AND s.is_pull_request THEN '{{\"state\": \"approved\"}}'::jsonb
                         ELSE '{{}}'::jsonb END
             FROM generate_series(1::bigint, {timeline}) AS k
             JOIN issues s ON s.github_id = 10000000 + 1 + k % {issues}
             JOIN developers d ON d.github_id = {actor}",
            actor = pick("(k * 7)"),
        ),
        format!(
            "INSERT INTO releases (github_id, repository_id, full_name, tag_name, author_login,
                                   author_type, published_at)
             SELECT 20000000 + k, r.id, r.full_name, 'v' || k, d.login, 'User', {published}
             FROM generate_series(1::bigint, {releases}) AS k
             JOIN developers d ON d.github_id = {author}
             JOIN repositories r ON r.github_id = 1000000 + 1 + k % {REPOSITORIES}",
            published = ago("k", 730),
            author = pick("(k * 13)"),
        ),
        format!(
            "INSERT INTO contributor_weeks (repository_id, author_github_id, login, author_type,
                                            week, commits, additions, deletions)
             SELECT DISTINCT ON (r.id, d.github_id, week) r.id, d.github_id, d.login, 'User',
                    date_trunc('week', now()) - interval '1 day' - ((w * 7919) % 104 || ' weeks')::interval AS week,
                    1 + w % 9, (w * 104729) % 3000, (w * 7919) % 1500
             FROM generate_series(1::bigint, {weeks} * 2) AS w
             JOIN developers d ON d.github_id = {author}
             JOIN repositories r ON r.github_id = 1000000 + 1 + w % {REPOSITORIES}
             LIMIT {weeks}",
            author = pick("(w * 17)"),
        ),
        "ANALYZE".to_owned(),
    ] {
        diesel::sql_query(statement).execute(&mut conn).await?;
    }
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let stored: Count = diesel::sql_query(
        "SELECT (SELECT count(*) FROM issues) + (SELECT count(*) FROM timeline_items)
              + (SELECT count(*) FROM releases) + (SELECT count(*) FROM contributor_weeks) AS n",
    )
    .get_result(&mut conn)
    .await?;
    Ok(u64::try_from(stored.n).unwrap_or_default())
}

/// The tracked repositories' ids.
async fn repository_ids(db: &TestDb) -> anyhow::Result<Vec<uuid::Uuid>> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let mut conn = db.connect().await;
    let rows: Vec<Id> = diesel::sql_query("SELECT id FROM repositories ORDER BY github_id")
        .load(&mut conn)
        .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}
