//! `POST /github/tasks/` and the task list: bodies, dedupe, errors, authentication; and
//! `API_READ_AUTH=required` for reads.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::seed::{self, column, error, get_json, get_url, results};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const PROFILE_SYNC: &str = "full_profile_sync";

/// POSTs a JSON body with a token; returns status, Location (if any) and the JSON body.
async fn post_json(
    app: &TestApp,
    token: Option<&str>,
    body: &Value,
) -> (u16, Option<String>, Value) {
    let mut request = app
        .http
        .post(format!("{}/github/tasks/", app.address))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    answer(request).await
}

/// POSTs a form body with a token.
async fn post_form(
    app: &TestApp,
    token: &str,
    form: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let request = app
        .http
        .post(format!("{}/github/tasks/", app.address))
        .bearer_auth(token)
        .form(form);
    answer(request).await
}

/// POSTs raw bytes with a content type and a token.
async fn post_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Option<String>, Value) {
    let request = app
        .http
        .post(format!("{}/github/tasks/", app.address))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body);
    answer(request).await
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let response = request.send().await.expect("request reaches the app");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().expect("ASCII location").to_string());
    let body = response.json().await.expect("a JSON body");
    (status, location, body)
}

async fn task_count(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM tasks").await
}

#[tokio::test]
async fn a_json_trigger_answers_202_with_the_queued_task_and_a_location_that_resolves() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let (status, location, body) = post_json(
        &app,
        Some(&token),
        &json!({"name": PROFILE_SYNC, "username": "octocat"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("id");
    let location = location.expect("a Location header");
    assert_eq!(location, format!("{}/github/tasks/{id}/", app.address));
    assert_eq!(body["url"], location.as_str());
    assert_eq!(body["name"], PROFILE_SYNC);
    assert_eq!(body["username"], "octocat");
    assert_eq!(body["repo_name"], Value::Null);
    assert_eq!(body["status"], "queued");
    assert_eq!(body["attempts"], 0);

    let (status, shown) = get_url(&app, &location).await;
    assert_eq!(status, 200);
    assert_eq!(shown["id"], id);
    assert_eq!(shown["status"], "queued");
    assert_eq!(task_count(&app).await, 1);
}

#[tokio::test]
async fn form_triggers_queue_each_kind_of_task() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    for form in [
        &[("name", PROFILE_SYNC), ("username", "octocat")][..],
        &[
            ("name", "full_repository_sync"),
            ("username", "octocat"),
            ("repo_name", "hello-world"),
        ][..],
        &[("name", "discovery_scraper")][..],
    ] {
        let (status, location, body) = post_form(&app, &token, form).await;
        assert_eq!(status, 202, "{form:?}: {body}");
        assert_eq!(body["name"], form[0].1);
        assert_eq!(body["status"], "queued");
        let location = location.expect("a Location header");
        assert_eq!(body["url"], location.as_str());
        let (status, shown) = get_url(&app, &location).await;
        assert_eq!(status, 200);
        assert_eq!(shown["id"], body["id"]);
    }
    let (_, list) = get_json(&app, "/github/tasks/", &[("name", "full_repository_sync")]).await;
    assert_eq!(list["count"], 1);
    assert_eq!(results(&list)[0]["username"], "octocat");
    assert_eq!(results(&list)[0]["repo_name"], "hello-world");
    assert_eq!(task_count(&app).await, 3);
}

#[tokio::test]
async fn without_a_worker_a_triggered_task_stays_queued() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let (_, location, _) = post_json(
        &app,
        Some(&token),
        &json!({"name": PROFILE_SYNC, "username": "octocat"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, task) = get_url(&app, &location.expect("location")).await;
    assert_eq!(task["status"], "queued");
    assert_eq!(task["attempts"], 0);
    assert_eq!(task["started_at"], Value::Null);
    assert_eq!(task["finished_at"], Value::Null);
}

#[tokio::test]
async fn an_identical_active_task_is_returned_instead_of_queued_twice() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let trigger = json!({"name": PROFILE_SYNC, "username": "octocat"});
    let (_, first_location, first) = post_json(&app, Some(&token), &trigger).await;

    // Again, as JSON, with another letter case, and as a form: the same task.
    let (status, location, again) = post_json(&app, Some(&token), &trigger).await;
    assert_eq!(status, 202);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(location, first_location);
    let (_, _, other_case) = post_json(
        &app,
        Some(&token),
        &json!({"name": PROFILE_SYNC, "username": "OctoCat"}),
    )
    .await;
    assert_eq!(other_case["id"], first["id"]);
    let (_, _, form) = post_form(
        &app,
        &token,
        &[("name", PROFILE_SYNC), ("username", "octocat")],
    )
    .await;
    assert_eq!(form["id"], first["id"]);
    assert_eq!(task_count(&app).await, 1);

    // Still the same while running or deferred.
    for status in ["running", "deferred"] {
        seed::execute(&app, &format!("UPDATE tasks SET status = '{status}'")).await;
        let (code, _, body) = post_json(&app, Some(&token), &trigger).await;
        assert_eq!(code, 202);
        assert_eq!(body["id"], first["id"], "while {status}");
        assert_eq!(body["status"], status);
    }
    assert_eq!(task_count(&app).await, 1);

    // Another user, another task; and once the first finished, the same one may run again.
    let (_, _, other) = post_json(
        &app,
        Some(&token),
        &json!({"name": PROFILE_SYNC, "username": "hubot"}),
    )
    .await;
    assert_ne!(other["id"], first["id"]);
    seed::execute(
        &app,
        "UPDATE tasks SET status = 'succeeded' WHERE username = 'octocat'",
    )
    .await;
    let (status, _, rerun) = post_json(&app, Some(&token), &trigger).await;
    assert_eq!(status, 202);
    assert_ne!(rerun["id"], first["id"]);
    assert_eq!(rerun["status"], "queued");
    assert_eq!(task_count(&app).await, 3);
}

#[tokio::test]
async fn concurrent_identical_triggers_make_one_task() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let trigger =
        json!({"name": "full_repository_sync", "username": "octocat", "repo_name": "hello"});
    let answers =
        futures_util::future::join_all((0..10).map(|_| post_json(&app, Some(&token), &trigger)))
            .await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, _, body)| {
            assert_eq!(*status, 202, "{body}");
            body["id"].as_str().expect("id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(task_count(&app).await, 1);
}

#[tokio::test]
async fn missing_fields_and_unknown_names_answer_the_documented_messages() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let missing_username = "Missing username. Provide a valid github username";
    let missing_repo = "Missing repo_name. Provide a valid repository name";
    for (body, message) in [
        (json!({"name": PROFILE_SYNC}), missing_username),
        (
            json!({"name": PROFILE_SYNC, "username": ""}),
            missing_username,
        ),
        (
            json!({"name": PROFILE_SYNC, "username": null}),
            missing_username,
        ),
        (json!({"name": "full_repository_sync"}), missing_username),
        (
            json!({"name": "full_repository_sync", "username": "octocat"}),
            missing_repo,
        ),
        (
            json!({"name": "full_repository_sync", "username": "octocat", "repo_name": ""}),
            missing_repo,
        ),
        (json!({"name": "foo"}), "task name foo not recognized"),
        (
            json!({"name": "foo", "username": "octocat"}),
            "task name foo not recognized",
        ),
    ] {
        let (status, location, answer) = post_json(&app, Some(&token), &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(error(&answer), message, "{body}");
        assert_eq!(location, None);
    }
    // The same through a form.
    let (status, _, answer) = post_form(
        &app,
        &token,
        &[("name", "full_repository_sync"), ("username", "octocat")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error(&answer), missing_repo);
    let (status, _, answer) = post_form(&app, &token, &[("name", PROFILE_SYNC)]).await;
    assert_eq!(status, 400);
    assert_eq!(error(&answer), missing_username);
    // No name at all is a 400 too.
    let (status, _, answer) = post_json(&app, Some(&token), &json!({})).await;
    assert_eq!(status, 400);
    assert!(error(&answer).contains("name"), "{answer}");
    assert_eq!(task_count(&app).await, 0);
}

#[tokio::test]
async fn names_github_would_not_accept_are_400() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let forty = "a".repeat(40);
    for username in [
        "bad/name",
        forty.as_str(),
        "düsseldorf",
        "has space",
        "under_score",
        "../etc",
        "octocat?x=1",
        "oct\u{0}cat",
        "line\nbreak",
        "\u{202e}tacotco",
        "\u{1F600}",
    ] {
        let (status, _, answer) = post_json(
            &app,
            Some(&token),
            &json!({"name": PROFILE_SYNC, "username": username}),
        )
        .await;
        assert_eq!(status, 400, "username {username:?}: {answer}");
        assert!(!error(&answer).is_empty());
    }
    let long_repo = "r".repeat(101);
    for repo_name in ["a/b", "..", ".", "sp ace", "ünïcode", long_repo.as_str()] {
        let (status, _, answer) = post_json(
            &app,
            Some(&token),
            &json!({"name": "full_repository_sync", "username": "octocat", "repo_name": repo_name}),
        )
        .await;
        assert_eq!(status, 400, "repo_name {repo_name:?}: {answer}");
    }
    assert_eq!(task_count(&app).await, 0);

    // The limits themselves are accepted.
    let thirty_nine = "a".repeat(39);
    let hundred = "r".repeat(100);
    let (status, _, answer) = post_json(
        &app,
        Some(&token),
        &json!({"name": "full_repository_sync", "username": thirty_nine, "repo_name": hundred}),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let (status, _, answer) = post_json(
        &app,
        Some(&token),
        &json!({"name": "full_repository_sync", "username": "a-b-9", "repo_name": "x.y_z-1"}),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
}

#[tokio::test]
async fn triggering_needs_a_known_bearer_token() {
    let app = spawn_app().await;
    seed::token(&app).await;
    let trigger = json!({"name": PROFILE_SYNC, "username": "octocat"});

    let response = app
        .http
        .post(format!("{}/github/tasks/", app.address))
        .json(&trigger)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    assert!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer")),
        "a 401 names the scheme"
    );
    let body: Value = response.json().await.expect("JSON error");
    assert!(!error(&body).is_empty());

    let (status, _, body) = post_json(&app, Some("gtm_not-a-real-token"), &trigger).await;
    assert_eq!(status, 403, "{body}");
    assert!(!error(&body).is_empty());

    // A token that was never issued, shaped like a real one.
    let forged = gitomatic::tokens::generate();
    let (status, _, _) = post_json(&app, Some(&forged.secret), &trigger).await;
    assert_eq!(status, 403);
    // The stored hash is not a credential.
    let token = gitomatic::tokens::generate();
    gitomatic::db::queries::tokens::insert(
        &mut app.ctx.conn().await.expect("a connection"),
        "hash-check",
        &token.hash,
    )
    .await
    .expect("token");
    let (status, _, _) = post_json(&app, Some(&token.hash), &trigger).await;
    assert_eq!(status, 403);

    // Auth is checked before the body: a bad body without a token is still a 401.
    let response = app
        .http
        .post(format!("{}/github/tasks/", app.address))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    assert_eq!(task_count(&app).await, 0);

    let (status, _, _) = post_json(&app, Some(&token.secret), &trigger).await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn a_body_over_16_kib_is_413() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let valid = r#"{"name": "full_profile_sync", "username": "octocat"}"#;
    // Padded with whitespace to exactly 16 KiB: accepted.
    let exact = format!("{valid}{}", " ".repeat(16 * 1024 - valid.len()));
    assert_eq!(exact.len(), 16 * 1024);
    let (status, _, body) = post_raw(&app, &token, "application/json", exact).await;
    assert_eq!(status, 202, "{body}");
    // One byte more: too large.
    let over = format!("{valid}{}", " ".repeat(16 * 1024 + 1 - valid.len()));
    let (status, _, body) = post_raw(&app, &token, "application/json", over).await;
    assert_eq!(status, 413, "{body}");
    assert!(!error(&body).is_empty());
    // 100 KiB, as a form.
    let huge = format!("name=full_profile_sync&username={}", "a".repeat(100 * 1024));
    let (status, _, _) = post_raw(&app, &token, "application/x-www-form-urlencoded", huge).await;
    assert_eq!(status, 413);
    assert_eq!(task_count(&app).await, 1);
}

#[tokio::test]
async fn other_content_types_are_415() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    for content_type in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "text/html",
    ] {
        let (status, _, body) = post_raw(
            &app,
            &token,
            content_type,
            r#"{"name": "discovery_scraper"}"#,
        )
        .await;
        assert_eq!(status, 415, "{content_type}: {body}");
        assert!(!error(&body).is_empty());
    }
    // Parameters on the accepted types are fine.
    let (status, _, body) = post_raw(
        &app,
        &token,
        "application/json; charset=utf-8",
        r#"{"name": "discovery_scraper"}"#,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(task_count(&app).await, 1);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    for body in [
        r#"{"name": "full_profile_sync", "username": "#,
        "{not json}",
        "[]",
        r#""full_profile_sync""#,
        r#"{"name": 5}"#,
        r#"{"name": "full_profile_sync", "username": ["octocat"]}"#,
    ] {
        let (status, _, answer) = post_raw(&app, &token, "application/json", body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(!error(&answer).is_empty());
    }
    assert_eq!(task_count(&app).await, 0);
}

#[tokio::test]
async fn the_task_list_is_newest_first_and_filterable() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;
    let mut ids = Vec::new();
    for username in ["first", "second", "third"] {
        let (_, _, body) = post_json(
            &app,
            Some(&token),
            &json!({"name": PROFILE_SYNC, "username": username}),
        )
        .await;
        ids.push(body["id"].as_str().expect("id").to_string());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (_, _, discovery) =
        post_json(&app, Some(&token), &json!({"name": "discovery_scraper"})).await;
    ids.push(discovery["id"].as_str().expect("id").to_string());
    ids.reverse();

    let (status, list) = get_json(&app, "/github/tasks/", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(list["count"], 4);
    assert_eq!(column(&list, "id"), ids, "newest first");
    let (_, asc) = get_json(&app, "/github/tasks/", &[("ordering", "created_at")]).await;
    let mut oldest_first = ids.clone();
    oldest_first.reverse();
    assert_eq!(column(&asc, "id"), oldest_first);

    let (_, filtered) = get_json(&app, "/github/tasks/", &[("username__contains", "IR")]).await;
    assert_eq!(column(&filtered, "username"), ["third", "first"]);
    let (_, filtered) = get_json(&app, "/github/tasks/", &[("username__isnull", "true")]).await;
    assert_eq!(column(&filtered, "name"), ["discovery_scraper"]);
    let (_, filtered) = get_json(&app, "/github/tasks/", &[("status", "queued")]).await;
    assert_eq!(filtered["count"], 4);
    let (_, filtered) = get_json(&app, "/github/tasks/", &[("status", "failed")]).await;
    assert_eq!(filtered["count"], 0);
    let (status, body) = get_json(&app, "/github/tasks/", &[("attempts__gte", "x")]).await;
    assert_eq!(status, 400);
    assert!(error(&body).contains("attempts__gte"));
}

#[tokio::test]
async fn an_unknown_task_status_is_a_400_naming_the_allowed_values() {
    let app = spawn_app().await;
    let statuses = ["queued", "running", "deferred", "succeeded", "failed"];
    let (status, body) = get_json(&app, "/github/tasks/", &[("status", "bogus")]).await;
    assert_eq!(status, 400, "{body}");
    let message = error(&body);
    assert!(
        message.contains("status") && message.contains("bogus"),
        "{message}"
    );
    for value in statuses {
        assert!(message.contains(value), "{message} names {value}");
        let (status, body) = get_json(&app, "/github/tasks/", &[("status", value)]).await;
        assert_eq!(status, 200, "status={value}: {body}");
    }
}

#[tokio::test]
async fn an_unknown_job_name_is_a_400_naming_the_registered_kinds() {
    let app = spawn_app().await;
    let (status, body) = get_json(&app, "/github/tasks/", &[("name", "bogus_sync")]).await;
    assert_eq!(status, 400, "{body}");
    let message = error(&body);
    assert!(
        message.contains("name") && message.contains("bogus_sync"),
        "{message}"
    );
    for kind in app.registry.names() {
        assert!(message.contains(kind), "{message} names {kind}");
        let (status, body) = get_json(&app, "/github/tasks/", &[("name", kind)]).await;
        assert_eq!(status, 200, "name={kind}: {body}");
    }
    // Other lookups on name stay free text.
    let (status, body) = get_json(&app, "/github/tasks/", &[("name__contains", "bogus")]).await;
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------------------
// API_READ_AUTH
// ---------------------------------------------------------------------------

const READS: [&str; 5] = [
    "/github/",
    "/github/developers/",
    "/github/repositories/",
    "/github/rate_limit/",
    "/github/tasks/",
];

#[tokio::test]
async fn reads_are_public_by_default() {
    let app = spawn_app().await;
    for path in READS {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn with_read_auth_required_reads_need_a_known_token() {
    let app = spawn_app_with(|env| {
        env.insert("API_READ_AUTH".into(), "required".into());
    })
    .await;
    let token = seed::token(&app).await;
    let (_, _, task) = post_json(
        &app,
        Some(&token),
        &json!({"name": PROFILE_SYNC, "username": "octocat"}),
    )
    .await;
    let task_path = format!("/github/tasks/{}/", task["id"].as_str().expect("id"));
    let mut paths: Vec<String> = READS.iter().map(|p| p.to_string()).collect();
    paths.push(task_path);
    paths.push("/github/developers/?login=x".into());

    for path in &paths {
        let url = format!("{}{path}", app.address);
        let response = app.http.get(&url).send().await.expect("request");
        assert_eq!(response.status(), 401, "{path} without a token");
        let body: Value = response.json().await.expect("JSON error");
        assert!(!error(&body).is_empty());
        let response = app
            .http
            .get(&url)
            .bearer_auth("gtm_wrong")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 403, "{path} with a wrong token");
        let response = app
            .http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{path} with the token");
    }
    // The browsable page is guarded too.
    let response = app
        .http
        .get(format!("{}/github/developers/", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn with_read_auth_required_health_and_docs_stay_public() {
    let app = spawn_app_with(|env| {
        env.insert("API_READ_AUTH".into(), "required".into());
    })
    .await;
    for path in [
        "/health/",
        "/github/swagger/",
        "/github/swagger.json",
        "/github/redoc/",
        "/github/redoc/redoc.standalone.js",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    // Writes still need a token.
    let (status, _, _) = post_json(&app, None, &json!({"name": "discovery_scraper"})).await;
    assert_eq!(status, 401);
}
