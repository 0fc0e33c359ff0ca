//! Webhook benchmark (issue 23): signed GitHub webhook deliveries sent over real HTTP to the
//! app's web server, stored, and applied by in-process workers through RabbitMQ into a fresh
//! database that tracks one repository (`alice/tool` of the fake GitHub); reports the time
//! the endpoint takes to answer, the delivery-to-row latency (p50, p95) and deliveries
//! applied per second.
//!
//! The deliveries are, in turn, `issues` opened (a new issue), `issues` edited (a stored
//! issue's new title) and `issue_comment` created (a new comment on a stored issue), built
//! from the fake GitHub's answers by the tests' payload builders
//! (`tests/api/helpers/webhook_payloads.rs`); the first of each kind is validated against
//! GitHub's published description (`@octokit/openapi-webhooks`, installed by
//! `./scripts/setup.sh`, like the tests). The issues to edit and comment on are stored first
//! by `opened` deliveries from 8 senders (the warm-up, not measured), and the run waits until
//! no task is left (the leaderboard rebuild they ask for included) before each phase.
//!
//! Two phases:
//! - one at a time (`BENCH_WEBHOOK_SEQUENTIAL`, default 150): a delivery is sent, then the
//!   row it makes (the issue, its new title, the comment's timeline item) is polled for
//!   about every millisecond on a connection of its own; delivery-to-row runs from just
//!   before the request is sent to the first poll that sees the row.
//! - a burst (`BENCH_WEBHOOK_DELIVERIES`, default 1000) from `BENCH_WEBHOOK_SENDERS`
//!   (default 8) concurrent senders, each sending its share back to back: delivery-to-row
//!   is the delivery's `applied_at` (the worker's clock, in the transaction that writes the
//!   row, just before it commits) minus the client's clock just before the request was
//!   sent — one machine, one clock; polling a thousand rows at once would load the machine
//!   it measures. It leaves out the commit and poll (the first phase prints both figures
//!   for comparison). Deliveries applied per second = deliveries / (last `applied_at` −
//!   first send).
//!
//! `BENCH_WEBHOOK_WORKERS` (default 2) sets the in-process workers, each with an
//! `AppContext` of its own (connection pool and broker connection, as a `gitomatic worker`
//! process has) and `WORKER_CONCURRENCY` (default 4, the app's default) jobs at once.
//! `BENCH_JSON=path` also writes the results there as a JSON array, one object per row
//! (`case`, `deliveries`, `http_p50_ms`, `http_p95_ms`, `http_max_ms`, `row_p50_ms`,
//! `row_p95_ms`, `applied_per_s`). Every delivery must be applied (none ignored or failed),
//! every row must be there afterwards, and the fake GitHub must receive no request but
//! `/rate_limit`. Needs PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672, like
//! the tests.

#[path = "../tests/api/helpers/fake_github.rs"]
mod fake_github;
#[path = "../tests/api/helpers/github_webhooks.rs"]
mod github_webhooks;
#[path = "support/mod.rs"]
mod support;
#[path = "../tests/api/helpers/webhook_payloads.rs"]
mod webhook_payloads;

// `github_webhooks` finds GitHub's descriptions through `super::github_graphql`.
use fake_github::github_graphql;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use gitomatic::context::AppContext;
use gitomatic::db::queries::tracked;
use gitomatic::github::webhook::sign;
use serde_json::{Value, json};
use tokio::sync::watch;

use fake_github::{FakeGithub, Graph};
use github_webhooks::{GithubWebhooks, github_webhooks};
use webhook_payloads::Payloads;

/// The tracked repository every delivery is about.
const REPOSITORY: &str = "alice/tool";
/// The webhook's secret (GitHub's documentation example).
const SECRET: &str = "It's a Secret to Everybody";
/// Who opens, edits and comments, in turn.
const PEOPLE: [&str; 3] = ["alice", "bob", "carol"];
/// Senders of the warm-up.
const WARM_UP_SENDERS: usize = 8;
const QUOTA: u32 = 10_000_000;
/// How often the one-at-a-time phase looks for a delivery's row.
const ROW_POLL: Duration = Duration::from_millis(1);
/// How often the run looks whether deliveries are applied, or tasks are left.
const POLL: Duration = Duration::from_millis(20);
/// How long a phase's deliveries may take to be applied, or its tasks to finish.
const TIMEOUT: Duration = Duration::from_secs(600);

