//! Crawl jobs end to end: real PostgreSQL, real RabbitMQ, workers, the fake GitHub.

use std::time::Duration;

use gitomatic::domain::{GithubLogin, RepoName};
use gitomatic::jobs::{DiscoveryScraper, FullProfileSync, FullRepositorySync};

use crate::helpers::{Graph, Snapshot, TestApp, binary_command, spawn_crawler, spawn_crawler_with};

const JOB_TIMEOUT: Duration = Duration::from_secs(30);
const TOKEN: &str = "ghp_crawlTestSecretToken0123456789";
/// Seconds left in a quota window a test sets low: the worker must meet the low quota
/// (start, and spend what the test lets it) before the window renews, which on a loaded
/// machine can take seconds, not the few hundred milliseconds it takes alone.
const WINDOW_LEFT_SECS: i64 = 20;
/// A deferred task runs again at the reset plus up to 60 s of jitter.
const RESUME_TIMEOUT: Duration = Duration::from_secs(WINDOW_LEFT_SECS as u64 + 60 + 60);

fn profile_sync(login: &str) -> FullProfileSync {
    FullProfileSync {
        username: GithubLogin::parse(login).expect("login"),
    }
}

async fn sync(app: &TestApp, login: &str) -> gitomatic::db::queries::tasks::TaskRow {
    let task = app.enqueue(profile_sync(login)).await;
    let done = app.wait_for_task(task.id, JOB_TIMEOUT).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    done
}

/// `center` with the given numbers of followers, followees, starred and owned repositories.
fn center(followers: usize, following: usize, starred: usize, repos: usize) -> Graph {
    let mut graph = Graph::default();
    let center = graph.add_user("center");
    let other = graph.add_user("other");
    for i in 0..followers {
        let id = graph.add_user(&format!("follower-{i}"));
        graph.follow(id, center);
    }
    for i in 0..following {
        let id = graph.add_user(&format!("followee-{i}"));
        graph.follow(center, id);
    }
    for i in 0..starred {
        let repo = graph.add_repo(other, &format!("starred-{i}"));
        graph.star(center, repo);
    }
    for i in 0..repos {
        graph.add_repo(center, &format!("own-{i}"));
    }
    graph
}

/// What a profile sync of `login` must store: the developer, its neighbours, edges and repositories.
fn expected_after_profile_sync(graph: &Graph, login: &str) -> Snapshot {
    let id = graph.user_id(login).expect("user");
    let mut expected = Snapshot::of_graph(graph);
    let starred: Vec<i64> = graph.starred(id);
    let owned: Vec<i64> = graph.owned_repos(id);
    expected
        .follows
        .retain(|(follower, followee)| *follower == id || *followee == id);
    expected.stars.retain(|(user, _)| *user == id);
    expected
        .repositories
        .retain(|repo, _| starred.contains(repo) || owned.contains(repo));
    let mut people: std::collections::BTreeSet<i64> = [id].into();
    people.extend(expected.follows.iter().flat_map(|(a, b)| [*a, *b]));
    people.extend(expected.repositories.values().map(|(owner, _)| *owner));
    expected.developers.retain(|user, _| people.contains(user));
    expected
}

#[tokio::test]
async fn a_profile_sync_costs_one_request_per_page_and_nothing_when_unchanged() {
    // 150 followers: 2 pages; 30 following: 1; nothing starred: 1 (empty page); 101 repos: 2.
    let graph = center(150, 30, 0, 101);
    let mut app = spawn_crawler(graph.clone()).await;
    app.start_worker();
    let before = app.fake().quota().remaining;

    let first = sync(&app, "center").await;
    assert_eq!(first.github_requests, 1 + 2 + 1 + 1 + 2);
    assert_eq!(before - app.fake().quota().remaining, 7);
    assert_eq!(
        Snapshot::of_database(&app).await,
        expected_after_profile_sync(&graph, "center")
    );
    let per_page_100 = app
        .fake()
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/users/center/"))
        .all(|r| r.query.contains("per_page=100"));
    assert!(per_page_100);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM developers WHERE login = 'center' AND last_synced_at IS NOT NULL").await,
        1
    );

    let again = sync(&app, "center").await;
    assert_ne!(again.id, first.id);
    assert_eq!(
        again.github_requests, 0,
        "an unchanged developer costs nothing"
    );
    assert_eq!(before - app.fake().quota().remaining, 7);
}

