//! Running one delivered task: load the row, claim it, ask the throttle, run the job,
//! record the outcome, and only then let the message be acked.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use futures_util::FutureExt;
use uuid::Uuid;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::tasks::{self, TaskRow, TaskStatus};
use crate::github::{GithubError, RequestStats, throttle};
use crate::jobs::{JobError, JobRun, Outcome, Registry};
use crate::queue::JobMessage;
use crate::queue::consume::Settle;

/// Attempts after which a task that keeps meeting GitHub outages fails for good.
const MAX_ATTEMPTS: i32 = 6;

/// How soon a run that met a transient database failure (a deadlock's victim, a lost
/// connection) runs again.
const TRANSIENT_RETRY: Duration = Duration::from_secs(2);

/// What became of one run, for the log line and the metrics.
enum RunOutcome {
    /// With the job's note, if it left one.
    Succeeded(Option<String>),
    /// Until when, and why (the reason also stored on the task).
    Deferred(DateTime<Utc>, Option<String>),
    Failed(String),
}

impl RunOutcome {
    /// The log line's `detail`: the note, until when and why a run was deferred (a
    /// deadlock's victim says so), or the failure.
    fn detail(&self) -> String {
        match self {
            RunOutcome::Succeeded(note) => note.clone().unwrap_or_default(),
            RunOutcome::Deferred(at, None) => format!("until {}", at.to_rfc3339()),
            RunOutcome::Deferred(at, Some(reason)) => {
                format!("until {}: {reason}", at.to_rfc3339())
            }
            RunOutcome::Failed(message) => message.clone(),
        }
    }

    fn label(&self) -> &'static str {
        match self {
            RunOutcome::Succeeded(_) => "succeeded",
            RunOutcome::Deferred(..) => "deferred",
            RunOutcome::Failed(_) => "failed",
        }
    }
}

/// Handles one job message, running its task as the registry's kind of that name; returns
/// how to settle it.
pub async fn handle(ctx: AppContext, registry: &Registry, message: JobMessage) -> Settle {
    match handle_inner(&ctx, registry, message.task_id).await {
        Ok(()) => Settle::Ack,
        Err(error) => {
            // Nothing could be recorded: give the database a moment, then try again.
            tracing::error!(task.id = %message.task_id, %error, "worker: database unavailable; requeueing");
            tokio::time::sleep(Duration::from_secs(2)).await;
            Settle::Requeue
        }
    }
}

async fn handle_inner(ctx: &AppContext, registry: &Registry, task_id: Uuid) -> Result<(), DbError> {
    let mut conn = ctx.conn().await?;
    let Some(row) = tasks::find(&mut conn, task_id).await? else {
        tracing::warn!(task.id = %task_id, "worker: message for an unknown task dropped");
        return Ok(());
    };
    if row.is_terminal() {
        return Ok(());
    }
    let lease = Duration::from_secs(u64::from(ctx.config.task_lease_secs));
    if let Some(wait) = row
        .not_before
        .filter(|_| row.status == TaskStatus::Deferred)
        .and_then(|at| (at - Utc::now()).to_std().ok())
        .filter(|wait| *wait >= Duration::from_secs(1))
    {
        // Came back from a delay bucket early: wait in the next smaller one.
        republish(ctx, task_id, wait).await;
        return Ok(());
    }
    let Some(claimed) = tasks::claim(&mut conn, task_id, lease).await? else {
        // Another worker holds a live lease: look again once it could have expired.
        if row.status == TaskStatus::Running {
            republish(ctx, task_id, lease).await;
        }
        return Ok(());
    };
    drop(conn);
    run_claimed(ctx, registry, claimed, lease).await
}

async fn run_claimed(
    ctx: &AppContext,
    registry: &Registry,
    row: TaskRow,
    lease: Duration,
) -> Result<(), DbError> {
    let started = Instant::now();
    let stats = RequestStats::default();
    let result = {
        let _heartbeat = Heartbeat::start(ctx, row.id, lease);
        execute(ctx, registry, &stats, &row).await
    };
    let elapsed = started.elapsed();
    let outcome = record(ctx, &row, result, &stats, elapsed).await?;
    log_outcome(&row, &outcome, elapsed, &stats);
    Ok(())
}

/// Runs the task's job through the registry; a panic becomes an error, not a lost task.
async fn execute(
    ctx: &AppContext,
    registry: &Registry,
    stats: &RequestStats,
    row: &TaskRow,
) -> Result<Outcome, JobError> {
    let Some(kind) = registry.get(&row.name) else {
        return Err(JobError::InvalidTask(format!(
            "task name {} not recognized",
            row.name
        )));
    };
    let run = JobRun {
        ctx,
        registry,
        stats,
        task_id: row.id,
        attempt: row.attempts,
    };
    AssertUnwindSafe(kind.execute(&run, &row.args))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(JobError::Panicked(panic_message(panic.as_ref()))))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|message| (*message).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Stores what became of the run; a database that is not answering is returned so the
