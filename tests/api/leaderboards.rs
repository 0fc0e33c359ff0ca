//! Leaderboards against boards computed here, independently, from the fake GitHub's data.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::activity::{rows, track_and_sync, world};
use crate::helpers::seed::{execute, token};
use crate::helpers::{Graph, TestApp, spawn_app, spawn_crawler};

const KINDS: [&str; 10] = [
    "commit",
    "pr_opened",
    "pr_merged",
    "pr_reviewed",
    "issue_opened",
    "issue_closed",
    "comment",
    "release",
    "lines_added",
    "lines_deleted",
];

/// What a board counts: weights, window (epoch seconds, end exclusive) and bots.
#[derive(Clone)]
struct Rules {
    weights: BTreeMap<String, f64>,
    since: i64,
    until: i64,
    include_bots: bool,
}

impl Rules {
    fn defaults() -> Rules {
        let weights = [
            ("commit", 10.0),
            ("pr_opened", 15.0),
            ("pr_merged", 25.0),
            ("pr_reviewed", 20.0),
            ("issue_opened", 8.0),
            ("issue_closed", 5.0),
            ("comment", 3.0),
            ("release", 30.0),
            ("lines_added", 0.01),
            ("lines_deleted", 0.005),
            ("line_bonus_cap", 1000.0),
        ]
        .into_iter()
        .map(|(kind, points)| (kind.to_owned(), points))
        .collect();
        let now = chrono::Utc::now().timestamp();
        Rules {
            weights,
            since: now - 800 * 86_400,
            until: now + 86_400,
            include_bots: false,
        }
    }
}

