//! GitHub webhooks end to end (SPEC-3 A): signed deliveries built from the fake GitHub's
//! own answers (so what is stored can be compared with what the fake holds), each
//! validated against GitHub's published webhook description before it is sent, answered by
//! the real API, applied by a real worker through RabbitMQ — and the fake must receive no
//! request while a delivery is applied (but the sync of an issue never stored).

use std::time::{Duration, Instant};

use gitomatic::db::queries::tracked;
use gitomatic::github::webhook::sign;
use serde_json::{Value, json};

use crate::activity::rows;
use crate::helpers::github_webhooks::{GithubWebhooks, github_webhooks};
use crate::helpers::webhook_payloads::{Payloads, SIMPLE_USER, keep, with};
use crate::helpers::{Graph, TestApp, spawn_app, spawn_crawler_with};

/// The secret of the tests' webhook (GitHub's documentation example).
const SECRET: &str = "It's a Secret to Everybody";

/// How long a delivery may take to be applied.
const APPLIED_WITHIN: Duration = Duration::from_secs(30);

/// `alice/tool` and `acme/api` (tracked, `acme` too), `bob/other` (not tracked).
struct World {
    graph: Graph,
    alice: i64,
    bob: i64,
    carol: i64,
    acme: i64,
    tool: i64,
    api: i64,
    other: i64,
}

fn world() -> World {
    let mut graph = Graph::default();
    let alice = graph.add_user("alice");
    let bob = graph.add_user("bob");
    let carol = graph.add_user("carol");
    let acme = graph.add_org("acme");
    let tool = graph.add_repo(alice, "tool");
    let api = graph.add_repo(acme, "api");
    let other = graph.add_repo(bob, "other");
    graph.add_member(acme, alice);
    World {
        graph,
        alice,
        bob,
        carol,
        acme,
        tool,
        api,
        other,
    }
}

/// The app with webhooks on and a worker, tracking `alice/tool`, `acme/api` and `acme`
/// (never synced: what is stored comes from deliveries).
async fn spawn(graph: Graph) -> TestApp {
    let mut app = spawn_crawler_with(graph, |env| {
        env.insert("GITHUB_WEBHOOK_SECRET".into(), SECRET.into());
    })
    .await;
    app.start_worker();
    let mut conn = app.ctx.conn().await.expect("connection");
    tracked::track_repository(&mut conn, "alice/tool", None)
        .await
        .expect("track alice/tool");
    let (acme, _) = tracked::track_organization(&mut conn, "acme")
        .await
        .expect("track acme");
    tracked::track_repository(&mut conn, "acme/api", Some(acme.id))
        .await
        .expect("track acme/api");
    app
}

// ---------------------------------------------------------------------------
// Payloads from the fake's answers, in the shapes GitHub's webhook descriptions give
// ---------------------------------------------------------------------------

/// The payload builders (shared with the webhook benchmark) over this app's fake.
fn payloads(app: &TestApp) -> Payloads {
    Payloads::new(app.http.clone(), &app.fake().url)
}

/// GET a path of the fake GitHub (200 expected).
async fn fake(app: &TestApp, path: &str) -> Value {
    payloads(app).get(path).await
}

/// A user as deliveries name the sender.
async fn user(app: &TestApp, login: &str) -> Value {
    payloads(app).user(login).await
}

/// A repository as deliveries carry it.
async fn repository(app: &TestApp, full_name: &str) -> Value {
    payloads(app).repository(full_name).await
}

/// An issue (or a pull request's issue) as `issues` and `issue_comment` deliveries carry it.
async fn issue(app: &TestApp, full_name: &str, number: i64) -> Value {
    payloads(app).issue(full_name, number).await
}

/// A pull request as `pull_request` deliveries carry it.
async fn pull(app: &TestApp, full_name: &str, number: i64) -> Value {
    payloads(app).pull(full_name, number).await
}

/// A comment as `issue_comment` deliveries carry it.
async fn comment(app: &TestApp, full_name: &str, number: i64, id: i64) -> Value {
    payloads(app).comment(full_name, number, id).await
}

/// A review as `pull_request_review` deliveries carry it.
async fn review(app: &TestApp, full_name: &str, number: i64, id: i64) -> Value {
    payloads(app).review(full_name, number, id).await
}

/// A release as `release` deliveries carry it.
async fn release(app: &TestApp, full_name: &str, id: i64) -> Value {
    payloads(app).release(full_name, id).await
}

/// An organization as `organization` deliveries carry it.
async fn organization(app: &TestApp, login: &str) -> Value {
    payloads(app).organization(login).await
}

// ---------------------------------------------------------------------------
// Sending deliveries
// ---------------------------------------------------------------------------

/// What the API answered a delivery.
struct Answer {
    status: u16,
    body: Value,
    delivery_id: String,
}

