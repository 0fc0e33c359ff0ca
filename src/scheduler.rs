//! `gitomatic scheduler`: on each cron entry the job kinds declare (DISCOVERY_CRON,
//! ACTIVITY_CRON, ...), enqueues what the kinds bound to it ask for, and republishes
//! stranded tasks and samples the crawl and the quota for the dashboard. Only the scheduler
//! holding a PostgreSQL advisory lock acts, so several schedulers never double-enqueue.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::{Mutex, RwLock, RwLockReadGuard, watch};
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::queries::{samples, tasks};
use crate::jobs::{FRESH_FOR, Registry, enqueue};

/// How often the leader looks for stranded tasks, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// How often the leader samples the crawl and the quota for the dashboard (`samples`
/// keeps at most one sample a minute, whoever writes it).
const SAMPLE_EVERY: Duration = Duration::from_secs(60);

/// Leadership among schedulers: a session-level advisory lock on a dedicated connection.
/// The lock is released when the connection closes, so a dead leader is replaced on the
/// next tick of another scheduler.
struct Leadership {
    database_url: String,
    key: String,
    /// The lock's session, and whether it holds the lock.
    connection: Mutex<(Option<AsyncPgConnection>, bool)>,
    /// Turned true by [`Leadership::release`], for good. Every tick acts holding it for
    /// reading, so releasing waits for ticks in flight, and a tick the cron library fires
    /// after its shutdown (its ticker only looks at the shutdown flag between sleeps)
    /// neither acts nor takes the lock again on a fresh session that nothing would close.
    released: RwLock<bool>,
}

/// The occurrences of one cron entry this scheduler has acted on.
///
/// tokio-cron-scheduler fires an entry when its stored next tick has passed, and stores the
/// following one from a task of its own; on a busy runtime that task may not have run by
/// the ticker's next look, 500 ms later, and the same occurrence fires again. A firing is
/// acted on only for an occurrence later than the last one acted on, so every occurrence
/// is acted on at most once.
struct Occurrences {
    cron: Cron,
    /// The occurrence last acted on (at first, the time the scheduler started).
    last: std::sync::Mutex<DateTime<Utc>>,
}

impl Occurrences {
    /// Parses `expression` as tokio-cron-scheduler does (seconds required, day of month
    /// and day of week both required to match).
    fn new(expression: &str, started: DateTime<Utc>) -> anyhow::Result<Self> {
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(expression)
            .map_err(|error| anyhow::anyhow!("cron expression {expression:?}: {error}"))?;
        Ok(Self {
            cron,
            last: std::sync::Mutex::new(started),
        })
    }

    /// The occurrence a firing at `now` is for (the latest at or before `now`), or `None`
    /// when that one was acted on already.
    fn take(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Occurrences fall on whole seconds; croner keeps a start time's fraction.
        let due = self
            .cron
            .find_previous_occurrence(&now.trunc_subsecs(0), true)
            .ok()?;
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if due <= *last {
            return None;
        }
        *last = due;
        Some(due)
    }
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
            released: RwLock::new(false),
        }
    }

    /// Leads for as long as the returned guard lives (one tick's work), or `None` when
    /// another scheduler leads or this one was released.
    async fn lead(&self) -> Option<RwLockReadGuard<'_, bool>> {
        let released = self.released.read().await;
        if *released || !self.is_leader().await {
            return None;
        }
        Some(released)
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
    /// Gives up leadership for good, once the ticks in flight are done: closing the
    /// lock's session releases the lock at once, so another scheduler takes over on its
    /// next tick.
    async fn release(&self) {
        let mut released = self.released.write().await;
        *released = true;
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
    let started = Utc::now();
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
        let occurrences = Arc::new(Occurrences::new(cron, started)?);
        scheduler
            .add(CronJob::new_async(cron, move |_, _| {
                let ctx = tick_ctx.clone();
                let registry = tick_registry.clone();
                let leadership = tick_leadership.clone();
                let occurrences = occurrences.clone();
                Box::pin(async move {
                    let Some(due) = occurrences.take(Utc::now()) else {
                        tracing::debug!(
                            cron.variable = schedule.variable,
                            "scheduler: a second firing for one occurrence ignored"
                        );
                        return;
                    };
                    tracing::debug!(cron.variable = schedule.variable, cron.due = %due, "scheduler: tick");
                    tick(&ctx, &registry, &leadership, schedule).await;
                })
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
    let mut sample = tokio::time::interval(SAMPLE_EVERY);
    sample.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() { break; }
            }
            _ = sweep.tick() => {
                if let Some(_leading) = leadership.lead().await {
                    sweep_stranded(&ctx).await;
                }
            }
            _ = sample.tick() => {
                if let Some(_leading) = leadership.lead().await {
                    take_sample(&ctx).await;
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
    let Some(_leading) = leadership.lead().await else {
        tracing::debug!(
            cron.variable = schedule.variable,
            "scheduler: not the leader (or stopped); tick left to the leader"
        );
        return;
    };
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

/// Samples the crawl and the quota for the dashboard's charts and deletes samples past
/// their retention, on the scheduler's pool (no statement timeout): the counts are one
/// pass over `developers` a minute.
async fn take_sample(ctx: &AppContext) {
    let taken = async {
        let mut conn = ctx.db.get().await?;
        samples::take(&mut conn, FRESH_FOR, samples::RETENTION).await
    };
    match taken.await {
        Ok(samples::Taken {
            sample: Some(sample),
            pruned,
        }) => tracing::debug!(
            sample.taken_at = %sample.taken_at, sample.synced = sample.synced,
            sample.frontier = sample.frontier, sample.pruned = pruned, "scheduler: sample taken"
        ),
        Ok(samples::Taken { sample: None, .. }) => {
            tracing::debug!("scheduler: this minute was sampled already");
        }
        Err(error) => tracing::warn!(%error, "scheduler: sampling failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + millis).expect("a valid time")
    }

    #[test]
    fn each_occurrence_is_taken_once_however_often_it_fires() {
        let every_second = Occurrences::new("* * * * * *", at(0)).expect("parses");
        assert_eq!(every_second.take(at(1_200)), Some(at(1_000)));
        // The library firing the same occurrence again, 500 ms later.
        assert_eq!(every_second.take(at(1_700)), None);
        assert_eq!(every_second.take(at(2_050)), Some(at(2_000)));
        // A late firing stands for the latest occurrence it missed, once.
        assert_eq!(every_second.take(at(5_400)), Some(at(5_000)));
        assert_eq!(every_second.take(at(5_900)), None);
    }

    #[test]
    fn nothing_is_taken_before_the_first_occurrence_after_the_start() {
        let hourly = Occurrences::new("0 0 * * * *", at(0)).expect("parses");
        assert_eq!(hourly.take(at(1_000)), None);
    }

    #[test]
    fn an_expression_the_library_refuses_is_refused_naming_it() {
        let error = Occurrences::new("* * * *", at(0))
            .err()
            .expect("refused")
            .to_string();
        assert!(error.contains("\"* * * *\""), "{error}");
    }
}
