//! Test harness: a fresh database per test, a unique queue prefix, the app on a random port.

#![allow(dead_code)]

mod test_db;

pub use test_db::TestDb;

use std::collections::HashMap;
use std::net::TcpListener;

use gitomatic::config::Config;
use gitomatic::context::AppContext;

/// A running API server with its own database and queue prefix.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub db: TestDb,
    pub ctx: AppContext,
    pub env: HashMap<String, String>,
    pub http: reqwest::Client,
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

/// Builds a configuration from a variable map (no process environment involved).
pub fn config_from(env: &HashMap<String, String>) -> Config {
    Config::from_lookup(|name| env.get(name).cloned()).expect("test configuration is valid")
}

/// Spawns the app with a fresh database and default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after letting the test adjust its environment.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    let db = TestDb::new().await;
    let mut env = test_env(&db);
    adjust(&mut env);
    let config = config_from(&env);
    let ctx = AppContext::new(config).expect("context builds");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a random port");
    let port = listener.local_addr().expect("local address").port();
    let server = gitomatic::api::serve(ctx.clone(), listener).expect("server starts");
    tokio::spawn(server);
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        db,
        ctx,
        env,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
    }
}

impl TestApp {
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