/// The kinds of delivery sent, in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Opened,
    Edited,
    Commented,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Opened, Kind::Edited, Kind::Commented];

    fn event(self) -> &'static str {
        match self {
            Kind::Opened | Kind::Edited => "issues",
            Kind::Commented => "issue_comment",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Kind::Opened => "opened",
            Kind::Edited => "edited",
            Kind::Commented => "created",
        }
    }

    fn label(self) -> String {
        format!("`{}` {}", self.event(), self.action())
    }
}

/// The row a delivery makes, as the benchmark looks for it.
#[derive(Clone, Debug)]
enum Row {
    /// The issue stored.
    Issue { number: i32 },
    /// The stored issue with this title.
    Title { number: i32, title: String },
    /// The comment's `commented` timeline item stored.
    Comment { number: i32, item_key: String },
}

/// A delivery ready to send.
struct Delivery {
    kind: Kind,
    body: Vec<u8>,
    row: Row,
}

/// A delivery sent and answered `202`.
struct Sent {
    kind: Kind,
    delivery_id: String,
    /// The client's clock just before sending.
    sent_at: DateTime<Utc>,
    started: Instant,
    /// Until the answer's body was read.
    http: Duration,
}

/// One delivery measured.
struct Sample {
    kind: Kind,
    http: Duration,
    row: Duration,
}

/// A row of the results.
struct Line {
    case: String,
    deliveries: usize,
    http: [f64; 3],
    row: [f64; 2],
    applied_per_s: Option<f64>,
}

/// Builds deliveries from the fake as it is now, changing it first as GitHub would have.
struct Builder<'a> {
    fake: &'a FakeGithub,
    payloads: Payloads,
    repo: i64,
    people: [i64; 3],
    repository: Value,
    senders: [Value; 3],
    /// Stored issues not yet edited or commented on.
    stored: std::vec::IntoIter<i64>,
    /// Kinds whose first delivery was validated.
    validated: Vec<Kind>,
    opened: usize,
}

