//! Repository activity end to end: tracked repositories and an organization synced from the
//! fake GitHub through RabbitMQ and a worker into PostgreSQL, compared with the fake's data.

use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use gitomatic::db::queries::tasks::TaskRow;
use gitomatic::db::queries::tracked;
use gitomatic::domain::{FullName, GithubLogin};
use gitomatic::jobs::{
    ActivityReconcile, BackgroundJob, IssueTimelineSync, OrgMembersSync, RepositoryActivitySync,
};
use serde_json::{Value, json};

use crate::helpers::{Graph, TestApp, binary_command, spawn_crawler};

const IDLE: Duration = Duration::from_secs(90);

/// `acme` (an organization owning `acme/api` and `acme/web`) and `alice/tool`, each with
/// generated activity; one issue of `alice/tool` has a timeline of three pages.
pub(crate) struct World {
    pub graph: Graph,
    pub org: i64,
    pub repos: [i64; 3],
    pub long_issue: i64,
}

pub(crate) fn world() -> World {
    let mut graph = Graph::default();
    let alice = graph.add_user("alice");
    let org = graph.add_org("acme");
    let api = graph.add_repo(org, "api");
    let web = graph.add_repo(org, "web");
    let tool = graph.add_repo(alice, "tool");
    for (k, repo) in [api, web, tool].into_iter().enumerate() {
        graph.generate_activity(repo, 10, 8, 40 + k as u64);
    }
    let long_issue = graph.add_issue(tool, alice, "A long discussion");
    graph.long_timeline(long_issue, 230);
    for repo in [api, web, tool] {
        // GitHub has computed the statistics already: no 202 here (tested on its own below).
        graph.activity.stats_cached.insert(repo);
    }
    World {
        graph,
        org,
        repos: [api, web, tool],
        long_issue,
    }
}

fn full_name(text: &str) -> FullName {
    FullName::parse(text).expect("valid full name")
}

/// Tracks `acme` and `alice/tool` and syncs them (members, repositories, activity, timelines).
pub(crate) async fn track_and_sync(app: &TestApp) {
    let mut conn = app.ctx.conn().await.expect("connection");
    tracked::track_organization(&mut conn, "acme")
        .await
        .expect("track acme");
    tracked::track_repository(&mut conn, "alice/tool", None)
        .await
        .expect("track alice/tool");
    drop(conn);
    app.enqueue(OrgMembersSync {
        org: GithubLogin::parse("acme").expect("login"),
    })
    .await;
    app.enqueue(RepositoryActivitySync::of(full_name("alice/tool")))
        .await;
    settle(app).await;
}

/// Waits until no task is active and checks that none failed.
async fn settle(app: &TestApp) {
    app.wait_until_idle(IDLE).await;
    let failed = rows(
        app,
        "SELECT name, args, error FROM tasks WHERE status = 'failed' ORDER BY created_at",
    )
    .await;
    assert_eq!(failed, json!([]), "no task failed");
}

/// Runs one job until it ends, however it ends.
async fn run_to_end(app: &TestApp, job: impl BackgroundJob) -> TaskRow {
    let task = app.enqueue(job).await;
    app.wait_for_task(task.id, IDLE).await
}

/// Runs one job to completion.
async fn run(app: &TestApp, job: impl BackgroundJob) {
    let done = run_to_end(app, job).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    settle(app).await;
}

/// The rows of a query as a JSON array.
pub(crate) async fn rows(app: &TestApp, sql: &str) -> Value {
    #[derive(QueryableByName)]
    struct Json {
        #[diesel(sql_type = diesel::sql_types::Text)]
        rows: String,
    }
    let mut conn = app.db.connect().await;
    let wrapped = format!("SELECT coalesce(json_agg(q), '[]')::text AS rows FROM ({sql}) q");
    let json: Json = diesel::sql_query(wrapped)
        .get_result(&mut conn)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
    serde_json::from_str(&json.rows).expect("json rows")
}