#[tokio::test]
async fn unfollows_and_unstars_disappear_and_a_rename_updates_the_same_row() {
    let mut graph = Graph::default();
    let a = graph.add_user("alice");
    let b = graph.add_user("bob");
    let c = graph.add_user("carol");
    graph.follow(b, a);
    graph.follow(c, a);
    let repo = graph.add_repo(c, "tool");
    graph.star(a, repo);
    let mut app = spawn_crawler(graph).await;
    app.start_worker();

    sync(&app, "alice").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM follows").await, 2);
    assert_eq!(app.count("SELECT count(*) AS n FROM stars").await, 1);
    let bob_row = app
        .count("SELECT count(*) AS n FROM developers WHERE github_id = 2 AND login = 'bob'")
        .await;
    assert_eq!(bob_row, 1);

    app.fake().with_graph(|graph| {
        graph.unfollow(c, a);
        graph.unstar(a, repo);
        graph.rename_user(b, "robert");
    });
    sync(&app, "alice").await;
    let graph = app.fake().graph();
    assert_eq!(
        Snapshot::of_database(&app).await.follows,
        [(b, a)].into(),
        "carol's unfollow is gone"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM stars").await, 0);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM developers WHERE github_id = {b}"
        ))
        .await,
        1,
        "one row for bob, renamed"
    );
    assert_eq!(
        Snapshot::of_database(&app).await.developers[&b],
        graph.user(b).login
    );
}

#[tokio::test]
async fn a_repository_sync_stores_the_repository_owner_and_stargazers() {
    let mut graph = Graph::default();
    let owner = graph.add_user("owner");
    let repo = graph.add_repo(owner, "project");
    for i in 0..120 {
        let fan = graph.add_user(&format!("fan-{i}"));
        graph.star(fan, repo);
    }
    let mut app = spawn_crawler(graph.clone()).await;
    app.start_worker();
    let job = FullRepositorySync {
        username: GithubLogin::parse("owner").expect("login"),
        repo_name: RepoName::parse("project").expect("name"),
    };
    let task = app.enqueue(job.clone()).await;
    let done = app.wait_for_task(task.id, JOB_TIMEOUT).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(done.github_requests, 1 + 2);
    let snapshot = Snapshot::of_database(&app).await;
    assert_eq!(snapshot.stars, graph.stars);
    assert_eq!(
        snapshot.repositories[&repo],
        (owner, "owner/project".to_string())
    );

    // Renamed and unstarred: the 301 is followed, the same row renamed, the star removed.
    let fan = graph.user_id("fan-0").expect("fan");
    app.fake().with_graph(|graph| {
        graph.rename_repo(repo, "renamed");
        graph.unstar(fan, repo);
    });
    let task = app.enqueue(job).await;
    let done = app.wait_for_task(task.id, JOB_TIMEOUT).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    let snapshot = Snapshot::of_database(&app).await;
    assert_eq!(snapshot.repositories.len(), 1);
    assert_eq!(snapshot.repositories[&repo].1, "owner/renamed");
    assert_eq!(snapshot.stars.len(), 119);
}

#[tokio::test]
async fn a_missing_user_fails_the_task_with_a_clear_error() {
    let mut app = spawn_crawler(center(0, 0, 0, 0)).await;
    app.start_worker();
    let task = app.enqueue(profile_sync("ghost")).await;
    let done = app.wait_for_task(task.id, JOB_TIMEOUT).await;
    assert_eq!(done.status, "failed");
    assert_eq!(
        done.error.as_deref(),
        Some("GitHub user ghost not found on GitHub")
    );
}

#[tokio::test]
async fn an_identical_active_task_is_not_enqueued_twice() {
    let app = spawn_crawler(center(0, 0, 0, 0)).await;
    // No worker: the first stays queued.
    let first = app.enqueue(profile_sync("center")).await;
    let second = app.enqueue(profile_sync("CENTER")).await;
    assert_eq!(first.id, second.id);
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 1);
}

