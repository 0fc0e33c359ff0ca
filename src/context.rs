//! `AppContext`: what every role (web, worker, scheduler, CLI) shares.

use std::sync::Arc;

use crate::config::Config;
use crate::db::{self, DbError, Pool};
use crate::queue::Broker;

/// Configuration and connections shared by all roles of a process.
#[derive(Clone)]
pub struct AppContext {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// PostgreSQL pool.
    pub db: Pool,
    /// RabbitMQ connection.
    pub broker: Arc<Broker>,
}

/// Database connections per process: enough for the web workers and concurrent jobs.
const POOL_SIZE: usize = 16;

impl AppContext {
    /// Builds the shared context; connections open lazily.
    pub fn new(config: Config) -> Result<Self, DbError> {
        let db = db::pool(&config.database_url, POOL_SIZE)?;
        let broker = Arc::new(Broker::new(&config.amqp_url));
        Ok(Self {
            config: Arc::new(config),
            db,
            broker,
        })
    }
}
