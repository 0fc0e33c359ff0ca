//! Health, the API root, slash redirects and the schema's uniqueness guarantees.

use diesel_async::RunQueryDsl;
use serde_json::Value;

use crate::helpers::{TestDb, WebProcess, spawn_app, spawn_app_with, test_env};

#[tokio::test]
async fn health_is_ok_when_database_and_broker_answer() {
    let app = spawn_app().await;
    let response = app.get("/health/").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"status": "ok", "database": "ok", "queue": "ok"})
    );
}

#[tokio::test]
async fn health_names_the_broker_when_it_is_down() {
    // Port 1 refuses connections: the broker is "down" for this app only.
    let app = spawn_app_with(|env| {
        env.insert(
            "AMQP_URL".into(),
            "amqp://guest:guest@127.0.0.1:1/%2f".into(),
        );
    })
    .await;
    let response = app.get("/health/").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["queue"], "down");
    assert_eq!(body["error"], "queue down");
}

#[tokio::test]
async fn health_names_the_database_when_it_is_down() {
    let app = spawn_app_with(|env| {
        env.insert(
            "DATABASE_URL".into(),
            "postgres://postgres@127.0.0.1:1/nothing".into(),
        );
    })
    .await;
    let response = app.get("/health/").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["database"], "down");
    assert_eq!(body["queue"], "ok");
    assert_eq!(body["error"], "database down");
}

#[tokio::test]
async fn a_query_that_fails_for_a_reason_other_than_the_connection_is_a_500_its_cause_logged_once()
{
    let db = TestDb::new().await;
    let mut conn = db.connect().await;
    diesel::sql_query("INSERT INTO developers (github_id, login) VALUES (1, 'amy')")
        .execute(&mut conn)
        .await
        .expect("a developer");
    // A schema the code does not expect: a bug, not an outage. (After the insert: the
    // search trigger reads `bio` too.)
    diesel::sql_query("ALTER TABLE developers RENAME COLUMN bio TO bio_gone")
        .execute(&mut conn)
        .await
        .expect("break the schema");
    let log_path = std::env::temp_dir().join(format!("gitomatic-web-{}.log", uuid::Uuid::new_v4()));
    let log = std::fs::File::create(&log_path).expect("a log file");
    let web = WebProcess::start_with(test_env(&db), log.into()).await;
    let response = reqwest::get(format!("{}/github/developers/", web.base))
        .await
        .expect("an answer");
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, serde_json::json!({"error": "internal error"}));
    drop(web);
    let log = std::fs::read_to_string(&log_path).expect("the log");
    let _ = std::fs::remove_file(&log_path);
    let causes: Vec<&str> = log.lines().filter(|line| line.contains("`bio`")).collect();
    assert_eq!(causes.len(), 1, "the cause logged once: {log}");
}

#[tokio::test]
async fn a_database_out_of_reach_is_a_503() {
    let app = spawn_app_with(|env| {
        env.insert(
            "DATABASE_URL".into(),
            "postgres://postgres@127.0.0.1:1/nothing".into(),
        );
    })
    .await;
    for path in ["/github/developers/", "/github/tasks/"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 503, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body,
            serde_json::json!({"error": "service unavailable: the database is not answering"}),
            "{path}"
        );
    }
}

#[tokio::test]
async fn root_links_every_collection_absolutely() {
    let app = spawn_app().await;
    let response = app.get("/github/").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    for (key, path) in [
        ("developers", "/github/developers/"),
        ("repositories", "/github/repositories/"),
        ("rate_limit", "/github/rate_limit/"),
        ("tasks", "/github/tasks/"),
    ] {
        assert_eq!(body[key], format!("{}{}", app.address, path), "{key}");
    }
    assert_eq!(
        body["docs"]["swagger"],
        format!("{}/github/swagger/", app.address)
    );
    assert_eq!(
        body["docs"]["openapi"],
        format!("{}/github/swagger.json", app.address)
    );
    assert_eq!(
        body["docs"]["redoc"],
        format!("{}/github/redoc/", app.address)
    );
}

