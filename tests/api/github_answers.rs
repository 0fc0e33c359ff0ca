//! GitHub's real answers to a tracked repository's jobs (SPEC-3 section 0): an empty
//! repository (409 on commits, 204 on statistics), a blocked one (451, or 403 "Repository
//! access blocked") and a deleted issue (410), each run through the real worker against the
//! fake, checking what is stored, what the API answers and what the fake was asked.

use std::time::Duration;

use gitomatic::db::queries::tracked;
use gitomatic::domain::FullName;
use gitomatic::jobs::{
    ActivityReconcile, BackgroundJob, EventsPoll, IssueTimelineSync, RepositoryActivitySync,
};
use serde_json::{Value, json};

use crate::activity::{rows, track_and_sync, world};
use crate::helpers::fake_github::{LoggedRequest, RepoBlock};
use crate::helpers::seed::{self, get_json, results};
use crate::helpers::{Graph, TestApp, spawn_crawler, spawn_crawler_with};

const IDLE: Duration = Duration::from_secs(90);

fn full_name(text: &str) -> FullName {
    FullName::parse(text).expect("valid full name")
}

/// Runs one job until it ends; returns its status and error.
async fn run(app: &TestApp, job: impl BackgroundJob) -> (String, Option<String>) {
    let task = app.enqueue(job).await;
    let done = app.wait_for_task(task.id, IDLE).await;
    (done.status.to_string(), done.error)
}

/// Waits until no task is active and checks that none failed.
async fn settle(app: &TestApp) {
    app.wait_until_idle(IDLE).await;
    let failed = rows(
        app,
        "SELECT name, args, error FROM tasks WHERE status = 'failed'",
    )
    .await;
    assert_eq!(failed, json!([]), "no task failed");
}

/// Requests the fake received whose path contains `needle`: (path, status).
fn asked(app: &TestApp, needle: &str) -> Vec<(String, u16)> {
    app.fake()
        .requests()
        .iter()
        .filter(|request: &&LoggedRequest| request.path.contains(needle))
        .map(|request| (request.path.clone(), request.status))
        .collect()
}

/// POSTs a JSON body with a token; the status and the JSON body.
async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request reaches the app");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// The tracked row of a repository: last_error and whether blocked_at is set.
async fn tracked_state(app: &TestApp, full_name: &str) -> Value {
    rows(
        app,
        &format!(
            "SELECT last_error, blocked_at IS NOT NULL AS blocked FROM tracked_repositories
             WHERE full_name = '{full_name}'"
        ),
    )
    .await[0]
        .clone()
}

// ---------------------------------------------------------------------------
// 409 and 204: an empty repository
// ---------------------------------------------------------------------------

#[tokio::test]
async fn an_empty_repository_syncs_its_issues_timelines_and_board_without_commits_or_statistics() {
    // Issues, comments and a closed issue, but no commit: GitHub answers 409 "Git Repository
    // is empty." on /commits and 204 (no body) on /stats/contributors.
    let mut graph = Graph::default();
    let alice = graph.add_user("alice");
    let bob = graph.add_user("bob");
    let empty = graph.add_repo(alice, "empty");
    let first = graph.add_issue(empty, alice, "Where is the code?");
    graph.comment(first, bob, "Coming soon");
    let second = graph.add_issue(empty, bob, "Add a README");
    graph.close(second, alice, "completed");
    let mut app = spawn_crawler(graph).await;
    app.start_worker();
    tracked::track_repository(
        &mut app.ctx.conn().await.expect("conn"),
        "alice/empty",
        None,
    )
    .await
    .expect("track");

    for round in 1..=2 {
        app.fake().clear_requests();
        let (status, error) = run(&app, RepositoryActivitySync::of(full_name("alice/empty"))).await;
        assert_eq!(status, "succeeded", "sync {round}: {error:?}");
        settle(&app).await;
        assert_eq!(
            asked(&app, "/repos/alice/empty/commits"),
            vec![("/repos/alice/empty/commits".to_owned(), 409)],
            "sync {round} asks for commits once and hears 409"
        );
        assert_eq!(
            asked(&app, "/stats/contributors"),
            vec![("/repos/alice/empty/stats/contributors".to_owned(), 204)],
            "sync {round} asks for statistics once and hears 204"
        );
    }
    // The sync went on past the commits: issues, timelines, the board; nothing failed.
    assert_eq!(
        rows(
            &app,
            "SELECT number, state, timeline_read_at IS NOT NULL AS timeline_read
             FROM issues ORDER BY number"
        )
        .await,
        json!([
            {"number": 1, "state": "open", "timeline_read": true},
            {"number": 2, "state": "closed", "timeline_read": true},
        ])
    );
    assert_eq!(
        rows(
            &app,
            "SELECT event, actor_login FROM timeline_items ORDER BY event"
        )
        .await,
        json!([{"event": "closed", "actor_login": "alice"}, {"event": "commented", "actor_login": "bob"}])
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM commits").await, 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM contributor_weeks")
            .await,
        0
    );
    assert_eq!(
        tracked_state(&app, "alice/empty").await,
        json!({"last_error": null, "blocked": false})
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM tracked_repositories
             WHERE activity_synced_at IS NOT NULL AND timeline_synced_at IS NOT NULL"
        )
        .await,
        1
    );
    let repository = rows(
        &app,
        "SELECT id FROM repositories WHERE full_name = 'alice/empty'",
    )
    .await[0]["id"]
        .as_str()
        .expect("stored repository")
        .to_owned();
    let (status, board) = get_json(
        &app,
        &format!("/github/repositories/{repository}/leaderboard/"),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{board}");
    let mut logins: Vec<String> = results(&board)
        .iter()
        .map(|row| row["login"].as_str().expect("login").to_owned())
        .collect();
    logins.sort();
    assert_eq!(logins, ["alice", "bob"], "{board}");
}

