//! `enqueue`: the one way work is triggered — insert the task row, commit, then publish
//! its id.

use uuid::Uuid;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::tasks::{self, NewTask, TaskRow};

/// Inserts the task (or finds the identical active one) and publishes it when new.
///
/// Returns the row and whether it was created. A failed publish leaves the row queued;
/// the scheduler's sweep republishes it, so the trigger still succeeds. To enqueue in the
/// transaction of the write that triggered the task, call
/// [`tasks::insert_or_existing`] in that transaction and [`publish_created`] after it
/// committed.
pub async fn enqueue(ctx: &AppContext, task: &NewTask) -> Result<(TaskRow, bool), DbError> {
    let mut conn = ctx.conn().await?;
    let (row, created) = tasks::insert_or_existing(&mut conn, task).await?;
    drop(conn);
    if created {
        publish_created(ctx, &[row.id]).await;
    }
    Ok((row, created))
}

/// Publishes tasks whose rows were committed; a failure is left to the scheduler's sweep.
pub async fn publish_created(ctx: &AppContext, ids: &[Uuid]) {
    for id in ids {
        if let Err(error) = ctx.publisher.publish(*id).await {
            tracing::warn!(task.id = %id, %error, "task stored but not published; the sweep will republish it");
        }
    }
}
