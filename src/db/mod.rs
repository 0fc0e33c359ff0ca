//! PostgreSQL: the connection pool, embedded migrations, the schema and every query.
//!
//! diesel-async with a deadpool pool: async all the way, no libpq, and migrations run
//! through diesel's sync harness on a blocking thread.

pub mod cursor;
pub mod filter;
pub mod paginate;
pub mod queries;
pub mod schema;

use diesel::Connection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{self, Object};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pool of async PostgreSQL connections.
pub type Pool = deadpool::Pool<AsyncPgConnection>;

/// One pooled connection.
pub type Conn = Object<AsyncPgConnection>;

/// A database failure: no connection could be had, or a statement failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The pool could not hand out a connection (database down or pool exhausted).
    #[error("database unavailable: {0}")]
    Pool(#[from] deadpool::PoolError),
    /// A statement failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// Setting up failed: building the pool, connecting, or migrating.
    #[error("{0}")]
    Setup(String),
    /// A write did not produce the row it must have produced.
    #[error("database inconsistency: {0}")]
    Inconsistent(String),
    /// A statement or COPY stream on a tokio-postgres connection of its own (the follow
    /// rank's bulk read and write, which diesel-async cannot express) failed.
    #[error("database copy failed: {0}")]
    Copy(tokio_postgres::Error),
}

impl DbError {
    /// Whether the database itself is out of reach (so "try again later", not a bug).
    ///
    /// True when the pool could not hand out a connection (down, refusing, pool exhausted)
    /// or when a connection was lost during a statement: diesel-async reports a connection
    /// gone without a SQLSTATE as `UnableToSendCommand`, and PostgreSQL ending a session
    /// (shutdown, `pg_terminate_backend`, a crashed backend) says "terminating connection".
    /// Any other failure — a bad column, a violated constraint, a type mismatch, a row
    /// that should exist — is a bug in gitomatic or its schema, not an outage.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Pool(_) => true,
            DbError::Query(
                Error::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _,
                )
                | Error::BrokenTransactionManager,
            ) => true,
            // The server ending the session (SQLSTATE 57P01-57P03: shutdown, restart, still
            // starting); diesel exposes no SQLSTATE, only the server's message.
            DbError::Query(Error::DatabaseError(DatabaseErrorKind::Unknown, info)) => {
                let message = info.message();
                message.starts_with("terminating connection")
                    || message.starts_with("the database system is")
            }
            DbError::Copy(error) => {
                error.is_closed()
                    || error.code().is_some_and(|code| {
                        code.code().starts_with("57P") || code.code().starts_with("08")
                    })
            }
            DbError::Query(_) | DbError::Setup(_) | DbError::Inconsistent(_) => false,
        }
    }

    /// Whether PostgreSQL cancelled the statement for running past `statement_timeout`
    /// (SQLSTATE 57014; diesel exposes only the server's message).
    pub fn is_statement_timeout(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(self, DbError::Query(Error::DatabaseError(DatabaseErrorKind::Unknown, info))
            if info.message().starts_with("canceling statement due to statement timeout"))
    }

    /// Whether running the same work again may succeed: the database is unavailable, or
    /// PostgreSQL chose this transaction as a deadlock's or serialization conflict's victim
    /// (SQLSTATE 40P01 / 40001).
    pub fn is_transient(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Query(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => {
                true
            }
            DbError::Query(Error::DatabaseError(DatabaseErrorKind::Unknown, info))
                if info.message().starts_with("deadlock detected") =>
            {
                true
            }
            DbError::Copy(error)
                if error
                    .code()
                    .is_some_and(|code| matches!(code.code(), "40001" | "40P01")) =>
            {
                true
            }
            other => other.is_unavailable(),
        }
    }
}

/// The rows of one upsert statement: each key once (PostgreSQL refuses to update a row
/// twice in one statement; the first row of a key wins) and in key order, so that
/// concurrent upserts of overlapping rows lock them in the same order and cannot deadlock.
pub(crate) fn upsert_rows<T, K: Ord>(rows: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
    let mut unique = std::collections::BTreeMap::new();
    for row in rows {
        unique.entry(key(row)).or_insert(row);
    }
    unique.into_values().collect()
}

