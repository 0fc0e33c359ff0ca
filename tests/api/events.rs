//! Event metrics end to end: `events_poll` against the fake GitHub's feeds through RabbitMQ
//! and a worker into PostgreSQL; the metrics compared with values computed here from the
//! stored events; the chart pages rendered by headless Chromium.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use gitomatic::db::queries::tasks::TaskStatus;
use gitomatic::jobs::EventsPoll;
use serde_json::Value;

use crate::helpers::fake_github::FEED_DEPTH;
use crate::helpers::seed::{self, get_json, results};
use crate::helpers::{Graph, TestApp, spawn_app, spawn_crawler};

const TASK_TIMEOUT: Duration = Duration::from_secs(60);

/// `ann` and `bob`; `acme` (an organization) owning `acme/api` and `acme/web`; `ann/tool`.
fn world() -> Graph {
    let mut graph = Graph::default();
    let ann = graph.add_user("ann");
    graph.add_user("bob");
    let acme = graph.add_org("acme");
    graph.add_repo(acme, "api");
    graph.add_repo(acme, "web");
    graph.add_repo(ann, "tool");
    graph
}

async fn poller(graph: Graph, poll_interval: u64) -> TestApp {
    let mut app = spawn_crawler(graph).await;
    app.fake().set_poll_interval(poll_interval);
    app.start_worker();
    app
}

/// Runs one `events_poll` task to its end; it must succeed.
async fn poll(app: &TestApp) {
    let task = app.enqueue(EventsPoll {}).await;
    let done = app.wait_for_task(task.id, TASK_TIMEOUT).await;
    assert_eq!(done.status, TaskStatus::Succeeded, "{done:?}");
}

#[derive(QueryableByName, Debug, Clone)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    github_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    action: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    repository_name: String,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    created_at: DateTime<Utc>,
}

/// Every stored event (the tests' independent source for the metrics).
async fn stored(app: &TestApp) -> Vec<Stored> {
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "SELECT github_id, type AS kind, action, repository_name, created_at FROM events ORDER BY github_id",
    )
    .load(&mut conn)
    .await
    .expect("events")
}

fn ids(events: &[Stored]) -> Vec<i64> {
    events.iter().map(|event| event.github_id).collect()
}

/// The fake's event ids, oldest first.
fn fake_ids(app: &TestApp) -> Vec<i64> {
    app.fake()
        .graph()
        .events
        .iter()
        .map(|event| event.id)
        .collect()
}

#[tokio::test]
async fn events_added_between_polls_are_stored_once_across_polls_and_pages() {
    let mut graph = world();
    graph.generate_events(120, 1);
    let app = poller(graph, 0).await;

    poll(&app).await;
    assert_eq!(ids(&stored(&app).await), fake_ids(&app), "two pages stored");
    let feed_requests = app.fake().feed_requests();
    assert_eq!(feed_requests.len(), 2, "per_page=100: two pages");

    for (round, added) in [(2u64, 150usize), (3, 7), (4, 99)] {
        app.fake()
            .with_graph(|graph| graph.generate_events(added, round));
        app.fake().clear_requests();
        poll(&app).await;
        let events = stored(&app).await;
        assert_eq!(
            ids(&events),
            fake_ids(&app),
            "round {round}: every event, once"
        );
        // Pages until the first event already delivered, not beyond.
        let pages = app.fake().feed_requests().len();
        assert_eq!(pages, added / 100 + 1, "round {round}: {pages} pages");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM event_gaps").await, 0);
    let (status, body) = get_json(&app, "/github/events/", &[("page_size", "1")]).await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 376);
    let newest = &results(&body)[0];
    let fake = app.fake().graph();
    let last = fake.events.last().expect("events");
    assert_eq!(newest["github_id"], last.id);
    assert_eq!(newest["type"], last.kind.as_str());
    assert_eq!(newest["repository_name"], fake.full_name(last.repo));
    assert_eq!(newest["actor_login"], fake.user(last.actor).login.as_str());
    assert_eq!(
        newest["action"].as_str(),
        last.action.as_deref(),
        "action is payload.action"
    );
    let (status, detail) = seed::get_url(&app, newest["url"].as_str().expect("url")).await;
    assert_eq!(status, 200);
    assert_eq!(detail, *newest);
    for field in [
        "url",
        "id",
        "github_id",
        "type",
        "action",
        "actor_login",
        "repository_name",
        "org_login",
        "created_at",
        "fetched_at",
        "payload",
    ] {
        assert!(newest.get(field).is_some(), "{field}");
    }
}

