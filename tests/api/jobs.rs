//! Jobs as data: job kinds registered in this test binary only run end to end through
//! `POST /github/tasks/`, the worker and the scheduler; a panicking job fails its task.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use diesel_async::RunQueryDsl;
use gitomatic::jobs::{
    ArgSpec, Args, BackgroundJob, EventsPoll, JobError, JobRun, Outcome, Registry, Schedule,
    TaskRequestError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::helpers::{TestApp, seed, spawn_with_registry};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Records each run in `toy_runs`, and asks to run again until it ran `times` times.
#[derive(Serialize, Deserialize)]
struct Echo {
    word: String,
    times: i64,
}

#[async_trait]
impl BackgroundJob for Echo {
    const NAME: &'static str = "toy_echo";
    const DESCRIPTION: &'static str = "Writes its word down, `times` times.";
    const ARGS: &'static [ArgSpec] = &[
        ArgSpec {
            name: "word",
            description: "what to write down",
            example: "hello",
            required: true,
        },
        ArgSpec {
            name: "times",
            description: "runs, 1-5",
            example: "1",
            required: false,
        },
    ];

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        let word = args.required_text("word", "Missing word. Say something")?;
        let times = args.integer("times")?.unwrap_or(1);
        if !(1..=5).contains(&times) {
            return Err(TaskRequestError::Invalid(format!(
                "times must be 1-5, got {times}"
            )));
        }
        Ok(Self { word, times })
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let mut conn = run.ctx.conn().await?;
        diesel::sql_query("INSERT INTO toy_runs (task_id, word, attempt) VALUES ($1, $2, $3)")
            .bind::<diesel::sql_types::Uuid, _>(run.task_id)
            .bind::<diesel::sql_types::Text, _>(&self.word)
            .bind::<diesel::sql_types::Integer, _>(run.attempt)
            .execute(&mut conn)
            .await?;
        if i64::from(run.attempt) < self.times {
            Ok(Outcome::RunAgainAt {
                at: Utc::now() + chrono::Duration::milliseconds(300),
                reason: None,
            })
        } else {
            Ok(Outcome::Succeeded)
        }
    }
}

/// Panics.
#[derive(Serialize, Deserialize)]
struct Explode {}

#[async_trait]
impl BackgroundJob for Explode {
    const NAME: &'static str = "toy_explode";
    const DESCRIPTION: &'static str = "Panics after a while.";

    fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {})
    }

    async fn run(&self, _run: &JobRun<'_>) -> Result<Outcome, JobError> {
        // Long enough for the heartbeat (every TASK_LEASE_SECS / 4 = 1 s) to have beaten.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        panic!("boom at the toy factory");
    }
}

/// Enqueued by EVENTS_CRON with a fresh nonce each tick, so the dedupe index cannot hide
/// a second scheduler enqueueing the same tick: only leadership can.
#[derive(Serialize, Deserialize)]
struct Tick {
    nonce: String,
}

#[async_trait]
impl BackgroundJob for Tick {
    const NAME: &'static str = "toy_tick";
    const DESCRIPTION: &'static str = "Does nothing, every tick of EVENTS_CRON.";
    // Shares the builtin `events_poll`'s entry: its ticks enqueue both kinds.
    const SCHEDULE: Option<Schedule> = EventsPoll::SCHEDULE;

    fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {
            nonce: uuid::Uuid::new_v4().to_string(),
        })
    }

    async fn scheduled(_ctx: &gitomatic::context::AppContext) -> Result<Vec<Self>, JobError> {
        Ok(vec![Self {
            nonce: uuid::Uuid::new_v4().to_string(),
        }])
    }

    async fn run(&self, _run: &JobRun<'_>) -> Result<Outcome, JobError> {
        Ok(Outcome::Succeeded)
    }
}

/// Has a cron variable of its own, which nothing in `gitomatic::config` names: the
/// configuration reads it because a registered kind declares it.
#[derive(Serialize, Deserialize)]
struct Chime {}

#[async_trait]
impl BackgroundJob for Chime {
    const NAME: &'static str = "toy_chime";
    const DESCRIPTION: &'static str = "Does nothing, every tick of TOY_CHIME_CRON.";
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "TOY_CHIME_CRON",
        default: "0 0 0 1 1 *",
        description: "toy chimes",
    });

    fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {})
    }

    async fn scheduled(_ctx: &gitomatic::context::AppContext) -> Result<Vec<Self>, JobError> {
        Ok(vec![Self {}])
    }

    async fn run(&self, _run: &JobRun<'_>) -> Result<Outcome, JobError> {
        Ok(Outcome::Succeeded)
    }
}