#[tokio::test]
async fn repeated_discovery_reaches_exactly_the_whole_graph() {
    let graph = Graph::generate(150, 11);
    let mut app = spawn_crawler_with(graph.clone(), |env| {
        env.insert("DISCOVERY_BATCH".into(), "40".into());
        env.insert("WORKER_CONCURRENCY".into(), "8".into());
    })
    .await;
    app.start_worker();
    let seed = graph.users.values().next().expect("a seed").login.clone();
    sync(&app, &seed).await;

    let mut rounds = 0;
    while app
        .count("SELECT count(*) AS n FROM developers WHERE last_synced_at IS NULL")
        .await
        > 0
    {
        rounds += 1;
        assert!(rounds <= 20, "discovery does not converge");
        let task = app.enqueue(DiscoveryScraper {}).await;
        app.wait_for_task(task.id, JOB_TIMEOUT).await;
        app.wait_until_idle(Duration::from_secs(120)).await;
    }
    assert_eq!(
        Snapshot::of_database(&app).await,
        Snapshot::of_graph(&graph)
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE status <> 'succeeded'")
            .await,
        0
    );

    // A fixpoint: everyone was synced within the day, so discovery picks nobody.
    let task = app.enqueue(DiscoveryScraper {}).await;
    app.wait_for_task(task.id, JOB_TIMEOUT).await;
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'running', 'deferred')"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn discovery_on_an_empty_database_does_nothing() {
    let mut app = spawn_crawler(Graph::default()).await;
    app.start_worker();
    let task = app.enqueue(DiscoveryScraper {}).await;
    let done = app.wait_for_task(task.id, JOB_TIMEOUT).await;
    assert_eq!(done.status, "succeeded");
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 1);
    assert!(app.fake().requests().is_empty());
}

#[tokio::test]
async fn discovery_skips_the_developers_that_active_tasks_claim() {
    use gitomatic::db::queries::tasks;
    use gitomatic::jobs::{BackgroundJob, GraphqlProfileBatch};

    let mut app = spawn_crawler_with(Graph::default(), |env| {
        env.insert("DISCOVERY_BATCH".into(), "2".into());
    })
    .await;
    // Never synced, discovered in this order: without the claims discovery would pick the
    // first two.
    for (github_id, login) in [
        (1, "claimed-one"),
        (2, "claimed-two"),
        (3, "claimed-three"),
        (4, "free-four"),
        (5, "free-five"),
    ] {
        crate::helpers::seed::developer(&app, crate::helpers::seed::Dev::new(github_id, login))
            .await;
    }
    let login = |login: &str| GithubLogin::parse(login).expect("login");
    // Active tasks, inserted but never published so that no worker runs them: a profile
    // sync and a GraphQL batch (logins in another case), and a finished sync that claims
    // nothing any more.
    let mut conn = app.ctx.conn().await.expect("connection");
    for task in [
        profile_sync("Claimed-One").to_task(),
        GraphqlProfileBatch {
            usernames: vec![login("CLAIMED-TWO"), login("claimed-three")],
        }
        .to_task(),
        profile_sync("free-four").to_task(),
    ] {
        tasks::insert_or_existing(&mut conn, &task.expect("storable"))
            .await
            .expect("insert");
    }
    drop(conn);
    crate::helpers::seed::execute(
        &app,
        "UPDATE tasks SET status = 'succeeded', finished_at = now() WHERE dedupe_key = 'free-four'",
    )
    .await;

    app.start_worker();
    let task = app.enqueue(DiscoveryScraper {}).await;
    let done = app.wait_for_task(task.id, JOB_TIMEOUT).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    let syncs = |login: &str| {
        format!(
            "SELECT count(*) AS n FROM tasks WHERE name = 'full_profile_sync' AND dedupe_key = '{login}'"
        )
    };
    assert_eq!(app.count(&syncs("claimed-one")).await, 1);
    assert_eq!(app.count(&syncs("claimed-two")).await, 0);
    assert_eq!(app.count(&syncs("claimed-three")).await, 0);
    assert_eq!(app.count(&syncs("free-four")).await, 2, "a new sync");
    assert_eq!(app.count(&syncs("free-five")).await, 1, "a new sync");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'graphql_profile_batch'")
            .await,
        1
    );
}

#[tokio::test]
async fn below_the_reserve_a_task_is_deferred_to_the_reset_and_then_succeeds_by_itself() {
    let graph = center(3, 2, 1, 1);
    let mut app = spawn_crawler(graph.clone()).await;
    let reset = chrono::Utc::now().timestamp() + WINDOW_LEFT_SECS;
    app.fake().set_quota(5000, 100, reset);
    app.start_worker();

    let task = app.enqueue(profile_sync("center")).await;
    let deferred = app.wait_for_status(task.id, "deferred").await;
    let not_before = deferred.not_before.expect("not_before").timestamp();
    assert!(
        (reset + 1..=reset + 60).contains(&not_before),
        "not_before {not_before} is the reset {reset} plus 1-60 s"
    );
    assert!(
        app.fake()
            .requests()
            .iter()
            .all(|r| r.path == "/rate_limit"),
        "nothing spent below the reserve"
    );

    let done = app.wait_for_task(task.id, RESUME_TIMEOUT).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(
        Snapshot::of_database(&app).await,
        expected_after_profile_sync(&graph, "center")
    );
}

