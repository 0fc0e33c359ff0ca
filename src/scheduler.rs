//! `gitomatic scheduler`: enqueues discovery on DISCOVERY_CRON and republishes stranded
//! tasks. Only the scheduler holding a PostgreSQL advisory lock acts, so several
//! schedulers never double-enqueue.

use std::time::Duration;

use croner::parser::{CronParser, Seconds};
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::{Mutex, watch};
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};

use crate::context::AppContext;
use crate::db::queries::tasks;
use crate::jobs::{Job, enqueue};

/// How often the leader looks for stranded tasks, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Checks a cron expression the way the scheduler will parse it: six fields, seconds first.
pub fn validate_cron(expression: &str) -> Result<(), String> {
    let fields = expression.split_whitespace().count();
    if fields != 6 {
        return Err(format!("found {fields} fields"));
    }
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expression)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// Leadership among schedulers: a session-level advisory lock on a dedicated connection.
/// The lock is released when the connection closes, so a dead leader is replaced on the
/// next tick of another scheduler.
struct Leadership {
    database_url: String,
    key: String,
    /// The lock's session, and whether it holds the lock.
    connection: Mutex<(Option<AsyncPgConnection>, bool)>,
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

impl Leadership {
    fn new(ctx: &AppContext) -> Self {
        Self {
            database_url: ctx.config.database_url.clone(),
            key: format!("gitomatic.scheduler.{}", ctx.config.queue_prefix),
            connection: Mutex::new((None, false)),
        }
    }

    /// Whether this scheduler leads (taking the lock if it is free).
    async fn is_leader(&self) -> bool {
        let mut guard = self.connection.lock().await;
        let (connection, held) = &mut *guard;
        if connection.is_none() {
            *held = false;
            match AsyncPgConnection::establish(&self.database_url).await {
                Ok(conn) => *connection = Some(conn),
                Err(error) => {
                    tracing::warn!(%error, "scheduler: cannot connect for the leader lock");
                    return false;
                }
            }
        }
        let Some(conn) = connection.as_mut() else {
            return false;
        };
        // The holder only checks that its session (and so its lock) is still alive.
        let sql = if *held {
            "SELECT $1 <> '' AS locked"
        } else {
            "SELECT pg_try_advisory_lock(hashtext($1)) AS locked"
        };
        match diesel::sql_query(sql)
            .bind::<Text, _>(&self.key)
            .get_result::<Locked>(conn)
            .await
        {
            Ok(row) => {
                *held = row.locked;
                row.locked
            }
            Err(error) => {
                tracing::warn!(%error, "scheduler: leader lock session lost; reconnecting");
                *connection = None;
                *held = false;
                false
            }
        }
    }
}

/// Runs the scheduler until `shutdown` turns true.
pub async fn run(ctx: AppContext, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let leadership = std::sync::Arc::new(Leadership::new(&ctx));
    let scheduler = JobScheduler::new().await?;
    let cron = ctx.config.discovery_cron.clone();
    let (tick_ctx, tick_leadership) = (ctx.clone(), leadership.clone());
    scheduler
        .add(CronJob::new_async(cron.as_str(), move |_, _| {
            let ctx = tick_ctx.clone();
            let leadership = tick_leadership.clone();
            Box::pin(async move { discovery_tick(&ctx, &leadership).await })
        })?)
        .await?;
    scheduler.start().await?;
    tracing::info!(discovery_cron = %cron, "scheduler: started");
    let lease = Duration::from_secs(u64::from(ctx.config.task_lease_secs));
    let mut sweep = tokio::time::interval(SWEEP_EVERY.min(lease / 2));
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() { break; }
            }
            _ = sweep.tick() => {
                if leadership.is_leader().await {
                    sweep_stranded(&ctx).await;
                }
            }
        }
    }
    let mut scheduler = scheduler;
    scheduler.shutdown().await?;
    tracing::info!("scheduler: stopped");
    Ok(())
}

async fn discovery_tick(ctx: &AppContext, leadership: &Leadership) {
    if !leadership.is_leader().await {
        tracing::debug!("scheduler: not the leader; discovery left to the leader");
        return;
    }
    match enqueue(ctx, &Job::DiscoveryScraper).await {
        Ok((task, created)) => {
            tracing::info!(task.id = %task.id, created, "scheduler: discovery enqueued");
        }
        Err(error) => tracing::error!(%error, "scheduler: cannot enqueue discovery"),
    }
}

/// Republishes tasks whose message may have been lost (publish failed after commit, or
/// a worker died holding the lease).
async fn sweep_stranded(ctx: &AppContext) {
    let lease = Duration::from_secs(u64::from(ctx.config.task_lease_secs));
    let quiet = lease * 5;
    match tasks::take_stranded(&ctx.db, quiet, lease).await {
        Ok(ids) => {
            for id in ids {
                tracing::info!(task.id = %id, "scheduler: republishing a stranded task");
                if let Err(error) = ctx.publisher.publish(id).await {
                    tracing::warn!(task.id = %id, %error, "scheduler: republish failed");
                }
            }
        }
        Err(error) => tracing::warn!(%error, "scheduler: sweep failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::validate_cron;

    #[test]
    fn six_fields_with_seconds_are_required() {
        assert!(validate_cron("0 0 * * * *").is_ok());
        assert!(validate_cron("*/5 * * * * *").is_ok());
        assert!(validate_cron("0 * * * *").is_err());
        assert!(validate_cron("0 0 99 * * *").is_err());
    }
}