/// GitHub's week: the Sunday 00:00 UTC on or before the time.
fn week_start(epoch: i64) -> i64 {
    let day = epoch.div_euclid(86_400);
    (day - (day + 4).rem_euclid(7)) * 86_400
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// (repository, login) → kind → count, from the fake's issues, timelines, releases and commits.
fn facts(
    graph: &Graph,
    repos: &[i64],
    rules: &Rules,
) -> BTreeMap<(i64, String), BTreeMap<String, f64>> {
    let mut facts: BTreeMap<(i64, String), BTreeMap<String, f64>> = BTreeMap::new();
    let mut add = |repo: i64, user: i64, kind: &str, when: i64, amount: f64| {
        let account = graph.user(user);
        let bot = account.login.ends_with("[bot]") || account.kind == "Bot";
        if (bot && !rules.include_bots) || when < rules.since || when >= rules.until {
            return;
        }
        *facts
            .entry((repo, account.login.clone()))
            .or_default()
            .entry(kind.to_owned())
            .or_default() += amount;
    };
    for &repo in repos {
        for issue in graph.issues_of(repo) {
            let pull = issue.pull.as_ref();
            let opened = if pull.is_some() {
                "pr_opened"
            } else {
                "issue_opened"
            };
            add(repo, issue.author, opened, issue.created_at, 1.0);
            if let Some(merged_at) = pull.and_then(|p| p.merged_at) {
                add(repo, issue.author, "pr_merged", merged_at, 1.0);
            }
            if let (None, "closed", Some(by), Some(at)) =
                (pull, issue.state.as_str(), issue.closed_by, issue.closed_at)
            {
                add(repo, by, "issue_closed", at, 1.0);
            }
            for item in &issue.timeline {
                let Some(actor) = item.actor else { continue };
                match item.event.as_str() {
                    "commented" => add(repo, actor, "comment", item.created_at, 1.0),
                    "reviewed" if pull.is_some() => {
                        add(repo, actor, "pr_reviewed", item.created_at, 1.0);
                    }
                    _ => {}
                }
            }
        }
        for release in graph.releases_of(repo) {
            if let (false, Some(at)) = (release.draft, release.published_at) {
                add(repo, release.author, "release", at, 1.0);
            }
        }
        for commit in graph.commits_of(repo) {
            let Some(author) = commit.author else {
                continue;
            };
            let week = week_start(commit.authored_at);
            add(repo, author, "commit", week, 1.0);
            add(repo, author, "lines_added", week, commit.additions as f64);
            add(repo, author, "lines_deleted", week, commit.deletions as f64);
        }
    }
    facts.retain(|_, kinds| kinds.values().any(|n| *n > 0.0));
    facts
}

/// A contributor's totals: score, line bonus, repositories, kind → (count, points).
#[derive(Default)]
struct Totals {
    score: f64,
    line_bonus: f64,
    repositories: i64,
    kinds: BTreeMap<String, (f64, f64)>,
}

/// The board: one entry per login, by score descending then login, ranked.
fn expected_board(graph: &Graph, repos: &[i64], rules: &Rules, global: bool) -> Vec<Value> {
    board_from(facts(graph, repos, rules), rules, global)
}

/// The board of counted facts: (repository, login) → kind → count, already windowed.
fn board_from<R: Ord>(
    facts: BTreeMap<(R, String), BTreeMap<String, f64>>,
    rules: &Rules,
    global: bool,
) -> Vec<Value> {
    let weight = |kind: &str| rules.weights[kind];
    let cap = weight("line_bonus_cap");
    let mut by_login: BTreeMap<String, Totals> = BTreeMap::new();
    for ((_, login), kinds) in facts {
        let entry = by_login.entry(login).or_default();
        let lines: f64 = ["lines_added", "lines_deleted"]
            .iter()
            .map(|kind| kinds.get(*kind).copied().unwrap_or(0.0) * weight(kind))
            .sum();
        let base: f64 = kinds
            .iter()
            .filter(|(kind, _)| !kind.starts_with("lines_"))
            .map(|(kind, n)| n * weight(kind))
            .sum();
        entry.score += base + lines.min(cap);
        entry.line_bonus += lines.min(cap);
        entry.repositories += 1;
        for (kind, n) in kinds {
            let share = entry.kinds.entry(kind.clone()).or_default();
            share.0 += n;
            share.1 += n * weight(&kind);
        }
    }
    let mut board: Vec<(String, Totals)> = by_login.into_iter().collect();
    board.sort_by(|(a, x), (b, y)| {
        round3(y.score)
            .total_cmp(&round3(x.score))
            .then_with(|| a.cmp(b))
    });
    board
        .into_iter()
        .enumerate()
        .map(|(place, (login, totals))| {
            let (score, bonus) = (round3(totals.score), round3(totals.line_bonus));
            let (repositories, kinds) = (totals.repositories, totals.kinds);
            let mut breakdown = serde_json::Map::new();
            for kind in KINDS {
                let (n, points) = kinds.get(kind).copied().unwrap_or_default();
                breakdown.insert(kind.into(), json!({"count": n, "points": round3(points)}));
            }
            breakdown.insert("line_bonus".into(), json!(bonus));
            let mut entry = json!({
                "rank": place + 1, "login": login, "score": score, "breakdown": breakdown,
            });
            if global {
                entry["repositories"] = json!(repositories);
            }
            entry
        })
        .collect()
}

/// Every entry of a board, all pages, without the developer links (checked apart).
async fn board(app: &TestApp, path: &str, query: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut url = Some(format!("{}{path}?page_size=7&{query}", app.address));
    while let Some(next) = url {
        let response = app.http.get(&next).send().await.expect("board answers");
        assert_eq!(response.status(), 200, "{next}");
        let page: Value = response.json().await.expect("json");
        url = page["next"].as_str().map(str::to_owned);
        for mut entry in page["results"].as_array().expect("results").clone() {
            let developer = entry
                .as_object_mut()
                .and_then(|e| e.remove("developer"))
                .expect("a developer field");
            assert!(
                developer.is_null()
                    || developer
                        .as_str()
                        .is_some_and(|u| u.contains("/github/developers/"))
            );
            entries.push(entry);
        }
    }
    entries
}

/// Numbers compared to a thousandth (both sides are rounded to 3 decimals).
fn assert_same(actual: &[Value], expected: &[Value], what: &str) {
    fn close(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                (x.as_f64().unwrap_or(f64::NAN) - y.as_f64().unwrap_or(f64::NAN)).abs() < 1e-6
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(v, w)| close(v, w))
            }
            _ => a == b,
        }
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "{what}: {actual:#?}\nexpected {expected:#?}"
    );
    for (a, e) in actual.iter().zip(expected) {
        assert!(close(a, e), "{what}: got {a:#}\nexpected {e:#}");
    }
}

async fn repository_id(app: &TestApp, full_name: &str) -> String {
    rows(
        app,
        &format!("SELECT id::text AS id FROM repositories WHERE full_name = '{full_name}'"),
    )
    .await[0]["id"]
        .as_str()
        .expect("a stored repository")
        .to_owned()
}