// ---------------------------------------------------------------------------
// 410: a deleted issue
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_deleted_issue_is_kept_with_deleted_at_leaves_the_lists_and_is_not_asked_again() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;
    let tool = world.repos[2];
    let (by_timeline, by_reconcile) = app.fake().with_graph(|g| {
        let mut issues = g
            .issues_of(tool)
            .into_iter()
            .filter(|issue| !issue.is_pull())
            .map(|issue| (issue.id, issue.number));
        let pair = (
            issues.next().expect("an issue"),
            issues.next().expect("another issue"),
        );
        g.delete_issue(pair.0.0);
        g.delete_issue(pair.1.0);
        (pair.0.1, pair.1.1)
    });
    let issue_path = |number: i64| format!("/repos/alice/tool/issues/{number}");
    // Requests for one issue or its timeline (not for #10 when asked about #1).
    let about = |number: i64| {
        let path = issue_path(number);
        asked(&app, &path)
            .into_iter()
            .filter(|(asked, _)| *asked == path || asked.starts_with(&format!("{path}/")))
            .collect::<Vec<_>>()
    };

    // The timeline sync meets the first: its stored issue is due (updated after its timeline
    // was read), and its timeline answers 410.
    let mut conn = app.db.connect().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE issues SET timeline_read_at = NULL
             WHERE full_name = 'alice/tool' AND number = {by_timeline}"
        )),
        &mut conn,
    )
    .await
    .expect("make the timeline due");
    app.fake().clear_requests();
    let (status, error) = run(
        &app,
        IssueTimelineSync {
            full_name: full_name("alice/tool"),
        },
    )
    .await;
    assert_eq!(status, "succeeded", "{error:?}");
    assert_eq!(
        about(by_timeline),
        vec![(format!("{}/timeline", issue_path(by_timeline)), 410)]
    );

    // The reconciliation meets the second: no longer listed, looked up, 410.
    app.fake().clear_requests();
    let (status, error) = run(
        &app,
        ActivityReconcile {
            full_name: full_name("alice/tool"),
        },
    )
    .await;
    assert_eq!(status, "succeeded", "{error:?}");
    assert_eq!(about(by_reconcile), vec![(issue_path(by_reconcile), 410)]);
    assert!(
        about(by_timeline).is_empty(),
        "the issue found deleted is not looked up"
    );
    let deleted = "SELECT number FROM issues WHERE deleted_at IS NOT NULL ORDER BY number";
    let mut numbers = [by_timeline, by_reconcile];
    numbers.sort_unstable();
    assert_eq!(
        rows(&app, deleted).await,
        json!([{"number": numbers[0]}, {"number": numbers[1]}])
    );

    // Never asked again: not by a due timeline, a reconciliation, or an activity sync.
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE issues SET timeline_read_at = NULL WHERE deleted_at IS NOT NULL"),
        &mut conn,
    )
    .await
    .expect("make their timelines due");
    app.fake().clear_requests();
    for (status, error) in [
        run(
            &app,
            IssueTimelineSync {
                full_name: full_name("alice/tool"),
            },
        )
        .await,
        run(
            &app,
            ActivityReconcile {
                full_name: full_name("alice/tool"),
            },
        )
        .await,
        run(&app, RepositoryActivitySync::of(full_name("alice/tool"))).await,
    ] {
        assert_eq!(status, "succeeded", "{error:?}");
    }
    settle(&app).await;
    for number in [by_timeline, by_reconcile] {
        assert_eq!(about(number), vec![], "#{number}");
    }

    // The API: the detail answers 200 with deleted_at; the lists leave it out unless asked.
    let id_of = |number: i64| {
        format!(
            "SELECT id, deleted_at IS NOT NULL AS deleted FROM issues WHERE full_name = 'alice/tool' AND number = {number}"
        )
    };
    let gone = rows(&app, &id_of(by_timeline)).await[0]["id"]
        .as_str()
        .expect("stored")
        .to_owned();
    let (status, detail) = get_json(&app, &format!("/github/issues/{gone}/"), &[]).await;
    assert_eq!(status, 200, "{detail}");
    assert!(detail["deleted_at"].is_string(), "{detail}");
    let present = app
        .fake()
        .graph()
        .issues_of(tool)
        .into_iter()
        .find(|issue| !issue.is_pull())
        .map(|issue| issue.number)
        .expect("an issue left");
    let kept = rows(&app, &id_of(present)).await[0]["id"]
        .as_str()
        .expect("stored")
        .to_owned();
    let (_, detail) = get_json(&app, &format!("/github/issues/{kept}/"), &[]).await;
    assert_eq!(detail["deleted_at"], Value::Null, "{detail}");

    let repository = rows(
        &app,
        "SELECT id FROM repositories WHERE full_name = 'alice/tool'",
    )
    .await[0]["id"]
        .as_str()
        .expect("stored repository")
        .to_owned();
    let everywhere = app
        .count("SELECT count(*) AS n FROM issues WHERE NOT is_pull_request")
        .await;
    let in_tool = app
        .count(&format!(
            "SELECT count(*) AS n FROM issues WHERE NOT is_pull_request AND repository_id = '{repository}'"
        ))
        .await;
    for (path, stored_issues) in [
        ("/github/issues/".to_owned(), everywhere),
        (
            format!("/github/repositories/{repository}/issues/"),
            in_tool,
        ),
    ] {
        let listed = |query: &'static [(&'static str, &'static str)]| {
            let (app, path) = (&app, path.clone());
            async move {
                let (status, body) = get_json(app, &path, query).await;
                assert_eq!(status, 200, "{path} {query:?}: {body}");
                let ids: Vec<String> = results(&body)
                    .iter()
                    .map(|issue| issue["id"].as_str().expect("id").to_owned())
                    .collect();
                (body["count"].as_i64().expect("count"), ids)
            }
        };
        let (count, ids) = listed(&[("page_size", "100")]).await;
        assert_eq!(count, stored_issues - 2, "{path}");
        assert!(!ids.contains(&gone) && ids.contains(&kept), "{path}");
        let (count, ids) = listed(&[("page_size", "100"), ("include_deleted", "false")]).await;
        assert_eq!(count, stored_issues - 2, "{path}");
        assert!(!ids.contains(&gone), "{path}");
        let (count, ids) = listed(&[("page_size", "100"), ("include_deleted", "true")]).await;
        assert_eq!(count, stored_issues, "{path}");
        assert!(ids.contains(&gone) && ids.contains(&kept), "{path}");
        let (count, ids) =
            listed(&[("include_deleted", "true"), ("deleted_at__isnull", "false")]).await;
        assert_eq!(count, 2, "{path}");
        assert!(ids.contains(&gone), "{path}");

        let (status, body) = get_json(&app, &path, &[("include_deleted", "maybe")]).await;
        assert_eq!(status, 400, "{body}");
        assert!(seed::error(&body).contains("include_deleted"), "{body}");
    }
}

