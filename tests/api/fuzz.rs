//! schemathesis (from PyPI) fuzzes the API from its own OpenAPI document: no 5xx, and
//! every answer conforms to the documented status codes, content types and schemas.

use std::process::Command;
use std::time::Duration;

use crate::helpers::seed;
use crate::helpers::{Graph, spawn_crawler_with};

/// The schemathesis CLI: `$SCHEMATHESIS` (set by scripts/test.sh), else `st` on PATH.
fn schemathesis() -> String {
    if let Ok(path) = std::env::var("SCHEMATHESIS") {
        return path;
    }
    let on_path = Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        on_path,
        "schemathesis is not installed: run ./scripts/test.sh (it installs it), or set SCHEMATHESIS"
    );
    "st".into()
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let st = schemathesis();
    let mut graph = Graph::default();
    let a = graph.add_user("alice");
    let b = graph.add_user("bob");
    graph.follow(a, b);
    graph.follow(b, a);
    let repo = graph.add_repo(a, "tool");
    graph.star(b, repo);
    // Webhooks on: an unsigned delivery is a 401 (webhooks off would be a 503).
    let mut app = spawn_crawler_with(graph, |env| {
        env.insert("GITHUB_WEBHOOK_SECRET".into(), "fuzz-secret".into());
    })
    .await;
    app.start_worker();
    for login in ["alice", "bob"] {
        let task = app
            .enqueue(gitomatic::jobs::FullProfileSync {
                username: gitomatic::domain::GithubLogin::parse(login).expect("login"),
            })
            .await;
        app.wait_for_task(task.id, Duration::from_secs(30)).await;
    }
    let token = seed::token(&app).await;
    let address = app.address.clone();
    let run = move || {
        // schemathesis keeps caches in its working directory: not in the source tree.
        Command::new(&st)
            .current_dir(std::env::temp_dir())
            .arg("run")
            .arg(format!("{address}/github/swagger.json"))
            .args(["--url", &address])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            ])
            .args(["--phases", "examples,coverage,fuzzing"])
            // One worker: concurrent workers can trip a CPython 3.11 `ast.parse` race inside
            // hypothesis ("AST constructor recursion depth mismatch").
            .args(["--max-examples", "20", "--workers", "1"])
            .env("SCHEMATHESIS_TELEMETRY", "false")
            .env("NO_COLOR", "1")
            .output()
            .expect("schemathesis runs")
    };
    let output = tokio::task::spawn_blocking(move || {
        let first = run();
        // An internal error of the tool itself (reported under ERRORS, with no FAILURES) says
        // nothing about the API: run once more. Any finding fails the test.
        let stdout = String::from_utf8_lossy(&first.stdout);
        if !first.status.success()
            && stdout.contains("Runtime Error")
            && !stdout.contains("FAILURES")
        {
            eprintln!("schemathesis crashed internally; running it again:\n{stdout}");
            return run();
        }
        first
    })
    .await
    .expect("schemathesis finished");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}