impl Builder<'_> {
    /// The `k`-th delivery of a phase, of the `k % 3`-th kind.
    async fn delivery(&mut self, k: usize) -> anyhow::Result<Delivery> {
        let kind = Kind::ALL[k % 3];
        let who = k / 3 % 3;
        let (author, sender) = (self.people[who], self.senders[who].clone());
        let delivery = match kind {
            Kind::Opened => {
                self.opened += 1;
                let title = format!("Bench issue {}", self.opened);
                let id = self
                    .fake
                    .with_graph(|g| g.add_issue(self.repo, author, &title));
                let number = self.number(id);
                let body = json!({
                    "action": "opened",
                    "issue": self.payloads.issue(REPOSITORY, number.into()).await,
                    "repository": self.repository,
                    "sender": sender,
                });
                (body, Row::Issue { number })
            }
            Kind::Edited => {
                let id = self.stored.next().context("no stored issue left to edit")?;
                let (old, title) = self.fake.with_graph(|g| {
                    let old = g.issue(id).title.clone();
                    let title = format!("{old}, edited");
                    let at = g.clock() + 60;
                    g.set_clock(at);
                    let issue = g.issue_mut(id);
                    issue.title.clone_from(&title);
                    issue.updated_at = at;
                    (old, title)
                });
                let number = self.number(id);
                let body = json!({
                    "action": "edited",
                    "changes": {"title": {"from": old}},
                    "issue": self.payloads.issue(REPOSITORY, number.into()).await,
                    "repository": self.repository,
                    "sender": sender,
                });
                (body, Row::Title { number, title })
            }
            Kind::Commented => {
                let id = self
                    .stored
                    .next()
                    .context("no stored issue left to comment on")?;
                let comment = self
                    .fake
                    .with_graph(|g| g.comment(id, author, "Seen here too, on 2.0."));
                let number = self.number(id);
                let body = json!({
                    "action": "created",
                    "issue": self.payloads.issue(REPOSITORY, number.into()).await,
                    "comment": self.payloads.comment(REPOSITORY, number.into(), comment).await,
                    "repository": self.repository,
                    "sender": sender,
                });
                let item_key = comment.to_string();
                (body, Row::Comment { number, item_key })
            }
        };
        let (body, row) = delivery;
        if !self.validated.contains(&kind) {
            let name = GithubWebhooks::name(kind.event(), Some(kind.action()));
            if let Err(violations) = github_webhooks().validate(&name, &body) {
                bail!(
                    "the {name} delivery does not validate against GitHub's description:\n{}",
                    violations.join("\n")
                );
            }
            self.validated.push(kind);
        }
        Ok(Delivery {
            kind,
            body: serde_json::to_vec(&body)?,
            row,
        })
    }

    async fn deliveries(&mut self, count: usize) -> anyhow::Result<Vec<Delivery>> {
        let mut deliveries = Vec::with_capacity(count);
        for k in 0..count {
            deliveries.push(self.delivery(k).await?);
        }
        Ok(deliveries)
    }

    fn number(&self, id: i64) -> i32 {
        i32::try_from(self.fake.graph().issue(id).number).unwrap_or(i32::MAX)
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let sequential = usize::try_from(support::env_number("BENCH_WEBHOOK_SEQUENTIAL", 150))?;
    let burst = usize::try_from(support::env_number("BENCH_WEBHOOK_DELIVERIES", 1000))?;
    let senders = usize::try_from(support::env_number("BENCH_WEBHOOK_SENDERS", 8))?.max(1);
    let workers = usize::try_from(support::env_number("BENCH_WEBHOOK_WORKERS", 2))?.max(1);
    let concurrency = support::env_number("WORKER_CONCURRENCY", 4).max(1);
    let load_before = load_average();
    // Each phase edits a third of its deliveries' issues and comments on another third.
    let to_store = [sequential, burst]
        .iter()
        .map(|n| n.div_ceil(3) * 2)
        .sum::<usize>();

    let mut graph = Graph::default();
    let people = PEOPLE.map(|login| graph.add_user(login));
    let repo = graph.add_repo(people[0], "tool");
    let stored: Vec<i64> = (0..to_store)
        .map(|k| graph.add_issue(repo, people[k % 3], &format!("Stored issue {k}")))
        .collect();
    let fake = FakeGithub::start(graph).await;
    fake.set_quota(QUOTA, QUOTA, Utc::now().timestamp() + 3600);
    let db = support::BenchDb::create().await?;
    let config = support::config(
        &db.url,
        &fake.url,
        &[
            ("GITHUB_WEBHOOK_SECRET", SECRET.to_owned()),
            ("WORKER_CONCURRENCY", concurrency.to_string()),
        ],
    )?;
    let ctx = AppContext::new(config.clone())?;
    tracked::track_repository(&mut *ctx.conn().await?, REPOSITORY, None).await?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let endpoint = format!(
        "http://127.0.0.1:{}/github/webhooks/",
        listener.local_addr()?.port()
    );
    tokio::spawn(gitomatic::api::serve(
        ctx.clone(),
        support::registry(),
        listener,
    )?);
    let (stop, stopped) = watch::channel(false);
    let mut handles = Vec::new();
    for _ in 0..workers {
        let worker_ctx = AppContext::new(config.clone())?;
        handles.push(tokio::spawn(gitomatic::worker::run(
            worker_ctx,
            support::registry(),
            stopped.clone(),
        )));
    }
    let http = reqwest::Client::new();
    let mut conn = AsyncPgConnection::establish(&db.url).await?;
    let outcome = run(
        &http,
        &endpoint,
        &fake,
        &mut conn,
        repo,
        people,
        stored,
        (sequential, burst, senders),
    )
    .await;

    let _ = stop.send(true);
    for handle in handles {
        let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
    }
    if let Err(error) = support::delete_topology(&ctx).await {
        eprintln!("warning: could not delete the benchmark's queues: {error}");
    }
    let (lines, notes) = outcome?;

    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "gitomatic webhook benchmark: deliveries about 1 tracked repository over real HTTP, \
         {workers} in-process workers × WORKER_CONCURRENCY {concurrency}, {cpus} CPUs shared \
         with PostgreSQL, RabbitMQ and the senders; load average (1, 5, 15 min) before the \
         run {load_before}, after it {}",
        load_average()
    );
    println!();
    println!(
        "| phase | deliveries | HTTP answer p50 / p95 / max ms | delivery→row p50 / p95 ms | \
         applied per s |"
    );
    println!("|---|---|---|---|---|");
    for line in &lines {
        let per_second = line
            .applied_per_s
            .map_or_else(|| "–".to_owned(), |rate| format!("{rate:.0}"));
        println!(
            "| {} | {} | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} | {per_second} |",
            line.case,
            line.deliveries,
            line.http[0],
            line.http[1],
            line.http[2],
            line.row[0],
            line.row[1]
        );
    }
    println!();
    for note in notes {
        println!("{note}");
    }
    if let Some(path) = std::env::var_os("BENCH_JSON") {
        write_json(std::path::Path::new(&path), &lines)?;
    }
    Ok(())
}