/// Sends `body` as a delivery of `event` with these headers (signed with `secret` unless
/// `None`).
async fn post(
    app: &TestApp,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    secret: Option<&str>,
) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("{}/github/webhooks/", app.address))
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/044aadd");
    if let Some(secret) = secret {
        request = request.header("X-Hub-Signature-256", sign(secret.as_bytes(), &body));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().await.expect("the app answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Validates `body` against GitHub's description of `event` (and its `action`), then sends
/// it signed with a new delivery id.
async fn send(app: &TestApp, event: &str, body: &Value) -> Answer {
    let name = GithubWebhooks::name(event, body["action"].as_str());
    if let Err(violations) = github_webhooks().validate(&name, body) {
        panic!(
            "the {name} delivery does not validate against GitHub's description:\n{}",
            violations.join("\n")
        );
    }
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let (status, answer) = post(
        app,
        &[
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", &delivery_id),
        ],
        serde_json::to_vec(body).expect("JSON"),
        Some(SECRET),
    )
    .await;
    Answer {
        status,
        body: answer,
        delivery_id,
    }
}

/// Sends a delivery and waits until it is processed; the fake must receive no request
/// meanwhile. Returns the delivery as the API shows it.
async fn deliver(app: &TestApp, event: &str, body: Value) -> Value {
    app.fake().clear_requests();
    let answer = send(app, event, &body).await;
    assert_eq!(answer.status, 202, "{event}: {}", answer.body);
    let delivery = processed(app, &answer).await;
    let requests = app.fake().requests();
    assert!(
        requests.is_empty(),
        "applying {event} {:?} made GitHub requests: {requests:?}",
        body["action"]
    );
    delivery
}

/// Waits until the delivery the answer names is no longer `accepted`, and returns it.
async fn processed(app: &TestApp, answer: &Answer) -> Value {
    assert_eq!(answer.body["status"], "accepted", "{}", answer.body);
    let url = answer.body["delivery"].as_str().expect("a delivery URL");
    assert!(url.starts_with("http://127.0.0.1:"), "absolute: {url}");
    let deadline = Instant::now() + APPLIED_WITHIN;
    loop {
        let delivery: Value = app
            .http
            .get(url)
            .send()
            .await
            .expect("the app answers")
            .json()
            .await
            .expect("JSON");
        assert_eq!(delivery["delivery_id"], answer.delivery_id.as_str());
        if delivery["status"] != "accepted" {
            return delivery;
        }
        assert!(
            Instant::now() < deadline,
            "delivery not processed: {delivery}\n{}",
            app.describe_active_tasks().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a delivery, waits for it and checks it was applied.
async fn applied(app: &TestApp, event: &str, body: Value) -> Value {
    let action = body["action"].clone();
    let delivery = deliver(app, event, body).await;
    assert_eq!(
        delivery["status"], "applied",
        "{event} {action}: {delivery}"
    );
    assert!(delivery["applied_at"].is_string(), "{delivery}");
    assert_eq!(delivery["error"], Value::Null);
    delivery
}

/// An `issues` delivery about issue `number` of `full_name`, as the fake has it now.
async fn issues_delivery(
    app: &TestApp,
    action: &str,
    full_name: &str,
    number: i64,
    sender: &str,
) -> Value {
    payloads(app)
        .issues_delivery(action, full_name, number, sender)
        .await
}

// ---------------------------------------------------------------------------
// What is stored, next to what the fake holds
// ---------------------------------------------------------------------------

/// A stored issue or pull request, in the terms `fake_issue` gives.
async fn stored_issue(app: &TestApp, full_name: &str, number: i64) -> Value {
    let found = rows(
        app,
        &format!(
            "SELECT full_name, number, is_pull_request, title, state, state_reason, labels,
                    assignees, author_login, locked,
                    extract(epoch FROM created_at)::bigint AS created_at,
                    extract(epoch FROM updated_at)::bigint AS updated_at,
                    extract(epoch FROM closed_at)::bigint AS closed_at, closed_by_login,
                    draft, merged, extract(epoch FROM merged_at)::bigint AS merged_at,
                    deleted_at IS NOT NULL AS deleted
             FROM issues WHERE full_name = '{full_name}' AND number = {number}
               AND transferred_to_id IS NULL"
        ),
    )
    .await;
    let found = found.as_array().expect("rows");
    assert_eq!(
        found.len(),
        1,
        "{full_name}#{number} stored once: {found:?}"
    );
    found[0].clone()
}

/// An issue of the fake, as it should be stored.
fn fake_issue(graph: &Graph, id: i64) -> Value {
    let issue = graph.issue(id);
    let login = |user: Option<i64>| user.map(|id| graph.user(id).login.clone());
    let pull = issue.pull.as_ref();
    let closed = issue.state == "closed";
    json!({
        "full_name": graph.full_name(issue.repo),
        "number": issue.number,
        "is_pull_request": pull.is_some(),
        "title": issue.title,
        "state": issue.state,
        "state_reason": issue.state_reason,
        "labels": issue.labels,
        "assignees": issue.assignees.iter().map(|id| graph.user(*id).login.clone()).collect::<Vec<_>>(),
        "author_login": graph.user(issue.author).login,
        "locked": issue.locked,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.closed_at,
        "closed_by_login": login(issue.closed_by),
        "draft": pull.map(|p| p.draft),
        "merged": pull.filter(|_| closed).map(|p| p.merged_at.is_some()),
        "merged_at": pull.and_then(|p| p.merged_at),
        "deleted": false,
    })
}

/// Checks the stored issue against the fake's.
async fn assert_issue_as_on_github(app: &TestApp, id: i64) {
    let graph = app.fake().graph();
    let expected = fake_issue(&graph, id);
    let issue = graph.issue(id);
    let stored = stored_issue(app, &graph.full_name(issue.repo), issue.number).await;
    assert_eq!(stored, expected, "issue {id} as the fake has it");
}

// ---------------------------------------------------------------------------
// The receipt: checks, in order
// ---------------------------------------------------------------------------

#[tokio::test]
async fn webhooks_are_off_without_a_secret() {
    let app = spawn_app().await;
    let body = br#"{"zen": "Design for failure."}"#.to_vec();
    let (status, answer) = post(
        &app,
        &[("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", "d-1")],
        body,
        Some(SECRET),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(
        answer,
        json!({"error": "webhooks are not configured: set GITHUB_WEBHOOK_SECRET"})
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM webhook_deliveries")
            .await,
        0
    );
}

#[tokio::test]
async fn each_check_answers_as_specified_and_stores_nothing() {
    let app = spawn(world().graph).await;
    let body = json!({
        "action": "opened",
        "issue": issue_stub(),
    });
    let bytes = serde_json::to_vec(&body).expect("JSON");
    let headers = [("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", "d-1")];

    // A wrong signature, a signature of another body, and none: 401, nothing stored.
    for secret in [Some("not the secret"), None] {
        let (status, answer) = post(&app, &headers, bytes.clone(), secret).await;
        assert_eq!(
            (status, answer),
            (401, json!({"error": "invalid signature"}))
        );
    }
    let (status, _) = app
        .http
        .post(format!("{}/github/webhooks/", app.address))
        .header("X-GitHub-Event", "issues")
        .header("X-GitHub-Delivery", "d-1")
        .header("X-Hub-Signature-256", sign(SECRET.as_bytes(), b"{}"))
        .body(bytes.clone())
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("answer");
    assert_eq!(status, 401);
    // The signature is checked before the headers: an unsigned request learns nothing.
    let (status, _) = post(&app, &[], bytes.clone(), None).await;
    assert_eq!(status, 401);

    // Signed, but a header missing: 400 naming it.
    let (status, answer) = post(
        &app,
        &[("X-GitHub-Delivery", "d-1")],
        bytes.clone(),
        Some(SECRET),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer, json!({"error": "Missing X-GitHub-Event header"}));
    let (status, answer) = post(
        &app,
        &[("X-GitHub-Event", "issues")],
        bytes.clone(),
        Some(SECRET),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer, json!({"error": "Missing X-GitHub-Delivery header"}));
    // Signed, but not JSON: 400 saying so.
    let (status, answer) = post(&app, &headers, b"payload=%7B%7D".to_vec(), Some(SECRET)).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .expect("error")
            .starts_with("The body is not JSON"),
        "{answer}"
    );

    // A ping: pong, not stored.
    let ping = json!({
        "zen": "Keep it logically awesome.",
        "hook_id": 1,
        "hook": {"type": "Repository", "id": 1, "name": "web", "active": true,
                 "events": ["*"], "config": {"content_type": "json", "insecure_ssl": "0",
                 "url": "https://gitomatic.example/github/webhooks/"},
                 "updated_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z",
                 "url": "https://api.github.com/repos/alice/tool/hooks/1",
                 "test_url": "https://api.github.com/repos/alice/tool/hooks/1/test",
                 "ping_url": "https://api.github.com/repos/alice/tool/hooks/1/pings",
                 "deliveries_url": "https://api.github.com/repos/alice/tool/hooks/1/deliveries",
                 "last_response": {"code": null, "status": "unused", "message": null}},
    });
    github_webhooks()
        .validate("ping", &ping)
        .unwrap_or_else(|violations| panic!("ping: {violations:?}"));
    let (status, answer) = post(
        &app,
        &[("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", "d-ping")],
        serde_json::to_vec(&ping).expect("JSON"),
        Some(SECRET),
    )
    .await;
    assert_eq!((status, answer), (200, json!({"status": "pong"})));

    // Over 25 MiB: 413.
    let big = vec![b' '; 25 * 1024 * 1024 + 1];
    let (status, _) = post(&app, &headers, big, Some(SECRET)).await;
    assert_eq!(status, 413);

    assert_eq!(
        app.count("SELECT count(*) AS n FROM webhook_deliveries")
            .await,
        0
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 0);

    // Rejections are counted (the 401s and 400s above), by event.
    let metrics = app.get("/metrics").await.text().await.expect("text");
    assert!(
        metrics
            .contains("gitomatic_webhook_deliveries_total{event=\"issues\",status=\"rejected\"} 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "gitomatic_webhook_deliveries_total{event=\"unknown\",status=\"rejected\"} 2"
        ),
        "{metrics}"
    );
}

/// A body that is JSON and signed, about nothing tracked.
fn issue_stub() -> Value {
    json!({"id": 1, "number": 1})
}

// ---------------------------------------------------------------------------
// The table, row by row
// ---------------------------------------------------------------------------

/// Moves the fake's clock a minute on and stamps the issue's `updated_at` with it (for
/// changes the fake has no method for).
fn bump(graph: &mut Graph, issue: i64) {
    let at = graph.clock() + 60;
    graph.set_clock(at);
    graph.issue_mut(issue).updated_at = at;
}

#[tokio::test]
async fn issue_deliveries_store_the_issue_as_github_has_it() {
    let World {
        graph,
        alice,
        bob,
        carol,
        tool,
        ..
    } = world();
    let app = spawn(graph).await;
    let fake = app.fake();
    let id = fake.with_graph(|g| g.add_issue(tool, bob, "Crash on start"));
    let n = fake.graph().issue(id).number;

    applied(
        &app,
        "issues",
        issues_delivery(&app, "opened", "alice/tool", n, "bob").await,
    )
    .await;
    assert_issue_as_on_github(&app, id).await;

    fake.with_graph(|g| g.label(id, alice, "bug"));
    let mut labeled = issues_delivery(&app, "labeled", "alice/tool", n, "alice").await;
    labeled["label"] = labeled["issue"]["labels"][0].clone();
    applied(&app, "issues", labeled).await;
    assert_issue_as_on_github(&app, id).await;

    fake.with_graph(|g| g.assign(id, carol));
    let mut assigned = issues_delivery(&app, "assigned", "alice/tool", n, "alice").await;
    assigned["assignee"] = user(&app, "carol").await;
    applied(&app, "issues", assigned).await;
    assert_issue_as_on_github(&app, id).await;

    fake.with_graph(|g| {
        g.issue_mut(id).assignees.clear();
        bump(g, id);
    });
    let mut unassigned = issues_delivery(&app, "unassigned", "alice/tool", n, "alice").await;
    unassigned["assignee"] = user(&app, "carol").await;
    applied(&app, "issues", unassigned).await;
    assert_issue_as_on_github(&app, id).await;

    fake.with_graph(|g| {
        g.issue_mut(id).title = "Crash on start with an empty config".into();
        bump(g, id);
    });
    let mut edited = issues_delivery(&app, "edited", "alice/tool", n, "bob").await;
    edited["changes"] = json!({"title": {"from": "Crash on start"}});
    applied(&app, "issues", edited).await;
    assert_issue_as_on_github(&app, id).await;

    for (locked, action) in [(true, "locked"), (false, "unlocked")] {
        fake.with_graph(|g| {
            g.issue_mut(id).locked = locked;
            bump(g, id);
        });
        let mut delivery = issues_delivery(&app, action, "alice/tool", n, "alice").await;
        if locked {
            delivery["issue"]["active_lock_reason"] = json!("resolved");
        }
        applied(&app, "issues", delivery).await;
        assert_issue_as_on_github(&app, id).await;
    }

    fake.with_graph(|g| g.unlabel(id, alice, "bug"));
    let mut unlabeled = issues_delivery(&app, "unlabeled", "alice/tool", n, "alice").await;
    unlabeled["label"] = json!({"id": 1, "node_id": "L", "url": "https://api.github.com/repos/alice/tool/labels/bug",
                                "name": "bug", "color": "d73a4a", "default": true, "description": null});
    applied(&app, "issues", unlabeled).await;
    assert_issue_as_on_github(&app, id).await;

    // Closed by alice (the sender: who closed it is on the board at once), then reopened.
    fake.with_graph(|g| g.close(id, alice, "completed"));
    applied(
        &app,
        "issues",
        issues_delivery(&app, "closed", "alice/tool", n, "alice").await,
    )
    .await;
    assert_issue_as_on_github(&app, id).await;
    fake.with_graph(|g| g.reopen(id, bob));
    applied(
        &app,
        "issues",
        issues_delivery(&app, "reopened", "alice/tool", n, "bob").await,
    )
    .await;
    assert_issue_as_on_github(&app, id).await;

    // Deleted: the payload is the issue as it was; the row stays, marked deleted.
    let deleted = issues_delivery(&app, "deleted", "alice/tool", n, "alice").await;
    fake.with_graph(|g| g.delete_issue(id));
    applied(&app, "issues", deleted).await;
    let stored = stored_issue(&app, "alice/tool", n).await;
    assert_eq!(stored["deleted"], true, "{stored}");
    assert_eq!(stored["title"], "Crash on start with an empty config");
}

#[tokio::test]
async fn a_transferred_issue_is_recorded_as_a_transfer_from_the_payload() {
    let World {
        graph,
        alice,
        bob,
        tool,
        api,
        ..
    } = world();
    let app = spawn(graph).await;
    let fake = app.fake();
    let id = fake.with_graph(|g| g.add_issue(tool, bob, "Belongs to the API"));
    fake.with_graph(|g| {
        g.define_label(api, "bug");
        g.label(id, alice, "bug");
    });
    let n = fake.graph().issue(id).number;
    applied(
        &app,
        "issues",
        issues_delivery(&app, "opened", "alice/tool", n, "bob").await,
    )
    .await;

    let old = issue(&app, "alice/tool", n).await;
    let new_id = fake.with_graph(|g| g.transfer_issue(id, api));
    let new_n = fake.graph().issue(new_id).number;
    let delivery = json!({
        "action": "transferred",
        "changes": {
            "new_issue": issue(&app, "acme/api", new_n).await,
            // In this payload GitHub gives the organization by its login.
            "new_repository": with(repository(&app, "acme/api").await, json!({"organization": "acme"})),
        },
        "issue": old,
        "repository": repository(&app, "alice/tool").await,
        "sender": user(&app, "alice").await,
    });
    applied(&app, "issues", delivery).await;

    assert_issue_as_on_github(&app, new_id).await;
    let transfers = rows(
        &app,
        "SELECT t.from_full_name, t.from_number, t.to_full_name, t.to_number,
                f.transferred_to_id = t.to_issue_id AS linked
         FROM transfers t JOIN issues f ON f.id = t.from_issue_id",
    )
    .await;
    assert_eq!(
        transfers,
        json!([{"from_full_name": "alice/tool", "from_number": n, "to_full_name": "acme/api",
                "to_number": new_n, "linked": true}])
    );
    // Both boards are rebuilt from the activity as it now is.
    app.wait_for("the boards of both repositories", || async {
        app.count("SELECT count(*) AS n FROM contributions c JOIN repositories r ON r.id = c.repository_id
             WHERE r.full_name = 'acme/api' AND c.kind = 'issue_opened' AND c.login = 'bob'",
        )
        .await
            == 1
            && app.count("SELECT count(*) AS n FROM contributions c JOIN repositories r ON r.id = c.repository_id
                 WHERE r.full_name = 'alice/tool' AND c.kind = 'issue_opened'",
            )
            .await
                == 0
    })
    .await;
}

/// The `commented` and `reviewed` items stored for an issue, in order.
async fn stored_items(app: &TestApp, full_name: &str, number: i64) -> Value {
    rows(
        app,
        &format!(
            "SELECT t.event, t.item_key, t.actor_login,
                    extract(epoch FROM t.created_at)::bigint AS created_at,
                    t.details->>'body' AS body, t.details->>'state' AS state
             FROM timeline_items t JOIN issues i ON i.id = t.issue_id
             WHERE i.full_name = '{full_name}' AND i.number = {number}
               AND t.event IN ('commented', 'reviewed')
             ORDER BY t.position, t.id"
        ),
    )
    .await
}

/// The fake's `commented` and `reviewed` items of an issue, as `stored_items` reads them.
fn fake_items(graph: &Graph, issue: i64) -> Value {
    Value::Array(
        graph
            .timeline(issue)
            .iter()
            .filter(|item| item.event == "commented" || item.event == "reviewed")
            .map(|item| {
                json!({
                    "event": item.event,
                    "item_key": item.id.map(|id| id.to_string()),
                    "actor_login": item.actor.map(|id| graph.user(id).login.clone()),
                    "created_at": item.created_at,
                    "body": item.body,
                    "state": if item.event == "reviewed" { item.state.clone() } else { None },
                })
            })
            .collect(),
    )
}

#[tokio::test]
async fn comments_and_reviews_are_timeline_items_and_an_unknown_issue_is_synced() {
    let World {
        graph,
        alice,
        bob,
        carol,
        tool,
        ..
    } = world();
    let app = spawn(graph).await;
    let fake = app.fake();
    let id = fake.with_graph(|g| g.add_issue(tool, bob, "How do I configure it?"));
    let n = fake.graph().issue(id).number;
    applied(
        &app,
        "issues",
        issues_delivery(&app, "opened", "alice/tool", n, "bob").await,
    )
    .await;

    let comment_delivery = |action: &'static str, comment_id: i64, sender: &'static str| {
        let app = &app;
        async move {
            json!({
                "action": action,
                "issue": issue(app, "alice/tool", n).await,
                "comment": comment(app, "alice/tool", n, comment_id).await,
                "repository": repository(app, "alice/tool").await,
                "sender": user(app, sender).await,
            })
        }
    };
    let first = fake.with_graph(|g| g.comment(id, carol, "Same question here."));
    let second = fake.with_graph(|g| g.comment(id, alice, "See the README."));
    applied(
        &app,
        "issue_comment",
        comment_delivery("created", first, "carol").await,
    )
    .await;
    applied(
        &app,
        "issue_comment",
        comment_delivery("created", second, "alice").await,
    )
    .await;
    assert_eq!(
        stored_items(&app, "alice/tool", n).await,
        fake_items(&fake.graph(), id)
    );

    fake.with_graph(|g| g.edit_comment(second, "See the README, section Configuration."));
    let mut edited = comment_delivery("edited", second, "alice").await;
    edited["changes"] = json!({"body": {"from": "See the README."}});
    applied(&app, "issue_comment", edited).await;
    assert_eq!(
        stored_items(&app, "alice/tool", n).await,
        fake_items(&fake.graph(), id)
    );

    let deleted = comment_delivery("deleted", first, "carol").await;
    fake.with_graph(|g| {
        g.issue_mut(id)
            .timeline
            .retain(|item| item.id != Some(first));
        bump(g, id);
    });
    applied(&app, "issue_comment", deleted).await;
    assert_eq!(
        stored_items(&app, "alice/tool", n).await,
        fake_items(&fake.graph(), id)
    );

    // A review submitted, then dismissed.
    let pull = fake.with_graph(|g| g.add_pull(tool, bob, "Document the configuration"));
    let p = fake.graph().issue(pull).number;
    applied(
        &app,
        "pull_request",
        json!({
            "action": "opened", "number": p,
            "pull_request": self::pull(&app, "alice/tool", p).await,
            "repository": repository(&app, "alice/tool").await,
            "sender": user(&app, "bob").await,
        }),
    )
    .await;
    let review_id = fake.with_graph(|g| g.review(pull, carol, "approved"));
    let review_delivery = |action: &'static str| {
        let app = &app;
        async move {
            json!({
                "action": action,
                "review": review(app, "alice/tool", p, review_id).await,
                "pull_request": self::pull(app, "alice/tool", p).await,
                "repository": repository(app, "alice/tool").await,
                "sender": user(app, "carol").await,
            })
        }
    };
    applied(
        &app,
        "pull_request_review",
        review_delivery("submitted").await,
    )
    .await;
    assert_eq!(
        stored_items(&app, "alice/tool", p).await,
        fake_items(&fake.graph(), pull)
    );
    fake.with_graph(|g| {
        let item = g
            .issue_mut(pull)
            .timeline
            .iter_mut()
            .find(|item| item.id == Some(review_id))
            .expect("the review");
        item.state = Some("dismissed".into());
    });
    applied(
        &app,
        "pull_request_review",
        review_delivery("dismissed").await,
    )
    .await;
    assert_eq!(
        stored_items(&app, "alice/tool", p).await,
        fake_items(&fake.graph(), pull)
    );

    // A comment on an issue never stored: the issue and its timeline are synced, the only
    // GitHub requests a delivery causes.
    let (unknown, reply) = fake.with_graph(|g| {
        let unknown = g.add_issue(tool, carol, "An old bug");
        g.comment(unknown, bob, "Still there in 2.0");
        let reply = g.comment(unknown, carol, "Confirmed.");
        (unknown, reply)
    });
    let u = fake.graph().issue(unknown).number;
    let body = json!({
        "action": "created",
        "issue": issue(&app, "alice/tool", u).await,
        "comment": comment(&app, "alice/tool", u, reply).await,
        "repository": repository(&app, "alice/tool").await,
        "sender": user(&app, "carol").await,
    });
    fake.clear_requests();
    let answer = send(&app, "issue_comment", &body).await;
    assert_eq!(answer.status, 202);
    assert_eq!(processed(&app, &answer).await["status"], "applied");
    app.wait_until_idle(Duration::from_secs(30)).await;
    // (Besides the free `GET /rate_limit` reading of the quota before the first job.)
    let asked: Vec<String> = fake
        .requests()
        .iter()
        .filter(|request| request.path != "/rate_limit")
        .map(|request| format!("{} {} {}", request.method, request.path, request.status))
        .collect();
    assert_eq!(
        asked,
        [
            format!("GET /repos/alice/tool/issues/{u} 200"),
            format!("GET /repos/alice/tool/issues/{u}/timeline 200"),
        ]
    );
    assert_issue_as_on_github(&app, unknown).await;
    assert_eq!(
        stored_items(&app, "alice/tool", u).await,
        fake_items(&fake.graph(), unknown)
    );
}

#[tokio::test]
async fn pull_request_deliveries_store_it_merged_state_included_and_a_walk_finds_it() {
    let World {
        graph,
        alice,
        bob,
        api,
        ..
    } = world();
    let app = spawn(graph).await;
    let fake = app.fake();
    let id = fake.with_graph(|g| g.add_pull(api, bob, "Add a health endpoint"));
    let n = fake.graph().issue(id).number;
    let delivery = |action: &'static str, sender: &'static str| {
        let app = &app;
        async move {
            json!({
                "action": action, "number": n,
                "pull_request": pull(app, "acme/api", n).await,
                "repository": repository(app, "acme/api").await,
                "sender": user(app, sender).await,
            })
        }
    };
    applied(&app, "pull_request", delivery("opened", "bob").await).await;
    assert_issue_as_on_github(&app, id).await;

    fake.with_graph(|g| {
        g.issue_mut(id).pull.as_mut().expect("a pull").draft = true;
        bump(g, id);
    });
    applied(
        &app,
        "pull_request",
        delivery("converted_to_draft", "bob").await,
    )
    .await;
    assert_issue_as_on_github(&app, id).await;
    fake.with_graph(|g| {
        g.issue_mut(id).pull.as_mut().expect("a pull").draft = false;
        bump(g, id);
    });
    applied(
        &app,
        "pull_request",
        delivery("ready_for_review", "bob").await,
    )
    .await;
    assert_issue_as_on_github(&app, id).await;

    fake.with_graph(|g| {
        g.issue_mut(id).title = "Add a /health endpoint".into();
        bump(g, id);
    });
    let mut edited = delivery("edited", "bob").await;
    edited["changes"] = json!({"title": {"from": "Add a health endpoint"}});
    applied(&app, "pull_request", edited).await;
    assert_issue_as_on_github(&app, id).await;

    let before = fake.graph().head_sha(id);
    fake.with_graph(|g| g.pr_commit(id, bob));
    let mut synchronize = delivery("synchronize", "bob").await;
    synchronize["before"] = json!(before);
    synchronize["after"] = json!(fake.graph().head_sha(id));
    applied(&app, "pull_request", synchronize).await;
    assert_issue_as_on_github(&app, id).await;

    // Closed without merging, reopened, then merged: the merged state is the payload's.
    fake.with_graph(|g| g.close(id, alice, "completed"));
    applied(&app, "pull_request", delivery("closed", "alice").await).await;
    assert_issue_as_on_github(&app, id).await;
    fake.with_graph(|g| g.reopen(id, alice));
    applied(&app, "pull_request", delivery("reopened", "alice").await).await;
    assert_issue_as_on_github(&app, id).await;
    fake.with_graph(|g| g.merge(id, alice));
    applied(&app, "pull_request", delivery("closed", "alice").await).await;
    assert_issue_as_on_github(&app, id).await;
    // The payload has no issue id: the pull request waits under a placeholder...
    assert_eq!(
        app.count("SELECT count(*) AS n FROM issues WHERE github_id < 0")
            .await,
        1
    );
    // ... until a walk lists it: one row, with its issue id.
    let task = app
        .enqueue(gitomatic::jobs::RepositoryActivitySync::of(
            gitomatic::domain::FullName::parse("acme/api").expect("a name"),
        ))
        .await;
    let done = app.wait_for_task(task.id, Duration::from_secs(60)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM issues WHERE github_id = {id}"
        ))
        .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM issues").await, 1);
    assert_issue_as_on_github(&app, id).await;
}

/// The stored releases of a repository.
async fn stored_releases(app: &TestApp) -> Value {
    rows(
        app,
        "SELECT github_id, full_name, tag_name, name, author_login, draft, prerelease,
                extract(epoch FROM published_at)::bigint AS published_at
         FROM releases ORDER BY github_id",
    )
    .await
}

/// The fake's releases, as `stored_releases` reads them.
fn fake_releases(graph: &Graph) -> Value {
    Value::Array(
        graph
            .activity
            .releases
            .values()
            .map(|release| {
                json!({
                    "github_id": release.id,
                    "full_name": graph.full_name(release.repo),
                    "tag_name": release.tag_name,
                    "name": release.name,
                    "author_login": graph.user(release.author).login,
                    "draft": release.draft,
                    "prerelease": release.prerelease,
                    "published_at": release.published_at,
                })
            })
            .collect(),
    )
}

/// A `push` of the fake's commits `shas` of `full_name` to `branch`.
async fn push_delivery(app: &TestApp, full_name: &str, branch: &str, shas: &[String]) -> Value {
    let listed = fake(app, &format!("/repos/{full_name}/commits")).await;
    let commits: Vec<Value> = shas
        .iter()
        .map(|sha| {
            let commit = listed
                .as_array()
                .expect("commits")
                .iter()
                .find(|commit| commit["sha"] == sha.as_str())
                .unwrap_or_else(|| panic!("no commit {sha}"));
            let person = |who: &Value| {
                let mut person = keep(who, &["name", "email"]);
                person["date"] = who["date"].clone();
                if let Some(login) = commit["author"]["login"].as_str() {
                    person["username"] = json!(login);
                }
                person
            };
            json!({
                "id": sha,
                "tree_id": commit["commit"]["tree"]["sha"],
                "distinct": true,
                "message": commit["commit"]["message"],
                "timestamp": commit["commit"]["author"]["date"],
                "url": commit["html_url"],
                "author": person(&commit["commit"]["author"]),
                "committer": person(&commit["commit"]["committer"]),
                "added": [], "removed": [], "modified": ["README.md"],
            })
        })
        .collect();
    let mut repository = repository(app, full_name).await;
    // Push deliveries give these times as epoch seconds.
    for field in ["created_at", "pushed_at"] {
        let seconds = repository[field]
            .as_str()
            .and_then(|time| chrono::DateTime::parse_from_rfc3339(time).ok())
            .map(|time| time.timestamp());
        repository[field] = json!(seconds);
    }
    repository["stargazers"] = repository["stargazers_count"].clone();
    repository["master_branch"] = repository["default_branch"].clone();
    let owner = repository["owner"].clone();
    repository["owner"] = with(
        keep(&owner, SIMPLE_USER),
        json!({"name": owner["login"], "email": null}),
    );
    let head = commits.last().cloned().unwrap_or(Value::Null);
    let after = shas.last().cloned().unwrap_or_else(|| "0".repeat(40));
    json!({
        "ref": format!("refs/heads/{branch}"),
        "before": "0000000000000000000000000000000000000000",
        "after": after,
        "created": false, "deleted": false, "forced": false, "base_ref": null,
        "compare": format!("https://github.com/{full_name}/compare/0000000000...{}", &after[..10]),
        "commits": commits,
        "head_commit": head,
        "repository": repository,
        "pusher": {"name": "bob", "email": "bob@example.com"},
        "sender": user(app, "bob").await,
    })
}

/// A `star` delivery by `login`.
async fn star_delivery(app: &TestApp, action: &str, full_name: &str, login: &str) -> Value {
    let starred_at = (action == "created").then(|| chrono::Utc::now().to_rfc3339());
    json!({
        "action": action,
        "starred_at": starred_at,
        "repository": repository(app, full_name).await,
        "sender": user(app, login).await,
    })
}

/// An `organization` membership delivery about `login`.
async fn member_delivery(app: &TestApp, action: &str, org: &str, login: &str) -> Value {
    let api = format!("{}/orgs/{org}", app.fake().url);
    json!({
        "action": action,
        "membership": {
            "url": format!("{api}/memberships/{login}"),
            "state": "active",
            "role": "member",
            "organization_url": api,
            "user": user(app, login).await,
        },
        "organization": organization(app, org).await,
        "sender": user(app, "alice").await,
    })
}

#[tokio::test]
async fn releases_pushes_stars_members_and_repository_moves_are_applied() {
    let World {
        graph,
        alice,
        bob,
        carol,
        acme,
        tool,
        api,
        other,
    } = world();
    let app = spawn(graph).await;
    let fake = app.fake();

    // Releases: published, edited, deleted.
    let release_id = fake.with_graph(|g| g.add_release(tool, alice, "v1.0.0"));
    let release_delivery = |action: &'static str| {
        let app = &app;
        async move {
            json!({
                "action": action,
                "release": release(app, "alice/tool", release_id).await,
                "repository": repository(app, "alice/tool").await,
                "sender": user(app, "alice").await,
            })
        }
    };
    applied(&app, "release", release_delivery("published").await).await;
    assert_eq!(stored_releases(&app).await, fake_releases(&fake.graph()));
    fake.with_graph(|g| {
        g.activity
            .releases
            .get_mut(&release_id)
            .expect("release")
            .name = Some("First".into());
    });
    let mut edited = release_delivery("edited").await;
    edited["changes"] = json!({"name": {"from": "v1.0.0"}});
    applied(&app, "release", edited).await;
    assert_eq!(stored_releases(&app).await, fake_releases(&fake.graph()));
    let deleted = release_delivery("deleted").await;
    fake.with_graph(|g| g.activity.releases.remove(&release_id));
    applied(&app, "release", deleted).await;
    assert_eq!(stored_releases(&app).await, json!([]));

    // A push to the default branch stores its commits; to another branch, nothing.
    let shas: Vec<String> = fake.with_graph(|g| {
        vec![
            g.add_commit(tool, Some(bob), "Fix the typo in the README", 1, 1),
            g.add_commit(tool, None, "Update the changelog", 3, 0),
        ]
    });
    let to_branch = push_delivery(&app, "alice/tool", "feature", &shas).await;
    let ignored = deliver(&app, "push", to_branch).await;
    assert_eq!(ignored["status"], "ignored", "{ignored}");
    assert_eq!(ignored["applied_at"], Value::Null);
    applied(
        &app,
        "push",
        push_delivery(&app, "alice/tool", "main", &shas).await,
    )
    .await;
    let graph = fake.graph();
    let expected: Vec<Value> = graph
        .commits_of(tool)
        .iter()
        .map(|commit| {
            json!({
                "sha": commit.sha,
                "author_login": commit.author.map(|id| graph.user(id).login.clone()),
                "author_name": commit.author_name,
                "authored_at": commit.authored_at,
                "message": commit.message,
            })
        })
        .collect();
    assert_eq!(
        rows(
            &app,
            "SELECT sha, author_login, author_name,
                    extract(epoch FROM authored_at)::bigint AS authored_at, message
             FROM commits ORDER BY authored_at, sha"
        )
        .await,
        Value::Array(expected)
    );

    // Stars: the stargazer set and the count from the payload's repository.
    let stars = "SELECT d.login, r.stargazers_count FROM stars s
                 JOIN developers d ON d.id = s.developer_id
                 JOIN repositories r ON r.id = s.repository_id ORDER BY d.login";
    fake.with_graph(|g| {
        g.star(carol, tool);
        g.star(bob, tool);
    });
    applied(
        &app,
        "star",
        star_delivery(&app, "created", "alice/tool", "carol").await,
    )
    .await;
    applied(
        &app,
        "star",
        star_delivery(&app, "created", "alice/tool", "bob").await,
    )
    .await;
    assert_eq!(
        rows(&app, stars).await,
        json!([{"login": "bob", "stargazers_count": 2}, {"login": "carol", "stargazers_count": 2}])
    );
    fake.with_graph(|g| g.unstar(carol, tool));
    applied(
        &app,
        "star",
        star_delivery(&app, "deleted", "alice/tool", "carol").await,
    )
    .await;
    assert_eq!(
        rows(&app, stars).await,
        json!([{"login": "bob", "stargazers_count": 1}])
    );

    // Members of the tracked organization: active, then inactive.
    fake.with_graph(|g| g.add_member(acme, carol));
    applied(
        &app,
        "organization",
        member_delivery(&app, "member_added", "acme", "carol").await,
    )
    .await;
    let members = "SELECT organization_login, login, active FROM members ORDER BY login";
    assert_eq!(
        rows(&app, members).await,
        json!([{"organization_login": "acme", "login": "carol", "active": true}])
    );
    fake.with_graph(|g| g.remove_member(acme, carol));
    let removed = member_delivery(&app, "member_removed", "acme", "carol").await;
    applied(&app, "organization", removed).await;
    assert_eq!(
        rows(&app, members).await,
        json!([{"organization_login": "acme", "login": "carol", "active": false}])
    );
    assert_eq!(
        rows(
            &app,
            "SELECT repository_name FROM webhook_deliveries WHERE event = 'organization'"
        )
        .await,
        json!([{"repository_name": null}, {"repository_name": null}])
    );

    // A repository renamed, another transferred: the tracked rows and stored activity follow.
    let sender = user(&app, "alice").await;
    fake.with_graph(|g| g.rename_repo(tool, "hammer"));
    applied(
        &app,
        "repository",
        json!({
            "action": "renamed",
            "changes": {"repository": {"name": {"from": "tool"}}},
            "repository": repository(&app, "alice/hammer").await,
            "sender": sender,
        }),
    )
    .await;
    let acme_account = user(&app, "acme").await;
    fake.with_graph(|g| g.transfer_repo(api, carol));
    applied(
        &app,
        "repository",
        json!({
            "action": "transferred",
            "changes": {"owner": {"from": {"organization": organization(&app, "acme").await}}},
            "repository": repository(&app, "carol/api").await,
            "sender": acme_account,
        }),
    )
    .await;
    assert_eq!(
        rows(
            &app,
            "SELECT full_name FROM tracked_repositories ORDER BY full_name"
        )
        .await,
        json!([{"full_name": "alice/hammer"}, {"full_name": "carol/api"}])
    );
    assert_eq!(
        rows(&app, "SELECT DISTINCT full_name FROM commits").await,
        json!([{"full_name": "alice/hammer"}])
    );

    // About a repository nobody tracks: ignored, nothing stored.
    fake.with_graph(|g| g.star(alice, other));
    let ignored = deliver(
        &app,
        "star",
        star_delivery(&app, "created", "bob/other", "alice").await,
    )
    .await;
    assert_eq!(ignored["status"], "ignored", "{ignored}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM repositories WHERE full_name = 'bob/other'")
            .await,
        0
    );
    // An event gitomatic does not apply: ignored.
    let watch = json!({
        "action": "started",
        "repository": repository(&app, "alice/hammer").await,
        "sender": user(&app, "bob").await,
    });
    let answer = send(&app, "watch", &watch).await;
    assert_eq!(processed(&app, &answer).await["status"], "ignored");
}

#[tokio::test]
async fn a_delivery_older_than_the_stored_object_changes_nothing() {
    let World {
        graph,
        bob,
        carol,
        tool,
        ..
    } = world();
    let app = spawn(graph).await;
    let fake = app.fake();
    let id = fake.with_graph(|g| g.add_issue(tool, bob, "First title"));
    let n = fake.graph().issue(id).number;
    applied(
        &app,
        "issues",
        issues_delivery(&app, "opened", "alice/tool", n, "bob").await,
    )
    .await;
    let comment_id = fake.with_graph(|g| g.comment(id, carol, "First words"));

    // Two edits, delivered newest first.
    let mut edits = Vec::new();
    let mut comment_edits = Vec::new();
    for (title, words) in [
        ("Second title", "Second words"),
        ("Third title", "Third words"),
    ] {
        fake.with_graph(|g| {
            g.issue_mut(id).title = title.into();
            bump(g, id);
            g.edit_comment(comment_id, words);
        });
        let mut edited = issues_delivery(&app, "edited", "alice/tool", n, "bob").await;
        edited["changes"] = json!({"title": {"from": "First title"}});
        edits.push(edited);
        comment_edits.push(json!({
            "action": "edited",
            "changes": {"body": {"from": "First words"}},
            "issue": issue(&app, "alice/tool", n).await,
            "comment": comment(&app, "alice/tool", n, comment_id).await,
            "repository": repository(&app, "alice/tool").await,
            "sender": user(&app, "carol").await,
        }));
    }
    let graph = fake.graph();
    for (issue_edit, comment_edit) in edits.into_iter().zip(comment_edits).rev() {
        applied(&app, "issues", issue_edit).await;
        applied(&app, "issue_comment", comment_edit).await;
    }
    // The older deliveries were applied (and changed nothing): the newest stays.
    assert_issue_as_on_github(&app, id).await;
    assert_eq!(
        stored_items(&app, "alice/tool", n).await,
        fake_items(&graph, id)
    );
    assert_eq!(
        stored_issue(&app, "alice/tool", n).await["title"],
        "Third title"
    );
}

// ---------------------------------------------------------------------------
// Once, and fast
// ---------------------------------------------------------------------------

/// Sends a signed delivery with this delivery id (no schema check: for bodies the test
/// already checked).
async fn send_as(app: &TestApp, event: &str, body: &Value, delivery_id: &str) -> (u16, Value) {
    post(
        app,
        &[
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery_id),
        ],
        serde_json::to_vec(body).expect("JSON"),
        Some(SECRET),
    )
    .await
}

#[tokio::test]
async fn a_delivery_id_is_stored_and_applied_once_whatever_the_body() {
    let World {
        graph, bob, tool, ..
    } = world();
    let app = spawn(graph).await;
    let fake = app.fake();
    let id = fake.with_graph(|g| g.add_issue(tool, bob, "Once"));
    let n = fake.graph().issue(id).number;
    let opened = issues_delivery(&app, "opened", "alice/tool", n, "bob").await;
    let answer = send(&app, "issues", &opened).await;
    assert_eq!(answer.status, 202);
    let first = processed(&app, &answer).await;
    assert_eq!(first["status"], "applied");

    // The same delivery id again (GitHub's "Redeliver"), even with another body: 200.
    let mut other = opened.clone();
    other["issue"]["title"] = json!("Twice");
    for body in [&opened, &other] {
        let (status, answer) = send_as(&app, "issues", body, &answer.delivery_id).await;
        assert_eq!((status, answer), (200, json!({"status": "duplicate"})));
    }
    app.wait_until_idle(Duration::from_secs(30)).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM webhook_deliveries")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'webhook_delivery'")
            .await,
        1
    );
    assert_eq!(stored_issue(&app, "alice/tool", n).await["title"], "Once");
    // The task run again by hand (a redelivered message) finds it applied already.
    let again = app
        .enqueue(gitomatic::jobs::WebhookDelivery {
            delivery_id: answer.delivery_id.clone(),
        })
        .await;
    let again = app.wait_for_task(again.id, Duration::from_secs(30)).await;
    assert_eq!(again.status, "succeeded", "{again:?}");
    let url = answer.body["delivery"].as_str().expect("a delivery URL");
    let after: Value = app
        .http
        .get(url)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(after, first, "applied once, at the first time");

    let metrics = app.get("/metrics").await.text().await.expect("text");
    for (status, n) in [("accepted", 1), ("duplicate", 2), ("applied", 1)] {
        let line = format!(
            "gitomatic_webhook_deliveries_total{{event=\"issues\",status=\"{status}\"}} {n}"
        );
        assert!(metrics.contains(&line), "{line}\n{metrics}");
    }
}