#[tokio::test]
async fn public_url_is_the_base_of_links_behind_a_proxy() {
    let app = spawn_app_with(|env| {
        env.insert("PUBLIC_URL".into(), "https://crawl.example.org/".into());
    })
    .await;
    let body: Value = app.get("/github/").await.json().await.expect("json");
    assert_eq!(
        body["developers"],
        "https://crawl.example.org/github/developers/"
    );
}

#[tokio::test]
async fn a_path_without_trailing_slash_redirects_permanently_keeping_the_query() {
    let app = spawn_app().await;
    let response = app.get("/github?format=json").await;
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/github/?format=json");

    let response = app.get("/health").await;
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/health/");
}

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    let app = spawn_app().await;
    let response = app.get("/github/nothing-here/").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["error"]
            .as_str()
            .expect("error message")
            .contains("/github/nothing-here/")
    );
}

#[tokio::test]
async fn github_ids_are_unique_so_a_duplicate_conflicts_instead_of_adding_a_row() {
    let app = spawn_app().await;
    let mut conn = app.db.connect().await;
    diesel::sql_query("INSERT INTO developers (github_id, login) VALUES (42, 'octocat')")
        .execute(&mut conn)
        .await
        .expect("first insert");
    let duplicate =
        diesel::sql_query("INSERT INTO developers (github_id, login) VALUES (42, 'renamed')")
            .execute(&mut conn)
            .await;
    assert_violates(duplicate, "developers_github_id_key");
    let upserted = diesel::sql_query(
        "INSERT INTO developers (github_id, login) VALUES (42, 'renamed') \
         ON CONFLICT (github_id) DO UPDATE SET login = excluded.login",
    )
    .execute(&mut conn)
    .await
    .expect("upsert");
    assert_eq!(upserted, 1);
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM developers").await,
        1
    );

    let owner = "(SELECT id FROM developers WHERE github_id = 42)";
    let repo = format!(
        "INSERT INTO repositories (github_id, owner_id, owner_github_id, name, full_name) \
         VALUES (7, {owner}, 42, 'hello', 'renamed/hello')"
    );
    diesel::sql_query(&repo)
        .execute(&mut conn)
        .await
        .expect("first repository");
    assert_violates(
        diesel::sql_query(&repo).execute(&mut conn).await,
        "repositories_github_id_key",
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM repositories").await,
        1
    );
}

#[tokio::test]
async fn a_developer_listed_again_as_stored_is_not_rewritten_and_keeps_its_id() {
    use gitomatic::db::queries::developers::{NewListedDeveloper, upsert_listed};
    let app = spawn_app().await;
    let mut conn = app.db.connect().await;
    let listed = |github_id: i64, login: &'static str, avatar: &'static str| NewListedDeveloper {
        github_id,
        login,
        avatar_url: Some(avatar),
        html_url: None,
    };
    let version = async |github_id: i64| {
        app.db
            .text(&format!(
                "SELECT xmin::text || ' ' || login || ' ' || coalesce(avatar_url, '') || ' ' \
                 || (gone_at IS NULL) AS t FROM developers WHERE github_id = {github_id}"
            ))
            .await
    };
    let first = upsert_listed(
        &mut conn,
        &[listed(42, "octocat", "a"), listed(43, "hubot", "h")],
    )
    .await
    .expect("first listing");
    assert_eq!(first.len(), 2);
    let (octocat, hubot) = (version(42).await, version(43).await);

    // Listed again as stored, beside a newcomer: no new row version, every id returned.
    let again = upsert_listed(
        &mut conn,
        &[
            listed(43, "hubot", "h"),
            listed(42, "octocat", "a"),
            listed(44, "new", "n"),
        ],
    )
    .await
    .expect("second listing");
    assert_eq!(again.len(), 3);
    assert_eq!((again[&42], again[&43]), (first[&42], first[&43]));
    assert_eq!(
        (version(42).await, version(43).await),
        (octocat.clone(), hubot)
    );

    // A changed avatar, a new login and a developer marked gone are written.
    upsert_listed(&mut conn, &[listed(42, "octocat", "b")])
        .await
        .expect("new avatar");
    let changed = version(42).await;
    assert_ne!(changed, octocat);
    assert!(changed.ends_with(" octocat b true"), "{changed}");
    upsert_listed(&mut conn, &[listed(43, "hubot-renamed", "h")])
        .await
        .expect("renamed");
    assert!(version(43).await.ends_with(" hubot-renamed h true"));
    diesel::sql_query("UPDATE developers SET gone_at = now() WHERE github_id = 44")
        .execute(&mut conn)
        .await
        .expect("mark gone");
    let back = upsert_listed(&mut conn, &[listed(44, "new", "n")])
        .await
        .expect("listed again");
    assert_eq!(back[&44], again[&44]);
    assert!(
        version(44).await.ends_with(" new n true"),
        "listing clears gone_at"
    );
}