/// The warm-up and both phases; the table's rows and what else there is to say.
#[allow(clippy::too_many_arguments)]
async fn run(
    http: &reqwest::Client,
    endpoint: &str,
    fake: &FakeGithub,
    conn: &mut AsyncPgConnection,
    repo: i64,
    people: [i64; 3],
    stored: Vec<i64>,
    (sequential, burst, senders): (usize, usize, usize),
) -> anyhow::Result<(Vec<Line>, Vec<String>)> {
    let payloads = Payloads::new(http.clone(), &fake.url);
    let mut sender_payloads = Vec::new();
    for login in PEOPLE {
        sender_payloads.push(payloads.user(login).await);
    }
    let senders_of = <[Value; 3]>::try_from(sender_payloads)
        .map_err(|_| anyhow::anyhow!("three senders expected"))?;
    let repository = payloads.repository(REPOSITORY).await;
    let mut notes = Vec::new();

    // Warm-up: the issues to edit and comment on, stored by `opened` deliveries.
    let mut warm_up = Vec::with_capacity(stored.len());
    for (k, id) in stored.iter().enumerate() {
        let number = fake.graph().issue(*id).number;
        let body = json!({
            "action": "opened",
            "issue": payloads.issue(REPOSITORY, number).await,
            "repository": repository,
            "sender": senders_of[k % 3],
        });
        warm_up.push(Delivery {
            kind: Kind::Opened,
            body: serde_json::to_vec(&body)?,
            row: Row::Issue {
                number: i32::try_from(number)?,
            },
        });
    }
    let started = Instant::now();
    let sent = send_all(http, endpoint, warm_up, WARM_UP_SENDERS).await?;
    wait_applied(conn, &sent).await?;
    notes.push(format!(
        "warm-up: {} `issues` opened deliveries (the issues the phases edit and comment on) \
         from {WARM_UP_SENDERS} senders, all applied in {:.1} s",
        sent.len(),
        started.elapsed().as_secs_f64()
    ));
    wait_until_idle(conn).await?;

    let mut builder = Builder {
        fake,
        payloads,
        repo,
        people,
        repository,
        senders: senders_of,
        stored: stored.into_iter(),
        validated: Vec::new(),
        opened: 0,
    };
    let mut lines = Vec::new();

    // One at a time, each row polled for.
    let deliveries = builder.deliveries(sequential).await?;
    fake.clear_requests();
    let mut samples = Vec::with_capacity(deliveries.len());
    let mut sent_one_by_one = Vec::with_capacity(deliveries.len());
    for delivery in deliveries {
        let sent = send(http, endpoint, delivery.kind, delivery.body).await?;
        let deadline = Instant::now() + TIMEOUT;
        while !row_visible(conn, &delivery.row).await? {
            ensure!(
                Instant::now() < deadline,
                "no row for delivery {} ({:?}) after {TIMEOUT:?}",
                sent.delivery_id,
                delivery.row
            );
            tokio::time::sleep(ROW_POLL).await;
        }
        samples.push(Sample {
            kind: sent.kind,
            http: sent.http,
            row: sent.started.elapsed(),
        });
        sent_one_by_one.push(sent);
    }
    wait_applied(conn, &sent_one_by_one).await?;
    no_github_request(fake, "the deliveries sent one at a time")?;
    lines.extend(summarize("one at a time (row polled)", &samples, None));
    let by_clock = by_applied_at(conn, &sent_one_by_one).await?;
    let by_clock: Vec<Duration> = sorted(by_clock.iter().map(|sample| sample.row));
    let polled: Vec<Duration> = sorted(samples.iter().map(|sample| sample.row));
    notes.push(format!(
        "one at a time, the burst's way (`applied_at` − send) against the row polled: p50 \
         {:.1} against {:.1} ms, p95 {:.1} against {:.1} ms (the difference: the commit and \
         the polling)",
        support::percentile_ms(&by_clock, 0.5),
        support::percentile_ms(&polled, 0.5),
        support::percentile_ms(&by_clock, 0.95),
        support::percentile_ms(&polled, 0.95),
    ));
    wait_until_idle(conn).await?;

    // The burst.
    let deliveries = builder.deliveries(burst).await?;
    let rows: Vec<Row> = deliveries.iter().map(|d| d.row.clone()).collect();
    fake.clear_requests();
    let started = Instant::now();
    let sent = send_all(http, endpoint, deliveries, senders).await?;
    let sending = started.elapsed();
    wait_applied(conn, &sent).await?;
    let samples = by_applied_at(conn, &sent).await?;
    let first_sent = sent
        .iter()
        .map(|sent| sent.sent_at)
        .min()
        .context("no delivery sent")?;
    let last_applied = applied_times(conn, &sent)
        .await?
        .into_values()
        .map(|(_, applied)| applied)
        .max()
        .context("no delivery applied")?;
    let span = (last_applied - first_sent).to_std().unwrap_or_default();
    lines.extend(summarize(
        &format!("burst from {senders} senders (`applied_at` − send)"),
        &samples,
        Some(sent.len() as f64 / span.as_secs_f64()),
    ));
    notes.push(format!(
        "burst: {} deliveries answered 202 in {:.2} s ({:.0} accepted per s); the last applied \
         {:.2} s after the first was sent",
        sent.len(),
        sending.as_secs_f64(),
        sent.len() as f64 / sending.as_secs_f64(),
        span.as_secs_f64()
    ));
    let queued = queue_times(conn, &sent).await?;
    notes.push(format!(
        "burst, `received_at` → `applied_at` (stored to applied, the queue included): p50 \
         {:.1} ms, p95 {:.1} ms",
        support::percentile_ms(&queued, 0.5),
        support::percentile_ms(&queued, 0.95),
    ));
    for row in &rows {
        ensure!(
            row_visible(conn, row).await?,
            "after the burst, no row {row:?}"
        );
    }
    no_github_request(fake, "the burst")?;
    Ok((lines, notes))
}