// ---------------------------------------------------------------------------
// 451 and 403 "Repository access blocked"
// ---------------------------------------------------------------------------

/// Requests the fake received for a repository, by name or by id.
fn asked_about(app: &TestApp, full_name: &str, github_id: i64) -> Vec<(String, u16)> {
    let mut requests = asked(app, &format!("/repos/{full_name}"));
    requests.extend(asked(app, &format!("/repositories/{github_id}")));
    requests
}

#[tokio::test]
async fn a_blocked_repository_fails_then_is_left_alone_until_a_task_is_posted_by_hand() {
    let world = world();
    let every_second = "* * * * * *";
    let mut app = spawn_crawler_with(world.graph.clone(), |env| {
        for cron in [
            "ACTIVITY_CRON",
            "TIMELINE_CRON",
            "RECONCILE_CRON",
            "EVENTS_CRON",
        ] {
            env.insert(cron.into(), every_second.into());
        }
        for cron in ["MEMBERS_CRON", "DISCOVERY_CRON"] {
            env.insert(cron.into(), "off".into());
        }
    })
    .await;
    app.start_worker();
    track_and_sync(&app).await;
    let [api, web, _tool] = world.repos;
    app.fake().with_graph(|g| {
        g.block_repo(api, RepoBlock::Dmca);
        g.block_repo(web, RepoBlock::Tos);
    });

    // 451 fails the activity sync with GitHub's message; the row records it.
    app.fake().clear_requests();
    let (status, error) = run(&app, RepositoryActivitySync::of(full_name("acme/api"))).await;
    assert_eq!(status, "failed");
    let error = error.expect("an error");
    assert!(
        error.contains("451")
            && error.contains("Repository access blocked")
            && error.contains("dmca"),
        "{error}"
    );
    assert_eq!(
        tracked_state(&app, "acme/api").await,
        json!({"last_error": error, "blocked": true})
    );
    assert_eq!(
        asked_about(&app, "acme/api", api),
        vec![("/repos/acme/api".to_owned(), 451)]
    );
    // 403 "Repository access blocked" (terms of service) is a block too, not a rate limit:
    // one request, no retry.
    let (status, error) = run(
        &app,
        ActivityReconcile {
            full_name: full_name("acme/web"),
        },
    )
    .await;
    assert_eq!(status, "failed");
    let error = error.expect("an error");
    assert!(
        error.contains("403")
            && error.contains("Repository access blocked")
            && error.contains("tos"),
        "{error}"
    );
    assert_eq!(
        tracked_state(&app, "acme/web").await,
        json!({"last_error": error, "blocked": true})
    );
    assert_eq!(asked_about(&app, "acme/web", web).len(), 1);
    // The tracked resource shows it.
    let id = rows(
        &app,
        "SELECT id FROM tracked_repositories WHERE full_name = 'acme/api'",
    )
    .await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, resource) = get_json(&app, &format!("/github/tracked_repositories/{id}/"), &[]).await;
    assert!(resource["blocked_at"].is_string(), "{resource}");
    assert!(
        resource["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("Repository access blocked")),
        "{resource}"
    );

    // A task queued before the block was known sends nothing.
    app.fake().clear_requests();
    let (status, error) = run(
        &app,
        IssueTimelineSync {
            full_name: full_name("acme/api"),
        },
    )
    .await;
    assert_eq!(status, "failed");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("post a task for it by hand")),
        "{error:?}"
    );
    assert_eq!(asked_about(&app, "acme/api", api), vec![]);

    // Every scheduled job (activity, timeline, reconcile, event feed) leaves both alone for
    // a few ticks, and works on the other repository meanwhile.
    app.fake().set_poll_interval(1);
    let tasks_for = |full_name: &str| {
        format!("SELECT count(*) AS n FROM tasks WHERE args->>'full_name' = '{full_name}'")
    };
    let before = (
        app.count(&tasks_for("acme/api")).await,
        app.count(&tasks_for("acme/web")).await,
        app.count(&tasks_for("alice/tool")).await,
    );
    let (stop, scheduler) = app.spawn_scheduler();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    stop.send(true).expect("stop the scheduler");
    scheduler
        .await
        .expect("scheduler task")
        .expect("scheduler ran");
    app.wait_until_idle(IDLE).await;
    assert_eq!(asked_about(&app, "acme/api", api), vec![]);
    assert_eq!(asked_about(&app, "acme/web", web), vec![]);
    assert_eq!(app.count(&tasks_for("acme/api")).await, before.0);
    assert_eq!(app.count(&tasks_for("acme/web")).await, before.1);
    assert!(
        app.count(&tasks_for("alice/tool")).await > before.2,
        "the scheduler ran"
    );
    assert!(
        !asked(&app, "/repos/alice/tool/events").is_empty(),
        "the event feeds were polled"
    );
    assert!(
        !asked(&app, "/repos/alice/tool/issues").is_empty(),
        "the tracked repositories were synced"
    );

    // A task posted by hand lifts the block and runs: GitHub lifted it for acme/api...
    let token = seed::token(&app).await;
    app.fake().with_graph(|g| g.unblock_repo(api));
    app.fake().clear_requests();
    let body = json!({"name": "repository_activity_sync", "args": {"full_name": "acme/api"}});
    let (status, task) = post(&app, "/github/tasks/", &token, &body).await;
    assert_eq!(status, 202, "{task}");
    let task_id = task["id"].as_str().expect("task id").parse().expect("uuid");
    let done = app.wait_for_task(task_id, IDLE).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert!(!asked_about(&app, "acme/api", api).is_empty());
    assert_eq!(
        tracked_state(&app, "acme/api").await,
        json!({"last_error": null, "blocked": false})
    );
    // ...and not for acme/web: the task posted by hand asks GitHub, and fails again.
    app.fake().clear_requests();
    let body = json!({"name": "activity_reconcile", "args": {"full_name": "acme/web"}});
    let (status, task) = post(&app, "/github/tasks/", &token, &body).await;
    assert_eq!(status, 202, "{task}");
    let task_id = task["id"].as_str().expect("task id").parse().expect("uuid");
    let done = app.wait_for_task(task_id, IDLE).await;
    assert_eq!(done.status, "failed", "{done:?}");
    assert_eq!(
        asked_about(&app, "acme/web", web),
        vec![("/repos/acme/web/issues".to_owned(), 403)]
    );
    assert_eq!(tracked_state(&app, "acme/web").await["blocked"], true);

    // Tracked anew (DELETE, then POST): the first sync asks GitHub.
    let id = rows(
        &app,
        "SELECT id FROM tracked_repositories WHERE full_name = 'acme/web'",
    )
    .await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let deleted = app
        .http
        .delete(format!("{}/github/tracked_repositories/{id}/", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request")
        .status();
    assert_eq!(deleted, 204);
    app.fake().clear_requests();
    let (status, tracked) = post(
        &app,
        "/github/tracked_repositories/",
        &token,
        &json!({"full_name": "acme/web"}),
    )
    .await;
    assert_eq!(status, 201, "{tracked}");
    assert_eq!(tracked["blocked_at"], Value::Null, "{tracked}");
    app.wait_until_idle(IDLE).await;
    assert_eq!(
        asked_about(&app, "acme/web", web),
        vec![("/repos/acme/web".to_owned(), 403)]
    );

    // The pause lasts 24 hours.
    let scheduled = async |app: &TestApp| -> Vec<String> {
        RepositoryActivitySync::scheduled(&app.ctx)
            .await
            .expect("scheduled")
            .into_iter()
            .map(|job| job.full_name.as_str().to_owned())
            .collect()
    };
    assert_eq!(scheduled(&app).await, ["alice/tool", "acme/api"]);
    let mut conn = app.db.connect().await;
    for (hours, expected) in [
        (23, vec!["alice/tool", "acme/api"]),
        (25, vec!["alice/tool", "acme/api", "acme/web"]),
    ] {
        diesel_async::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "UPDATE tracked_repositories SET blocked_at = now() - interval '{hours} hours'
                 WHERE full_name = 'acme/web'"
            )),
            &mut conn,
        )
        .await
        .expect("age the block");
        assert_eq!(scheduled(&app).await, expected, "blocked {hours} hours ago");
    }
}