#[tokio::test]
async fn tracked_repository_feeds_are_polled_too_and_events_stay_unique() {
    let mut graph = world();
    graph.generate_events(40, 5);
    let app = poller(graph, 0).await;
    seed::execute(
        &app,
        "INSERT INTO tracked_repositories (full_name) VALUES ('acme/api')",
    )
    .await;
    poll(&app).await;
    let paths: BTreeSet<String> = app
        .fake()
        .feed_requests()
        .into_iter()
        .map(|request| request.path)
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from(["/events".to_string(), "/repos/acme/api/events".to_string()])
    );
    assert_eq!(ids(&stored(&app).await), fake_ids(&app));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM event_feeds WHERE newest_github_id IS NOT NULL")
            .await,
        2
    );
    // Events of the repository arrive; both feeds deliver them; stored once.
    let (ann, api) = {
        let graph = app.fake().graph();
        (
            graph.user_id("ann").expect("ann"),
            graph.repo_id("acme", "api").expect("api"),
        )
    };
    app.fake().with_graph(|graph| {
        graph.add_event("IssuesEvent", ann, api, Some("opened"));
        graph.add_event("PushEvent", ann, api, None);
    });
    poll(&app).await;
    assert_eq!(ids(&stored(&app).await), fake_ids(&app));
    let (_, body) = get_json(
        &app,
        "/github/events/",
        &[
            ("repository_name", "acme/api"),
            ("type", "IssuesEvent"),
            ("action", "opened"),
        ],
    )
    .await;
    assert!(body["count"].as_i64().expect("count") >= 1);
    assert_eq!(results(&body)[0]["org_login"], "acme");
}

#[tokio::test]
async fn a_poll_inside_the_interval_makes_no_request() {
    let mut graph = world();
    graph.generate_events(10, 2);
    let app = poller(graph, 60).await;
    poll(&app).await;
    assert_eq!(app.fake().feed_requests().len(), 1);
    // GitHub asked for 60 s: polls now ask nothing, whatever arrived meanwhile.
    app.fake().with_graph(|graph| graph.generate_events(5, 3));
    let spent = app.fake().quota_spent();
    for _ in 0..3 {
        poll(&app).await;
    }
    assert_eq!(
        app.fake().feed_requests().len(),
        1,
        "no request inside the interval"
    );
    assert_eq!(app.fake().quota_spent(), spent);
    let next = app
        .count(
            "SELECT extract(epoch FROM next_poll_at - last_polled_at)::bigint AS n \
             FROM event_feeds WHERE feed = 'events'",
        )
        .await;
    assert_eq!(next, 60, "the next poll is X-Poll-Interval after the last");
    // Once the interval has passed (moved back here rather than waited for), it polls.
    seed::execute(
        &app,
        "UPDATE event_feeds SET next_poll_at = now() - interval '1 second'",
    )
    .await;
    poll(&app).await;
    assert_eq!(app.fake().feed_requests().len(), 2);
    assert_eq!(ids(&stored(&app).await), fake_ids(&app));
}

#[tokio::test]
async fn an_unchanged_feed_costs_no_quota() {
    let mut graph = world();
    graph.generate_events(30, 4);
    let app = poller(graph, 0).await;
    poll(&app).await;
    let remaining = app.fake().quota().remaining;
    app.fake().clear_requests();
    poll(&app).await;
    poll(&app).await;
    let requests = app.fake().feed_requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.status, 304, "{request:?}");
        assert!(request.if_none_match.is_some());
        assert!(!request.costs_quota);
    }
    assert_eq!(app.fake().quota().remaining, remaining, "no quota spent");
    assert_eq!(ids(&stored(&app).await).len(), 30);
    let row = app
        .count("SELECT count(*) AS n FROM tasks WHERE name = 'events_poll' AND github_requests = 0 AND status = 'succeeded'")
        .await;
    assert_eq!(row, 2, "the 304 polls spent nothing");
}