fn login(graph: &Graph, user: Option<i64>) -> Value {
    user.map_or(Value::Null, |id| json!(graph.user(id).login))
}

const STORED_ISSUES: &str = "SELECT full_name, number, is_pull_request, title, state, state_reason,
        labels, assignees, author_login, extract(epoch FROM created_at)::bigint AS created_at,
        extract(epoch FROM closed_at)::bigint AS closed_at, closed_by_login, draft, merged,
        extract(epoch FROM merged_at)::bigint AS merged_at, merged_by_login
    FROM issues WHERE transferred_to_id IS NULL ORDER BY full_name, number";

fn expected_issues(graph: &Graph, repos: &[i64]) -> Value {
    let mut expected: Vec<(String, Value)> = Vec::new();
    for &repo in repos {
        let full_name = graph.full_name(repo);
        for issue in graph.issues_of(repo) {
            let pull = issue.pull.as_ref();
            let closed = issue.state == "closed";
            expected.push((
                format!("{full_name}#{:08}", issue.number),
                json!({
                    "full_name": full_name,
                    "number": issue.number,
                    "is_pull_request": pull.is_some(),
                    "title": issue.title,
                    "state": issue.state,
                    "state_reason": issue.state_reason,
                    "labels": issue.labels,
                    "assignees": issue.assignees.iter().map(|id| graph.user(*id).login.clone()).collect::<Vec<_>>(),
                    "author_login": graph.user(issue.author).login,
                    "created_at": issue.created_at,
                    "closed_at": issue.closed_at,
                    "closed_by_login": login(graph, issue.closed_by),
                    "draft": pull.map(|p| p.draft),
                    "merged": pull.filter(|_| closed).map(|p| p.merged_at.is_some()),
                    "merged_at": pull.and_then(|p| p.merged_at),
                    "merged_by_login": login(graph, pull.and_then(|p| p.merged_by)),
                }),
            ));
        }
    }
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Array(expected.into_iter().map(|(_, row)| row).collect())
}

/// Every stored timeline item of an issue, in order: (event, actor, time).
async fn stored_timeline(app: &TestApp, full_name: &str, number: i64) -> Value {
    rows(
        app,
        &format!(
            "SELECT t.event, t.actor_login, extract(epoch FROM t.created_at)::bigint AS created_at,
                    t.details->>'label' AS label,
                    CASE WHEN t.event = 'committed' THEN t.details->>'sha' END AS sha,
                    coalesce(t.details->>'body', t.details->>'message') AS text
             FROM timeline_items t JOIN issues i ON i.id = t.issue_id
             WHERE i.full_name = '{full_name}' AND i.number = {number}
             ORDER BY t.position, t.id"
        ),
    )
    .await
}

fn expected_timeline(graph: &Graph, issue: i64) -> Value {
    Value::Array(
        graph
            .timeline(issue)
            .iter()
            .map(|item| {
                // A commit names its git author, not an account.
                let actor = if item.event == "committed" {
                    Value::Null
                } else {
                    login(graph, item.actor)
                };
                let sha = if item.event == "committed" {
                    item.sha.clone()
                } else {
                    None
                };
                json!({
                    "event": item.event, "actor_login": actor, "created_at": item.created_at,
                    "label": item.label, "sha": sha, "text": item.body,
                })
            })
            .collect(),
    )
}

async fn assert_timelines_match(app: &TestApp, graph: &Graph, repos: &[i64]) {
    for &repo in repos {
        for issue in graph.issues_of(repo) {
            let stored = stored_timeline(app, &graph.full_name(repo), issue.number).await;
            assert_eq!(
                stored,
                expected_timeline(graph, issue.id),
                "timeline of {}#{}",
                graph.full_name(repo),
                issue.number
            );
        }
    }
}

