//! The live task stream, and the dashboard in a real browser: headless Chromium (Debian's
//! `chromium`) driven over the DevTools protocol, the test reading the rendered DOM.

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use diesel::sql_types::{Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use gitomatic::db::queries::samples::{self, QuotaSample, Sample};
use gitomatic::domain::{FullName, GithubLogin};
use gitomatic::jobs::{FRESH_FOR, FullProfileSync, RepositoryActivitySync};
use serde_json::{Value, json};

use crate::activity::{track_and_sync, world};
use crate::helpers::browser::{Browser, WAIT};
use crate::helpers::seed::{self, Dev, get_json};
use crate::helpers::{Graph, TestApp, spawn_crawler};

/// Reads `event: task` events off a Server-Sent Events body until `done` says stop.
async fn read_events<B: AsRef<[u8]>>(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    mut done: impl FnMut(&Value) -> bool,
) -> Vec<Value> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = Some(value.to_owned());
                }
            }
            if let (Some(name), Some(data)) = (name, data) {
                assert_eq!(name, "task");
                let task: Value = serde_json::from_str(&data).expect("a JSON task");
                let stop = done(&task);
                events.push(task);
                if stop {
                    return events;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on")
            .expect("a chunk");
        buffer.push_str(std::str::from_utf8(chunk.as_ref()).expect("utf-8"));
    }
}