#[tokio::test]
async fn a_burst_of_200_deliveries_from_8_senders_is_answered_fast_and_applied_once() {
    let World {
        mut graph,
        alice,
        bob,
        carol,
        tool,
        ..
    } = world();
    let authors = [alice, bob, carol];
    let ids: Vec<i64> = (0..200)
        .map(|k| graph.add_issue(tool, authors[k % 3], &format!("Issue {k}")))
        .collect();
    let app = spawn(graph).await;
    let repository = repository(&app, "alice/tool").await;
    let senders = [
        user(&app, "alice").await,
        user(&app, "bob").await,
        user(&app, "carol").await,
    ];
    let mut bodies = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let n = app.fake().graph().issue(*id).number;
        let body = json!({
            "action": "opened",
            "issue": issue(&app, "alice/tool", n).await,
            "repository": repository,
            "sender": senders[k % 3],
        });
        if k == 0 {
            github_webhooks()
                .validate("issues-opened", &body)
                .unwrap_or_else(|violations| panic!("{violations:?}"));
        }
        bodies.push(serde_json::to_vec(&body).expect("JSON"));
    }
    app.fake().clear_requests();
    let url = format!("{}/github/webhooks/", app.address);
    let started = Instant::now();
    let senders: Vec<_> = (0..8)
        .map(|sender| {
            let mine: Vec<Vec<u8>> = bodies.iter().skip(sender).step_by(8).cloned().collect();
            let (http, url) = (app.http.clone(), url.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for body in mine {
                    let delivery_id = uuid::Uuid::new_v4().to_string();
                    let sent = Instant::now();
                    let response = http
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .header("X-GitHub-Event", "issues")
                        .header("X-GitHub-Delivery", &delivery_id)
                        .header("X-Hub-Signature-256", sign(SECRET.as_bytes(), &body))
                        .body(body)
                        .send()
                        .await
                        .expect("the app answers");
                    let status = response.status().as_u16();
                    let _ = response.bytes().await;
                    answers.push((status, sent.elapsed()));
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for sender in senders {
        answers.extend(sender.await.expect("a sender"));
    }
    let sent_in = started.elapsed();
    assert_eq!(answers.len(), 200);
    let slowest = answers
        .iter()
        .map(|(_, took)| *took)
        .max()
        .unwrap_or_default();
    assert!(
        answers.iter().all(|(status, _)| *status == 202),
        "{answers:?}"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "slowest answer took {slowest:?}"
    );
    eprintln!("200 deliveries from 8 senders answered in {sent_in:?}, slowest {slowest:?}");

    app.wait_for("200 deliveries applied", || async {
        app.count("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'applied'")
            .await
            == 200
    })
    .await;
    let last_applied = Instant::now();
    assert_eq!(app.count("SELECT count(*) AS n FROM issues").await, 200);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'webhook_delivery' AND status = 'succeeded'"
        )
        .await,
        200
    );
    let requests = app.fake().requests();
    assert!(requests.is_empty(), "{requests:?}");
    // The board counts them within 15 s, rebuilt at most once per 10 s.
    app.wait_for("the board after the burst", || async {
        app.count("SELECT count(*) AS n FROM contributions WHERE kind = 'issue_opened'")
            .await
            == 200
    })
    .await;
    assert!(
        last_applied.elapsed() < Duration::from_secs(15),
        "board rebuilt {:?} after the last delivery was applied",
        last_applied.elapsed()
    );
    let rebuilds = rows(
        &app,
        // Rebuilds that ran: one the last deliveries scheduled for the next window may
        // still be waiting for it.
        "SELECT extract(epoch FROM finished_at)::float8 AS started FROM tasks
         WHERE name = 'leaderboard_rebuild' AND finished_at IS NOT NULL ORDER BY finished_at",
    )
    .await;
    let starts: Vec<f64> = rebuilds
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["started"].as_f64().expect("started"))
        .collect();
    assert!(!starts.is_empty());
    for pair in starts.windows(2) {
        assert!(
            // Each window's rebuild runs at the window's end, never before: 10 s apart,
            // less what the queue delays one of them by.
            pair[1] - pair[0] >= 9.5,
            "rebuilds closer than 10 s: {starts:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// The deliveries resource
// ---------------------------------------------------------------------------

#[tokio::test]
async fn deliveries_are_listed_filtered_ordered_and_shown_without_payload() {
    let World {
        graph,
        bob,
        carol,
        tool,
        other,
        ..
    } = world();
    let app = spawn(graph).await;
    let fake = app.fake();
    let id = fake.with_graph(|g| g.add_issue(tool, bob, "Listed"));
    let n = fake.graph().issue(id).number;
    let opened = applied(
        &app,
        "issues",
        issues_delivery(&app, "opened", "alice/tool", n, "bob").await,
    )
    .await;
    fake.with_graph(|g| g.star(carol, other));
    let ignored = deliver(
        &app,
        "star",
        star_delivery(&app, "created", "bob/other", "carol").await,
    )
    .await;
    assert_eq!(ignored["status"], "ignored");

    let list = |query: &'static str| {
        let app = &app;
        async move {
            let response = app
                .get(&format!("/github/webhooks/deliveries/{query}"))
                .await;
            assert_eq!(response.status(), 200, "{query}");
            response.json::<Value>().await.expect("JSON")
        }
    };
    let all = list("").await;
    assert_eq!(all["count"], 2);
    let results = all["results"].as_array().expect("results");
    // Latest first.
    assert_eq!(results[0]["event"], "star");
    assert_eq!(results[1], opened);
    let fields: Vec<&str> = opened
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = fields.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "action",
            "applied_at",
            "delivery_id",
            "error",
            "event",
            "id",
            "received_at",
            "repository_name",
            "status",
            "url"
        ]
    );
    assert_eq!(opened["action"], "opened");
    assert_eq!(opened["repository_name"], "alice/tool");
    assert_eq!(ignored["applied_at"], Value::Null);
    let oldest_first = list("?ordering=received_at").await;
    assert_eq!(oldest_first["results"][0], opened);
    for (query, expected) in [
        ("?event=issues", "issues"),
        ("?status=ignored", "star"),
        ("?repository_name=bob/other", "star"),
        ("?status=applied&repository_name=alice/tool", "issues"),
    ] {
        let page = list(query).await;
        assert_eq!(page["count"], 1, "{query}: {page}");
        assert_eq!(page["results"][0]["event"], expected, "{query}");
    }
    let response = app.get("/github/webhooks/deliveries/?status=lost").await;
    assert_eq!(response.status(), 400);

    // Linked from the root, an item by its URL, and browsable.
    let root: Value = app.get("/github/").await.json().await.expect("JSON");
    assert_eq!(
        root["webhook_deliveries"],
        format!("{}/github/webhooks/deliveries/", app.address)
    );
    let url = opened["url"].as_str().expect("url");
    let detail: Value = app
        .http
        .get(url)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(detail, opened);
    let page = app.get("/github/webhooks/deliveries/?format=api").await;
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let missing = app
        .get(&format!(
            "/github/webhooks/deliveries/{}/",
            uuid::Uuid::new_v4()
        ))
        .await;
    assert_eq!(missing.status(), 404);

    // The dashboard shows the latest deliveries, linked.
    let dashboard = app
        .get("/github/dashboard/")
        .await
        .text()
        .await
        .expect("HTML");
    for delivery in [&opened, &ignored] {
        let row = format!(
            r#"data-delivery="{}" data-status="{}""#,
            delivery["id"].as_str().expect("id"),
            delivery["status"].as_str().expect("status")
        );
        assert!(dashboard.contains(&row), "{row}\n{dashboard}");
    }
    assert!(dashboard.contains(url), "{dashboard}");
    assert!(dashboard.contains("issues.opened"), "{dashboard}");
}