fn expected_commits(graph: &Graph, repos: &[i64]) -> Value {
    let mut commits: Vec<Value> = repos
        .iter()
        .flat_map(|&repo| {
            graph.commits_of(repo).into_iter().map(move |commit| {
                json!({
                    "full_name": graph.full_name(repo),
                    "sha": commit.sha,
                    "author_login": login(graph, commit.author),
                    "authored_at": commit.authored_at,
                    "message": commit.message,
                })
            })
        })
        .collect();
    commits.sort_by_key(|c| (c["full_name"].to_string(), c["sha"].to_string()));
    Value::Array(commits)
}

fn expected_releases(graph: &Graph, repos: &[i64]) -> Value {
    let mut releases: Vec<Value> = repos
        .iter()
        .flat_map(|&repo| {
            graph.releases_of(repo).into_iter().map(move |release| {
                json!({
                    "full_name": graph.full_name(repo),
                    "tag_name": release.tag_name,
                    "author_login": graph.user(release.author).login,
                    "published_at": release.published_at,
                    "prerelease": release.prerelease,
                })
            })
        })
        .collect();
    releases.sort_by_key(|r| (r["full_name"].to_string(), r["tag_name"].to_string()));
    Value::Array(releases)
}

fn expected_members(graph: &Graph, org: i64) -> Vec<String> {
    let mut logins: Vec<String> = graph
        .members(org)
        .into_iter()
        .map(|id| graph.user(id).login.clone())
        .collect();
    logins.sort();
    logins
}

async fn active_members(app: &TestApp) -> Vec<String> {
    rows(
        app,
        "SELECT login FROM members WHERE organization_login = 'acme' AND active ORDER BY login",
    )
    .await
    .as_array()
    .expect("rows")
    .iter()
    .map(|row| row["login"].as_str().expect("login").to_owned())
    .collect()
}

async fn assert_everything_matches(app: &TestApp, graph: &Graph, world: &World) {
    let repos = &world.repos;
    assert_eq!(
        rows(app, STORED_ISSUES).await,
        expected_issues(graph, repos)
    );
    assert_timelines_match(app, graph, repos).await;
    assert_eq!(
        rows(
            app,
            "SELECT full_name, sha, author_login, extract(epoch FROM authored_at)::bigint AS authored_at, message
             FROM commits ORDER BY full_name, sha"
        )
        .await,
        expected_commits(graph, repos)
    );
    assert_eq!(
        rows(
            app,
            "SELECT full_name, tag_name, author_login, extract(epoch FROM published_at)::bigint AS published_at, prerelease
             FROM releases ORDER BY full_name, tag_name"
        )
        .await,
        expected_releases(graph, repos)
    );
    assert_eq!(
        active_members(app).await,
        expected_members(graph, world.org)
    );
    // Nothing stored twice: each comparison above is of every stored row (issues, each
    // timeline in order, commits, releases, members) against the fake's, so a second copy
    // of anything would show there; the unique keys make it impossible besides.
}

#[tokio::test]
async fn tracked_repositories_and_an_organization_store_exactly_the_fakes_activity() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;

    assert_everything_matches(&app, &world.graph, &world).await;
    // The organization brought its repositories in.
    assert_eq!(
        rows(
            &app,
            "SELECT full_name FROM tracked_repositories ORDER BY full_name"
        )
        .await,
        json!([{"full_name": "acme/api"}, {"full_name": "acme/web"}, {"full_name": "alice/tool"}])
    );
    // The long timeline took three pages of 100.
    let tool = world.graph.full_name(world.repos[2]);
    let number = world.graph.issue(world.long_issue).number;
    let long = stored_timeline(&app, &tool, number).await;
    assert!(long.as_array().expect("items").len() > 200, "3 pages");
    let pages = app
        .fake()
        .requests()
        .iter()
        .filter(|r| r.path == format!("/repos/{tool}/issues/{number}/timeline"))
        .count();
    assert_eq!(pages, 3, "one request per timeline page");
    // Merged state came from the issues list: no request per pull request.
    assert!(
        app.fake()
            .requests()
            .iter()
            .all(|r| !r.path.contains("/pulls/")),
        "no /pulls/ requests"
    );
    // Every tracked repository is marked synced.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tracked_repositories WHERE activity_synced_at IS NULL OR timeline_synced_at IS NULL OR last_error IS NOT NULL").await,
        0
    );
}