fn toy_registry() -> Registry {
    Registry::builtin()
        .with::<Echo>()
        .with::<Explode>()
        .with::<Tick>()
}

async fn toy_app(adjust: impl FnOnce(&mut std::collections::HashMap<String, String>)) -> TestApp {
    let app = spawn_with_registry(toy_registry(), |env| {
        env.insert("TASK_LEASE_SECS".into(), "4".into());
        adjust(env);
    })
    .await;
    let mut conn = app.db.connect().await;
    diesel::sql_query("CREATE TABLE toy_runs (task_id UUID NOT NULL, word TEXT NOT NULL, attempt INTEGER NOT NULL)")
        .execute(&mut conn)
        .await
        .expect("toy table");
    app
}

async fn post_task(app: &TestApp, body: Value) -> reqwest::Response {
    let token = seed::token(app).await;
    app.http
        .post(format!("{}/github/tasks/", app.address))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request reaches the app")
}

#[tokio::test]
async fn a_job_kind_registered_by_the_test_runs_end_to_end_through_the_api() {
    let mut app = toy_app(|_| {}).await;
    app.start_worker();
    let response = post_task(
        &app,
        json!({"name": "toy_echo", "args": {"word": "hello", "times": 3}}),
    )
    .await;
    assert_eq!(response.status(), 202);
    let task: Value = response.json().await.expect("task JSON");
    assert_eq!(task["name"], "toy_echo");
    assert_eq!(task["args"], json!({"word": "hello", "times": 3}));
    assert_eq!(task["username"], Value::Null);
    let id = task["id"].as_str().expect("id").parse().expect("uuid");

    // The identical trigger while it is active is the same task.
    let again = post_task(
        &app,
        json!({"name": "toy_echo", "args": {"word": "HELLO", "times": 3}}),
    )
    .await;
    let again: Value = again.json().await.expect("task JSON");
    assert_eq!(
        again["id"], task["id"],
        "same word, any case: one active task"
    );

    let done = app.wait_for_task(id, TIMEOUT).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert_eq!(done.attempts, 3, "ran again twice as it asked: {done:?}");
    assert_eq!(done.error, None);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM toy_runs WHERE word = 'hello'")
            .await,
        3
    );
    assert_eq!(
        app.count("SELECT count(DISTINCT attempt) AS n FROM toy_runs")
            .await,
        3
    );

    // The resource shows the args; the list filters on the name.
    let shown: Value = app
        .get(&format!("/github/tasks/{id}/"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(shown["args"], json!({"word": "hello", "times": 3}));
    assert_eq!(shown["status"], "succeeded");
    let listed: Value = app
        .get("/github/tasks/?name=toy_echo")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed["count"], 1);
}

