//! Transfers: an issue whose URL answers 301 became another issue, usually in another
//! repository. The new issue is fetched and stored, the transfer recorded, the old issue
//! linked to the new one; nothing is deleted. Reading the new issue's timeline is left to
//! the caller.

use diesel_async::AsyncConnection;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::issues::{self, StoredIssue};
use crate::db::queries::transfers::{self, NewTransfer};
use crate::domain::FullName;
use crate::github::RequestStats;
use crate::github::activity::Issue;
use crate::github::client::{Fetched, parse};
use crate::jobs::JobError;
use crate::jobs::activity::resolve;
use crate::jobs::activity::store::{self, Home};

/// Follows `location` (where GitHub says `issue` went), stores the issue it became and
/// links both. Returns that new issue, whose timeline is still to be read; none when there
/// is no other issue to read (the location is gone, or the same issue answers there under
/// a new repository name).
pub async fn follow(
    ctx: &AppContext,
    stats: &RequestStats,
    issue: &StoredIssue,
    from_full_name: &str,
    location: &str,
) -> Result<Option<StoredIssue>, JobError> {
    let payload: Issue = match ctx.github.get(stats, location, None).await? {
        Fetched::Modified { body, .. } => parse(location, &body)?,
        Fetched::NotFound => {
            issues::mark_vanished(&mut *ctx.conn().await?, issue.id).await?;
            return Ok(None);
        }
        Fetched::Gone => {
            issues::mark_deleted(&mut *ctx.conn().await?, issue.id).await?;
            return Ok(None);
        }
        other => {
            return Err(JobError::Failed(format!(
                "{from_full_name}#{} moved to {location}, which answered {other:?}",
                issue.number
            )));
        }
    };
    if payload.id == issue.github_id {
        // The same issue under a new repository name: the next activity sync stores it.
        return Ok(None);
    }
    let to_full_name = payload
        .repository_full_name()
        .ok_or_else(|| JobError::Failed(format!("{location} names no repository_url")))?;
    let parsed = FullName::parse(&to_full_name).map_err(JobError::Failed)?;
    let (repository_id, to_full_name) = resolve(ctx, stats, &parsed).await?;
    let home = Home {
        repository_id,
        full_name: &to_full_name,
    };
    let mut conn = ctx.conn().await?;
    let new_id = conn
        .transaction::<_, DbError, _>(async |conn| {
            let ids = store::issues(conn, home, std::slice::from_ref(&payload)).await?;
            let new_id = ids
                .get(&payload.id)
                .copied()
                .ok_or_else(|| DbError::Inconsistent(format!("issue {location} was not stored")))?;
            transfers::record(
                conn,
                &NewTransfer {
                    from_issue_id: issue.id,
                    to_issue_id: new_id,
                    from_full_name,
                    from_number: issue.number,
                    to_full_name: &to_full_name,
                    to_number: payload.number,
                },
            )
            .await?;
            issues::mark_transferred(conn, issue.id, new_id).await?;
            Ok(new_id)
        })
        .await?;
    drop(conn);
    tracing::info!(
        from = %format!("{from_full_name}#{}", issue.number),
        to = %format!("{to_full_name}#{}", payload.number),
        "issue transferred"
    );
    Ok(Some(StoredIssue {
        id: new_id,
        github_id: payload.id,
        repository_id,
        full_name: to_full_name,
        number: payload.number,
        is_pull_request: payload.is_pull_request(),
        updated_at: payload.updated_at,
    }))
}
