//! Running one delivered task: load the row, claim it, ask the throttle, run the job,
//! record the outcome, and only then let the message be acked.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::tasks::{self, TaskRow, status};
use crate::github::{GithubError, RequestStats, throttle};
use crate::jobs::{Job, JobError, discovery, profile, repository};
use crate::queue::JobMessage;
use crate::queue::consume::Settle;

/// Attempts after which a task that keeps meeting GitHub outages fails for good.
const MAX_ATTEMPTS: i32 = 6;

/// What became of one run, for the log line.
enum Outcome {
    Succeeded,
    Deferred(DateTime<Utc>),
    Failed(String),
}

/// Handles one job message; returns how to settle it.
pub async fn handle(ctx: AppContext, message: JobMessage) -> Settle {
    match handle_inner(&ctx, message.task_id).await {
        Ok(()) => Settle::Ack,
        Err(error) => {
            // Nothing could be recorded: give the database a moment, then try again.
            tracing::error!(task.id = %message.task_id, %error, "worker: database unavailable; requeueing");
            tokio::time::sleep(Duration::from_secs(2)).await;
            Settle::Requeue
        }
    }
}

async fn handle_inner(ctx: &AppContext, task_id: Uuid) -> Result<(), DbError> {
    let Some(row) = tasks::find(&ctx.db, task_id).await? else {
        tracing::warn!(task.id = %task_id, "worker: message for an unknown task dropped");
        return Ok(());
    };
    if row.is_terminal() {
        return Ok(());
    }
    let lease = Duration::from_secs(u64::from(ctx.config.task_lease_secs));
    if let Some(wait) = row
        .not_before
        .filter(|_| row.status == status::DEFERRED)
        .and_then(|at| (at - Utc::now()).to_std().ok())
        .filter(|wait| *wait >= Duration::from_secs(1))
    {
        // Came back from a delay bucket early: wait in the next smaller one.
        republish(ctx, task_id, wait).await;
        return Ok(());
    }
    let Some(row) = tasks::claim(&ctx.db, task_id, lease).await? else {
        // Another worker holds a live lease: look again once it could have expired.
        if row.status == status::RUNNING {
            republish(ctx, task_id, lease).await;
        }
        return Ok(());
    };
    run_claimed(ctx, row, lease).await
}

async fn run_claimed(ctx: &AppContext, row: TaskRow, lease: Duration) -> Result<(), DbError> {
    let started = Instant::now();
    let stats = RequestStats::default();
    let heartbeat = spawn_heartbeat(ctx, row.id, lease);
    let result = match Job::from_row(&row) {
        Ok(job) => run_job(ctx, &stats, &job).await,
        Err(error) => Err(JobError::InvalidTask(error)),
    };
    heartbeat.abort();
    let requests = stats.requests();
    let outcome = match result {
        Ok(()) => {
            tasks::finish(&ctx.db, row.id, status::SUCCEEDED, None, requests).await?;
            Outcome::Succeeded
        }
        Err(JobError::Database(error)) => return Err(error),
        Err(JobError::InvalidTask(error)) => {
            let message = format!("invalid task: {error}");
            tasks::finish(&ctx.db, row.id, status::FAILED, Some(&message), requests).await?;
            Outcome::Failed(message)
        }
        Err(JobError::Github(error)) => {
            match retry_time(&error, row.attempts, ctx.config.task_retry_secs) {
                Some(not_before) => {
                    tasks::defer(&ctx.db, row.id, not_before, &error.to_string(), requests).await?;
                    let wait = (not_before - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                    republish(ctx, row.id, wait).await;
                    Outcome::Deferred(not_before)
                }
                None => {
                    let message = error.to_string();
                    tasks::finish(&ctx.db, row.id, status::FAILED, Some(&message), requests)
                        .await?;
                    Outcome::Failed(message)
                }
            }
        }
    };
    log_outcome(ctx, &row, &outcome, started.elapsed(), &stats);
    Ok(())
}

async fn run_job(ctx: &AppContext, stats: &RequestStats, job: &Job) -> Result<(), JobError> {
    match job {
        Job::FullProfileSync { username } => {
            let stored = profile::stored(ctx, username).await?;
            ctx.github
                .ensure_quota(profile::estimate(stored.as_ref()))
                .await?;
            profile::run(ctx, stats, username, stored).await
        }
        Job::FullRepositorySync {
            username,
            repo_name,
        } => {
            ctx.github.ensure_quota(1).await?;
            repository::run(ctx, stats, username, repo_name).await
        }
        Job::DiscoveryScraper => discovery::run(ctx).await.map(|_| ()),
    }
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

fn spawn_heartbeat(
    ctx: &AppContext,
    task_id: Uuid,
    lease: Duration,
) -> tokio::task::JoinHandle<()> {
    let db = ctx.db.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(lease / 4);
        interval.tick().await;
        loop {
            interval.tick().await;
            if let Err(error) = tasks::heartbeat(&db, task_id).await {
                tracing::warn!(task.id = %task_id, %error, "worker: heartbeat failed");
            }
        }
    })
}

fn log_outcome(
    ctx: &AppContext,
    row: &TaskRow,
    outcome: &Outcome,
    elapsed: Duration,
    stats: &RequestStats,
) {
    let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let (outcome, detail) = match outcome {
        Outcome::Succeeded => ("succeeded", String::new()),
        Outcome::Deferred(at) => ("deferred", format!("until {}", at.to_rfc3339())),
        Outcome::Failed(message) => ("failed", message.clone()),
    };
    tracing::info!(
        task.id = %row.id,
        task.name = %row.name,
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
    ctx.metrics.task_finished(&row.name, outcome, elapsed);
}
