//! Test harness: a fresh database per test, a unique queue prefix, the app on a random port.

#![allow(dead_code)]

pub mod browser;
pub mod fake_github;
pub mod github_openapi;
pub mod github_webhooks;
pub mod seed;
pub mod services;
mod snapshot;
mod test_db;
pub mod webhook_payloads;

pub use fake_github::{FakeGithub, Graph, github_graphql};
pub use snapshot::Snapshot;
pub use test_db::TestDb;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use gitomatic::config::Config;
use gitomatic::context::AppContext;
use gitomatic::github::ClientOptions;
use gitomatic::jobs::Registry;
use tokio::sync::watch;

/// A running API server with its own database and queue prefix.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub db: TestDb,
    pub ctx: AppContext,
    /// The job kinds its API, workers and scheduler know.
    pub registry: Arc<Registry>,
    pub env: HashMap<String, String>,
    pub http: reqwest::Client,
    /// The fake GitHub this app crawls, when started with one.
    pub github: Option<FakeGithub>,
    workers: Vec<watch::Sender<bool>>,
}

/// GitHub client tunables for tests: quick retries, short waits.
pub fn test_client_options() -> ClientOptions {
    ClientOptions {
        retry_base: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

/// The environment a test app runs with: its own database and queue prefix.
pub fn test_env(db: &TestDb) -> HashMap<String, String> {
    HashMap::from([
        ("DATABASE_URL".to_string(), db.url.clone()),
        (
            "QUEUE_PREFIX".to_string(),
            format!("test-{}", uuid::Uuid::new_v4().simple()),
        ),
        ("BIND".to_string(), "127.0.0.1:0".to_string()),
        (
            "AMQP_URL".to_string(),
            std::env::var("TEST_AMQP_URL")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
        ),
    ])
}

/// Builds a configuration from a variable map (no process environment involved), with the
/// cron variables of the registry's schedules.
pub fn config_from(registry: &gitomatic::jobs::Registry, env: &HashMap<String, String>) -> Config {
    Config::from_lookup(&registry.schedules(), |name| env.get(name).cloned())
        .expect("test configuration is valid")
}

/// Sends the in-process app's, worker's and scheduler's tracing events to the test's
/// captured output (shown when the test fails), filtered by `TEST_LOG` (an `EnvFilter`
/// directive such as `gitomatic=debug`; default `warn`, `off` for none). A test runs on
/// its own thread's runtime, so its output holds its own app's events.
fn init_test_log() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let directive = std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into());
        let filter = tracing_subscriber::EnvFilter::try_new(&directive)
            .unwrap_or_else(|error| panic!("TEST_LOG={directive:?} is no filter: {error}"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .with_ansi(false)
            .try_init();
    });
}

/// Spawns the app with a fresh database and default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after letting the test adjust its environment.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    start_app(None, adjust).await
}

/// Spawns the app crawling a fake GitHub that serves `graph`.
pub async fn spawn_crawler(graph: Graph) -> TestApp {
    spawn_crawler_with(graph, |_| {}).await
}

/// Spawns the app crawling a fake GitHub, after letting the test adjust its environment.
pub async fn spawn_crawler_with(
    graph: Graph,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    let github = FakeGithub::start(graph).await;
    start_app(Some(github), adjust).await
}

/// Spawns the app crawling a fake GitHub, its database on another PostgreSQL server.
pub async fn spawn_crawler_on(
    postgres_server: &str,
    graph: Graph,
    options: ClientOptions,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    let github = FakeGithub::start(graph).await;
    let db = TestDb::new_on(postgres_server).await;
    start_app_on(db, Some(github), options, adjust).await
}

/// Spawns the app crawling a fake GitHub with a job registry of the test's own (toy job
/// kinds registered in the test binary only).
pub async fn spawn_with_registry(
    registry: Registry,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    let github = FakeGithub::start(Graph::default()).await;
    start_app_with(
        TestDb::new().await,
        Some(github),
        test_client_options(),
        registry,
        gitomatic::api::resources,
        adjust,
    )
    .await
}

