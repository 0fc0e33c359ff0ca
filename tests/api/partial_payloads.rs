//! A payload that lacks a field never erases a stored value; an explicit `null` in a full
//! object still clears it (SPEC-3 section 0).

use std::time::Duration;

use gitomatic::domain::GithubLogin;
use gitomatic::jobs::FullProfileSync;
use serde_json::json;

use crate::helpers::{Graph, TestApp, spawn_crawler};

async fn sync(app: &TestApp, login: &str) {
    let task = app
        .enqueue(FullProfileSync {
            username: GithubLogin::parse(login).expect("login"),
        })
        .await;
    let done = app.wait_for_task(task.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
}

/// `ada` with a full profile and one repository starred by three developers; `bob` follows
/// her.
fn graph() -> (Graph, i64, i64) {
    let mut graph = Graph::default();
    let ada = graph.add_user("ada");
    let user = graph.user_mut(ada);
    user.name = Some("Ada Lovelace".into());
    user.bio = Some("Poet of science".into());
    user.company = Some("Analytical Engines".into());
    let bob = graph.add_user("bob");
    graph.follow(bob, ada);
    let tool = graph.add_repo(ada, "tool");
    let repo = graph.repo_mut(tool);
    repo.description = Some("A tool".into());
    repo.language = Some("Rust".into());
    repo.homepage = Some("https://tool.example".into());
    for fan in ["fan-1", "fan-2", "fan-3"] {
        let fan = graph.add_user(fan);
        graph.star(fan, tool);
    }
    (graph, ada, tool)
}

#[tokio::test]
async fn a_listing_keeps_a_stored_profile_and_a_smaller_repository_payload_keeps_what_it_lacks() {
    let (graph, ada, tool) = graph();
    let mut app = spawn_crawler(graph).await;
    app.start_worker();
    sync(&app, "ada").await;
    let full_profile = "SELECT count(*) AS n FROM developers WHERE login = 'ada'
         AND name = 'Ada Lovelace' AND bio = 'Poet of science' AND company = 'Analytical Engines'
         AND followers_count = 1 AND public_repos = 1";
    assert_eq!(app.count(full_profile).await, 1, "ada's profile stored");

    // bob's sync lists ada as a simple user (login, id, avatar, type): her profile stays.
    sync(&app, "bob").await;
    assert_eq!(
        app.count(full_profile).await,
        1,
        "a listing erased ada's profile"
    );

    // A listing of ada's repositories now carries only the fields GitHub's
    // `minimal-repository` requires — no language, homepage, counts or flags — and an
    // explicit null description; ada's own profile clears her bio with an explicit null.
    let (owner, full_name) = app.fake().with_graph(|graph| {
        graph.user_mut(ada).bio = None;
        (
            json!({"login": "ada", "id": ada, "type": "User"}),
            graph.full_name(tool),
        )
    });
    let minimal = json!([{
        "id": tool,
        "node_id": format!("R_{tool}"),
        "name": "tool",
        "full_name": full_name,
        "owner": owner,
        "private": false,
        "html_url": format!("https://github.com/{full_name}"),
        "description": null,
        "fork": false,
        "url": format!("{}/repos/{full_name}", app.fake().url),
    }]);
    app.fake()
        .override_body("/users/ada/repos", minimal.to_string());
    sync(&app, "ada").await;

    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM developers WHERE login = 'ada' AND bio IS NULL
             AND name = 'Ada Lovelace' AND company = 'Analytical Engines'"
        )
        .await,
        1,
        "an explicit null clears the bio, the rest stays"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM repositories WHERE name = 'tool'
             AND description IS NULL AND language = 'Rust'
             AND homepage = 'https://tool.example' AND stargazers_count = 3
             AND watchers_count = 3 AND has_issues AND created_at IS NOT NULL
             AND pushed_at IS NOT NULL"
        )
        .await,
        1,
        "what the smaller payload lacks is kept; its explicit null clears the description"
    );
}
