//! `activity_reconcile(full_name)`: the daily check of what an incremental walk cannot see —
//! issues that vanished from their repository (transferred or deleted) and closed pull
//! requests of the last `RECONCILE_DAYS` whose merged state is unknown.

use async_trait::async_trait;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::queries::tracked::TrackedRepository;
use crate::db::queries::{issues, leaderboards};
use crate::domain::FullName;
use crate::github::activity::{Issue, PullRequest};
use crate::github::client::{Fetched, parse};
use crate::github::{PageItems, RequestStats};
use crate::jobs::activity::store::{self, Fresh, Home};
use crate::jobs::activity::timeline::read_timeline;
use crate::jobs::activity::{
    FULL_NAME, Pages, noting_block, parse_full_name, store_page, tracked_names, tracked_repository,
    transfer,
};
use crate::jobs::{ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// `activity_reconcile(full_name)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityReconcile {
    /// The tracked repository.
    pub full_name: FullName,
}

#[async_trait]
impl BackgroundJob for ActivityReconcile {
    const NAME: &'static str = "activity_reconcile";
    const DESCRIPTION: &'static str = "Reconcile a tracked repository: find issues that were transferred or deleted, and the merged state of recently closed pull requests where it is unknown.";
    const ARGS: &'static [ArgSpec] = &[FULL_NAME];
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "RECONCILE_CRON",
        default: "0 0 5 * * *",
        description: "daily reconciliation of tracked repositories",
    });

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {
            full_name: parse_full_name(args)?,
        })
    }

    async fn scheduled(ctx: &AppContext) -> Result<Vec<Self>, JobError> {
        Ok(tracked_names(ctx)
            .await?
            .into_iter()
            .map(|full_name| Self { full_name })
            .collect())
    }

    async fn estimate(&self, _ctx: &AppContext) -> Result<u32, JobError> {
        Ok(1)
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let tracked = tracked_repository(run.ctx, &self.full_name).await?;
        let outcome = reconcile(run, &tracked).await;
        noting_block(run.ctx, &tracked, outcome).await
    }
}

/// Finds what vanished from the repository's list and the merged state of recent pull
/// requests.
async fn reconcile(run: &JobRun<'_>, tracked: &TrackedRepository) -> Result<Outcome, JobError> {
    let (ctx, stats) = (run.ctx, run.stats);
    let Some(repository_id) = tracked.repository_id else {
        tracing::debug!(repository = %tracked.full_name, "never synced; nothing to reconcile");
        return Ok(Outcome::Succeeded);
    };
    let home = Home {
        repository_id,
        full_name: &tracked.full_name,
    };
    let listed = walk_all(ctx, stats, home).await?;
    let stored = issues::present(&mut *ctx.conn().await?, repository_id).await?;
    let mut vanished = 0;
    for issue in stored
        .iter()
        .filter(|issue| !listed.contains(&issue.github_id))
    {
        vanished += 1;
        look_up(ctx, stats, home, issue).await?;
    }
    let since = Utc::now() - chrono::TimeDelta::days(i64::from(ctx.config.reconcile_days));
    let unknown = issues::merge_unknown(&mut *ctx.conn().await?, repository_id, since).await?;
    for pull in &unknown {
        read_merge(ctx, stats, home, pull).await?;
    }
    if vanished > 0 || !unknown.is_empty() {
        leaderboards::rebuild(&mut *ctx.conn().await?, repository_id).await?;
    }
    tracing::debug!(repository = %tracked.full_name, vanished, merge_unknown = unknown.len(), "reconciled");
    Ok(Outcome::Succeeded)
}