#[tokio::test]
async fn boards_equal_an_independent_computation_from_the_fakes_data() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;
    let graph = app.fake().graph();
    let rules = Rules::defaults();

    let global = board(&app, "/github/leaderboards/", "").await;
    let expected = expected_board(&graph, &world.repos, &rules, true);
    assert!(expected.len() >= 5, "a board worth checking: {expected:#?}");
    assert_same(&global, &expected, "global board");
    for repo in world.repos {
        let id = repository_id(&app, &graph.full_name(repo)).await;
        let path = format!("/github/repositories/{id}/leaderboard/");
        let expected = expected_board(&graph, &[repo], &rules, false);
        assert_same(
            &board(&app, &path, "").await,
            &expected,
            &graph.full_name(repo),
        );
    }
    // The developer link of a ranked contributor resolves to that login.
    let response: Value = app
        .http
        .get(format!("{}/github/leaderboards/", app.address))
        .send()
        .await
        .expect("board")
        .json()
        .await
        .expect("json");
    let first = &response["results"][0];
    let developer: Value = app
        .http
        .get(first["developer"].as_str().expect("a developer link"))
        .send()
        .await
        .expect("developer")
        .json()
        .await
        .expect("json");
    assert_eq!(developer["login"], first["login"]);

    // In a browser the board is a page: every login of the first page, the developer
    // links clickable, the next page linked.
    let html = app
        .http
        .get(format!("{}/github/leaderboards/?page_size=2", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("board page");
    assert!(
        html.headers()["content-type"]
            .to_str()
            .is_ok_and(|kind| kind.starts_with("text/html"))
    );
    let html = html.text().await.expect("html");
    for entry in &expected[..2] {
        let login = entry["login"].as_str().expect("login");
        assert!(html.contains(login), "{login} on the page");
    }
    assert!(html.contains(&format!(
        "href=\"{}",
        first["developer"].as_str().expect("a developer link")
    )));
    assert!(html.contains("page=2"), "the next page is linked: {html}");
}

#[tokio::test]
async fn bots_a_window_and_new_weights_each_change_the_board() {
    let mut world = world();
    // A Bot account whose login does not say so closes an issue: only its GitHub type (on
    // the timeline's `closed` item) tells it is a bot.
    let robot = world.graph.add_user("release-robot");
    world.graph.user_mut(robot).kind = "Bot".to_string();
    let open_issue = world
        .graph
        .issues_of(world.repos[0])
        .into_iter()
        .find(|issue| !issue.is_pull() && issue.state == "open")
        .map(|issue| issue.id)
        .expect("an open issue");
    world.graph.close(open_issue, robot, "not_planned");
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;
    let graph = app.fake().graph();
    let repos = world.repos;

    let with_bots = Rules {
        include_bots: true,
        ..Rules::defaults()
    };
    let expected = expected_board(&graph, &repos, &with_bots, true);
    assert!(
        expected.iter().any(|e| e["login"] == "dependabot[bot]"),
        "the bot has contributions"
    );
    assert_same(
        &board(&app, "/github/leaderboards/", "include_bots=true").await,
        &expected,
        "with bots",
    );
    assert!(
        !board(&app, "/github/leaderboards/", "")
            .await
            .iter()
            .any(|e| e["login"] == "dependabot[bot]"),
        "bots left out by default"
    );
    assert!(
        expected.iter().any(|e| e["login"] == "release-robot"),
        "the robot counts with bots"
    );
    assert!(
        !board(&app, "/github/leaderboards/", "")
            .await
            .iter()
            .any(|e| e["login"] == "release-robot"),
        "an account of type Bot is left out by default, whatever its login"
    );

    // A window over the middle of the activity: whole days, `until` included.
    let day = |epoch: i64| {
        chrono::DateTime::from_timestamp(epoch, 0)
            .expect("time")
            .date_naive()
    };
    let (first, last) = (graph.clock() - 40 * 86_400, graph.clock() - 20 * 86_400);
    let (since, until) = (day(first), day(last));
    let midnight = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp()
    };
    let window = Rules {
        since: midnight(since),
        until: midnight(until) + 86_400,
        ..Rules::defaults()
    };
    let expected = expected_board(&graph, &repos, &window, true);
    assert_same(
        &board(
            &app,
            "/github/leaderboards/",
            &format!("since={since}&until={until}"),
        )
        .await,
        &expected,
        "window",
    );
    assert_ne!(
        expected,
        expected_board(&graph, &repos, &Rules::defaults(), true)
    );
    // A repository's board takes the same window and bots.
    let window_with_bots = Rules {
        include_bots: true,
        ..window.clone()
    };
    for repo in repos {
        let id = repository_id(&app, &graph.full_name(repo)).await;
        assert_same(
            &board(
                &app,
                &format!("/github/repositories/{id}/leaderboard/"),
                &format!("since={since}&until={until}&include_bots=true"),
            )
            .await,
            &expected_board(&graph, &[repo], &window_with_bots, false),
            &format!("{} windowed, with bots", graph.full_name(repo)),
        );
    }

    // New weights: the next request uses them.
    let token = token(&app).await;
    let put = app
        .http
        .put(format!("{}/github/leaderboards/weights/", app.address))
        .bearer_auth(&token)
        .json(&json!({"commit": 1, "comment": 50, "line_bonus_cap": 2}))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 200);
    let weights: Value = put.json().await.expect("json");
    assert_eq!(weights["comment"], 50.0);
    assert_eq!(
        weights["pr_merged"], 25.0,
        "kinds left out keep their weight"
    );
    let mut reweighted = Rules::defaults();
    for (kind, points) in [("commit", 1.0), ("comment", 50.0), ("line_bonus_cap", 2.0)] {
        reweighted.weights.insert(kind.into(), points);
    }
    assert_same(
        &board(&app, "/github/leaderboards/", "").await,
        &expected_board(&graph, &repos, &reweighted, true),
        "new weights",
    );
}