/// A duration as a PostgreSQL `interval` bind value (saturating).
pub(crate) fn pg_interval(duration: std::time::Duration) -> diesel::pg::data_types::PgInterval {
    diesel::pg::data_types::PgInterval::from_microseconds(
        i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
    )
}

/// Builds a connection pool; connections are opened lazily, on first use.
///
/// A connection is checked out as it was left (diesel-async's `RecyclingMethod::Fast`):
/// one left in a transaction or closed by the server is dropped, but no `SELECT 1` round
/// trip precedes every checkout (a crawl checks out a connection several times per GitHub
/// request). A connection that died unnoticed fails its next statement, which the jobs
/// treat as a transient database error (the task is deferred, not failed).
pub fn pool(database_url: &str, max_size: usize) -> Result<Pool, DbError> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .runtime(::deadpool::Runtime::Tokio1)
        .build()
        .map_err(|error| DbError::Setup(format!("cannot build the database pool: {error}")))
}

/// The database URL with a `statement_timeout` for every session opened from it; `None`
/// leaves it as it is.
pub fn with_statement_timeout(
    database_url: &str,
    timeout: Option<std::time::Duration>,
) -> Result<String, DbError> {
    match timeout {
        Some(timeout) => with_setting(
            database_url,
            "statement_timeout",
            &timeout.as_millis().to_string(),
        ),
        None => Ok(database_url.to_owned()),
    }
}

/// The database URL with `synchronous_commit = off` for every session opened from it: a
/// commit returns once its WAL record is written, before it is flushed to disk, so the row
/// locks it held are released a disk flush sooner. A crash of PostgreSQL itself (not of a
/// process of ours) may lose the last fraction of a second of such commits — never a
/// later commit made with the default, and never leaving the database inconsistent. For
/// bookkeeping that GitHub's next answer rewrites anyway (the quota ledger).
pub fn with_asynchronous_commit(database_url: &str) -> Result<String, DbError> {
    with_setting(database_url, "synchronous_commit", "off")
}

/// The database URL with `-c name=value` added to its `options` (the libpq parameter,
/// which tokio-postgres honours): a setting of every session opened from it.
fn with_setting(database_url: &str, name: &str, value: &str) -> Result<String, DbError> {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let mut url = url::Url::parse(database_url)
        .map_err(|error| DbError::Setup(format!("DATABASE_URL is not a URL: {error}")))?;
    let setting = format!("-c {name}={value}");
    let options = match url.query_pairs().find(|(key, _)| key == "options") {
        Some((_, existing)) => format!("{existing} {setting}"),
        None => setting,
    };
    // Percent-encoded by hand rather than as a form: the PostgreSQL client reads `+` as
    // a plus, not a space.
    let mut query: Vec<String> = url
        .query_pairs()
        .filter(|(key, _)| key != "options")
        .map(|(key, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(&key, NON_ALPHANUMERIC),
                utf8_percent_encode(&value, NON_ALPHANUMERIC)
            )
        })
        .collect();
    query.push(format!(
        "options={}",
        utf8_percent_encode(&options, NON_ALPHANUMERIC)
    ));
    url.set_query(Some(&query.join("&")));
    Ok(url.into())
}

