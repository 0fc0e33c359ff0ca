//! `leaderboard_rebuild(full_name[, window])`: rebuilds one repository's scoring facts from
//! its stored activity. Webhook deliveries ask for it through [`schedule`]: at most once per
//! [`WINDOW_SECS`] per repository, shortly after the window of the first delivery that
//! changed its activity ends.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::queries::{leaderboards, repositories, tasks};
use crate::domain::FullName;
use crate::jobs::activity::{FULL_NAME, parse_full_name};
use crate::jobs::{ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// Deliveries changing a repository's activity within one window of this many seconds
/// (aligned on the epoch) share one rebuild.
pub const WINDOW_SECS: i64 = 10;

/// How long after its window ends a rebuild runs: the transactions that asked for it
/// during the window have committed by then.
const AFTER_WINDOW_SECS: i64 = 1;

/// `leaderboard_rebuild(full_name[, window])`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderboardRebuild {
    /// The repository.
    pub full_name: FullName,
    /// The window (epoch seconds / [`WINDOW_SECS`]) of the deliveries it is for; none for a
    /// rebuild asked for by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<i64>,
}

#[async_trait]
impl BackgroundJob for LeaderboardRebuild {
    const NAME: &'static str = "leaderboard_rebuild";
    const DESCRIPTION: &'static str =
        "Rebuild a repository's leaderboard (its scoring facts) from its stored activity.";
    const ARGS: &'static [ArgSpec] = &[ArgSpec {
        description: "A stored repository, `owner/name`",
        ..FULL_NAME
    }];

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {
            full_name: parse_full_name(args)?,
            window: None,
        })
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let mut conn = run.ctx.conn().await?;
        let repository = repositories::find_by_full_name(&mut conn, self.full_name.as_str())
            .await?
            .ok_or_else(|| JobError::Failed(format!("{} is not stored", self.full_name)))?;
        if let Some(window) = self.window {
            // Not before the window's end (the worker takes a deferred task up to a second
            // early), nor within WINDOW_SECS of the previous rebuild deliveries asked for
            // (one that ran late).
            let previous = leaderboards::last_delivery_rebuild(&mut conn, repository.id).await?;
            let at = [
                due(window),
                previous.map(|at| at + TimeDelta::seconds(WINDOW_SECS)),
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or_else(Utc::now);
            if let Ok(wait) = (at - Utc::now()).to_std() {
                if wait > MAX_SLEEP {
                    return Ok(Outcome::RunAgainAt { at, reason: None });
                }
                tokio::time::sleep(wait).await;
            }
            let started = Utc::now();
            leaderboards::rebuild(&mut conn, repository.id).await?;
            leaderboards::record_delivery_rebuild(&mut conn, repository.id, started).await?;
        } else {
            leaderboards::rebuild(&mut conn, repository.id).await?;
        }
        tracing::debug!(repository = %self.full_name, "leaderboard rebuilt");
        Ok(Outcome::Succeeded)
    }
}

/// The longest a rebuild waits for its time in the worker; a longer wait defers the task.
const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(2);

/// Asks, in the caller's transaction, for a rebuild of `full_name` after the current
/// window: a task deferred to the window's end (plus a second), shared by every delivery of
/// the window. Returns the task to publish after the commit, and when it is due, if the
/// task is new.
pub async fn schedule(
    conn: &mut AsyncPgConnection,
    full_name: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, DateTime<Utc>)>, JobError> {
    let Ok(full_name) = FullName::parse(full_name) else {
        return Ok(None);
    };
    let window = now.timestamp().div_euclid(WINDOW_SECS);
    let due = due(window).unwrap_or(now);
    let job = LeaderboardRebuild {
        full_name,
        window: Some(window),
    };
    let (row, created) = tasks::insert_or_existing(conn, &job.to_task()?).await?;
    if !created {
        return Ok(None);
    }
    tasks::defer(conn, row.id, due, None, 0).await?;
    Ok(Some((row.id, due)))
}

/// When the rebuild of a window runs.
fn due(window: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp((window + 1) * WINDOW_SECS + AFTER_WINDOW_SECS, 0)
}