#[tokio::test]
async fn a_board_read_while_it_is_rebuilt_is_never_partial() {
    let world = world();
    let mut app = spawn_crawler(world.graph.clone()).await;
    app.start_worker();
    track_and_sync(&app).await;
    let graph = app.fake().graph();
    let expected = expected_board(&graph, &world.repos, &Rules::defaults(), true);
    let repository_ids: Vec<uuid::Uuid> = rows(
        &app,
        "SELECT repository_id::text AS id FROM tracked_repositories",
    )
    .await
    .as_array()
    .expect("rows")
    .iter()
    .map(|row| row["id"].as_str().expect("id").parse().expect("uuid"))
    .collect();

    // Two rebuilders at once, as when an activity sync and a timeline sync of the same
    // repository finish together: overlapping rebuilds must not count a board twice.
    let rebuilders: Vec<_> = (0..2)
        .map(|_| {
            let (ctx, repository_ids) = (app.ctx.clone(), repository_ids.clone());
            tokio::spawn(async move {
                for _ in 0..25 {
                    for id in &repository_ids {
                        let mut conn = ctx.conn().await.expect("conn");
                        gitomatic::db::queries::leaderboards::rebuild(&mut conn, *id)
                            .await
                            .expect("rebuild");
                    }
                }
            })
        })
        .collect();
    let mut reads = 0;
    while rebuilders.iter().any(|rebuilder| !rebuilder.is_finished()) {
        let page: Value = app
            .http
            .get(format!(
                "{}/github/leaderboards/?page_size=100",
                app.address
            ))
            .send()
            .await
            .expect("board")
            .json()
            .await
            .expect("json");
        let mut entries = page["results"].as_array().expect("results").clone();
        for entry in &mut entries {
            entry.as_object_mut().map(|e| e.remove("developer"));
        }
        assert_same(&entries, &expected, "a board read during a rebuild");
        reads += 1;
    }
    for rebuilder in rebuilders {
        rebuilder.await.expect("rebuilds done");
    }
    assert_same(
        &board(&app, "/github/leaderboards/", "").await,
        &expected,
        "the board after overlapping rebuilds",
    );
    assert!(reads >= 5, "only {reads} reads overlapped the rebuilds");
}