#[tokio::test]
async fn a_walk_cut_short_keeps_the_watermark_and_the_next_walk_finishes_it() {
    let mut graph = Graph::default();
    let alice = graph.add_user("alice");
    let tool = graph.add_repo(alice, "tool");
    for k in 0..150 {
        graph.add_issue(tool, alice, &format!("Issue {k}"));
    }
    graph.activity.stats_cached.insert(tool);
    let mut app = spawn_crawler(graph).await;
    app.start_worker();
    tracked::track_repository(&mut app.ctx.conn().await.expect("conn"), "alice/tool", None)
        .await
        .expect("track");
    let watermark = "SELECT extract(epoch FROM issues_watermark)::bigint AS watermark FROM tracked_repositories";

    // The issues walk's second page fails: the first page is stored, the watermark stays.
    app.fake().fail_matching("page=2", 1, 422);
    let sync = || RepositoryActivitySync::of(full_name("alice/tool"));
    let done = run_to_end(&app, sync()).await;
    assert_eq!(done.status, "failed", "{done:?}");
    assert_eq!(app.count("SELECT count(*) AS n FROM issues").await, 100);
    assert_eq!(rows(&app, watermark).await, json!([{"watermark": null}]));

    // The next walk reads everything and only then moves the watermark.
    let done = run_to_end(&app, sync()).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(app.count("SELECT count(*) AS n FROM issues").await, 150);
    let latest = app
        .fake()
        .graph()
        .issues_of(tool)
        .iter()
        .map(|issue| issue.updated_at)
        .max()
        .expect("issues");
    assert_eq!(
        rows(&app, watermark).await,
        json!([{ "watermark": latest }]),
        "the latest updated_at stored"
    );
}

#[tokio::test]
async fn a_timeline_that_answers_301_records_the_transfer() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;
    let [api, _web, tool] = world.repos;
    let (moved_number, new_home) = app.fake().with_graph(|g| {
        let moved = g
            .issues_of(api)
            .into_iter()
            .find(|i| !i.is_pull())
            .map(|i| (i.id, i.number))
            .expect("an issue");
        (moved.1, g.transfer_issue(moved.0, tool))
    });
    // Only the timeline sync learns of it: its stored issue is due, and its timeline URL
    // answers 301 (with the query kept) to the issue's new home.
    let mut conn = app.db.connect().await;
    diesel::sql_query(format!(
        "UPDATE issues SET timeline_read_at = NULL WHERE full_name = 'acme/api' AND number = {moved_number}"
    ))
    .execute(&mut conn)
    .await
    .expect("the timeline is due");
    run(
        &app,
        IssueTimelineSync {
            full_name: full_name("acme/api"),
        },
    )
    .await;
    let new_number = app.fake().graph().issue(new_home).number;
    assert_eq!(
        rows(
            &app,
            &format!(
                "SELECT t.from_full_name, t.from_number, t.to_full_name, t.to_number,
                        n.full_name AS linked_name, n.number AS linked_number
                 FROM transfers t JOIN issues o ON o.id = t.from_issue_id
                 JOIN issues n ON n.id = o.transferred_to_id
                 WHERE t.from_number = {moved_number}"
            )
        )
        .await,
        json!([{
            "from_full_name": "acme/api", "from_number": moved_number,
            "to_full_name": "alice/tool", "to_number": new_number,
            "linked_name": "alice/tool", "linked_number": new_number,
        }])
    );
}

