//! Seeding rows directly with SQL for precise list, filter and ordering tests, plus API
//! tokens and a few request helpers shared by the API tests.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use serde_json::Value;
use uuid::Uuid;

use super::TestApp;

/// Parses an RFC 3339 time (test data is trusted).
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("an RFC 3339 time in test data")
        .with_timezone(&Utc)
}

/// A developer row to insert; unset fields stay NULL.
#[derive(Clone, Debug, Default)]
pub struct Dev {
    pub github_id: i64,
    pub login: String,
    pub name: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub followers_count: Option<i32>,
    pub following_count: Option<i32>,
    pub created_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

impl Dev {
    pub fn new(github_id: i64, login: &str) -> Self {
        Self {
            github_id,
            login: login.to_string(),
            ..Self::default()
        }
    }
}

/// A repository row to insert; unset texts and times stay NULL, flags false, counts 0.
#[derive(Clone, Debug, Default)]
pub struct Repo {
    pub github_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub fork: bool,
    pub archived: bool,
    pub stargazers_count: i32,
    pub forks_count: i32,
    pub created_at: Option<DateTime<Utc>>,
    pub pushed_at: Option<DateTime<Utc>>,
}

impl Repo {
    pub fn new(github_id: i64, name: &str) -> Self {
        Self {
            github_id,
            name: name.to_string(),
            ..Self::default()
        }
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// Inserts a developer; returns its id.
pub async fn developer(app: &TestApp, dev: Dev) -> Uuid {
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "INSERT INTO developers (github_id, login, name, bio, location, company, email, \
         followers_count, following_count, created_at, last_synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind::<BigInt, _>(dev.github_id)
    .bind::<Text, _>(dev.login)
    .bind::<Nullable<Text>, _>(dev.name)
    .bind::<Nullable<Text>, _>(dev.bio)
    .bind::<Nullable<Text>, _>(dev.location)
    .bind::<Nullable<Text>, _>(dev.company)
    .bind::<Nullable<Text>, _>(dev.email)
    .bind::<Nullable<Integer>, _>(dev.followers_count)
    .bind::<Nullable<Integer>, _>(dev.following_count)
    .bind::<Nullable<Timestamptz>, _>(dev.created_at)
    .bind::<Nullable<Timestamptz>, _>(dev.last_synced_at)
    .get_result::<Id>(&mut conn)
    .await
    .expect("insert developer")
    .id
}

/// Inserts a repository owned by the developer with `owner_github_id`; returns its id.
pub async fn repository(app: &TestApp, owner_github_id: i64, repo: Repo) -> Uuid {
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "INSERT INTO repositories (github_id, owner_id, owner_github_id, name, full_name, \
         description, homepage, language, fork, archived, stargazers_count, forks_count, \
         created_at, pushed_at) \
         SELECT $1, d.id, d.github_id, $2, d.login || '/' || $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11 FROM developers d WHERE d.github_id = $12 RETURNING id",
    )
    .bind::<BigInt, _>(repo.github_id)
    .bind::<Text, _>(repo.name)
    .bind::<Nullable<Text>, _>(repo.description)
    .bind::<Nullable<Text>, _>(repo.homepage)
    .bind::<Nullable<Text>, _>(repo.language)
    .bind::<Bool, _>(repo.fork)
    .bind::<Bool, _>(repo.archived)
    .bind::<Integer, _>(repo.stargazers_count)
    .bind::<Integer, _>(repo.forks_count)
    .bind::<Nullable<Timestamptz>, _>(repo.created_at)
    .bind::<Nullable<Timestamptz>, _>(repo.pushed_at)
    .bind::<BigInt, _>(owner_github_id)
    .get_result::<Id>(&mut conn)
    .await
    .expect("insert repository (does the owner exist?)")
    .id
}

/// Records that `follower` follows `followee`.
pub async fn follow(app: &TestApp, follower: Uuid, followee: Uuid) {
    let mut conn = app.db.connect().await;
    diesel::sql_query("INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)")
        .bind::<diesel::sql_types::Uuid, _>(follower)
        .bind::<diesel::sql_types::Uuid, _>(followee)
        .execute(&mut conn)
        .await
        .expect("insert follow");
}

/// Records that `developer` starred `repository`.
pub async fn star(app: &TestApp, developer: Uuid, repository: Uuid) {
    let mut conn = app.db.connect().await;
    diesel::sql_query("INSERT INTO stars (developer_id, repository_id) VALUES ($1, $2)")
        .bind::<diesel::sql_types::Uuid, _>(developer)
        .bind::<diesel::sql_types::Uuid, _>(repository)
        .execute(&mut conn)
        .await
        .expect("insert star");
}

/// Runs one SQL statement.
pub async fn execute(app: &TestApp, sql: &str) {
    let mut conn = app.db.connect().await;
    diesel::sql_query(sql)
        .execute(&mut conn)
        .await
        .expect("seed statement");
}

/// Creates an API token and returns its secret.
pub async fn token(app: &TestApp) -> String {
    let token = gitomatic::tokens::generate();
    gitomatic::db::queries::tokens::insert(
        &mut app.ctx.conn().await.expect("a connection"),
        "test",
        &token.hash,
    )
    .await
    .expect("store token");
    token.secret
}

/// GET `path` with query pairs (properly encoded); returns the status and the JSON body.
pub async fn get_json(app: &TestApp, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}{path}", app.address))
        .query(query)
        .send()
        .await
        .expect("request reaches the app");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// GET an absolute URL of the app; returns the status and the JSON body.
pub async fn get_url(app: &TestApp, url: &str) -> (u16, Value) {
    let response = app
        .http
        .get(url)
        .send()
        .await
        .expect("request reaches the app");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// The `results` of a list body.
pub fn results(body: &Value) -> &Vec<Value> {
    body["results"].as_array().expect("a list with results")
}

/// One string field of every result, in order.
pub fn column(body: &Value, field: &str) -> Vec<String> {
    results(body)
        .iter()
        .map(|item| match &item[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The `error` message of an error body.
pub fn error(body: &Value) -> &str {
    body["error"].as_str().expect("an error message")
}

/// How long a crawl task of the small graph may take.
pub const CRAWL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The small network `crawled_app` syncs:
/// - alice is followed by bob and carol, follows dave, starred carol/tool and dave/lib,
///   owns alice/proj and alice/site;
/// - bob and erin starred alice/proj.
pub fn small_graph() -> super::Graph {
    let mut graph = super::Graph::default();
    let alice = graph.add_user("alice");
    let bob = graph.add_user("bob");
    let carol = graph.add_user("carol");
    let dave = graph.add_user("dave");
    let erin = graph.add_user("erin");
    graph.follow(bob, alice);
    graph.follow(carol, alice);
    graph.follow(alice, dave);
    let tool = graph.add_repo(carol, "tool");
    let lib = graph.add_repo(dave, "lib");
    graph.star(alice, tool);
    graph.star(alice, lib);
    let proj = graph.add_repo(alice, "proj");
    graph.add_repo(alice, "site");
    graph.star(bob, proj);
    graph.star(erin, proj);
    graph
}

/// An app that crawled `small_graph` through the real data path: a profile sync of alice,
/// then a repository sync of alice/proj (its stargazers), both through the worker.
pub async fn crawled_app(
    adjust: impl FnOnce(&mut std::collections::HashMap<String, String>),
) -> TestApp {
    use gitomatic::domain::{GithubLogin, RepoName};
    use gitomatic::jobs::{BackgroundJob, FullProfileSync, FullRepositorySync};

    let mut app = super::spawn_crawler_with(small_graph(), adjust).await;
    app.start_worker();
    let alice = GithubLogin::parse("alice").expect("login");
    for job in [
        FullProfileSync {
            username: alice.clone(),
        }
        .to_task(),
        FullRepositorySync {
            username: alice,
            repo_name: RepoName::parse("proj").expect("repository name"),
        }
        .to_task(),
    ] {
        let task = app.enqueue_task(&job.expect("storable")).await;
        let done = app.wait_for_task(task.id, CRAWL_TIMEOUT).await;
        assert_eq!(done.status, "succeeded", "{done:?}");
    }
    app
}

/// `/github/developers/<uuid>/followers/?page=2` → `/github/developers/{id}/followers/`;
/// a second id in a path is `{other_id}` (`/github/developers/{id}/path/{other_id}/`).
pub fn route_of(path: &str) -> String {
    let mut ids = 0;
    path.split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .map(|segment| {
            if Uuid::parse_str(segment).is_ok() || segment.parse::<i64>().is_ok() {
                ids += 1;
                if ids == 1 { "{id}" } else { "{other_id}" }
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every string in a JSON value.
pub fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}