/// Fails when the fake GitHub received a request (but the workers' free `/rate_limit`)
/// since its log was cleared: a delivery is applied from its payload alone.
fn no_github_request(fake: &FakeGithub, while_: &str) -> anyhow::Result<()> {
    let asked: Vec<String> = fake
        .requests()
        .iter()
        .filter(|request| request.path.trim_end_matches('/') != "/rate_limit")
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    ensure!(
        asked.is_empty(),
        "the fake GitHub was asked during {while_}: {asked:?}"
    );
    Ok(())
}

/// Sends one delivery, signed; it must be answered `202`.
async fn send(
    http: &reqwest::Client,
    endpoint: &str,
    kind: Kind,
    body: Vec<u8>,
) -> anyhow::Result<Sent> {
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let signature = sign(SECRET.as_bytes(), &body);
    let sent_at = Utc::now();
    let started = Instant::now();
    let response = http
        .post(endpoint)
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/bench")
        .header("X-GitHub-Event", kind.event())
        .header("X-GitHub-Delivery", &delivery_id)
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .context("POST a delivery")?;
    let status = response.status();
    let answer = response.bytes().await?;
    let http = started.elapsed();
    ensure!(
        status == reqwest::StatusCode::ACCEPTED,
        "a {} delivery answered {status}: {}",
        kind.label(),
        support::snippet(&answer)
    );
    Ok(Sent {
        kind,
        delivery_id,
        sent_at,
        started,
        http,
    })
}