#[tokio::test]
async fn changes_show_after_the_next_syncs_and_nothing_is_deleted() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;
    let [api, _web, tool] = world.repos;
    let issues_before = app.count("SELECT count(*) AS n FROM issues").await;

    // A comment on the long timeline (its last page is cached), a new issue, a merge, a
    // transfer from acme/api to alice/tool, and a member who leaves.
    let (moved, new_home, leaver) = app.fake().with_graph(|g| {
        let alice = g.user_id("alice").expect("alice");
        g.comment(world.long_issue, alice, "One more thing");
        g.add_issue(tool, alice, "Brand new");
        let open_pull = g
            .issues_of(api)
            .into_iter()
            .find(|i| i.is_pull() && i.state == "open")
            .map(|i| i.id)
            .expect("an open pull request");
        g.merge(open_pull, alice);
        // This payload does not say whether it merged: the daily reconcile asks /pulls/.
        if let Some(pull) = g.issue_mut(open_pull).pull.as_mut() {
            pull.omit_merged_at = true;
        }
        let moved = g
            .issues_of(api)
            .into_iter()
            .find(|i| !i.is_pull())
            .map(|i| (i.id, i.number))
            .expect("an issue");
        let new_home = g.transfer_issue(moved.0, tool);
        let leaver = g.members(world.org)[0];
        g.remove_member(world.org, leaver);
        (moved, new_home, leaver)
    });

    for name in ["acme/api", "alice/tool"] {
        run(&app, RepositoryActivitySync::of(full_name(name))).await;
        run(
            &app,
            IssueTimelineSync {
                full_name: full_name(name),
            },
        )
        .await;
        run(
            &app,
            ActivityReconcile {
                full_name: full_name(name),
            },
        )
        .await;
    }
    run(
        &app,
        OrgMembersSync {
            org: GithubLogin::parse("acme").expect("login"),
        },
    )
    .await;

    let graph = app.fake().graph();
    assert_everything_matches(&app, &graph, &world).await;
    // The transferred issue: both ends stored and linked, the transfer recorded.
    let new_number = graph.issue(new_home).number;
    assert_eq!(
        rows(
            &app,
            &format!(
                "SELECT o.full_name AS from_name, o.number AS from_number, n.full_name AS to_name, n.number AS to_number,
                        t.from_full_name, t.from_number, t.to_full_name, t.to_number
                 FROM issues o JOIN issues n ON n.id = o.transferred_to_id
                 JOIN transfers t ON t.from_issue_id = o.id AND t.to_issue_id = n.id
                 WHERE o.full_name = 'acme/api' AND o.number = {}",
                moved.1
            )
        )
        .await,
        json!([{
            "from_name": "acme/api", "from_number": moved.1, "to_name": "alice/tool", "to_number": new_number,
            "from_full_name": "acme/api", "from_number": moved.1, "to_full_name": "alice/tool", "to_number": new_number,
        }])
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM issues").await,
        issues_before + 2,
        "the new issue and the transferred one's new self; nothing deleted"
    );
    // The member who left is inactive with a time; back again, active.
    let leaver_login = graph.user(leaver).login.clone();
    assert_eq!(
        rows(
            &app,
            &format!("SELECT active, inactive_at IS NOT NULL AS has_inactive_at FROM members WHERE login = '{leaver_login}'")
        )
        .await,
        json!([{"active": false, "has_inactive_at": true}])
    );
    app.fake().with_graph(|g| g.add_member(world.org, leaver));
    run(
        &app,
        OrgMembersSync {
            org: GithubLogin::parse("acme").expect("login"),
        },
    )
    .await;
    assert_eq!(
        rows(
            &app,
            &format!("SELECT active, inactive_at FROM members WHERE login = '{leaver_login}'")
        )
        .await,
        json!([{"active": true, "inactive_at": null}])
    );
}

#[tokio::test]
async fn an_unchanged_repository_costs_almost_nothing_to_sync_again() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;
    // The first re-sync moves the walks to their watermarks; from then on nothing changes.
    for name in ["acme/api", "acme/web", "alice/tool"] {
        run(&app, RepositoryActivitySync::of(full_name(name))).await;
    }
    app.fake().clear_requests();
    for name in ["acme/api", "acme/web", "alice/tool"] {
        run(&app, RepositoryActivitySync::of(full_name(name))).await;
        run(
            &app,
            IssueTimelineSync {
                full_name: full_name(name),
            },
        )
        .await;
    }
    let requests = app.fake().requests();
    let spent = requests.iter().filter(|r| r.costs_quota).count();
    assert_eq!(spent, 0, "only free 304s: {requests:#?}");
    assert!(
        requests.iter().all(|r| r.status == 304),
        "every request revalidated"
    );
}