#[tokio::test]
async fn board_requests_name_what_is_wrong() {
    let app = spawn_crawler(Graph::default()).await;
    let get = |path: &str| {
        let url = format!("{}{path}", app.address);
        let http = app.http.clone();
        async move {
            let response = http.get(url).send().await.expect("answer");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = get("/github/leaderboards/?since=yesterday").await;
    assert_eq!(
        (
            status,
            body["error"].as_str().is_some_and(|e| e.contains("since"))
        ),
        (400, true),
        "{body}"
    );
    let (status, body) = get("/github/leaderboards/?include_bots=maybe").await;
    assert_eq!(
        (
            status,
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("include_bots"))
        ),
        (400, true),
        "{body}"
    );
    let (status, body) = get("/github/leaderboards/?colour=red").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            400,
            Some(
                "Unknown parameter: colour (this resource takes since, until, include_bots, \
                 page, page_size, format)"
            )
        ),
        "{body}"
    );
    let (status, body) = get("/github/leaderboards/?format=xml").await;
    assert_eq!(
        (
            status,
            body["error"].as_str().is_some_and(|e| e.contains("format"))
        ),
        (400, true),
        "{body}"
    );
    // Empty values count as absent (django-filter's rule): the default board.
    let (status, body) = get("/github/leaderboards/?since=&until=&include_bots=&page=").await;
    assert_eq!((status, body["count"].clone()), (200, json!(0)), "{body}");
    let (status, _) = get("/github/leaderboards/?since=2026-02-01&until=2026-01-01").await;
    assert_eq!(status, 400);
    let (status, body) = get("/github/leaderboards/").await;
    assert_eq!((status, body["count"].clone()), (200, json!(0)));
    let (status, body) = get(&format!(
        "/github/repositories/{}/leaderboard/",
        uuid::Uuid::new_v4()
    ))
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = get("/github/leaderboards/weights/").await;
    assert_eq!(
        (
            status,
            body["line_bonus_cap"].clone(),
            body["commit"].clone()
        ),
        (200, json!(1000.0), json!(10.0))
    );

    let put = |body: Value, token: Option<String>| {
        let url = format!("{}/github/leaderboards/weights/", app.address);
        let http = app.http.clone();
        async move {
            let mut request = http.put(url).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("answer");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    assert_eq!(put(json!({"commit": 1}), None).await.0, 401);
    assert_eq!(
        put(json!({"commit": 1}), Some("not-a-token".into()))
            .await
            .0,
        403
    );
    let token = token(&app).await;
    let (status, body) = put(json!({"stars": 1}), Some(token.clone())).await;
    assert_eq!(
        (
            status,
            body["error"].as_str().is_some_and(|e| e.contains("stars"))
        ),
        (400, true),
        "{body}"
    );
    let (status, body) = put(json!({"commit": -2}), Some(token.clone())).await;
    assert_eq!(
        (
            status,
            body["error"].as_str().is_some_and(|e| e.contains("commit"))
        ),
        (400, true),
        "{body}"
    );
    let (_, body) = get("/github/leaderboards/weights/").await;
    assert_eq!(
        body["commit"],
        json!(10.0),
        "a refused change changes nothing"
    );
}

/// Activity of 13 contributors over ten weeks from Sunday 2026-08-02, in three tracked
/// repositories and one that is not, at all hours, some exactly on a week's first or last
/// instant; stored as a sync stores it, then each repository rebuilt. `helper[bot]` is a
/// bot by its login; `robot-13` by its GitHub type, which only some of its facts carry
/// (the issues it closed have no timeline to say it), so it has facts of both kinds.
async fn seed_weeks_of_activity(app: &TestApp) -> Vec<String> {
    let start = "timestamptz '2026-08-02 00:00:00+00'";
    for statement in [
        "INSERT INTO developers (github_id, login)
         SELECT g, CASE g WHEN 12 THEN 'helper[bot]' WHEN 13 THEN 'robot-13' ELSE 'ann-' || g END
         FROM generate_series(1, 13) AS g"
            .to_owned(),
        "INSERT INTO repositories (github_id, owner_id, owner_github_id, name, full_name)
         SELECT 500 + r, d.id, 1, 'tool-' || r, 'ann-1/tool-' || r
         FROM generate_series(1, 4) AS r, developers d WHERE d.github_id = 1"
            .to_owned(),
        "INSERT INTO tracked_repositories (full_name, repository_id)
         SELECT full_name, id FROM repositories WHERE github_id < 504"
            .to_owned(),
        // Created at any hour of the ten weeks (and a few on the instants around a week's
        // start); a third closed a day or more later, by someone; the closed pulls merged.
        format!(
            "INSERT INTO issues (github_id, repository_id, full_name, number, is_pull_request,
                                 title, state, author_login, author_type, created_at, updated_at,
                                 closed_at, closed_by_login, merged, merged_at)
             SELECT 9000 + i, r.id, r.full_name, i, i % 2 = 0, 'item ' || i,
                    CASE WHEN i % 3 = 0 THEN 'closed' ELSE 'open' END,
                    a.login, CASE WHEN a.github_id = 13 THEN 'Bot' ELSE 'User' END,
                    c.at, c.at, CASE WHEN i % 3 = 0 THEN c.at + (i % 90 || ' hours')::interval END,
                    CASE WHEN i % 3 = 0 AND i % 2 = 1 THEN b.login END,
                    CASE WHEN i % 6 = 0 THEN true END,
                    CASE WHEN i % 6 = 0 THEN c.at + (i % 90 || ' hours')::interval END
             FROM generate_series(1, 400) AS i
             JOIN developers a ON a.github_id = 1 + (i * i) % 13
             JOIN developers b ON b.github_id = 1 + (i * 7) % 13
             JOIN repositories r ON r.github_id = 501 + i % 4
             CROSS JOIN LATERAL (SELECT CASE WHEN i % 40 = 0
                 THEN {start} + ((i / 40) % 10 || ' weeks')::interval - (i % 80 / 40 || ' microseconds')::interval
                 ELSE {start} + ((i * 7919) % 1680 || ' hours')::interval END AS at) c"
        ),
        "INSERT INTO timeline_items (issue_id, position, event, item_key, actor_login,
                                     actor_type, created_at, details)
         SELECT s.id, k,
                CASE WHEN k % 3 = 0 AND s.is_pull_request THEN 'reviewed' ELSE 'commented' END,
                'item-' || k, d.login, CASE WHEN d.github_id = 13 THEN 'Bot' ELSE 'User' END,
                s.created_at + (k % 170 || ' hours')::interval, '{}'::jsonb
         FROM generate_series(1, 900) AS k
         JOIN issues s ON s.github_id = 9001 + k % 400
         JOIN developers d ON d.github_id = 1 + (k * 5) % 13"
            .to_owned(),
        format!(
            "INSERT INTO releases (github_id, repository_id, full_name, tag_name, author_login,
                                   author_type, published_at)
             SELECT 7000 + k, r.id, r.full_name, 'v' || k, d.login, 'User',
                    {start} + ((k * 397) % 1680 || ' hours')::interval
             FROM generate_series(1, 30) AS k
             JOIN developers d ON d.github_id = 1 + (k * 3) % 13
             JOIN repositories r ON r.github_id = 501 + k % 4"
        ),
        // Weekly commit and line figures: more lines than the cap for some in some
        // windows, not in others.
        format!(
            "INSERT INTO contributor_weeks (repository_id, author_github_id, login, author_type,
                                            week, commits, additions, deletions)
             SELECT r.id, d.github_id, d.login,
                    CASE WHEN d.github_id = 13 THEN 'Bot' ELSE 'User' END,
                    {start} + (w || ' weeks')::interval,
                    1 + (w + d.github_id) % 4, (w * 104729 + d.github_id * 31) % 30000,
                    (w * 7919 + d.github_id) % 9000
             FROM generate_series(0, 9) AS w, developers d, repositories r
             WHERE (w + d.github_id + r.github_id) % 3 <> 0"
        ),
    ] {
        execute(app, &statement).await;
    }
    let ids: Vec<String> = rows(
        app,
        "SELECT id::text AS id FROM repositories ORDER BY github_id",
    )
    .await
    .as_array()
    .expect("rows")
    .iter()
    .map(|row| row["id"].as_str().expect("id").to_owned())
    .collect();
    let mut conn = app.ctx.conn().await.expect("conn");
    for id in &ids {
        gitomatic::db::queries::leaderboards::rebuild(&mut conn, id.parse().expect("uuid"))
            .await
            .expect("rebuild");
    }
    ids
}