#[tokio::test]
async fn a_quota_running_out_mid_job_defers_and_resumes_with_nothing_lost() {
    // Profile, 3 follower pages and 1 following page fit above the reserve; starred does not.
    let graph = center(250, 10, 2, 1);
    let mut app = spawn_crawler(graph.clone()).await;
    let reset = chrono::Utc::now().timestamp() + WINDOW_LEFT_SECS;
    app.fake().set_quota(5000, 100 + 5, reset);
    app.start_worker();

    let task = app.enqueue(profile_sync("center")).await;
    let deferred = app.wait_for_status(task.id, "deferred").await;
    assert_eq!(deferred.github_requests, 5);
    assert_eq!(
        app.fake().quota().remaining,
        100,
        "the reserve is untouched"
    );
    // The followers read completely before the quota ran low are stored.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM follows").await,
        250 + 10
    );

    let done = app.wait_for_task(task.id, RESUME_TIMEOUT).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    // Resumed for free where pages were already read: 5 + starred + repos.
    assert_eq!(done.github_requests, 7);
    assert_eq!(done.attempts, 2);
    assert_eq!(
        Snapshot::of_database(&app).await,
        expected_after_profile_sync(&graph, "center")
    );
}

/// A `gitomatic` process of the test build. Its stderr is read as it is written (a pipe
/// left unread fills, and a process blocked writing its log stops heartbeating).
struct Process {
    child: std::process::Child,
    log: Option<std::thread::JoinHandle<String>>,
}