#[tokio::test]
async fn a_202_from_the_statistics_defers_the_sync_which_later_succeeds() {
    let mut graph = Graph::default();
    let alice = graph.add_user("alice");
    let repo = graph.add_repo(alice, "tool");
    graph.add_commit(repo, Some(alice), "First", 10, 2);
    let mut app = spawn_crawler(graph).await;
    app.start_worker();
    tracked::track_repository(&mut app.ctx.conn().await.expect("conn"), "alice/tool", None)
        .await
        .expect("track");

    let task = app
        .enqueue(RepositoryActivitySync::of(full_name("alice/tool")))
        .await;
    let deferred = app.wait_for_status(task.id, "deferred").await;
    let wait = (deferred.not_before.expect("not_before") - chrono::Utc::now()).num_seconds();
    assert!((25..=120).contains(&wait), "deferred 30-120 s, got {wait}");
    assert!(
        deferred
            .error
            .as_deref()
            .unwrap_or("")
            .contains("computing"),
        "{deferred:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM contributor_weeks")
            .await,
        0
    );

    // Time passes: the task's moment comes.
    let mut conn = app.db.connect().await;
    diesel::sql_query("UPDATE tasks SET not_before = now() WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(task.id)
        .execute(&mut conn)
        .await
        .expect("update");
    app.ctx.publisher.publish(task.id).await.expect("publish");
    let done = app.wait_for_task(task.id, IDLE).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(
        rows(
            &app,
            "SELECT login, commits, additions, deletions FROM contributor_weeks"
        )
        .await,
        json!([{"login": "alice", "commits": 1, "additions": 10, "deletions": 2}])
    );
}

#[tokio::test]
async fn a_missing_repository_fails_the_task_and_records_last_error() {
    let mut app = spawn_crawler(Graph::default()).await;
    app.start_worker();
    tracked::track_repository(
        &mut app.ctx.conn().await.expect("conn"),
        "ghost/nothing",
        None,
    )
    .await
    .expect("track");
    let task = app
        .enqueue(RepositoryActivitySync::of(full_name("ghost/nothing")))
        .await;
    let done = app.wait_for_task(task.id, IDLE).await;
    assert_eq!(done.status, "failed");
    let error = done.error.expect("an error");
    assert!(
        error.contains("ghost/nothing") && error.contains("not found"),
        "{error}"
    );
    assert_eq!(
        rows(&app, "SELECT last_error FROM tracked_repositories").await,
        json!([{"last_error": error}])
    );
}

#[tokio::test]
async fn a_renamed_repository_is_followed_and_its_tracked_row_updated() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;
    let tool = world.repos[2];
    app.fake().with_graph(|g| g.rename_repo(tool, "toolbox"));
    run(&app, RepositoryActivitySync::of(full_name("alice/tool"))).await;
    assert_eq!(
        rows(
            &app,
            "SELECT full_name, last_error FROM tracked_repositories WHERE full_name LIKE 'alice/%'"
        )
        .await,
        json!([{"full_name": "alice/toolbox", "last_error": null}])
    );
    // The renamed repository's issues are the same rows, now under the new name.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM issues WHERE full_name = 'alice/tool'")
            .await,
        0
    );
}