#[tokio::test]
async fn an_event_feed_that_answers_the_block_pauses_its_repository_and_the_poll_goes_on() {
    let mut graph = Graph::default();
    let alice = graph.add_user("alice");
    let tool = graph.add_repo(alice, "tool");
    graph.add_event("WatchEvent", alice, tool, Some("started"));
    graph.block_repo(tool, RepoBlock::Dmca);
    let mut app = spawn_crawler(graph).await;
    app.start_worker();
    tracked::track_repository(&mut app.ctx.conn().await.expect("conn"), "alice/tool", None)
        .await
        .expect("track");

    let (status, error) = run(&app, EventsPoll {}).await;
    assert_eq!(status, "succeeded", "{error:?}");
    assert_eq!(
        asked(&app, "events"),
        vec![
            ("/events".to_owned(), 200),
            ("/repos/alice/tool/events".to_owned(), 451)
        ]
    );
    let state = tracked_state(&app, "alice/tool").await;
    assert_eq!(state["blocked"], true, "{state}");
    assert!(
        state["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("Repository access blocked")),
        "{state}"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM event_feeds
             WHERE feed = 'repos/alice/tool/events' AND last_error LIKE '%Repository access blocked%'"
        )
        .await,
        1
    );

    // The next poll leaves the repository's feed alone.
    app.fake().clear_requests();
    let (status, error) = run(&app, EventsPoll {}).await;
    assert_eq!(status, "succeeded", "{error:?}");
    assert!(asked(&app, "/repos/alice/tool").is_empty());
}
