//! `issue_timeline_sync(full_name)`: the timeline of every issue and pull request of a
//! tracked repository updated since its timeline was last read.
//!
//! Every page is sent with its own ETag and the walk always goes on to the last page, which
//! is asked for again each time (a new comment lands there; a walk that stopped at an
//! unchanged first page would never see it). Items are upserted by (issue, event, id or
//! sha), so a page read twice stores nothing twice.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::queries::issues::{self, StoredIssue};
use crate::db::queries::leaderboards;
use crate::db::queries::tracked::{self, TrackedRepository};
use crate::domain::FullName;
use crate::github::activity::TimelineItem;
use crate::github::{GithubError, PageItems, RequestStats};
use crate::jobs::activity::store::Fresh;
use crate::jobs::activity::{
    FULL_NAME, Pages, noting_block, parse_full_name, store_page, tracked_names, tracked_repository,
    transfer,
};
use crate::jobs::{ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// `issue_timeline_sync(full_name)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueTimelineSync {
    /// The tracked repository.
    pub full_name: FullName,
}

#[async_trait]
impl BackgroundJob for IssueTimelineSync {
    const NAME: &'static str = "issue_timeline_sync";
    const DESCRIPTION: &'static str = "Read the timeline of every issue and pull request of a tracked repository updated since its timeline was last read.";
    const ARGS: &'static [ArgSpec] = &[FULL_NAME];
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "TIMELINE_CRON",
        default: "0 */10 * * * *",
        description: "issue timeline syncs of tracked repositories",
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
        let outcome = self.read(run, &tracked).await;
        noting_block(run.ctx, &tracked, outcome).await
    }
}

impl IssueTimelineSync {
    /// Reads the timelines that are due.
    async fn read(
        &self,
        run: &JobRun<'_>,
        tracked: &TrackedRepository,
    ) -> Result<Outcome, JobError> {
        let Some(repository_id) = tracked.repository_id else {
            // Never synced: the activity sync reads the issues first, then asks for this.
            tracing::debug!(repository = %self.full_name, "no issues stored yet; nothing to read");
            return Ok(Outcome::Succeeded);
        };
        let due = issues::timeline_due(&mut *run.ctx.conn().await?, repository_id).await?;
        for issue in &due {
            read_timeline(run.ctx, run.stats, &tracked.full_name, issue).await?;
        }
        tracked::mark_timeline_synced(&mut *run.ctx.conn().await?, tracked.id).await?;
        if !due.is_empty() {
            leaderboards::rebuild(&mut *run.ctx.conn().await?, repository_id).await?;
        }
        tracing::debug!(repository = %tracked.full_name, issues = due.len(), "timelines read");
        Ok(Outcome::Succeeded)
    }
}

/// Reads one issue's timeline completely and records it as read at the issue's `updated_at`;
/// an issue that moved is followed as a transfer and the timeline of the issue it became is
/// read in its place (and so on along a chain of transfers), one that is gone is marked
/// vanished (404) or deleted (410).
pub(crate) async fn read_timeline(
    ctx: &AppContext,
    stats: &RequestStats,
    full_name: &str,
    issue: &StoredIssue,
) -> Result<(), JobError> {
    let mut visited = vec![issue.id];
    let mut moved = read_or_follow(ctx, stats, full_name, issue).await?;
    while let Some(issue) = moved {
        if visited.contains(&issue.id) {
            // GitHub redirects in a circle: what was followed is recorded; stop here.
            tracing::warn!(issue = %format!("{}#{}", issue.full_name, issue.number),
                "a chain of transfers leads back to an issue already read; not followed again");
            break;
        }
        visited.push(issue.id);
        moved = read_or_follow(ctx, stats, &issue.full_name, &issue).await?;
    }
    Ok(())
}

/// Reads one issue's timeline, or follows the issue to where it moved; returns the issue it
/// became, whose timeline is still to be read.
async fn read_or_follow(
    ctx: &AppContext,
    stats: &RequestStats,
    full_name: &str,
    issue: &StoredIssue,
) -> Result<Option<StoredIssue>, JobError> {
    let path = format!(
        "/repos/{full_name}/issues/{}/timeline?per_page={}",
        issue.number,
        crate::github::paging::PER_PAGE
    );
    let what = format!("timeline of {full_name}#{}", issue.number);
    let mut pages = Pages::from(ctx.github.url(&path));
    let mut position = 0;
    loop {
        let page = match pages.next::<TimelineItem>(ctx, stats, &what).await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(JobError::Github(GithubError::Moved { location, .. })) => {
                return transfer::follow(ctx, stats, issue, full_name, &issue_url_of(&location))
                    .await;
            }
            Err(JobError::Github(GithubError::NotFound { .. })) => {
                issues::mark_vanished(&mut *ctx.conn().await?, issue.id).await?;
                return Ok(None);
            }
            Err(JobError::Github(GithubError::Gone { .. })) => {
                tracing::info!(issue = %format!("{full_name}#{}", issue.number), "deleted on GitHub (410); its timeline is not read again");
                issues::mark_deleted(&mut *ctx.conn().await?, issue.id).await?;
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let first = position;
        match &page.items {
            PageItems::Fresh(items) => {
                position += items.len();
                let fresh = Fresh::Timeline {
                    issue_id: issue.id,
                    first,
                    items,
                };
                store_page(ctx, page.cache.as_ref(), fresh).await?;
            }
            PageItems::Unchanged(ids) => position += ids.len(),
        }
    }
    issues::mark_timeline_read(&mut *ctx.conn().await?, issue.id, issue.updated_at).await?;
    Ok(None)
}

/// The issue a moved timeline's `Location` belongs to: the URL without its query (the
/// redirect keeps `?per_page=…`) and without the `/timeline` segment.
fn issue_url_of(timeline_location: &str) -> String {
    match url::Url::parse(timeline_location) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let path = url
                .path()
                .trim_end_matches('/')
                .trim_end_matches("/timeline")
                .to_owned();
            url.set_path(&path);
            url.into()
        }
        Err(_) => timeline_location
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .trim_end_matches("/timeline")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::issue_url_of;

    #[test]
    fn a_moved_timeline_names_its_issue_without_query_or_timeline_segment() {
        for (location, issue) in [
            (
                "https://api.github.com/repos/a/b/issues/7/timeline?per_page=100",
                "https://api.github.com/repos/a/b/issues/7",
            ),
            (
                "http://127.0.0.1:9/repos/a/b/issues/7/timeline?per_page=100&page=2",
                "http://127.0.0.1:9/repos/a/b/issues/7",
            ),
            (
                "https://api.github.com/repos/a/b/issues/7/timeline",
                "https://api.github.com/repos/a/b/issues/7",
            ),
            (
                "https://api.github.com/repositories/42/issues/7",
                "https://api.github.com/repositories/42/issues/7",
            ),
        ] {
            assert_eq!(issue_url_of(location), issue, "{location}");
        }
    }
}