#[tokio::test]
async fn more_events_between_two_polls_than_the_feed_holds_record_a_gap() {
    let mut graph = world();
    graph.generate_events(50, 6);
    let app = poller(graph, 0).await;
    poll(&app).await;
    let before = stored(&app).await;
    let newest_before = before.iter().map(|e| e.created_at).max().expect("events");
    app.fake().with_graph(|graph| graph.generate_events(420, 7));
    poll(&app).await;
    let fake = app.fake().graph();
    let visible: Vec<_> = fake.events.iter().rev().take(FEED_DEPTH).collect();
    let oldest_fetched = visible.last().expect("events").created_at;
    let (status, body) = get_json(&app, "/github/events/gaps/", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 1, "{body}");
    let gap = &results(&body)[0];
    assert_eq!(gap["feed"], "events");
    assert_eq!(gap["events_fetched"], FEED_DEPTH);
    let time = |value: &Value| seed::at(value.as_str().expect("a time"));
    assert_eq!(time(&gap["newest_stored_before"]), newest_before);
    assert_eq!(time(&gap["oldest_fetched"]).timestamp(), oldest_fetched);
    assert!(gap["detected_at"].is_string() && gap["url"].is_string());
    // What the feed still held is stored; what it dropped is the gap.
    assert_eq!(stored(&app).await.len(), 50 + FEED_DEPTH);
    // A poll that reaches stored events again records nothing more.
    app.fake().with_graph(|graph| graph.generate_events(20, 8));
    poll(&app).await;
    assert_eq!(app.count("SELECT count(*) AS n FROM event_gaps").await, 1);
    // Each gap has its own page.
    let (status, detail) = seed::get_url(&app, gap["url"].as_str().expect("url")).await;
    assert_eq!(status, 200);
    assert_eq!(detail, *gap);
}

#[tokio::test]
async fn a_poll_reads_at_most_300_events_even_when_the_feed_offers_more() {
    let mut graph = world();
    graph.generate_events(450, 6);
    let app = poller(graph, 0).await;
    app.fake().set_feed_depth(450);
    poll(&app).await;
    assert_eq!(stored(&app).await.len(), FEED_DEPTH);
    assert_eq!(
        app.fake().feed_requests().len(),
        3,
        "three pages of 100, not the fourth and fifth the feed links to"
    );
}