#[tokio::test]
async fn backfill_tracks_the_repository_and_enqueues_one_task_per_month() {
    let app = spawn_crawler(Graph::default()).await;
    let output = binary_command(
        &app.env,
        &[
            "backfill",
            "--repo",
            "octo/hello",
            "--since",
            "2026-01-15",
            "--until",
            "2026-04-02",
        ],
    )
    .output()
    .expect("run gitomatic backfill");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let urls: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("/github/tasks/"))
        .collect();
    let windows = rows(
        &app,
        "SELECT id::text AS id, args FROM tasks WHERE name = 'repository_activity_sync'
         ORDER BY args->>'since'",
    )
    .await;
    let windows = windows.as_array().expect("rows");
    assert_eq!(
        windows
            .iter()
            .map(|w| w["args"].clone())
            .collect::<Vec<_>>(),
        vec![
            json!({"full_name": "octo/hello", "since": "2026-01-15", "until": "2026-02-01"}),
            json!({"full_name": "octo/hello", "since": "2026-02-01", "until": "2026-03-01"}),
            json!({"full_name": "octo/hello", "since": "2026-03-01", "until": "2026-04-01"}),
            json!({"full_name": "octo/hello", "since": "2026-04-01", "until": "2026-04-02"}),
        ]
    );
    assert_eq!(urls.len(), 4, "{stdout}");
    for window in windows {
        let id = window["id"].as_str().expect("id");
        assert!(
            urls.iter()
                .any(|url| url.ends_with(&format!("/github/tasks/{id}/"))),
            "{id} printed: {stdout}"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tracked_repositories WHERE full_name = 'octo/hello'")
            .await,
        1
    );

    for (args, expected) in [
        (
            vec!["--repo", "not-a-repo", "--since", "2026-01-01"],
            "--repo",
        ),
        (
            vec![
                "--repo",
                "o/r",
                "--since",
                "2026-03-01",
                "--until",
                "2026-02-01",
            ],
            "--since",
        ),
        (vec!["--repo", "o/r", "--since", "yesterday"], "--since"),
    ] {
        let mut all = vec!["backfill"];
        all.extend(args);
        let output = binary_command(&app.env, &all).output().expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{all:?} must fail");
        assert!(stderr.contains(expected), "{all:?}: {stderr}");
    }
}

#[tokio::test]
async fn each_activity_cron_enqueues_its_job_for_every_tracked_repository_or_organization() {
    let app = crate::helpers::spawn_crawler_with(Graph::default(), |env| {
        for schedule in gitomatic::jobs::Registry::builtin().schedules() {
            env.insert(schedule.variable.into(), "off".into());
        }
        for variable in [
            "ACTIVITY_CRON",
            "TIMELINE_CRON",
            "RECONCILE_CRON",
            "MEMBERS_CRON",
        ] {
            env.insert(variable.into(), "* * * * * *".into());
        }
    })
    .await;
    let mut conn = app.ctx.conn().await.expect("conn");
    for name in ["octo/one", "octo/two"] {
        tracked::track_repository(&mut conn, name, None)
            .await
            .expect("track");
    }
    tracked::track_organization(&mut conn, "acme")
        .await
        .expect("track");
    drop(conn);
    // No worker: each task stays queued, and the dedupe index keeps one per job and target.
    let (stop, scheduler) = app.spawn_scheduler();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let enqueued = || async {
        rows(
            &app,
            "SELECT name, args FROM tasks ORDER BY name, args->>'full_name'",
        )
        .await
    };
    let expected = json!([
        {"name": "activity_reconcile", "args": {"full_name": "octo/one"}},
        {"name": "activity_reconcile", "args": {"full_name": "octo/two"}},
        {"name": "issue_timeline_sync", "args": {"full_name": "octo/one"}},
        {"name": "issue_timeline_sync", "args": {"full_name": "octo/two"}},
        {"name": "org_members_sync", "args": {"org": "acme"}},
        {"name": "repository_activity_sync", "args": {"full_name": "octo/one"}},
        {"name": "repository_activity_sync", "args": {"full_name": "octo/two"}},
    ]);
    while enqueued().await != expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "enqueued {}",
            enqueued().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(enqueued().await, expected, "later ticks add no duplicates");
    stop.send(true).expect("stop");
    scheduler.await.expect("joined").expect("stopped cleanly");
}