/// (repository, login) → kind → count from the scoring facts themselves (`contributions`,
/// one row per item or commit week), for the tracked repositories among `repositories`.
async fn counted_facts(
    app: &TestApp,
    repositories: &[String],
    rules: &Rules,
) -> BTreeMap<(String, String), BTreeMap<String, f64>> {
    let stored = rows(
        app,
        "SELECT c.repository_id::text AS repository, c.login, c.bot, c.kind, c.amount,
                extract(epoch FROM c.occurred_at)::float8 AS at
         FROM contributions c JOIN tracked_repositories t ON t.repository_id = c.repository_id",
    )
    .await;
    let mut facts: BTreeMap<(String, String), BTreeMap<String, f64>> = BTreeMap::new();
    for fact in stored.as_array().expect("rows") {
        let at = fact["at"].as_f64().expect("at");
        let repository = fact["repository"].as_str().expect("repository").to_owned();
        if !repositories.contains(&repository)
            || (fact["bot"] == true && !rules.include_bots)
            || at < rules.since as f64
            || at >= rules.until as f64
        {
            continue;
        }
        let login = fact["login"].as_str().expect("login").to_owned();
        *facts
            .entry((repository, login))
            .or_default()
            .entry(fact["kind"].as_str().expect("kind").to_owned())
            .or_default() += fact["amount"].as_f64().expect("amount");
    }
    facts
}

