//! The real `gitomatic` binary: migrate, environment validation, tokens and `web`.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::helpers::{TestDb, WebProcess, run_binary, test_env};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn migrate_twice_on_a_fresh_database_succeeds_both_times() {
    let db = TestDb::unmigrated().await;
    let env = test_env(&db);
    let first = run_binary(&env, &["migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("applied migration"),
        "{}",
        stdout(&first)
    );
    let second = run_binary(&env, &["migrate"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("up to date"),
        "{}",
        stdout(&second)
    );
}

#[tokio::test]
async fn a_malformed_variable_exits_non_zero_naming_it() {
    let db = TestDb::new().await;
    for (name, value) in [
        ("BIND", "nonsense"),
        ("GITHUB_QUOTA_RESERVE", "-3"),
        ("DISCOVERY_CRON", "0 * * * *"),
        ("GRAPH_CRON", "*/15 * * * *"),
        ("DATABASE_URL", "mysql://elsewhere"),
    ] {
        let mut env = test_env(&db);
        env.insert(name.into(), value.into());
        for subcommand in [&["migrate"][..], &["web"], &["token", "create", "ci"]] {
            let output = run_binary(&env, subcommand);
            assert!(!output.status.success(), "{name}={value} {subcommand:?}");
            assert!(
                stderr(&output).contains(name),
                "{name}: {}",
                stderr(&output)
            );
        }
    }
}

#[tokio::test]
async fn a_malformed_url_is_reported_without_its_password() {
    let db = TestDb::new().await;
    for (name, value) in [
        ("DATABASE_URL", "postgres://u:hunter2@/x"),
        ("DATABASE_URL", "mysql://u:hunter2@h/db"),
        ("AMQP_URL", "amqp://guest:hunter2@h:port/%2f"),
    ] {
        let mut env = test_env(&db);
        env.insert(name.into(), value.into());
        for subcommand in [&["migrate"][..], &["web"]] {
            let output = run_binary(&env, subcommand);
            let stderr = stderr(&output);
            assert!(!output.status.success(), "{name}={value} {subcommand:?}");
            assert!(stderr.contains(name), "{name}: {stderr}");
            assert!(stderr.contains(":***@"), "{name}: {stderr}");
            assert!(!stderr.contains("hunter2"), "{name}: {stderr}");
            assert!(!stdout(&output).contains("hunter2"), "{name}");
        }
    }
}

#[tokio::test]
async fn help_is_available_on_every_subcommand() {
    let env = HashMap::new();
    for args in [
        &["--help"][..],
        &["migrate", "--help"],
        &["web", "--help"],
        &["token", "--help"],
        &["token", "create", "--help"],
    ] {
        let output = run_binary(&env, args);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage"), "{args:?}");
    }
    // The top-level help names every variable of the README's configuration table.
    let help = stdout(&run_binary(&env, &["--help"]));
    let readme = include_str!("../../README.md");
    let variables: Vec<&str> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter(|name| name.len() > 3 && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    assert!(variables.len() >= 25, "{variables:?}");
    for variable in variables {
        assert!(help.contains(variable), "--help does not name {variable}");
    }
    // The schedules come from the job kinds: --help lists each with its default, and the
    // README's table gives the same default.
    for schedule in gitomatic::jobs::Registry::builtin().schedules() {
        let (variable, default) = (schedule.variable, schedule.default);
        assert!(
            help.contains(&format!("{variable} (default `{default}`)")),
            "--help does not give {variable}'s default: {help}"
        );
        assert!(
            readme
                .lines()
                .any(|line| line.starts_with(&format!("| `{variable}` | `{default}`"))),
            "the README's table does not give {variable}'s default `{default}`"
        );
    }
}

#[tokio::test]
async fn token_create_prints_the_token_last_and_stores_only_its_hash() {
    let db = TestDb::new().await;
    let output = run_binary(&test_env(&db), &["token", "create", "ci-bot"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let token = out.lines().last().expect("a last line").trim().to_owned();
    assert!(token.len() >= 32, "{token}");

    use gitomatic::db::schema::api_tokens;
    let mut conn = db.connect().await;
    let rows: Vec<(String, String)> = api_tokens::table
        .select((api_tokens::name, api_tokens::token_hash))
        .load(&mut conn)
        .await
        .expect("tokens");
    assert_eq!(
        rows,
        vec![("ci-bot".to_string(), gitomatic::tokens::hash(&token))]
    );
    assert_ne!(rows[0].1, token);
}

#[tokio::test]
async fn web_refuses_to_start_on_an_unmigrated_database() {
    let db = TestDb::unmigrated().await;
    let output = run_binary(&test_env(&db), &["web"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("gitomatic migrate"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn the_web_binary_serves_health_and_the_api_root() {
    let db = TestDb::new().await;
    let mut web = WebProcess::start(test_env(&db)).await;
    let base = web.base.clone();
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{base}/health/"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    let root: serde_json::Value = http
        .get(format!("{base}/github/"))
        .send()
        .await
        .expect("root")
        .json()
        .await
        .expect("json");
    assert_eq!(root["tasks"], format!("{base}/github/tasks/"));
    // SIGTERM stops it cleanly.
    let pid = web.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let status = web.child.wait().expect("web exits");
    assert!(status.success(), "{status:?}");
}
