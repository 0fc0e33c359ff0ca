//! `enqueue`: the one way work is triggered — insert the task row, then publish its id.

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::tasks::{self, TaskRow};
use crate::jobs::Job;

/// Inserts the task (or finds the identical active one) and publishes it when new.
///
/// Returns the row and whether it was created. A failed publish leaves the row queued;
/// the scheduler's sweep republishes it, so the trigger still succeeds.
pub async fn enqueue(ctx: &AppContext, job: &Job) -> Result<(TaskRow, bool), DbError> {
    let (row, created) =
        tasks::insert_or_existing(&ctx.db, job.name(), job.username(), job.repo_name()).await?;
    if created && let Err(error) = ctx.publisher.publish(row.id).await {
        tracing::warn!(task.id = %row.id, %error, "task stored but not published; the sweep will republish it");
    }
    Ok((row, created))
}
