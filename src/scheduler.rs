//! `gitomatic scheduler`: on each cron entry the job kinds declare (DISCOVERY_CRON,
//! ACTIVITY_CRON, ...), enqueues what the kinds bound to it ask for, and republishes
//! stranded tasks. Only the scheduler holding a PostgreSQL advisory lock acts, so several
//! schedulers never double-enqueue.

use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::{Mutex, watch};
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::queries::tasks;
use crate::jobs::{Registry, enqueue};

/// How often the leader looks for stranded tasks, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

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

impl Leadership {
    /// Gives up leadership: closing the lock's session releases the lock at once, so
    /// another scheduler takes over on its next tick.
    async fn release(&self) {
        let mut guard = self.connection.lock().await;
        *guard = (None, false);
    }
}

/// Runs the scheduler, enqueueing what the job kinds of `registry` ask for, until `shutdown`
/// turns true.
pub async fn run(
    ctx: AppContext,
    registry: Arc<Registry>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let leadership = Arc::new(Leadership::new(&ctx));
    let mut scheduler = JobScheduler::new().await?;
    for schedule in registry.schedules() {
        anyhow::ensure!(
            ctx.config
                .crons()
                .any(|(read, _)| read.variable == schedule.variable),
            "the configuration did not read {} (a job kind's schedule): build it with the \
             registry's schedules",
            schedule.variable
        );
        let Some(cron) = ctx.config.cron(schedule.variable) else {
            tracing::info!(cron.variable = schedule.variable, "scheduler: entry is off");
            continue;
        };
        let (tick_ctx, tick_registry, tick_leadership) =
            (ctx.clone(), registry.clone(), leadership.clone());
        scheduler
            .add(CronJob::new_async(cron, move |_, _| {
                let ctx = tick_ctx.clone();
                let registry = tick_registry.clone();
                let leadership = tick_leadership.clone();
                Box::pin(async move { tick(&ctx, &registry, &leadership, schedule).await })
            })?)
            .await?;
        tracing::info!(
            cron.variable = schedule.variable,
            cron.expression = cron,
            "scheduler: entry on"
        );
    }
    scheduler.start().await?;
    tracing::info!("scheduler: started");
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
    scheduler.shutdown().await?;
    leadership.release().await;
    tracing::info!("scheduler: stopped");
    Ok(())
}

/// One tick of a cron entry: the leader enqueues what every kind bound to it asks for.
async fn tick(ctx: &AppContext, registry: &Registry, leadership: &Leadership, schedule: Schedule) {
    if !leadership.is_leader().await {
        tracing::debug!(
            cron.variable = schedule.variable,
            "scheduler: not the leader; tick left to the leader"
        );
        return;
    }
    for kind in registry.scheduled_by(schedule.variable) {
        let tasks = match kind.scheduled(ctx).await {
            Ok(tasks) => tasks,
            Err(error) => {
                tracing::error!(cron.variable = schedule.variable, task.name = kind.name(), %error, "scheduler: cannot list what to enqueue");
                continue;
            }
        };
        for task in tasks {
            match enqueue(ctx, &task).await {
                Ok((row, created)) => tracing::info!(
                    cron.variable = schedule.variable, task.id = %row.id, task.name = %row.name,
                    task.args = %row.args, created, "scheduler: task enqueued"
                ),
                Err(error) => tracing::error!(
                    cron.variable = schedule.variable, task.name = kind.name(), %error,
                    "scheduler: cannot enqueue"
                ),
            }
        }
    }
}

/// Republishes tasks whose message may have been lost (publish failed after commit, or
/// a worker died holding the lease).
async fn sweep_stranded(ctx: &AppContext) {
    let lease = Duration::from_secs(u64::from(ctx.config.task_lease_secs));
    let quiet = lease * 5;
    let stranded = async {
        let mut conn = ctx.db.get().await?;
        tasks::take_stranded(&mut conn, quiet, lease).await
    };
    match stranded.await {
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