/// Spawns the app serving these read-only resources (the built-in ones and a test's own).
pub async fn spawn_app_serving(resources: gitomatic::api::Resources) -> TestApp {
    start_app_with(
        TestDb::new().await,
        None,
        test_client_options(),
        Registry::builtin(),
        resources,
        |_| {},
    )
    .await
}

async fn start_app(
    github: Option<FakeGithub>,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    start_app_on(TestDb::new().await, github, test_client_options(), adjust).await
}

async fn start_app_on(
    db: TestDb,
    github: Option<FakeGithub>,
    options: ClientOptions,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    start_app_with(
        db,
        github,
        options,
        Registry::builtin(),
        gitomatic::api::resources,
        adjust,
    )
    .await
}

async fn start_app_with(
    db: TestDb,
    github: Option<FakeGithub>,
    options: ClientOptions,
    registry: Registry,
    resources: gitomatic::api::Resources,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    init_test_log();
    let mut env = test_env(&db);
    if let Some(github) = &github {
        env.insert("GITHUB_API_URL".into(), github.url.clone());
        env.insert("GITHUB_MAX_RPS".into(), "1000".into());
    }
    adjust(&mut env);
    let config = config_from(&registry, &env);
    let ctx = AppContext::with_github_options(config, options).expect("context builds");
    let registry = Arc::new(registry);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a random port");
    let port = listener.local_addr().expect("local address").port();
    let server = gitomatic::api::serve_with(ctx.clone(), registry.clone(), listener, resources)
        .expect("server starts");
    tokio::spawn(server);
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        db,
        ctx,
        registry,
        env,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        github,
        workers: Vec::new(),
    }
}

impl TestApp {
    /// The fake GitHub (panics for apps started without one).
    pub fn fake(&self) -> &FakeGithub {
        self.github.as_ref().expect("this app has a fake GitHub")
    }

    /// Starts an in-process worker on the app's queue; it stops when the app is dropped.
    pub fn start_worker(&mut self) {
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(gitomatic::worker::run(
            self.ctx.clone(),
            self.registry.clone(),
            stopped,
        ));
        self.workers.push(stop);
    }

    /// Starts an in-process scheduler (cron entries, stranded-task sweep).
    pub fn start_scheduler(&mut self) {
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(gitomatic::scheduler::run(
            self.ctx.clone(),
            self.registry.clone(),
            stopped,
        ));
        self.workers.push(stop);
    }

    /// Starts an in-process scheduler the test stops itself: send `true`, then await the
    /// handle.
    pub fn spawn_scheduler(
        &self,
    ) -> (
        watch::Sender<bool>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        let (stop, stopped) = watch::channel(false);
        let handle = tokio::spawn(gitomatic::scheduler::run(
            self.ctx.clone(),
            self.registry.clone(),
            stopped,
        ));
        (stop, handle)
    }

    /// Triggers a job the way the API does.
    pub async fn enqueue(
        &self,
        job: impl gitomatic::jobs::BackgroundJob,
    ) -> gitomatic::db::queries::tasks::TaskRow {
        self.enqueue_task(&job.to_task().expect("storable arguments"))
            .await
    }

    /// Inserts and publishes a task row the way the API does.
    pub async fn enqueue_task(
        &self,
        task: &gitomatic::db::queries::tasks::NewTask,
    ) -> gitomatic::db::queries::tasks::TaskRow {
        gitomatic::jobs::enqueue(&self.ctx, task)
            .await
            .expect("enqueue")
            .0
    }