/// message is requeued, any other failure ends the task.
///
/// A job that met a transient database failure (PostgreSQL chose it as a deadlock's
/// victim, or a connection was lost) is deferred for [`TRANSIENT_RETRY`]: that gives up
/// its claim, so it runs again in seconds. Merely requeueing the message would leave the
/// row `running` under a live lease, and the redelivered message would have to wait a
/// whole lease (`TASK_LEASE_SECS`) before it may claim the task again.
async fn record(
    ctx: &AppContext,
    row: &TaskRow,
    result: Result<Outcome, JobError>,
    stats: &RequestStats,
    elapsed: Duration,
) -> Result<RunOutcome, DbError> {
    let requests = stats.requests();
    let outcome = match result {
        Ok(Outcome::Succeeded) => RunOutcome::Succeeded(None),
        Ok(Outcome::SucceededWithNote(note)) => RunOutcome::Succeeded(Some(note)),
        Ok(Outcome::RunAgainAt { at, reason }) => RunOutcome::Deferred(at, reason),
        Err(JobError::Database(error)) if error.is_transient() => {
            let at = Utc::now()
                + chrono::Duration::from_std(TRANSIENT_RETRY).unwrap_or(chrono::Duration::zero());
            RunOutcome::Deferred(at, Some(format!("{error}; running again shortly")))
        }
        Err(JobError::Github(error)) => {
            match retry_time(&error, row.attempts, ctx.config.task_retry_secs) {
                Some(at) => RunOutcome::Deferred(at, Some(error.to_string())),
                None => RunOutcome::Failed(error.to_string()),
            }
        }
        Err(error) => {
            if let JobError::Database(cause) = &error {
                tracing::error!(task.id = %row.id, error = %cause, "job failed on a database error");
            }
            RunOutcome::Failed(error.to_string())
        }
    };
    let mut conn = ctx.conn().await?;
    ctx.metrics
        .task_finished(&row.name, outcome.label(), elapsed);
    let deferred_until = conn
        .transaction::<_, DbError, _>(async |conn| {
            let deferred_until = match &outcome {
                RunOutcome::Deferred(at, reason) => {
                    tasks::defer(conn, row.id, *at, reason.as_deref(), requests).await?;
                    Some(*at)
                }
                RunOutcome::Failed(message) => {
                    tasks::finish(conn, row.id, TaskStatus::Failed, Some(message), requests)
                        .await?;
                    None
                }
                RunOutcome::Succeeded(note) => {
                    tasks::finish(
                        conn,
                        row.id,
                        TaskStatus::Succeeded,
                        note.as_deref(),
                        requests,
                    )
                    .await?;
                    None
                }
            };
            // The run's metrics land with its status (a scrape that sees the task finished
            // sees it counted); in a savepoint, so a metrics failure never loses the status.
            let flushed = conn
                .transaction::<_, DbError, _>(async |conn| ctx.metrics.flush(conn).await)
                .await;
            if let Err(error) = flushed {
                tracing::warn!(%error, "worker: metrics not flushed; kept for the next flush");
            }
            Ok(deferred_until)
        })
        .await?;
    drop(conn);
    if let Some(at) = deferred_until {
        let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        republish(ctx, row.id, wait).await;
    }
    Ok(outcome)
}

/// When a failed run should be tried again, or `None` when it fails for good.
fn retry_time(error: &GithubError, attempts: i32, retry_secs: u32) -> Option<DateTime<Utc>> {
    match error {
        GithubError::QuotaReserve { reset } | GithubError::QuotaExhausted { reset } => {
            Some(throttle::defer_until(*reset))
        }
        GithubError::SecondaryLimit { .. } => error.retry_at().map(throttle::defer_until),
        GithubError::Unavailable { .. } if attempts < MAX_ATTEMPTS => {
            // GitHub is having a bad time: back off for minutes, not milliseconds.
            let factor = 1i64 << (attempts - 1).clamp(0, 5);
            Some(Utc::now() + chrono::Duration::seconds(i64::from(retry_secs) * factor))
        }
        GithubError::Database(_) => Some(Utc::now() + chrono::Duration::seconds(30)),
        _ => None,
    }
}

async fn republish(ctx: &AppContext, task_id: Uuid, wait: Duration) {
    if let Err(error) = ctx.publisher.publish_after(task_id, wait).await {
        // The row stays deferred or running; the scheduler's sweep republishes it.
        tracing::warn!(task.id = %task_id, %error, "worker: could not republish a task");
    }
}

/// Renews a running task's lease every quarter lease until dropped — whether the job
/// returned, failed or panicked.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    fn start(ctx: &AppContext, task_id: Uuid, lease: Duration) -> Self {
        let db = ctx.db.clone();
        Self(tokio::spawn(async move {
            let mut interval = tokio::time::interval(lease / 4);
            interval.tick().await;
            loop {
                interval.tick().await;
                let beat = async {
                    let mut conn = db.get().await?;
                    tasks::heartbeat(&mut conn, task_id).await
                };
                if let Err(error) = beat.await {
                    tracing::warn!(task.id = %task_id, %error, "worker: heartbeat failed");
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn log_outcome(row: &TaskRow, outcome: &RunOutcome, elapsed: Duration, stats: &RequestStats) {
    let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let detail = outcome.detail();
    let outcome = outcome.label();
    tracing::info!(
        task.id = %row.id,
        task.name = %row.name,
        task.args = %row.args,
        task.username = row.username.as_deref().unwrap_or(""),
        task.repo_name = row.repo_name.as_deref().unwrap_or(""),
        task.attempt = row.attempts,
        outcome,
        detail = %detail,
        duration_ms,
        github.requests = stats.requests(),
        github.not_modified = stats.not_modified(),
        "job finished"
    );
}

#[cfg(test)]
mod tests {
    use super::RunOutcome;
    use chrono::{TimeZone, Utc};

    #[test]
    fn a_deferral_logs_until_when_and_why() {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 8, 1, 0, 0)
            .single()
            .expect("a time");
        let victim = RunOutcome::Deferred(
            at,
            Some("database error: deadlock detected; running again shortly".into()),
        );
        assert_eq!(
            victim.detail(),
            "until 2026-12-08T01:00:00+00:00: database error: deadlock detected; \
             running again shortly"
        );
        assert_eq!(
            RunOutcome::Deferred(at, None).detail(),
            "until 2026-12-08T01:00:00+00:00"
        );
    }
}