#[tokio::test]
async fn boards_summed_from_the_weekly_rollup_equal_boards_counted_from_the_facts() {
    let app = spawn_app().await;
    let repositories = seed_weeks_of_activity(&app).await;
    assert!(
        app.count("SELECT count(*) AS n FROM weekly_contributions")
            .await
            < app.count("SELECT count(*) AS n FROM contributions").await,
        "the rollup sums facts"
    );
    let midnight = |day: &str| {
        day.parse::<chrono::NaiveDate>()
            .expect("a day")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp()
    };
    // Sundays 2026-08-02 … 2026-10-04 start the ten weeks. The first three windows hold
    // more than half of them (read as the totals minus the weeks outside), the others
    // fewer (read as the weeks inside).
    let windows = [
        ("2026-07-01", "2026-12-31", "all of it"),
        (
            "2026-08-09",
            "2026-09-19",
            "whole weeks, Sunday to Saturday",
        ),
        ("2026-08-05", "2026-09-24", "Wednesday to Thursday"),
        ("2026-08-10", "2026-08-16", "Monday to the next Sunday"),
        ("2026-08-25", "2026-08-27", "inside one week"),
        ("2026-08-09", "2026-08-09", "one Sunday"),
        ("2026-08-15", "2026-08-15", "one Saturday"),
    ];
    let (mut boards_with_lines_capped, mut boards_with_the_bot) = (0, 0);
    for (since, until, what) in windows {
        for include_bots in [false, true] {
            let rules = Rules {
                since: midnight(since),
                until: midnight(until) + 86_400,
                include_bots,
                ..Rules::defaults()
            };
            let query = format!("since={since}&until={until}&include_bots={include_bots}");
            let facts = counted_facts(&app, &repositories, &rules).await;
            boards_with_lines_capped += usize::from(facts.values().any(|kinds| {
                let lines = |kind: &str| kinds.get(kind).copied().unwrap_or(0.0);
                lines("lines_added") * 0.01 + lines("lines_deleted") * 0.005 > 1000.0
            }));
            let expected = board_from(facts, &rules, true);
            assert!(!expected.is_empty(), "{what}: a board worth checking");
            let global = board(&app, "/github/leaderboards/", &query).await;
            assert_same(
                &global,
                &expected,
                &format!("global, {what}, bots {include_bots}"),
            );
            let bot_shown = global.iter().any(|e| e["login"] == "helper[bot]");
            assert!(include_bots || !bot_shown, "{what}: the bot left out");
            boards_with_the_bot += usize::from(bot_shown);
            for repository in &repositories[..3] {
                let expected = board_from(
                    counted_facts(&app, std::slice::from_ref(repository), &rules).await,
                    &rules,
                    false,
                );
                assert_same(
                    &board(
                        &app,
                        &format!("/github/repositories/{repository}/leaderboard/"),
                        &query,
                    )
                    .await,
                    &expected,
                    &format!("{repository}, {what}, bots {include_bots}"),
                );
            }
        }
    }
    assert!(boards_with_the_bot >= 5, "the bot ranked with include_bots");
    assert!(
        boards_with_lines_capped > 0,
        "some window caps a contributor's line bonus in a repository"
    );
}
