//! The live task stream, and the dashboard in a real browser: headless Chromium (Debian's
//! `chromium`) driven over the DevTools protocol, the test reading the rendered DOM.

use std::time::Duration;

use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use gitomatic::domain::{FullName, GithubLogin};
use gitomatic::jobs::{FullProfileSync, RepositoryActivitySync};
use serde_json::{Value, json};

use crate::activity::{track_and_sync, world};
use crate::helpers::browser::{Browser, WAIT};
use crate::helpers::seed::get_json;
use crate::helpers::{Graph, spawn_crawler};

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
