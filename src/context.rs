//! `AppContext`: what every role (web, worker, scheduler, CLI) shares: the configuration and
//! the connections. Jobs run in it; the job kinds themselves (`jobs::Registry`) are given to
//! the roles that dispatch them, beside it.

use std::sync::Arc;

use crate::config::Config;
use crate::db::{self, Pool};
use crate::github::{ClientOptions, GithubClient, GithubError};
use crate::live::LiveTasks;
use crate::metrics::Metrics;
use crate::queue::{Broker, Publisher, Topology};

/// Configuration and connections shared by all roles of a process.
#[derive(Clone)]
pub struct AppContext {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// PostgreSQL pool.
    pub db: Pool,
    /// RabbitMQ connection.
    pub broker: Arc<Broker>,
    /// The GitHub client of this process's identity.
    pub github: Arc<GithubClient>,
    /// Publishes job messages.
    pub publisher: Arc<Publisher>,
    /// The Prometheus families: this process's own, and its increments of the shared ones.
    pub metrics: Arc<Metrics>,
    /// Task status changes as they happen (listening starts with the first subscriber).
    pub live: Arc<LiveTasks>,
}

/// Database connections per process: enough for the web workers and concurrent jobs.
const POOL_SIZE: usize = 16;
/// Connections of the quota ledger's own pool: each GitHub request holds one for a
/// statement at a time (reserve, then settle), so a few serve every request in flight.
const LEDGER_POOL_SIZE: usize = 8;

impl AppContext {
    /// Builds the shared context; connections open lazily.
    pub fn new(config: Config) -> Result<Self, ContextError> {
        Self::with_github_options(config, ClientOptions::default())
    }

    /// Builds the shared context with explicit GitHub client tunables.
    pub fn with_github_options(
        config: Config,
        options: ClientOptions,
    ) -> Result<Self, ContextError> {
        let db = db::pool(&config.database_url, POOL_SIZE)?;
        // Every GitHub request writes the ledger's row of its identity twice, and every
        // concurrent request queues on that one row: committed without waiting for the
        // disk, its lock is held for microseconds instead of a flush (see
        // `db::with_asynchronous_commit`).
        let ledger_db = db::pool(
            &db::with_asynchronous_commit(&config.database_url)?,
            LEDGER_POOL_SIZE,
        )?;
        let broker = Arc::new(Broker::new(&config.amqp_url));
        let metrics = Arc::new(Metrics::new()?);
        let github = Arc::new(GithubClient::with_options(
            &config,
            ledger_db,
            metrics.clone(),
            options,
        )?);
        let publisher = Arc::new(Publisher::new(
            broker.clone(),
            Topology::new(&config.queue_prefix),
        ));
        let live = LiveTasks::new(&config.database_url, db.clone());
        Ok(Self {
            live,
            github,
            publisher,
            config: Arc::new(config),
            db,
            broker,
            metrics,
        })
    }

    /// The same context for the web role: its database sessions cancel any statement
    /// running past `WEB_STATEMENT_TIMEOUT_MS`, so that one expensive request cannot hold
    /// the database the workers share. A process running several roles keeps the other
    /// pool for them.
    pub fn for_web(mut self) -> Result<Self, db::DbError> {
        let url = db::with_statement_timeout(
            &self.config.database_url,
            self.config.web_statement_timeout(),
        )?;
        self.db = db::pool(&url, POOL_SIZE)?;
        Ok(self)
    }

    /// A pooled database connection; the caller owns it (and any transaction on it).
    pub async fn conn(&self) -> Result<db::Conn, db::DbError> {
        Ok(self.db.get().await?)
    }
}

/// The shared context could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The database pool could not be built.
    #[error(transparent)]
    Database(#[from] db::DbError),
    /// The GitHub client could not be built.
    #[error(transparent)]
    Github(#[from] GithubError),
    /// The metrics registry could not be built.
    #[error("cannot build the metrics registry: {0}")]
    Metrics(#[from] prometheus::Error),
}