#[tokio::test]
async fn the_live_stream_delivers_every_status_change_of_a_task() {
    let mut graph = Graph::default();
    graph.add_user("alice");
    let mut app = spawn_crawler(graph).await;
    let response = app
        .http
        .get(format!("{}/github/tasks/live/", app.address))
        .send()
        .await
        .expect("the stream answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().expect("ascii"),
        "text/event-stream"
    );
    let mut body = response.bytes_stream();
    let first = body.next().await.expect("a first chunk").expect("bytes");
    assert!(first.starts_with(b": connected"), "{first:?}");

    let task = app
        .enqueue(FullProfileSync {
            username: GithubLogin::parse("alice").expect("login"),
        })
        .await;
    app.start_worker();
    let id = task.id.to_string();
    let events = read_events(&mut body, |event| {
        event["id"] == id.as_str() && event["status"] == "succeeded"
    })
    .await;
    let statuses: Vec<&str> = events
        .iter()
        .filter(|event| event["id"] == id.as_str())
        .map(|event| event["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["queued", "running", "succeeded"]);
    let last = events.last().expect("an event");
    assert!(
        last["url"]
            .as_str()
            .is_some_and(|url| url.ends_with(&format!("/github/tasks/{id}/"))),
        "{last}"
    );
    assert_eq!(last["name"], "full_profile_sync");

    // A row too large for a notification (a long error) still reaches the stream whole.
    let long_error = "x".repeat(9_000);
    let mut conn = app.ctx.conn().await.expect("a connection");
    diesel::sql_query("UPDATE tasks SET status = 'failed', error = $2 WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(task.id)
        .bind::<diesel::sql_types::Text, _>(&long_error)
        .execute(&mut conn)
        .await
        .expect("the task fails");
    let events = read_events(&mut body, |event| event["id"] == id.as_str()).await;
    let last = events.last().expect("an event");
    assert_eq!(last["status"], "failed");
    assert_eq!(last["error"], long_error.as_str());
}

#[tokio::test]
async fn a_client_that_never_reads_holds_up_neither_the_stream_nor_the_writers() {
    let mut graph = Graph::default();
    graph.add_user("alice");
    let app = spawn_crawler(graph).await;
    let open = |app: &crate::helpers::TestApp| {
        app.http
            .get(format!("{}/github/tasks/live/", app.address))
            .send()
    };
    // A client that connects and then reads nothing more.
    let stalled = open(&app).await.expect("a stream");
    let mut reader = open(&app).await.expect("a stream").bytes_stream();
    let first = reader.next().await.expect("a first chunk").expect("bytes");
    assert!(first.starts_with(b": connected"), "{first:?}");

    let task = app
        .enqueue(FullProfileSync {
            username: GithubLogin::parse("alice").expect("login"),
        })
        .await;
    // Far more than the stalled client's socket and the feed's buffer hold: 1,500 changes
    // of ~4 KB each, every one a committed write that must not wait for any reader.
    let mut conn = app.ctx.conn().await.expect("a connection");
    let started = std::time::Instant::now();
    for round in 0..1_500 {
        let status = if round % 2 == 0 {
            "running"
        } else {
            "deferred"
        };
        diesel::sql_query("UPDATE tasks SET status = $2, error = $3 WHERE id = $1")
            .bind::<diesel::sql_types::Uuid, _>(task.id)
            .bind::<diesel::sql_types::Text, _>(status)
            .bind::<diesel::sql_types::Text, _>(format!("round {round} {}", "x".repeat(4_000)))
            .execute(&mut conn)
            .await
            .expect("a status change");
    }
    diesel::sql_query("UPDATE tasks SET status = 'succeeded', error = NULL WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(task.id)
        .execute(&mut conn)
        .await
        .expect("the last change");
    let writing = started.elapsed();
    // The reading client still gets the last change (skipping what it fell behind on).
    let id = task.id.to_string();
    let events = read_events(&mut reader, |event| {
        event["id"] == id.as_str() && event["status"] == "succeeded"
    })
    .await;
    assert!(!events.is_empty());
    assert!(
        writing < Duration::from_secs(60),
        "1,501 writes took {writing:?}"
    );
    drop(stalled);
}

#[tokio::test]
async fn the_dashboard_shows_the_board_and_a_task_changing_status_after_it_loaded() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;

    let mut browser = Browser::open(&format!("{}/github/dashboard/", app.address)).await;
    browser
        .wait_for("document.body && document.body.dataset.live", json!("open"))
        .await;
    assert_eq!(
        browser
            .eval("document.querySelectorAll('script[src], link[rel=stylesheet], img[src^=http]').length")
            .await,
        json!(0),
        "nothing loaded from elsewhere"
    );

    // The leaderboard rows are the global board's top 20.
    let shown = browser
        .eval(
            "[...document.querySelectorAll('#leaderboard tbody tr')]
               .map(row => [row.cells[1].textContent.trim(), Number(row.cells[2].textContent)])",
        )
        .await;
    let board: Value = app
        .http
        .get(format!("{}/github/leaderboards/?page_size=20", app.address))
        .send()
        .await
        .expect("board")
        .json()
        .await
        .expect("json");
    let expected: Vec<Value> = board["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|entry| json!([entry["login"], entry["score"]]))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(shown, Value::Array(expected));

    // The tracked repositories, each with when it was last synced.
    let shown = browser
        .eval(
            "[...document.querySelectorAll('#repositories tbody tr')]
               .map(row => [row.cells[0].textContent.trim(), row.cells[1].textContent.trim()])",
        )
        .await;
    let (_, tracked) = get_json(
        &app,
        "/github/tracked_repositories/",
        &[("page_size", "100")],
    )
    .await;
    let tracked: Vec<&str> = tracked["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|repo| repo["full_name"].as_str().expect("full_name"))
        .collect();
    let shown = shown.as_array().expect("rows");
    assert_eq!(shown.len(), tracked.len(), "{shown:?}");
    for row in shown {
        assert!(tracked.contains(&row[0].as_str().expect("a name")), "{row}");
        assert_ne!(row[1], "never", "{row}: synced");
    }

    // The quota of every identity, as stored.
    let shown = browser
        .eval(
            "[...document.querySelectorAll('#quota tbody tr')]
               .map(row => [row.cells[0].textContent, row.cells[1].textContent, Number(row.cells[2].textContent)])",
        )
        .await;
    let (_, quota) = get_json(&app, "/github/rate_limit/", &[("page_size", "100")]).await;
    let mut expected: Vec<Value> = quota["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| json!([row["identity"], row["resource"], row["rate_remaining"]]))
        .collect();
    let mut shown = shown.as_array().expect("rows").clone();
    let key = |row: &Value| row.to_string();
    expected.sort_by_key(key);
    shown.sort_by_key(key);
    assert!(!expected.is_empty());
    assert_eq!(shown, expected);

    // A task enqueued after the page loaded appears and reaches `succeeded` without a reload.
    let task = app
        .enqueue(RepositoryActivitySync::of(
            FullName::parse("alice/tool").expect("name"),
        ))
        .await;
    browser
        .wait_for(
            &format!(
                "document.querySelector('tr[data-task=\"{}\"]')?.dataset.status ?? null",
                task.id
            ),
            json!("succeeded"),
        )
        .await;
    assert_eq!(
        browser
            .eval(&format!(
                "document.querySelector('tr[data-task=\"{}\"] .name').textContent",
                task.id
            ))
            .await,
        json!("repository_activity_sync")
    );
    // The page was not reloaded: the leaderboard is the server-rendered one still.
    assert_eq!(
        browser
            .eval("performance.getEntriesByType('navigation').length")
            .await,
        json!(1)
    );
}

// ---------------------------------------------------------------------------
// Charts: the samples the leading scheduler takes, and the dashboard drawing them
// ---------------------------------------------------------------------------

/// A chart as the browser rendered it: what maps its points back to values, its lines
/// (`data-series`, the points of each polyline, in document order), the titles of its
/// axes and its legend's series.
#[derive(Debug)]
struct DrawnChart {
    t0: f64,
    t1: f64,
    ymax: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    lines: Vec<(String, Vec<(f64, f64)>)>,
    axis_titles: Vec<String>,
    legend: Vec<String>,
}

async fn read_chart(browser: &mut Browser, id: &str) -> DrawnChart {
    let chart = browser
        .eval(&format!(
            "(() => {{
               const svg = document.getElementById({id});
               if (!svg) return null;
               const d = svg.dataset;
               return {{
                 numbers: [d.t0, d.t1, d.ymax, d.left, d.right, d.top, d.bottom].map(Number),
                 lines: [...svg.querySelectorAll('polyline.line')]
                   .map(p => [p.dataset.series, p.getAttribute('points')]),
                 axisTitles: [...svg.querySelectorAll('text.axis-title')].map(t => t.textContent),
                 legend: [...svg.closest('.plot').nextElementSibling.querySelectorAll('li')]
                   .map(li => li.dataset.series),
               }};
             }})()",
            id = json!(id)
        ))
        .await;
    assert!(chart.is_object(), "no chart #{id} on the page");
    let numbers: Vec<f64> = chart["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .map(|n| n.as_f64().expect("a number"))
        .collect();
    let lines = chart["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| {
            let points = line[1]
                .as_str()
                .expect("points")
                .split_whitespace()
                .map(|pair| {
                    let (x, y) = pair.split_once(',').expect("x,y");
                    (x.parse().expect("x"), y.parse().expect("y"))
                })
                .collect();
            (line[0].as_str().expect("a series").to_owned(), points)
        })
        .collect();
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .expect("an array")
            .iter()
            .map(|s| s.as_str().expect("a string").to_owned())
            .collect()
    };
    DrawnChart {
        t0: numbers[0],
        t1: numbers[1],
        ymax: numbers[2],
        left: numbers[3],
        right: numbers[4],
        top: numbers[5],
        bottom: numbers[6],
        lines,
        axis_titles: strings(&chart["axisTitles"]),
        legend: strings(&chart["legend"]),
    }
}

impl DrawnChart {
    /// Checks that `series` is drawn as exactly `expected` (time in Unix seconds, value):
    /// one polyline per run of points no two consecutive of which are more than `max_gap`
    /// seconds apart, each point where the chart's scale puts it (to the 0.1 unit the
    /// page writes).
    fn assert_series(&self, series: &str, expected: &[(f64, f64)], max_gap: f64) {
        assert!(!expected.is_empty(), "{series}: the test expects points");
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        for (i, point) in expected.iter().enumerate() {
            if i == 0 || point.0 - expected[i - 1].0 > max_gap {
                runs.push(Vec::new());
            }
            let x =
                self.left + (point.0 - self.t0) / (self.t1 - self.t0) * (self.right - self.left);
            let y = self.bottom - point.1 / self.ymax * (self.bottom - self.top);
            runs.last_mut().expect("a run").push((x, y));
        }
        let drawn: Vec<&Vec<(f64, f64)>> = self
            .lines
            .iter()
            .filter(|(key, _)| key == series)
            .map(|(_, points)| points)
            .collect();
        assert_eq!(
            drawn.len(),
            runs.len(),
            "{series}: {} polylines drawn, {} runs expected",
            drawn.len(),
            runs.len()
        );
        for (drawn, run) in drawn.iter().zip(&runs) {
            assert_eq!(drawn.len(), run.len(), "{series}: points in a run");
            for (got, want) in drawn.iter().zip(run) {
                assert!(
                    (got.0 - want.0).abs() <= 0.06 && (got.1 - want.1).abs() <= 0.06,
                    "{series}: drawn at {got:?}, expected at {want:?}"
                );
            }
        }
        let highest = expected.iter().map(|(_, value)| *value).fold(0.0, f64::max);
        assert!(self.ymax >= highest, "{series}: the y axis shows {highest}");
        assert!(
            self.legend.iter().any(|key| key == series),
            "{series} in the legend"
        );
    }
}

/// A quota reading of a sample.
fn quota(identity: &str, resource: &str, remaining: i64) -> QuotaSample {
    QuotaSample {
        identity: identity.into(),
        resource: resource.into(),
        remaining,
        limit: 5000,
    }
}

/// Seeds a day of samples every 4 minutes (with a 2-hour hole), a week of samples every
/// 25 minutes before it (with a 4-hour hole), and samples just outside each chart's span;
/// returns them all.
async fn seed_samples(app: &TestApp, now: DateTime<Utc>) -> Vec<Sample> {
    let minute = now.duration_trunc(TimeDelta::minutes(1)).expect("a minute");
    let mut all = Vec::new();
    // The day: identity A's core and graphql all along, B's core only in the last 6 hours.
    for k in 1..(23 * 15) {
        let taken_at = minute - TimeDelta::minutes(4 * k);
        if taken_at > now - TimeDelta::hours(10) && taken_at < now - TimeDelta::hours(8) {
            continue;
        }
        let mut readings = vec![
            quota("token:aaaa1111", "core", 5000 - (k * 37) % 5000),
            quota("token:aaaa1111", "graphql", 4000 + k % 500),
        ];
        if k < 90 {
            readings.push(quota("token:bbbb2222", "core", 100 + k * 3));
        }
        all.push(Sample {
            taken_at,
            developers: 10_000 + k,
            synced: 6_000 - k,
            frontier: 4_000 + k * 2,
            quota: readings,
        });
    }
    // A day and an hour ago: in the week's chart only.
    all.push(Sample {
        taken_at: minute - TimeDelta::hours(25),
        developers: 9_000,
        synced: 5_555,
        frontier: 4_444,
        quota: vec![quota("token:aaaa1111", "core", 1)],
    });
    // The week before the day.
    for k in 0.. {
        let taken_at = minute - TimeDelta::hours(26) - TimeDelta::minutes(25 * k);
        if taken_at < now - TimeDelta::days(7) + TimeDelta::hours(1) {
            break;
        }
        if taken_at > now - TimeDelta::days(4)
            && taken_at < now - TimeDelta::days(4) + TimeDelta::hours(4)
        {
            continue;
        }
        all.push(Sample {
            taken_at,
            developers: 8_000 - k,
            synced: 5_000 - k * 3,
            frontier: 3_000 + (k * 7) % 400,
            quota: vec![quota("token:aaaa1111", "core", 4_999)],
        });
    }
    // Older than the week.
    all.push(Sample {
        taken_at: minute - TimeDelta::days(7) - TimeDelta::hours(2),
        developers: 1,
        synced: 99_999,
        frontier: 99_999,
        quota: vec![],
    });
    let mut conn = app.db.connect().await;
    for sample in &all {
        samples::insert(&mut conn, sample).await.expect("a sample");
    }
    all.sort_by_key(|sample| sample.taken_at);
    all
}

/// A task row as the runner leaves it.
async fn seed_task(
    app: &TestApp,
    status: &str,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
) {
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "INSERT INTO tasks (name, status, attempts, args, dedupe_key, created_at, started_at, finished_at)
         VALUES ('graph_snapshot', $1, 1, '{}', gen_random_uuid()::text, $2, $2, $3)",
    )
    .bind::<Text, _>(status)
    .bind::<Timestamptz, _>(started_at)
    .bind::<Nullable<Timestamptz>, _>(finished_at)
    .execute(&mut conn)
    .await
    .expect("a task");
}

fn seconds(time: DateTime<Utc>) -> f64 {
    time.timestamp_millis() as f64 / 1000.0
}

#[tokio::test]
async fn the_dashboard_charts_the_samples_and_the_tasks_in_svg() {
    let app = crate::helpers::spawn_app().await;
    let now = Utc::now();
    let all = seed_samples(&app, now).await;
    // Tasks over the day: succeeded and failed by finished_at, deferred by the start of
    // their run; one finished before the day, one still queued.
    let mut ended: Vec<(&str, DateTime<Utc>)> = Vec::new();
    for i in 0..70 {
        let finished = now - TimeDelta::minutes(5 + i * 19) - TimeDelta::seconds(i * 7 % 60);
        let status = if i % 4 == 0 { "failed" } else { "succeeded" };
        seed_task(
            &app,
            status,
            finished - TimeDelta::seconds(3),
            Some(finished),
        )
        .await;
        ended.push((status, finished));
    }
    for i in 0..6 {
        let started = now - TimeDelta::minutes(13 + i * 131);
        seed_task(&app, "deferred", started, None).await;
        ended.push(("deferred", started));
    }
    seed_task(
        &app,
        "succeeded",
        now - TimeDelta::hours(25),
        Some(now - TimeDelta::hours(25)),
    )
    .await;
    seed_task(&app, "queued", now, None).await;
    crate::helpers::seed::execute(
        &app,
        "INSERT INTO tracked_organizations (login, members_synced_at)
         VALUES ('rust-lang', '2026-12-01T10:20:30Z'), ('tokio-rs', NULL)",
    )
    .await;

    let url = format!("{}/github/dashboard/", app.address);
    let mut browser = Browser::open(&url).await;
    browser.wait_for_load(&url).await;
    assert_eq!(
        browser
            .eval("document.querySelectorAll('script[src], link[rel=stylesheet], img[src], svg image').length")
            .await,
        json!(0),
        "nothing loaded from elsewhere"
    );

    // Quota: one line per identity and resource, every sample of the last 24 hours.
    let chart = read_chart(&mut browser, "quota-chart").await;
    assert_eq!(chart.t1 - chart.t0, 86_400.0, "{chart:?}");
    assert_eq!(chart.axis_titles, ["requests left", "time (UTC)"]);
    let day: Vec<&Sample> = all
        .iter()
        .filter(|sample| seconds(sample.taken_at) >= chart.t0)
        .collect();
    let mut keys: Vec<String> = Vec::new();
    for (identity, resource) in [
        ("token:aaaa1111", "core"),
        ("token:aaaa1111", "graphql"),
        ("token:bbbb2222", "core"),
    ] {
        let points: Vec<(f64, f64)> = day
            .iter()
            .flat_map(|sample| {
                sample
                    .quota
                    .iter()
                    .filter(|q| q.identity == identity && q.resource == resource)
                    .map(|q| (seconds(sample.taken_at), q.remaining as f64))
            })
            .collect();
        let key = format!("{identity} {resource}");
        chart.assert_series(&key, &points, 600.0);
        keys.push(key);
    }
    let drawn: std::collections::BTreeSet<&str> =
        chart.lines.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(drawn.len(), 3, "no other line: {drawn:?}");
    assert_eq!(chart.legend, keys);
    // The hole in the samples breaks the lines of A.
    assert_eq!(
        chart
            .lines
            .iter()
            .filter(|(k, _)| k == "token:aaaa1111 core")
            .count(),
        2
    );

    // Developers synced and frontier: the last sample of each hour of the last 7 days.
    let chart = read_chart(&mut browser, "crawl-chart").await;
    assert_eq!(chart.t1 - chart.t0, 7.0 * 86_400.0, "{chart:?}");
    assert_eq!(chart.axis_titles, ["developers", "time (UTC)"]);
    let mut hourly: Vec<&Sample> = Vec::new();
    for sample in all.iter().filter(|s| seconds(s.taken_at) >= chart.t0) {
        let hour = |s: &Sample| s.taken_at.timestamp().div_euclid(3600);
        match hourly.last_mut() {
            Some(last) if hour(last) == hour(sample) => *last = sample,
            _ => hourly.push(sample),
        }
    }
    assert!(hourly.len() > 100, "{}", hourly.len());
    for (key, value) in [
        ("synced", (|s: &Sample| s.synced) as fn(&Sample) -> i64),
        ("frontier", |s: &Sample| s.frontier),
    ] {
        let points: Vec<(f64, f64)> = hourly
            .iter()
            .map(|sample| (seconds(sample.taken_at), value(sample) as f64))
            .collect();
        chart.assert_series(key, &points, 7_200.0);
    }
    assert_eq!(chart.legend, ["synced", "frontier"]);
    assert!(
        chart.lines.iter().filter(|(k, _)| k == "synced").count() >= 2,
        "the week's hole"
    );

    // Tasks per 10 minutes by outcome, every whole period of the day, 0 where none ended.
    let chart = read_chart(&mut browser, "task-chart").await;
    assert_eq!(chart.t1 - chart.t0, 86_400.0, "{chart:?}");
    assert_eq!(chart.axis_titles, ["tasks per 10 minutes", "time (UTC)"]);
    let first = (chart.t0 / 600.0).floor() * 600.0 + 600.0;
    let periods: Vec<f64> = (0..)
        .map(|i| first + f64::from(i) * 600.0)
        .take_while(|period| *period + 600.0 <= chart.t1)
        .collect();
    assert_eq!(periods.len(), 143, "the whole periods of the day");
    for outcome in ["succeeded", "failed", "deferred"] {
        let points: Vec<(f64, f64)> = periods
            .iter()
            .map(|period| {
                let count = ended
                    .iter()
                    .filter(|(status, at)| {
                        *status == outcome && (seconds(*at) / 600.0).floor() * 600.0 == *period
                    })
                    .count();
                (*period, count as f64)
            })
            .collect();
        assert!(points.iter().any(|(_, count)| *count > 0.0), "{outcome}");
        chart.assert_series(outcome, &points, 600.0);
    }
    assert_eq!(chart.legend, ["succeeded", "failed", "deferred"]);

    // Tracked organizations with their last members sync.
    let rows = browser
        .eval(
            "[...document.querySelectorAll('#organizations tbody tr')]
               .map(row => [row.cells[0].textContent.trim(), row.querySelector('.members-synced').textContent])
               .sort()",
        )
        .await;
    assert_eq!(
        rows,
        json!([
            ["rust-lang", "2026-12-01 10:20:30 UTC"],
            ["tokio-rs", "never"]
        ])
    );
}

#[tokio::test]
async fn the_leading_scheduler_samples_at_most_once_a_minute_and_keeps_30_days() {
    let mut app = crate::helpers::spawn_app_with(|env| {
        for schedule in gitomatic::jobs::Registry::builtin().schedules() {
            env.insert(schedule.variable.into(), "off".into());
        }
    })
    .await;
    let now = Utc::now();
    // Synced an hour ago, synced two days ago (due again), never synced.
    for (id, synced) in [
        (1, Some(now - TimeDelta::hours(1))),
        (2, Some(now - TimeDelta::hours(1))),
        (3, Some(now - TimeDelta::days(2))),
        (4, None),
    ] {
        seed::developer(
            &app,
            Dev {
                last_synced_at: synced,
                ..Dev::new(id, &format!("dev{id}"))
            },
        )
        .await;
    }
    // A window still running, and one whose reset has passed (full again).
    seed::execute(
        &app,
        "INSERT INTO rate_limits (identity, resource, rate_limit, rate_remaining, rate_used, rate_reset)
         VALUES ('token:aaaa1111', 'core', 5000, 1234, 3766, now() + interval '20 minutes'),
                ('token:aaaa1111', 'graphql', 5000, 17, 4983, now() - interval '1 minute')",
    )
    .await;
    let mut conn = app.db.connect().await;
    let minute = now.duration_trunc(TimeDelta::minutes(1)).expect("a minute");
    for days in [31, 29] {
        samples::insert(
            &mut conn,
            &Sample {
                taken_at: minute - TimeDelta::days(days),
                developers: days,
                synced: 0,
                frontier: 0,
                quota: vec![],
            },
        )
        .await
        .expect("an old sample");
    }

    // Two schedulers: only the leader samples, at once and then once a minute.
    app.start_scheduler();
    app.start_scheduler();
    let deadline = tokio::time::Instant::now() + WAIT;
    while app
        .db
        .count("SELECT count(*) AS n FROM samples WHERE taken_at > now() - interval '2 minutes'")
        .await
        == 0
    {
        assert!(tokio::time::Instant::now() < deadline, "no sample taken");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let taken = samples::since(&mut conn, now - TimeDelta::minutes(2))
        .await
        .expect("samples");
    assert_eq!(taken.len(), 1, "{taken:?}");
    let sample = &taken[0];
    assert_eq!(sample.taken_at.timestamp() % 60, 0, "a whole minute");
    assert_eq!(
        (sample.developers, sample.synced, sample.frontier),
        (4, 3, 2)
    );
    assert_eq!(
        sample.quota,
        [
            quota("token:aaaa1111", "core", 1234),
            quota("token:aaaa1111", "graphql", 5000),
        ]
    );
    // Pruned to 30 days by the same step.
    let kept: Vec<i64> = samples::since(&mut conn, now - TimeDelta::days(40))
        .await
        .expect("samples")
        .iter()
        .map(|sample| sample.developers)
        .collect();
    assert_eq!(kept, [29, 4]);

    // A second sample in the same minute is refused, whoever takes it.
    let this_minute = || {
        Utc::now()
            .duration_trunc(TimeDelta::minutes(1))
            .expect("a minute")
    };
    loop {
        let before = this_minute();
        samples::take(&mut conn, FRESH_FOR, samples::RETENTION)
            .await
            .expect("a sample");
        let second = samples::take(&mut conn, FRESH_FOR, samples::RETENTION)
            .await
            .expect("a sample");
        if this_minute() == before {
            assert_eq!(second.sample, None, "{second:?}");
            break;
        }
    }
}

#[tokio::test]
async fn the_dashboard_a_list_and_an_item_fit_a_390_pixel_screen() {
    let app = crate::helpers::spawn_app().await;
    seed_samples(&app, Utc::now()).await;
    // Long unbreakable values in every table and in the JSON.
    let id = seed::developer(
        &app,
        Dev {
            bio: Some("x".repeat(400)),
            location: Some("A-very-long-location-without-any-space-at-all".into()),
            ..Dev::new(99, "a-developer-with-a-rather-long-login-name")
        },
    )
    .await;
    seed_task(&app, "failed", Utc::now(), Some(Utc::now())).await;
    seed::execute(
        &app,
        &format!(
            "UPDATE tasks SET error = '{}', args = '{{\"username\": \"{}\"}}'",
            "e".repeat(300),
            "u".repeat(39)
        ),
    )
    .await;
    seed::execute(
        &app,
        "INSERT INTO tracked_organizations (login, last_error)
         VALUES ('an-organization-with-a-long-login-name', 'GitHub answered 404: Not Found')",
    )
    .await;
    seed::execute(
        &app,
        "INSERT INTO rate_limits (identity, resource, rate_limit, rate_remaining, rate_used, rate_reset)
         VALUES ('token:aaaa1111', 'code_search', 10, 10, 0, now() + interval '1 minute')",
    )
    .await;
    let mut browser = Browser::open("about:blank").await;
    browser.emulate_width(390, 844, true).await;
    for path in [
        "/github/dashboard/".to_owned(),
        "/github/tasks/?format=api".to_owned(),
        format!("/github/developers/{id}/?format=api"),
        "/github/visualization/events-total-count?offset=60".to_owned(),
    ] {
        let url = format!("{}{path}", app.address);
        browser.navigate(&url).await;
        let widths = browser
            .eval("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            .await;
        assert!(
            widths[0].as_i64().expect("a width") <= 390,
            "{path} is {widths} wide at 390 px"
        );
    }
    // The dashboard's charts and tables scroll inside their boxes.
    browser
        .navigate(&format!("{}/github/dashboard/", app.address))
        .await;
    let inside = browser
        .eval(
            "[...document.querySelectorAll('.plot, .scroll')]
               .filter(box => box.scrollWidth > box.clientWidth).length",
        )
        .await;
    assert!(inside.as_i64().expect("a count") >= 3, "{inside}");
}