    /// Posts `{"name": name}` to `/github/tasks/` as a user with `token` does, expects a
    /// 202, and returns the task once it succeeded (within 60 s).
    pub async fn run_posted_job(
        &self,
        token: &str,
        name: &str,
    ) -> gitomatic::db::queries::tasks::TaskRow {
        let response = self
            .http
            .post(format!("{}/github/tasks/", self.address))
            .bearer_auth(token)
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .expect("trigger");
        assert_eq!(response.status(), 202, "POST {name}");
        let task: serde_json::Value = response.json().await.expect("the task");
        let id = uuid::Uuid::parse_str(task["id"].as_str().expect("an id")).expect("a uuid");
        let done = self.wait_for_task(id, Duration::from_secs(60)).await;
        assert_eq!(done.status, "succeeded", "{done:?}");
        done
    }

    /// Waits until a task is finished (succeeded or failed) and returns it.
    pub async fn wait_for_task(
        &self,
        id: uuid::Uuid,
        timeout: Duration,
    ) -> gitomatic::db::queries::tasks::TaskRow {
        self.wait_for_row(id, timeout, "finished", |row| row.is_terminal())
            .await
    }

    /// Waits (up to 30 s) until a task has this status and returns it.
    pub async fn wait_for_status(
        &self,
        id: uuid::Uuid,
        status: &str,
    ) -> gitomatic::db::queries::tasks::TaskRow {
        self.wait_for_row(id, Duration::from_secs(30), status, |row| {
            row.status == status
        })
        .await
    }