#[tokio::test]
async fn the_first_poll_of_a_feed_records_no_gap_however_full_the_feed() {
    let mut graph = world();
    graph.generate_events(420, 6);
    let app = poller(graph, 0).await;
    poll(&app).await;
    // The feed showed its newest 300 of 420: that is where collection starts, not a gap.
    assert_eq!(stored(&app).await.len(), FEED_DEPTH);
    assert_eq!(app.count("SELECT count(*) AS n FROM event_gaps").await, 0);
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

/// (last − first) / (count − 1) over events, computed here.
fn expected_average(events: &[&Stored]) -> (i64, Option<f64>) {
    let count = events.len() as i64;
    if count < 2 {
        return (count, None);
    }
    let first = events.iter().map(|e| e.created_at).min().expect("events");
    let last = events.iter().map(|e| e.created_at).max().expect("events");
    let span = (last - first).num_microseconds().expect("span") as f64 / 1e6;
    (count, Some(span / (count - 1) as f64))
}

fn close(actual: &Value, expected: Option<f64>, what: &str) {
    match expected {
        None => assert!(actual.is_null(), "{what}: {actual}"),
        Some(expected) => {
            let actual = actual
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {actual}"));
            assert!(
                (actual - expected).abs() < 1e-6,
                "{what}: {actual} != {expected}"
            );
        }
    }
}

/// An app whose events came through the poller: 250 generated events in three repositories.
async fn metrics_app() -> (TestApp, Vec<Stored>) {
    let mut graph = world();
    graph.generate_events(250, 11);
    let app = poller(graph, 0).await;
    poll(&app).await;
    let events = stored(&app).await;
    assert_eq!(events.len(), 250);
    (app, events)
}

#[tokio::test]
async fn each_metric_matches_what_the_stored_events_give() {
    let (app, events) = metrics_app().await;
    let types: BTreeSet<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let repositories = ["acme/api", "acme/web", "ann/tool", "no/such"];

    // event-avg-time: with and without action and repository_name.
    for kind in gitomatic::github::types::EVENT_TYPES {
        let of_type: Vec<&Stored> = events.iter().filter(|e| e.kind == kind).collect();
        let actions: BTreeSet<Option<&str>> = of_type.iter().map(|e| e.action.as_deref()).collect();
        let (status, body) = get_json(
            &app,
            "/github/metrics/event-avg-time",
            &[("event_type", kind)],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (count, average) = expected_average(&of_type);
        assert_eq!(body["count"], count, "{kind}");
        assert_eq!(body["event_type"], kind);
        assert!(body["action"].is_null() && body["repository_name"].is_null());
        close(&body["average_seconds"], average, kind);
        for action in actions.iter().flatten() {
            let matching: Vec<&Stored> = of_type
                .iter()
                .copied()
                .filter(|e| e.action.as_deref() == Some(*action))
                .collect();
            let (_, body) = get_json(
                &app,
                "/github/metrics/event-avg-time",
                &[("event_type", kind), ("action", action)],
            )
            .await;
            let (count, average) = expected_average(&matching);
            assert_eq!(body["count"], count, "{kind} {action}");
            assert_eq!(body["action"], *action);
            close(
                &body["average_seconds"],
                average,
                &format!("{kind} {action}"),
            );
        }
        for repository in repositories {
            let matching: Vec<&Stored> = of_type
                .iter()
                .copied()
                .filter(|e| e.repository_name == repository)
                .collect();
            let (_, body) = get_json(
                &app,
                "/github/metrics/event-avg-time",
                &[("event_type", kind), ("repository_name", repository)],
            )
            .await;
            let (count, average) = expected_average(&matching);
            assert_eq!(body["count"], count, "{kind} in {repository}");
            assert_eq!(body["repository_name"], repository);
            close(
                &body["average_seconds"],
                average,
                &format!("{kind} in {repository}"),
            );
        }
    }
    assert!(
        types.len() > 10,
        "the generator covers the types: {types:?}"
    );

    // events-total-count: by type, with and without repository_name and action.
    for offset in ["1", "15", "60", "100000"] {
        for (repository, action) in [
            (None, None),
            (Some("acme/api"), None),
            (None, Some("opened")),
            (Some("ann/tool"), Some("created")),
        ] {
            let mut query = vec![("offset", offset)];
            query.extend(repository.map(|r| ("repository_name", r)));
            query.extend(action.map(|a| ("action", a)));
            let (status, body) = get_json(&app, "/github/metrics/events-total-count", &query).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["offset"], offset.parse::<i64>().expect("number"));
            let since = seed::at(body["since"].as_str().expect("since"));
            let expected_since = Utc::now() - chrono::Duration::minutes(offset.parse().expect("n"));
            assert!(
                (expected_since - since).num_seconds().abs() < 30,
                "since is now − offset"
            );
            let mut expected: BTreeMap<String, i64> = gitomatic::github::types::EVENT_TYPES
                .iter()
                .map(|t| ((*t).to_string(), 0))
                .collect();
            for event in events.iter().filter(|e| {
                e.created_at >= since
                    && repository.is_none_or(|r| e.repository_name == r)
                    && action.is_none_or(|a| e.action.as_deref() == Some(a))
            }) {
                *expected.entry(event.kind.clone()).or_default() += 1;
            }
            let counts: BTreeMap<String, i64> =
                serde_json::from_value(body["counts"].clone()).expect("counts");
            assert_eq!(
                counts, expected,
                "offset {offset} {repository:?} {action:?}"
            );
            assert_eq!(body["total"], expected.values().sum::<i64>());
        }
    }
    // An offset beyond any event (two centuries of minutes) counts every stored event.
    let (status, body) = get_json(
        &app,
        "/github/metrics/events-total-count",
        &[("offset", "105192000")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["offset"], 105_192_000);
    assert_eq!(body["total"], events.len());

    // multiple-events-repos: default 2, then explicit minimums.
    for kind in &types {
        for minimum in [None, Some(1), Some(3), Some(10_000)] {
            let mut query = vec![("event_type", *kind)];
            let text = minimum.map(|m: i64| m.to_string());
            query.extend(text.as_deref().map(|m| ("minimal_events_count", m)));
            let (status, body) =
                get_json(&app, "/github/metrics/multiple-events-repos", &query).await;
            assert_eq!(status, 200, "{body}");
            let minimum = minimum.unwrap_or(2);
            assert_eq!(body["minimal_events_count"], minimum);
            assert_eq!(body["event_type"], *kind);
            let mut by_repository: BTreeMap<&str, i64> = BTreeMap::new();
            for event in events.iter().filter(|e| e.kind == *kind) {
                *by_repository.entry(&event.repository_name).or_default() += 1;
            }
            let mut expected: Vec<(String, i64)> = by_repository
                .into_iter()
                .filter(|(_, count)| *count >= minimum)
                .map(|(name, count)| (name.to_string(), count))
                .collect();
            expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let actual: Vec<(String, i64)> = body["repositories"]
                .as_array()
                .expect("repositories")
                .iter()
                .map(|r| {
                    (
                        r["repository_name"].as_str().expect("name").to_string(),
                        r["count"].as_i64().expect("count"),
                    )
                })
                .collect();
            assert_eq!(actual, expected, "{kind} at least {minimum}");
        }
    }
}

/// A path, its query, and the parameter its 400 must name.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[tokio::test]
async fn every_validation_error_is_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let cases: [Case; 28] = [
        ("/github/metrics/event-avg-time", &[], "event_type"),
        (
            "/github/metrics/event-avg-time",
            &[("event_type", "")],
            "event_type",
        ),
        (
            "/github/metrics/event-avg-time",
            &[("event_type", "PushEvents")],
            "event_type",
        ),
        (
            "/github/metrics/event-avg-time",
            &[("event_type", "pushevent")],
            "event_type",
        ),
        (
            "/github/metrics/event-avg-time",
            &[("action", "opened")],
            "event_type",
        ),
        (
            "/github/metrics/event-avg-time",
            &[("event_type", "PushEvent"), ("offset", "1")],
            "offset",
        ),
        ("/github/metrics/events-total-count", &[], "offset"),
        (
            "/github/metrics/events-total-count",
            &[("offset", "0")],
            "offset",
        ),
        (
            "/github/metrics/events-total-count",
            &[("offset", "-5")],
            "offset",
        ),
        (
            "/github/metrics/events-total-count",
            &[("offset", "1.5")],
            "offset",
        ),
        (
            "/github/metrics/events-total-count",
            &[("offset", "ten")],
            "offset",
        ),
        (
            "/github/metrics/events-total-count",
            &[("offset", "99999999999999999999")],
            "offset",
        ),
        (
            "/github/metrics/events-total-count",
            &[("offset", "5"), ("event_type", "PushEvent")],
            "event_type",
        ),
        ("/github/metrics/multiple-events-repos", &[], "event_type"),
        (
            "/github/metrics/multiple-events-repos",
            &[("event_type", "Nope")],
            "event_type",
        ),
        (
            "/github/metrics/multiple-events-repos",
            &[("event_type", "PushEvent"), ("minimal_events_count", "0")],
            "minimal_events_count",
        ),
        (
            "/github/metrics/multiple-events-repos",
            &[("event_type", "PushEvent"), ("minimal_events_count", "-1")],
            "minimal_events_count",
        ),
        (
            "/github/metrics/multiple-events-repos",
            &[("event_type", "PushEvent"), ("minimal_events_count", "two")],
            "minimal_events_count",
        ),
        (
            "/github/visualization/event-avg-time",
            &[("event_type", "Bogus")],
            "event_type",
        ),
        ("/github/visualization/events-total-count", &[], "offset"),
        (
            "/github/visualization/events-total-count",
            &[("offset", "0")],
            "offset",
        ),
        (
            "/github/metrics/event-avg-time",
            &[("event_type", "PushEvent"), ("format", "xml")],
            "format",
        ),
        (
            "/github/metrics/events-total-count",
            &[("offset", "5"), ("format", "csv")],
            "format",
        ),
        (
            "/github/metrics/multiple-events-repos",
            &[("event_type", "PushEvent"), ("colour", "red")],
            "colour",
        ),
        // The charts are HTML only: they take no format.
        (
            "/github/visualization/event-avg-time",
            &[("format", "json")],
            "format",
        ),
        (
            "/github/visualization/events-total-count",
            &[("offset", "5"), ("colour", "")],
            "colour",
        ),
        // PostgreSQL text cannot hold a NUL: refused before any query.
        (
            "/github/metrics/event-avg-time",
            &[("event_type", "PublicEvent"), ("action", "a\0b")],
            "action",
        ),
        (
            "/github/metrics/events-total-count",
            &[("offset", "5"), ("repository_name", "o/\0")],
            "repository_name",
        ),
    ];
    for (path, query, parameter) in cases {
        let (status, body) = get_json(&app, path, query).await;
        assert_eq!(status, 400, "{path} {query:?}: {body}");
        let message = seed::error(&body);
        assert!(message.contains(parameter), "{path} {query:?}: {message}");
    }
    // An unknown parameter's error says what the resource takes.
    let (_, body) = get_json(
        &app,
        "/github/metrics/events-total-count",
        &[("offset", "5"), ("since", "yesterday")],
    )
    .await;
    assert_eq!(
        seed::error(&body),
        "Unknown parameter: since (this resource takes offset, action, repository_name, format)"
    );
    // An empty value counts as absent (django-filter's rule).
    let (status, body) = get_json(
        &app,
        "/github/metrics/event-avg-time",
        &[
            ("event_type", "PushEvent"),
            ("action", ""),
            ("repository_name", " "),
            ("format", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["action"].is_null() && body["repository_name"].is_null(),
        "{body}"
    );
    // An unknown type's error lists GitHub's types.
    let (_, body) = get_json(
        &app,
        "/github/metrics/event-avg-time",
        &[("event_type", "Nope")],
    )
    .await;
    assert!(seed::error(&body).contains("PullRequestReviewThreadEvent"));
    // With nothing stored, the answers are honest: no average, zero counts.
    let (status, body) = get_json(
        &app,
        "/github/metrics/event-avg-time",
        &[("event_type", "PushEvent")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 0);
    assert!(body["average_seconds"].is_null());
}

// ---------------------------------------------------------------------------
// Charts in a browser
// ---------------------------------------------------------------------------

/// Three PushEvents (2 gaps), five IssuesEvents (4 gaps), one WatchEvent (no gap), all in
/// the last half hour.
async fn chart_app() -> TestApp {
    let app = spawn_app().await;
    let rows = [
        ("PushEvent", None, "acme/api", 1700),
        ("PushEvent", None, "acme/api", 1500),
        ("PushEvent", None, "ann/tool", 1000),
        ("IssuesEvent", Some("opened"), "acme/api", 1750),
        ("IssuesEvent", Some("closed"), "acme/api", 1650),
        ("IssuesEvent", Some("opened"), "acme/web", 1200),
        ("IssuesEvent", Some("opened"), "acme/web", 900),
        ("IssuesEvent", Some("reopened"), "acme/web", 100),
        ("WatchEvent", Some("started"), "ann/tool", 300),
    ];
    for (n, (kind, action, repository, ago)) in rows.into_iter().enumerate() {
        let action = action.map_or("NULL".to_string(), |a| format!("'{a}'"));
        seed::execute(
            &app,
            &format!(
                "INSERT INTO events (github_id, type, action, actor_login, repository_name, \
                 created_at, payload) VALUES ({}, '{kind}', {action}, 'ann', '{repository}', \
                 now() - interval '{ago} seconds', '{{}}')",
                n + 1
            ),
        )
        .await;
    }
    app
}

/// The DOM of a page after headless Chromium rendered it; a screenshot is saved beside it
/// when `EVENTS_SCREENSHOTS` names a directory.
fn rendered_dom(url: &str, name: &str) -> String {
    let profile = std::env::temp_dir().join(format!("gitomatic-chromium-{}", uuid::Uuid::new_v4()));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let common = [
        "--headless=new".to_string(),
        "--no-sandbox".to_string(),
        "--disable-gpu".to_string(),
        "--no-first-run".to_string(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let output = Command::new(&chromium)
        .args(&common)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap_or_else(|error| panic!("{chromium} runs (the Debian package chromium): {error}"));
    assert!(
        output.status.success(),
        "{chromium} --dump-dom {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    if let Ok(directory) = std::env::var("EVENTS_SCREENSHOTS") {
        let status = Command::new(&chromium)
            .args(&common)
            .arg(format!("--screenshot={directory}/{name}.png"))
            .arg("--window-size=1000,900")
            .arg(url)
            .output()
            .expect("screenshot");
        assert!(status.status.success());
    }
    let _ = std::fs::remove_dir_all(&profile);
    String::from_utf8(output.stdout).expect("UTF-8 DOM")
}

fn marks(dom: &str, tag: &str, class: &str) -> usize {
    dom.split(&format!("<{tag} "))
        .skip(1)
        .filter(|element| {
            let attributes = element.split('>').next().unwrap_or_default();
            attributes.contains(&format!("class=\"{class}\""))
        })
        .count()
}

/// The part of the DOM of one type's chart section.
fn section<'a>(dom: &'a str, kind: &str) -> &'a str {
    let start = dom
        .find(&format!("data-event-type=\"{kind}\""))
        .unwrap_or_else(|| panic!("a section for {kind}"));
    let rest = &dom[start..];
    &rest[..rest.find("</section>").expect("section end")]
}

#[tokio::test]
async fn the_chart_pages_render_in_headless_chromium_with_a_mark_per_gap_and_bar() {
    let app = chart_app().await;
    let dom = rendered_dom(
        &format!("{}/github/visualization/event-avg-time", app.address),
        "event-avg-time",
    );
    assert!(dom.contains("<svg"), "{dom}");
    assert_eq!(marks(&dom, "circle", "gap"), 2 + 4, "one dot per gap");
    assert_eq!(
        marks(&dom, "line", "average"),
        2,
        "an average line per type with gaps"
    );
    assert_eq!(marks(section(&dom, "PushEvent"), "circle", "gap"), 2);
    assert_eq!(marks(section(&dom, "IssuesEvent"), "circle", "gap"), 4);
    assert_eq!(marks(section(&dom, "WatchEvent"), "circle", "gap"), 0);
    assert!(
        section(&dom, "PushEvent").contains("stroke-dasharray"),
        "dotted"
    );
    for kind in gitomatic::github::types::EVENT_TYPES {
        section(&dom, kind);
    }
    assert!(!dom.contains("<script"), "no script");

    // One type, filtered: IssuesEvent opened in acme/web has 2 events, 1 gap.
    let dom = rendered_dom(
        &format!(
            "{}/github/visualization/event-avg-time?event_type=IssuesEvent&action=opened&repository_name=acme/web",
            app.address
        ),
        "event-avg-time-filtered",
    );
    assert_eq!(marks(&dom, "circle", "gap"), 1);
    assert_eq!(marks(&dom, "line", "average"), 1);
    assert!(!dom.contains("data-event-type=\"PushEvent\""));

    let dom = rendered_dom(
        &format!(
            "{}/github/visualization/events-total-count?offset=60",
            app.address
        ),
        "events-total-count",
    );
    assert_eq!(
        marks(&dom, "rect", "bar"),
        gitomatic::github::types::EVENT_TYPES.len(),
        "one bar per type"
    );
    for (kind, count) in [
        ("PushEvent", 3),
        ("IssuesEvent", 5),
        ("WatchEvent", 1),
        ("ForkEvent", 0),
    ] {
        assert!(
            dom.contains(&format!("data-event-type=\"{kind}\"")),
            "{kind}"
        );
        assert!(
            dom.contains(&format!("<title>{kind}: {count}</title>")),
            "{kind}: {count}"
        );
    }
    // The last 10 minutes hold the WatchEvent and the latest IssuesEvent only.
    let dom = rendered_dom(
        &format!(
            "{}/github/visualization/events-total-count?offset=10",
            app.address
        ),
        "events-total-count-10",
    );
    assert!(dom.contains("<title>IssuesEvent: 1</title>"), "{dom}");
    assert!(dom.contains("<title>WatchEvent: 1</title>"));
    assert!(dom.contains("<title>PushEvent: 0</title>"));

    // Served as HTML, documented as text/html.
    let response = app
        .get("/github/visualization/events-total-count?offset=5")
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let (_, doc) = get_json(&app, "/github/swagger.json", &[]).await;
    for path in [
        "/github/visualization/event-avg-time",
        "/github/visualization/events-total-count",
    ] {
        assert!(
            doc["paths"][path]["get"]["responses"]["200"]["content"]["text/html"].is_object(),
            "{path} is documented as text/html"
        );
    }
}