#[tokio::test]
async fn a_worker_killed_while_applying_a_delivery_leaves_it_applied_once() {
    let World {
        graph, bob, tool, ..
    } = world();
    let mut app = spawn_crawler_with(graph, |env| {
        env.insert("GITHUB_WEBHOOK_SECRET".into(), SECRET.into());
        env.insert("TASK_LEASE_SECS".into(), "4".into());
    })
    .await;
    tracked::track_repository(
        &mut app.ctx.conn().await.expect("connection"),
        "alice/tool",
        None,
    )
    .await
    .expect("track alice/tool");
    let fake = app.fake();
    let id = fake.with_graph(|g| g.add_issue(tool, bob, "Applied once"));
    let n = fake.graph().issue(id).number;
    let opened = issues_delivery(&app, "opened", "alice/tool", n, "bob").await;

    // Hold the lock deliveries about this issue take: the worker stops half way through
    // applying it (the repository stored, the issue not yet), inside its transaction.
    use diesel_async::{AnsiTransactionManager, RunQueryDsl, TransactionManager};
    let mut holder = app.db.connect().await;
    AnsiTransactionManager::begin_transaction(&mut holder)
        .await
        .expect("begin");
    diesel::sql_query(format!(
        "SELECT pg_advisory_xact_lock(hashtext('gitomatic.webhook.issue'), hashtext('{id}'))"
    ))
    .execute(&mut holder)
    .await
    .expect("lock");

    let mut worker = crate::helpers::binary_command(&app.env, &["worker"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the worker starts");
    let answer = send(&app, "issues", &opened).await;
    assert_eq!(answer.status, 202);
    app.wait_for_lock_wait(
        "the worker waiting half way through the delivery",
        "%gitomatic.webhook.%",
    )
    .await;
    let _ = worker.kill();
    let _ = worker.wait();
    AnsiTransactionManager::rollback_transaction(&mut holder)
        .await
        .expect("release");
    drop(holder);

    // Its message comes back to another worker, which takes the task over once the lease
    // expired and applies the delivery: once.
    app.start_worker();
    let delivery = processed(&app, &answer).await;
    assert_eq!(delivery["status"], "applied", "{delivery}");
    app.wait_until_idle(Duration::from_secs(30)).await;
    let task = rows(
        &app,
        "SELECT status, attempts FROM tasks WHERE name = 'webhook_delivery'",
    )
    .await;
    assert_eq!(task, json!([{"status": "succeeded", "attempts": 2}]));
    assert_eq!(app.count("SELECT count(*) AS n FROM issues").await, 1);
    assert_issue_as_on_github(&app, id).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'applied'")
            .await,
        1
    );
}