/// Walks every issue and pull request of the repository (unchanged pages are free 304s),
/// storing fresh pages; returns the GitHub ids listed.
async fn walk_all(
    ctx: &AppContext,
    stats: &RequestStats,
    home: Home<'_>,
) -> Result<std::collections::HashSet<i64>, JobError> {
    // Oldest first: new issues go to the end, so the old pages stay the same and answer
    // free 304s (newest first, every new issue would shift every page and change its ETag).
    let path = format!(
        "/repos/{}/issues?state=all&sort=created&direction=asc&per_page={}",
        home.full_name,
        crate::github::paging::PER_PAGE
    );
    let what = format!("issues of GitHub repository {}", home.full_name);
    let mut pages = Pages::from(ctx.github.url(&path));
    let mut listed = std::collections::HashSet::new();
    while let Some(page) = pages.next::<Issue>(ctx, stats, &what).await? {
        listed.extend(page.ids());
        if let PageItems::Fresh(items) = &page.items {
            store_page(ctx, page.cache.as_ref(), Fresh::Issues(home, items)).await?;
        }
    }
    Ok(listed)
}

/// Asks GitHub for an issue its repository no longer lists: a 301 is a transfer, a 404 a
/// disappearance (`vanished_at`), a 410 a deletion (`deleted_at`), a 200 an issue listed again.
async fn look_up(
    ctx: &AppContext,
    stats: &RequestStats,
    home: Home<'_>,
    issue: &issues::StoredIssue,
) -> Result<(), JobError> {
    let url = ctx.github.url(&format!(
        "/repos/{}/issues/{}",
        home.full_name, issue.number
    ));
    match ctx.github.get(stats, &url, None).await? {
        Fetched::Moved { location } => {
            follow_transfer(ctx, stats, issue, home.full_name, &location).await
        }
        Fetched::NotFound => {
            issues::mark_vanished(&mut *ctx.conn().await?, issue.id).await?;
            Ok(())
        }
        Fetched::Gone => {
            issues::mark_deleted(&mut *ctx.conn().await?, issue.id).await?;
            Ok(())
        }
        Fetched::Modified { body, .. } => {
            let payload: Issue = parse(&url, &body)?;
            if payload.id == issue.github_id {
                store::issues(&mut *ctx.conn().await?, home, &[payload]).await?;
            } else {
                // Another issue now answers to this number: the stored one is gone.
                issues::mark_vanished(&mut *ctx.conn().await?, issue.id).await?;
            }
            Ok(())
        }
        Fetched::NotModified { .. } | Fetched::Accepted | Fetched::EmptyRepository => Ok(()),
    }
}

/// Follows an issue GitHub moved to `location`, then reads the timeline of the issue it
/// became.
async fn follow_transfer(
    ctx: &AppContext,
    stats: &RequestStats,
    issue: &issues::StoredIssue,
    from_full_name: &str,
    location: &str,
) -> Result<(), JobError> {
    match transfer::follow(ctx, stats, issue, from_full_name, location).await? {
        Some(moved) => read_timeline(ctx, stats, &moved.full_name, &moved).await,
        None => Ok(()),
    }
}

/// Reads a closed pull request's merged state from `GET /pulls/{n}`.
async fn read_merge(
    ctx: &AppContext,
    stats: &RequestStats,
    home: Home<'_>,
    pull: &issues::StoredIssue,
) -> Result<(), JobError> {
    let url = ctx
        .github
        .url(&format!("/repos/{}/pulls/{}", home.full_name, pull.number));
    match ctx.github.get(stats, &url, None).await? {
        Fetched::Modified { body, .. } => {
            let payload: PullRequest = parse(&url, &body)?;
            let merged = payload.merged.unwrap_or(payload.merged_at.is_some());
            issues::set_merged(
                &mut *ctx.conn().await?,
                pull.id,
                merged,
                payload.merged_at,
                payload.merged_by.as_ref().map(|user| user.login.as_str()),
            )
            .await?;
        }
        Fetched::Moved { location } => {
            follow_transfer(ctx, stats, pull, home.full_name, &location).await?;
        }
        Fetched::NotFound => issues::mark_vanished(&mut *ctx.conn().await?, pull.id).await?,
        Fetched::Gone => issues::mark_deleted(&mut *ctx.conn().await?, pull.id).await?,
        Fetched::NotModified { .. } | Fetched::Accepted | Fetched::EmptyRepository => {}
    }
    Ok(())
}