    /// Polls a task's row until `done` holds; fails after `timeout` naming `wanted`.
    async fn wait_for_row(
        &self,
        id: uuid::Uuid,
        timeout: Duration,
        wanted: &str,
        done: impl Fn(&gitomatic::db::queries::tasks::TaskRow) -> bool,
    ) -> gitomatic::db::queries::tasks::TaskRow {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut conn = self.ctx.conn().await.expect("a connection");
            let row = gitomatic::db::queries::tasks::find(&mut conn, id)
                .await
                .expect("task lookup")
                .expect("task exists");
            if done(&row) {
                return row;
            }
            if tokio::time::Instant::now() >= deadline {
                let active = self.describe_active_tasks().await;
                panic!("task {id} not {wanted} after {timeout:?}: {row:?}\n{active}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `done` every 100 ms until it holds; panics after 20 s naming `what` and the
    /// active tasks.
    pub async fn wait_for<F, Fut>(&self, what: &str, done: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !done().await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within 20 s\n{}",
                self.describe_active_tasks().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until exactly one session of the test database waits for a lock while running
    /// a statement whose text is `LIKE statement`; panics after 20 s naming `what`.
    pub async fn wait_for_lock_wait(&self, what: &str, statement: &str) {
        let sql = format!(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock' AND query LIKE '{}'",
            statement.replace('\'', "''")
        );
        self.wait_for(what, || async { self.count(&sql).await == 1 })
            .await;
    }

    /// Waits until no task is queued, running or deferred.
    pub async fn wait_until_idle(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.count("SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'running', 'deferred')").await == 0 {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let active = self.describe_active_tasks().await;
                panic!("tasks still active after {timeout:?}\n{active}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The queued, running and deferred tasks, one line each (name, status, attempts,
    /// not_before, heartbeat, error, args), for a wait's failure message: a timed-out
    /// test then says what it was waiting for.
    pub async fn describe_active_tasks(&self) -> String {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use gitomatic::db::queries::tasks::{TaskRow, TaskStatus};
        use gitomatic::db::schema::tasks;
        let mut conn = self.db.connect().await;
        let rows: Vec<TaskRow> = match tasks::table
            .filter(tasks::status.eq_any(TaskStatus::ACTIVE))
            .order(tasks::created_at)
            .select(TaskRow::as_select())
            .load(&mut conn)
            .await
        {
            Ok(rows) => rows,
            Err(error) => return format!("(active tasks unreadable: {error})"),
        };
        let now = chrono::Utc::now();
        let mut lines = vec![format!("{} active task(s) at {now}:", rows.len())];
        lines.extend(rows.iter().map(|row| {
            format!(
                "  {} {} {} attempts={} not_before={:?} started_at={:?} heartbeat_at={:?} \
                 github_requests={} error={:?} args={}",
                row.id,
                row.name,
                row.status.as_str(),
                row.attempts,
                row.not_before,
                row.started_at,
                row.heartbeat_at,
                row.github_requests,
                row.error,
                row.args
            )
        }));
        lines.join("\n")
    }

    /// Runs `SELECT count(*) AS n ...`.
    pub async fn count(&self, sql: &str) -> i64 {
        self.db.count(sql).await
    }

    /// Pairs of tasks of `name` created less than `seconds` apart (two schedulers acting
    /// on one tick would make such a pair).
    pub async fn tasks_created_together(&self, name: &str, seconds: f64) -> i64 {
        self.count(&format!(
            "SELECT count(*) AS n FROM tasks a JOIN tasks b ON a.id < b.id
             WHERE a.name = '{name}' AND b.name = '{name}'
               AND abs(extract(epoch FROM a.created_at - b.created_at)) < {seconds}"
        ))
        .await
    }

    /// GET a path of the app (`/github/`), JSON expected.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request reaches the app")
    }
}

/// Runs the real `gitomatic` binary with exactly these variables (plus PATH) and arguments.
pub fn run_binary(env: &HashMap<String, String>, args: &[&str]) -> std::process::Output {
    binary_command(env, args)
        .output()
        .expect("the gitomatic binary runs")
}

/// A `gitomatic` command with a clean environment: only PATH and the given variables.
pub fn binary_command(env: &HashMap<String, String>, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gitomatic"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .envs(env);
    command
}

/// The real `gitomatic web` binary serving on a free port, killed when the test ends
/// (passed or panicked), so a failing test never leaves a server behind.
pub struct WebProcess {
    pub child: std::process::Child,
    /// `http://127.0.0.1:{port}`.
    pub base: String,
}

impl WebProcess {
    /// Starts `gitomatic web` with these variables (BIND set to a free port) and waits
    /// until `/health/` answers.
    pub async fn start(env: HashMap<String, String>) -> Self {
        Self::start_with(env, std::process::Stdio::inherit()).await
    }

    /// `start`, its log (stderr) going to `log`.
    pub async fn start_with(mut env: HashMap<String, String>, log: std::process::Stdio) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        env.insert("BIND".into(), format!("127.0.0.1:{port}"));
        let web = WebProcess {
            child: binary_command(&env, &["web"])
                .stderr(log)
                .spawn()
                .expect("web starts"),
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http
                .get(format!("{}/health/", web.base))
                .send()
                .await
                .is_ok()
            {
                return web;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("gitomatic web did not answer /health/ within 10 s");
    }
}

impl Drop for WebProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for stop in &self.workers {
            let _ = stop.send(true);
        }
        if let (Some(url), Some(prefix)) = (self.env.get("AMQP_URL"), self.env.get("QUEUE_PREFIX"))
        {
            delete_queues(url.clone(), prefix.clone());
        }
    }
}

/// Deletes a test's exchanges and queues so the shared broker does not fill up.
fn delete_queues(url: String, prefix: String) {
    use gitomatic::queue::Topology;
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let deleted = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async move {
            let connect = lapin::Connection::connect(&url, lapin::ConnectionProperties::default());
            let connection = tokio::time::timeout(Duration::from_secs(3), connect)
                .await
                .ok()?
                .ok()?;
            let channel = connection.create_channel().await.ok()?;
            let topology = Topology::new(&prefix);
            for queue in topology.queues() {
                let _ = channel
                    .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                    .await;
            }
            for exchange in [topology.jobs(), topology.dead_letter_exchange()] {
                let _ = channel
                    .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                    .await;
            }
            let _ = connection.close(200, "test done".into()).await;
            Some(())
        })
    })
    .join();
    let _ = deleted;
}