#[tokio::test]
async fn only_one_identical_task_can_be_active_at_a_time() {
    let app = spawn_app().await;
    let mut conn = app.db.connect().await;
    let insert = "INSERT INTO tasks (name, username, args, dedupe_key, status) \
                  VALUES ('full_profile_sync', 'octocat', '{\"username\": \"octocat\"}', 'octocat', 'queued')";
    diesel::sql_query(insert)
        .execute(&mut conn)
        .await
        .expect("first task");
    // Same name and dedupe key, whatever else differs.
    let same = "INSERT INTO tasks (name, username, args, dedupe_key, status) \
                VALUES ('full_profile_sync', 'OctoCat', '{\"username\": \"OctoCat\"}', 'octocat', 'deferred')";
    assert_violates(
        diesel::sql_query(same).execute(&mut conn).await,
        "tasks_one_active_idx",
    );
    // Another kind may have the same key.
    diesel::sql_query("INSERT INTO tasks (name, dedupe_key) VALUES ('another_kind', 'octocat')")
        .execute(&mut conn)
        .await
        .expect("another kind, same key");
    diesel::sql_query("DELETE FROM tasks WHERE name = 'another_kind'")
        .execute(&mut conn)
        .await
        .expect("cleanup");
    // Once the first finished, the same task may run again.
    diesel::sql_query("UPDATE tasks SET status = 'succeeded'")
        .execute(&mut conn)
        .await
        .expect("finish");
    diesel::sql_query(insert)
        .execute(&mut conn)
        .await
        .expect("same task again after the first finished");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM tasks").await, 2);
}

#[tokio::test]
async fn an_identical_trigger_finds_the_active_task_under_a_generic_plan_too() {
    use gitomatic::db::queries::tasks;
    let app = spawn_app().await;
    let mut conn = app.db.connect().await;
    // What PostgreSQL may choose for a prepared statement after five executions.
    diesel::sql_query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .await
        .expect("generic plans");
    let task = tasks::NewTask {
        name: "full_profile_sync",
        args: serde_json::json!({"username": "octocat"}),
        dedupe_key: "octocat".into(),
        username: Some("octocat".into()),
        repo_name: None,
    };
    let (first, created) = tasks::insert_or_existing(&mut conn, &task)
        .await
        .expect("insert");
    assert!(created);
    for _ in 0..6 {
        let (again, created) = tasks::insert_or_existing(&mut conn, &task)
            .await
            .expect("the active task");
        assert!(!created);
        assert_eq!(again.id, first.id);
    }
}

#[tokio::test]
async fn relation_edges_are_unique_pairs() {
    let app = spawn_app().await;
    let mut conn = app.db.connect().await;
    diesel::sql_query("INSERT INTO developers (github_id, login) VALUES (1, 'a'), (2, 'b')")
        .execute(&mut conn)
        .await
        .expect("developers");
    let follow = "INSERT INTO follows (follower_id, followee_id) \
                  SELECT a.id, b.id FROM developers a, developers b \
                  WHERE a.github_id = 1 AND b.github_id = 2";
    diesel::sql_query(follow)
        .execute(&mut conn)
        .await
        .expect("edge");
    assert_violates(
        diesel::sql_query(follow).execute(&mut conn).await,
        "follows_pkey",
    );
}

/// Asserts that a statement failed on exactly this unique constraint (not on a typo).
fn assert_violates(result: diesel::QueryResult<usize>, constraint: &str) {
    match result {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        )) => assert_eq!(
            info.constraint_name(),
            Some(constraint),
            "{}",
            info.message()
        ),
        other => panic!("expected a violation of {constraint}, got {other:?}"),
    }
}

async fn count(conn: &mut diesel_async::AsyncPgConnection, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .expect("count")
        .n
}