#[tokio::test]
async fn a_toy_kind_validates_its_own_arguments_and_unknown_ones_are_named() {
    let app = toy_app(|_| {}).await;
    for (body, message) in [
        (json!({"name": "toy_echo"}), "Missing word. Say something"),
        (
            json!({"name": "toy_echo", "args": {"word": "x", "times": 9}}),
            "times must be 1-5, got 9",
        ),
        (
            json!({"name": "toy_echo", "args": {"word": "x", "colour": "red"}}),
            "task toy_echo takes no argument colour",
        ),
        (
            json!({"name": "toy_echo", "args": {"word": 5}}),
            "argument word must be a string, got 5",
        ),
        (
            json!({"name": "toy_echo", "args": "word=x"}),
            "args must be a JSON object",
        ),
        (
            json!({"name": "toy_echo", "word": "x", "args": {"word": "y"}}),
            "argument word is given twice with different values (in args and as a field)",
        ),
        (
            json!({"name": "toy_nothing"}),
            "task name toy_nothing not recognized",
        ),
    ] {
        let response = post_task(&app, body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.expect("error JSON");
        assert_eq!(answer["error"], message, "{body}");
    }
    // Top-level fields work as arguments too (the form sends them so).
    let response = post_task(&app, json!({"name": "toy_echo", "word": "flat"})).await;
    assert_eq!(response.status(), 202);
    let task: Value = response.json().await.expect("task JSON");
    assert_eq!(task["args"], json!({"word": "flat", "times": 1}));

    // The missing-name message and the trigger form come from the registry.
    let response = post_task(&app, json!({})).await;
    let answer: Value = response.json().await.expect("error JSON");
    assert_eq!(
        answer["error"],
        "Missing name. Provide a task name: full_profile_sync, full_repository_sync, \
         discovery_scraper, repository_activity_sync, issue_timeline_sync, activity_reconcile, \
         org_members_sync, events_poll, graphql_profile_batch, graph_snapshot, webhook_delivery, \
         issue_sync, leaderboard_rebuild, developer_rank, toy_echo, toy_explode or toy_tick"
    );
    let form = app
        .http
        .get(format!("{}/github/tasks/", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("HTML");
    assert!(form.contains(r#"<option value="toy_echo""#), "{form}");
    assert!(form.contains(r#"data-input="word""#), "{form}");

    // So does the OpenAPI enum of task names, for triggers and task resources.
    let doc: Value = app
        .get("/github/swagger.json")
        .await
        .json()
        .await
        .expect("document");
    for schema in ["TaskRequest", "TaskView"] {
        let name = &doc["components"]["schemas"][schema]["properties"]["name"];
        assert_eq!(
            name["enum"],
            json!([
                "full_profile_sync",
                "full_repository_sync",
                "discovery_scraper",
                "repository_activity_sync",
                "issue_timeline_sync",
                "activity_reconcile",
                "org_members_sync",
                "events_poll",
                "graphql_profile_batch",
                "graph_snapshot",
                "webhook_delivery",
                "issue_sync",
                "leaderboard_rebuild",
                "developer_rank",
                "toy_echo",
                "toy_explode",
                "toy_tick"
            ]),
            "{schema}: {name}"
        );
        let description = name["description"].as_str().expect("described");
        assert!(
            description.contains("`toy_echo`: Writes its word down, `times` times. Arguments: `word` (what to write down), `times` (runs, 1-5, optional)."),
            "{description}"
        );
    }
}

#[tokio::test]
async fn a_panicking_job_fails_its_task_with_the_panic_message_and_nothing_stays_running() {
    let mut app = toy_app(|_| {}).await;
    app.start_worker();
    let response = post_task(&app, json!({"name": "toy_explode"})).await;
    assert_eq!(response.status(), 202);
    let task: Value = response.json().await.expect("task JSON");
    let id = task["id"].as_str().expect("id").parse().expect("uuid");
    let done = app.wait_for_task(id, TIMEOUT).await;
    assert_eq!(done.status, "failed", "{done:?}");
    assert_eq!(
        done.error.as_deref(),
        Some("job panicked: boom at the toy factory")
    );
    assert_eq!(done.attempts, 1);
    assert!(done.finished_at.is_some());

    // The worker lives on: the message was settled, the next task runs, and the failed
    // task is not run again (its message is not redelivered).
    let echo = app
        .enqueue(Echo {
            word: "after".into(),
            times: 1,
        })
        .await;
    let echoed = app.wait_for_task(echo.id, TIMEOUT).await;
    assert_eq!(echoed.status, "succeeded", "{echoed:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE status = 'running'")
            .await,
        0
    );
    let mut conn = app.ctx.conn().await.expect("connection");
    let after = gitomatic::db::queries::tasks::find(&mut conn, id)
        .await
        .expect("lookup")
        .expect("task");
    assert_eq!(after.attempts, 1, "{after:?}");
    assert_eq!(
        after.heartbeat_at, done.heartbeat_at,
        "no heartbeat after the panic"
    );
}

/// How many ticks `ticks` counts more after about `window`, and how long that really took.
async fn ticks_over<F, Fut>(ticks: &F, window: Duration) -> (i64, Duration)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let started = tokio::time::Instant::now();
    let before = ticks().await;
    tokio::time::sleep(window).await;
    let after = ticks().await;
    (after - before, started.elapsed())
}

/// The most ticks of an every-second entry one scheduler can enqueue in `window`: its
/// occurrences, and two more that fired before it but, late, were enqueued inside it.
fn occurrences_in(window: Duration) -> i64 {
    window.as_secs_f64().ceil() as i64 + 2
}

#[tokio::test]
async fn only_the_leading_scheduler_enqueues_and_another_takes_over_when_it_stops() {
    let app = toy_app(|env| {
        for schedule in Registry::builtin().schedules() {
            env.insert(schedule.variable.into(), "off".into());
        }
        env.insert("EVENTS_CRON".into(), "* * * * * *".into());
    })
    .await;
    let ticks = || async {
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'toy_tick'")
            .await
    };

    let (stop_first, first) = app.spawn_scheduler();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while ticks().await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no tick enqueued");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (stop_second, second) = app.spawn_scheduler();
    // Each scheduler acts at most once per occurrence of the entry (every second), so the
    // leader enqueues at most one tick per second of the window (two more at its edges);
    // two leaders would enqueue about two a second. Counted over a window measured as it
    // really passed: on a loaded machine ticks come late and bunch up, so their spacing
    // proves nothing, their number does.
    let (during, window) = ticks_over(&ticks, Duration::from_secs(6)).await;
    assert!(
        (2..=occurrences_in(window)).contains(&during),
        "{during} ticks enqueued in {window:?} by two schedulers"
    );

    // The leader stops: the other takes over.
    stop_first.send(true).expect("stop the first scheduler");
    first.await.expect("joined").expect("stopped cleanly");
    // Taking over waits for the next election; then it ticks at the normal rate. The
    // stopped scheduler finished its ticks in flight before it returned and acts no more,
    // so a tick from now on is the other's.
    let stopped_at = ticks().await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while ticks().await == stopped_at {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduler took over"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (after, window) = ticks_over(&ticks, Duration::from_secs(6)).await;
    assert!(
        (2..=occurrences_in(window)).contains(&after),
        "{after} ticks in {window:?} after the leader stopped"
    );
    stop_second.send(true).expect("stop the second scheduler");
    second.await.expect("joined").expect("stopped cleanly");
}

#[tokio::test]
async fn an_entry_that_is_off_enqueues_nothing() {
    let app = toy_app(|env| {
        env.insert("EVENTS_CRON".into(), "off".into());
        env.insert("DISCOVERY_CRON".into(), "* * * * * *".into());
    })
    .await;
    let (stop, scheduler) = app.spawn_scheduler();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.send(true).expect("stop");
    scheduler.await.expect("joined").expect("stopped cleanly");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'toy_tick'")
            .await,
        0
    );
    assert!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name = 'discovery_scraper'")
            .await
            >= 1,
        "the scheduler ran its other entries"
    );
}

#[tokio::test]
async fn a_toy_kind_with_a_cron_variable_of_its_own_is_configured_and_scheduled() {
    use gitomatic::config::Config;
    let read = |registry: &Registry, value: &str| {
        Config::from_lookup(&registry.schedules(), |name| {
            (name == "TOY_CHIME_CRON").then(|| value.to_owned())
        })
    };
    let registry = || Registry::builtin().with::<Chime>();
    // Validated like the builtin schedules, because the kind is registered.
    let error = read(&registry(), "0 * * * *").expect_err("5 fields");
    assert_eq!(error.variable, "TOY_CHIME_CRON");
    assert!(error.to_string().contains("(found 5 fields)"), "{error}");
    read(&Registry::builtin(), "0 * * * *").expect("not a variable of the builtin kinds");

    let app = spawn_with_registry(registry(), |env| {
        for schedule in Registry::builtin().schedules() {
            env.insert(schedule.variable.into(), "off".into());
        }
        env.insert("TOY_CHIME_CRON".into(), "* * * * * *".into());
    })
    .await;
    let (stop, scheduler) = app.spawn_scheduler();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while app
        .count("SELECT count(*) AS n FROM tasks WHERE name = 'toy_chime'")
        .await
        == 0
    {
        assert!(tokio::time::Instant::now() < deadline, "no chime enqueued");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(true).expect("stop");
    scheduler.await.expect("joined").expect("stopped cleanly");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM tasks WHERE name <> 'toy_chime'")
            .await,
        0,
        "the builtin entries are off"
    );

    // A configuration read without the kind's schedule cannot run it: the scheduler says so.
    let mut ctx = app.ctx.clone();
    ctx.config = std::sync::Arc::new(read(&Registry::builtin(), "off").expect("valid"));
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let error = gitomatic::scheduler::run(ctx, app.registry.clone(), stopped)
        .await
        .expect_err("an unread schedule");
    assert!(error.to_string().contains("TOY_CHIME_CRON"), "{error}");
}