/// Sends the deliveries from `senders` concurrent senders, sender `s` taking deliveries
/// `s`, `s + senders`... back to back.
async fn send_all(
    http: &reqwest::Client,
    endpoint: &str,
    deliveries: Vec<Delivery>,
    senders: usize,
) -> anyhow::Result<Vec<Sent>> {
    let mut shares: Vec<Vec<Delivery>> = (0..senders).map(|_| Vec::new()).collect();
    for (k, delivery) in deliveries.into_iter().enumerate() {
        shares[k % senders].push(delivery);
    }
    let endpoint = Arc::new(endpoint.to_owned());
    let tasks: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let (http, endpoint) = (http.clone(), Arc::clone(&endpoint));
            tokio::spawn(async move {
                let mut sent = Vec::with_capacity(share.len());
                for delivery in share {
                    sent.push(send(&http, &endpoint, delivery.kind, delivery.body).await?);
                }
                anyhow::Ok(sent)
            })
        })
        .collect();
    let mut sent = Vec::new();
    for task in tasks {
        sent.extend(task.await.context("a sender panicked")??);
    }
    Ok(sent)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Whether the row a delivery makes is there.
async fn row_visible(conn: &mut AsyncPgConnection, row: &Row) -> anyhow::Result<bool> {
    let found: Count = match row {
        Row::Issue { number } => {
            diesel::sql_query(
                "SELECT count(*) AS n FROM issues WHERE full_name = $1 AND number = $2",
            )
            .bind::<Text, _>(REPOSITORY)
            .bind::<Integer, _>(number)
            .get_result(conn)
            .await?
        }
        Row::Title { number, title } => {
            diesel::sql_query(
                "SELECT count(*) AS n FROM issues
                 WHERE full_name = $1 AND number = $2 AND title = $3",
            )
            .bind::<Text, _>(REPOSITORY)
            .bind::<Integer, _>(number)
            .bind::<Text, _>(title)
            .get_result(conn)
            .await?
        }
        Row::Comment { number, item_key } => {
            diesel::sql_query(
                "SELECT count(*) AS n FROM timeline_items t JOIN issues i ON i.id = t.issue_id
                 WHERE i.full_name = $1 AND i.number = $2
                   AND t.event = 'commented' AND t.item_key = $3",
            )
            .bind::<Text, _>(REPOSITORY)
            .bind::<Integer, _>(number)
            .bind::<Text, _>(item_key)
            .get_result(conn)
            .await?
        }
    };
    Ok(found.n > 0)
}

fn ids(sent: &[Sent]) -> Vec<String> {
    sent.iter().map(|sent| sent.delivery_id.clone()).collect()
}

/// Waits until every delivery sent is applied; fails on one ignored or failed.
async fn wait_applied(conn: &mut AsyncPgConnection, sent: &[Sent]) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Progress {
        #[diesel(sql_type = BigInt)]
        applied: i64,
        #[diesel(sql_type = BigInt)]
        other: i64,
        #[diesel(sql_type = Nullable<Text>)]
        error: Option<String>,
    }
    let ids = ids(sent);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let progress: Progress = diesel::sql_query(
            "SELECT count(*) FILTER (WHERE status = 'applied') AS applied,
                    count(*) FILTER (WHERE status IN ('ignored', 'failed')) AS other,
                    min(status || ': ' || coalesce(error, '')) FILTER
                        (WHERE status IN ('ignored', 'failed')) AS error
             FROM webhook_deliveries WHERE delivery_id = ANY($1)",
        )
        .bind::<Array<Text>, _>(&ids)
        .get_result(conn)
        .await?;
        ensure!(
            progress.other == 0,
            "{} deliveries not applied, e.g. {}",
            progress.other,
            progress.error.unwrap_or_default()
        );
        if usize::try_from(progress.applied)? == ids.len() {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "{} of {} deliveries applied after {TIMEOUT:?}",
            progress.applied,
            ids.len()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until no task is queued, running or deferred (the leaderboard rebuild the
/// deliveries asked for included).
async fn wait_until_idle(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let active: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'running', 'deferred')",
        )
        .get_result(conn)
        .await?;
        if active.n == 0 {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "tasks still active");
        tokio::time::sleep(POLL).await;
    }
}

