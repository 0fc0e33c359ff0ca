//! `TestDb`: a freshly created, migrated PostgreSQL database, dropped when the test ends.

// Also included by the benchmarks, which use only part of it.
#![allow(dead_code)]

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Server URL of the test PostgreSQL (without a database name).
fn server_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A database of its own for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
    server: String,
}

impl TestDb {
    /// Creates and migrates a new database.
    pub async fn new() -> Self {
        Self::new_on(&server_url()).await
    }

    /// Creates and migrates a new database on another server (`postgres://user@host:port`).
    pub async fn new_on(server: &str) -> Self {
        let db = Self::unmigrated_on(server).await;
        gitomatic::db::run_pending_migrations(&db.url)
            .await
            .expect("migrations apply");
        db
    }

    /// Creates an empty database with no migrations applied.
    pub async fn unmigrated() -> Self {
        Self::unmigrated_on(&server_url()).await
    }

    async fn unmigrated_on(server: &str) -> Self {
        let name = format!("gitomatic_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection(server).await;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = format!("{server}/{name}");
        Self {
            name,
            url,
            server: server.to_owned(),
        }
    }

    /// A direct connection to this database.
    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect to test database")
    }

    /// Runs `SELECT count(*) AS n ...`.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql)
            .get_result::<Count>(&mut self.connect().await)
            .await
            .expect("count query")
            .n
    }

    /// Runs `SELECT ... AS t` returning one text value (`''` for NULL).
    pub async fn text(&self, sql: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            t: Option<String>,
        }
        diesel::sql_query(sql)
            .get_result::<Text>(&mut self.connect().await)
            .await
            .expect("text query")
            .t
            .unwrap_or_default()
    }
}

async fn admin_connection(server: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(&format!("{server}/postgres"))
        .await
        .expect("connect to PostgreSQL (is it running on 127.0.0.1:5432?)")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = self.server.clone();
        // Drop runs outside async context: use a private runtime on a plain thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut admin = admin_connection(&server).await;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}