impl Process {
    fn start(app: &TestApp, args: &[&str], extra: &[(&str, &str)]) -> Process {
        let mut env = app.env.clone();
        env.insert("TASK_LEASE_SECS".into(), "4".into());
        env.insert("RUST_LOG".into(), "info,gitomatic=debug".into());
        for (key, value) in extra {
            env.insert((*key).into(), (*value).into());
        }
        let mut child = binary_command(&env, args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let log = std::thread::spawn(move || {
            use std::io::Read;
            let mut log = String::new();
            let _ = stderr.read_to_string(&mut log);
            log
        });
        Process {
            child,
            log: Some(log),
        }
    }

    fn signal(&self, signal: &str) {
        std::process::Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
    }

    /// SIGTERM, wait, and return what it logged.
    fn stop(mut self) -> String {
        self.signal("-TERM");
        let _ = self.child.wait();
        self.log
            .take()
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_nothing_and_duplicates_nothing() {
    let graph = center(1500, 0, 0, 0);
    let app = spawn_crawler_with(graph.clone(), |env| {
        env.insert("GITHUB_TOKEN".into(), TOKEN.into());
    })
    .await;
    app.fake().set_latency(Duration::from_millis(150));
    let first = Process::start(&app, &["worker"], &[]);
    let task = app.enqueue(profile_sync("center")).await;
    // Wait until the job is half way through the follower pages.
    for _ in 0..400 {
        if app
            .fake()
            .requests()
            .iter()
            .filter(|r| r.path == "/users/center/followers")
            .count()
            >= 5
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.signal("-KILL");
    drop(first);
    assert_eq!(
        gitomatic::db::queries::tasks::find(
            &mut app.ctx.conn().await.expect("a connection"),
            task.id
        )
        .await
        .expect("lookup")
        .expect("task")
        .status,
        "running"
    );

    app.fake().set_latency(Duration::ZERO);
    let second = Process::start(&app, &["worker"], &[]);
    let done = app.wait_for_task(task.id, Duration::from_secs(60)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(done.attempts, 2);
    assert_eq!(
        Snapshot::of_database(&app).await,
        expected_after_profile_sync(&graph, "center")
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM developers").await,
        1 + 1500
    );
    let log = second.stop();
    let finished: Vec<&str> = log.lines().filter(|l| l.contains("job finished")).collect();
    assert_eq!(finished.len(), 1, "one line per job: {log}");
    for field in [
        "\"outcome\":\"succeeded\"",
        "\"github.requests\":",
        "\"duration_ms\":",
        "\"github.not_modified\":",
    ] {
        assert!(finished[0].contains(field), "{field} in {}", finished[0]);
    }
    assert!(!log.contains(TOKEN), "the GitHub token never reaches a log");
}

#[tokio::test]
async fn two_workers_and_two_schedulers_enqueue_and_process_each_discovery_once() {
    let graph = Graph::generate(40, 5);
    let app = spawn_crawler(graph.clone()).await;
    let seed = graph.users.values().next().expect("seed").login.clone();
    let extra = [
        ("DISCOVERY_CRON", "*/2 * * * * *"),
        ("DISCOVERY_BATCH", "10"),
        // No process is killed here: a lease long enough that a worker starved of CPU by
        // a loaded machine is not taken for dead (which would run its task twice).
        ("TASK_LEASE_SECS", "30"),
    ];
    let started = std::time::Instant::now();
    let processes = vec![
        Process::start(&app, &["worker"], &extra),
        Process::start(&app, &["worker"], &extra),
        Process::start(&app, &["scheduler"], &extra),
        Process::start(&app, &["scheduler"], &extra),
    ];
    let task = app.enqueue(profile_sync(&seed)).await;
    app.wait_for_task(task.id, JOB_TIMEOUT).await;
    tokio::time::sleep(Duration::from_secs(9)).await;
    let logs: Vec<String> = processes.into_iter().map(Process::stop).collect();
    let ran_for = started.elapsed().as_secs_f64();

    // One discovery per tick at most: two schedulers enqueuing the same tick would create
    // two within milliseconds (a tick a loaded machine delays may come closer than 2 s).
    let discoveries = app
        .count("SELECT count(*) AS n FROM tasks WHERE name = 'discovery_scraper'")
        .await;
    assert!(
        discoveries >= 2 && discoveries as f64 <= ran_for / 2.0 + 1.0,
        "{discoveries} discoveries while the schedulers ran {ran_for:.1} s"
    );
    let same_tick = app.tasks_created_together("discovery_scraper", 0.5).await;
    assert_eq!(same_tick, 0, "two schedulers enqueued the same tick");
    // Every developer synced at most once, and every sync ran once.
    let twice = app
        .count(
            "SELECT count(*) AS n FROM (SELECT lower(username) FROM tasks
             WHERE name = 'full_profile_sync' GROUP BY lower(username) HAVING count(*) > 1) dup",
        )
        .await;
    assert_eq!(twice, 0);
    let synced = app
        .count("SELECT count(*) AS n FROM developers WHERE last_synced_at IS NOT NULL")
        .await;
    assert!(synced > 10, "discovery grew the crawl ({synced} synced)");
    // A task runs again only after its run was deferred (a deadlock's victim, say, is put
    // back for two seconds and runs again), never because two workers took it at once.
    let ran_again = app
        .db
        .text(
            "SELECT coalesce(string_agg(format('%s|%s|%s', id, status, attempts), ';'), '') AS t
             FROM tasks WHERE attempts > 1",
        )
        .await;
    let deferrals: Vec<&str> = logs
        .iter()
        .flat_map(|log| log.lines())
        .filter(|line| line.contains(r#""outcome":"deferred""#))
        .collect();
    for task in ran_again.split(';').filter(|task| !task.is_empty()) {
        let mut parts = task.split('|');
        let (id, status, attempts) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        assert_eq!(status, "succeeded", "task {id} ran {attempts} times");
        let deferred = deferrals
            .iter()
            .filter(|line| line.contains(&format!(r#""task.id":"{id}""#)))
            .count();
        let attempts: usize = attempts.parse().expect("attempts is a number");
        assert_eq!(
            deferred,
            attempts - 1,
            "task {id} ran {attempts} times, each run but the last deferred; the deferrals, \
             warnings and errors logged:\n{}",
            logs.iter()
                .flat_map(|log| log.lines())
                .filter(|line| ["deferred", "WARN", "ERROR"]
                    .iter()
                    .any(|w| line.contains(w)))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test]
async fn a_task_row_that_describes_no_job_fails_with_the_reason() {
    let mut app = spawn_crawler(Graph::default()).await;
    app.start_worker();
    let mut conn = app.db.connect().await;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let row: Id = diesel::sql_query(
        "INSERT INTO tasks (name, username, args, dedupe_key) \
         VALUES ('full_profile_sync', 'not a login', '{\"username\": \"not a login\"}', 'x') RETURNING id",
    )
    .get_result(&mut conn)
    .await
    .expect("hand-made task");
    app.ctx.publisher.publish(row.id).await.expect("publish");
    let done = app.wait_for_task(row.id, JOB_TIMEOUT).await;
    assert_eq!(done.status, "failed");
    let error = done.error.expect("a reason");
    assert!(error.starts_with("invalid task:"), "{error}");
    assert!(app.fake().requests().is_empty(), "nothing sent to GitHub");
}