/// Applies every pending migration; returns the versions applied (none when up to date).
pub async fn run_pending_migrations(database_url: &str) -> Result<Vec<String>, DbError> {
    with_migration_harness(database_url, |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Lists the embedded migrations not yet applied to the database.
pub async fn pending_migrations(database_url: &str) -> Result<Vec<String>, DbError> {
    with_migration_harness(database_url, |conn| {
        conn.pending_migrations(MIGRATIONS)
            .map(|pending| pending.iter().map(|m| m.name().to_string()).collect())
    })
    .await
}

/// Fails with a clear message when the database is behind the binary's migrations.
pub async fn ensure_migrated(database_url: &str) -> Result<(), DbError> {
    let pending = pending_migrations(database_url).await?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(DbError::Setup(format!(
            "the database has {} pending migration(s) ({}): run `gitomatic migrate` first",
            pending.len(),
            pending.join(", ")
        )))
    }
}

type MigrationResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn with_migration_harness<T: Send + 'static>(
    database_url: &str,
    run: impl FnOnce(&mut AsyncConnectionWrapper<AsyncPgConnection>) -> MigrationResult<T>
    + Send
    + 'static,
) -> Result<T, DbError> {
    let url = database_url.to_owned();
    // diesel's migration harness is synchronous: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|error| DbError::Setup(format!("cannot connect to the database: {error}")))?;
        run(&mut conn).map_err(|error| DbError::Setup(format!("migration failed: {error}")))
    })
    .await
    .map_err(|error| DbError::Setup(format!("migration task panicked: {error}")))?
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::DbError;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DbError {
        DbError::Query(Error::DatabaseError(kind, Box::new(message.to_owned())))
    }

    #[test]
    fn a_lost_connection_is_unavailable() {
        for kind in [
            DatabaseErrorKind::ClosedConnection,
            DatabaseErrorKind::UnableToSendCommand,
        ] {
            assert!(database_error(kind, "connection closed").is_unavailable());
        }
        assert!(
            database_error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command"
            )
            .is_unavailable()
        );
        assert!(DbError::Pool(super::deadpool::PoolError::Closed).is_unavailable());
    }

    #[test]
    fn a_deadlock_victim_may_run_again_but_the_database_is_up() {
        let deadlock = database_error(DatabaseErrorKind::Unknown, "deadlock detected");
        assert!(deadlock.is_transient());
        assert!(!deadlock.is_unavailable());
        assert!(
            database_error(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize"
            )
            .is_transient()
        );
        assert!(
            !database_error(DatabaseErrorKind::Unknown, "column x does not exist").is_transient()
        );
    }

    #[test]
    fn a_failing_statement_is_a_bug_not_an_outage() {
        assert!(
            !database_error(DatabaseErrorKind::Unknown, "column t.bio does not exist")
                .is_unavailable()
        );
        assert!(
            !database_error(DatabaseErrorKind::UniqueViolation, "duplicate key").is_unavailable()
        );
        assert!(!DbError::Query(Error::NotFound).is_unavailable());
        assert!(!DbError::Inconsistent("no row".into()).is_unavailable());
    }
}

#[cfg(test)]
mod session_setting_tests {
    use super::{with_asynchronous_commit, with_statement_timeout};
    use std::time::Duration;

    #[test]
    fn the_timeout_rides_in_the_options_parameter_percent_encoded() {
        let url = with_statement_timeout(
            "postgres://u:p@db:5432/app?sslmode=disable",
            Some(Duration::from_millis(1500)),
        )
        .expect("a URL");
        assert_eq!(
            url,
            "postgres://u:p@db:5432/app?sslmode=disable&options=%2Dc%20statement%5Ftimeout%3D1500"
        );
        let kept = with_statement_timeout(
            "postgres://db/app?options=-c%20work_mem%3D64MB",
            Some(Duration::from_secs(2)),
        )
        .expect("a URL");
        assert!(
            kept.ends_with("options=%2Dc%20work%5Fmem%3D64MB%20%2Dc%20statement%5Ftimeout%3D2000"),
            "{kept}"
        );
        assert_eq!(
            with_statement_timeout("postgres://db/app", None).expect("a URL"),
            "postgres://db/app"
        );
    }

    #[test]
    fn asynchronous_commit_rides_in_the_options_parameter_beside_the_others() {
        assert_eq!(
            with_asynchronous_commit("postgres://db/app").expect("a URL"),
            "postgres://db/app?options=%2Dc%20synchronous%5Fcommit%3Doff"
        );
        let both = with_statement_timeout(
            &with_asynchronous_commit("postgres://db/app").expect("a URL"),
            Some(Duration::from_secs(1)),
        )
        .expect("a URL");
        assert!(
            both.ends_with(
                "options=%2Dc%20synchronous%5Fcommit%3Doff%20%2Dc%20statement%5Ftimeout%3D1000"
            ),
            "{both}"
        );
    }
}