/// `received_at` and `applied_at` of each delivery sent, by delivery id.
async fn applied_times(
    conn: &mut AsyncPgConnection,
    sent: &[Sent],
) -> anyhow::Result<HashMap<String, (DateTime<Utc>, DateTime<Utc>)>> {
    #[derive(QueryableByName)]
    struct Times {
        #[diesel(sql_type = Text)]
        delivery_id: String,
        #[diesel(sql_type = Timestamptz)]
        received_at: DateTime<Utc>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        applied_at: Option<DateTime<Utc>>,
    }
    let rows: Vec<Times> = diesel::sql_query(
        "SELECT delivery_id, received_at, applied_at FROM webhook_deliveries
         WHERE delivery_id = ANY($1)",
    )
    .bind::<Array<Text>, _>(ids(sent))
    .load(conn)
    .await?;
    let mut times = HashMap::with_capacity(rows.len());
    for row in rows {
        let applied = row
            .applied_at
            .with_context(|| format!("delivery {} has no applied_at", row.delivery_id))?;
        times.insert(row.delivery_id, (row.received_at, applied));
    }
    ensure!(times.len() == sent.len(), "a delivery sent is not stored");
    Ok(times)
}

/// Each delivery's HTTP answer time and `applied_at` − the client's clock at sending.
async fn by_applied_at(conn: &mut AsyncPgConnection, sent: &[Sent]) -> anyhow::Result<Vec<Sample>> {
    let times = applied_times(conn, sent).await?;
    sent.iter()
        .map(|sent| {
            let (_, applied) = times
                .get(&sent.delivery_id)
                .context("a delivery sent is not stored")?;
            Ok(Sample {
                kind: sent.kind,
                http: sent.http,
                row: (*applied - sent.sent_at).to_std().unwrap_or_default(),
            })
        })
        .collect()
}

/// `applied_at` − `received_at` of each delivery, sorted.
async fn queue_times(conn: &mut AsyncPgConnection, sent: &[Sent]) -> anyhow::Result<Vec<Duration>> {
    let times = applied_times(conn, sent).await?;
    Ok(sorted(times.values().map(|(received, applied)| {
        (*applied - *received).to_std().unwrap_or_default()
    })))
}

fn sorted(durations: impl Iterator<Item = Duration>) -> Vec<Duration> {
    let mut durations: Vec<Duration> = durations.collect();
    durations.sort();
    durations
}

/// The rows of a phase: all its deliveries, then each kind.
fn summarize(phase: &str, samples: &[Sample], applied_per_s: Option<f64>) -> Vec<Line> {
    let line = |case: String, of: Vec<&Sample>, applied_per_s: Option<f64>| {
        let http = sorted(of.iter().map(|sample| sample.http));
        let row = sorted(of.iter().map(|sample| sample.row));
        Line {
            case,
            deliveries: of.len(),
            http: [
                support::percentile_ms(&http, 0.5),
                support::percentile_ms(&http, 0.95),
                support::percentile_ms(&http, 1.0),
            ],
            row: [
                support::percentile_ms(&row, 0.5),
                support::percentile_ms(&row, 0.95),
            ],
            applied_per_s,
        }
    };
    let mut lines = vec![line(
        format!("{phase}, all"),
        samples.iter().collect(),
        applied_per_s,
    )];
    for kind in Kind::ALL {
        let of: Vec<&Sample> = samples.iter().filter(|s| s.kind == kind).collect();
        lines.push(line(format!("{phase}, {}", kind.label()), of, None));
    }
    lines
}

/// The machine's load average over 1, 5 and 15 minutes (`/proc/loadavg`).
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_json(path: &std::path::Path, lines: &[Line]) -> anyhow::Result<()> {
    let cases: Vec<Value> = lines
        .iter()
        .map(|line| {
            json!({
                "case": line.case,
                "deliveries": line.deliveries,
                "http_p50_ms": line.http[0],
                "http_p95_ms": line.http[1],
                "http_max_ms": line.http[2],
                "row_p50_ms": line.row[0],
                "row_p95_ms": line.row[1],
                "applied_per_s": line.applied_per_s,
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&cases).context("the results as JSON")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {} cases to {}", cases.len(), path.display());
    Ok(())
}
