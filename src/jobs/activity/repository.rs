//! `repository_activity_sync(full_name[, since, until])`: a tracked repository's issues and
//! pull requests, commits, releases and contributor statistics.
//!
//! Issues and pull requests come from one walk of `/issues?state=all&sort=updated` along
//! GitHub's `Link` header, each page sent with its ETag; the merged state of a pull request
//! comes from `pull_request.merged_at` in that payload. The watermark (the latest
//! `updated_at` stored) only moves after a complete walk, and the next walk starts an hour
//! before it. With `since`/`until` (a backfill window) the walk covers that window and
//! leaves the watermark alone.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel_async::AsyncConnection;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::contributor_weeks::{self, NewContributorWeek};
use crate::db::queries::pages::{self, CachedPage};
use crate::db::queries::{commits, issues, leaderboards, tracked};
use crate::domain::FullName;
use crate::github::activity::{Commit, ContributorStats, Issue, Release};
use crate::github::client::{Fetched, parse};
use crate::github::{GithubError, PageItems, RequestStats};
use crate::jobs::activity::store::{self, Fresh, Home};
use crate::jobs::activity::timeline::IssueTimelineSync;
use crate::jobs::activity::{
    FULL_NAME, Pages, is_blocked, parse_full_name, record_block, resolve, store_page,
    tracked_names, tracked_repository,
};
use crate::jobs::{ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// How far before the watermark a walk starts: updates stored late by GitHub are not missed.
const OVERLAP: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// How long to wait when GitHub is still computing statistics (202): 30 to 120 s.
const STATS_RETRY: std::ops::RangeInclusive<u64> = 30..=120;

/// `repository_activity_sync(full_name[, since, until])`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryActivitySync {
    /// The tracked repository.
    pub full_name: FullName,
    /// A backfill window's first day (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    /// A backfill window's end (exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

impl RepositoryActivitySync {
    /// The routine sync of a tracked repository (from its watermark).
    pub fn of(full_name: FullName) -> Self {
        Self {
            full_name,
            since: None,
            until: None,
        }
    }
}

impl RepositoryActivitySync {
    /// The history of a repository from `since` to `until` (exclusive) as one sync per
    /// calendar month (the first and last windows cut at `since` and `until`).
    pub fn backfill(full_name: &FullName, since: NaiveDate, until: NaiveDate) -> Vec<Self> {
        let mut windows = Vec::new();
        let mut start = since;
        while start < until {
            let next_month = start
                .with_day(1)
                .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
                .unwrap_or(until);
            let end = next_month.min(until);
            windows.push(Self {
                full_name: full_name.clone(),
                since: Some(start),
                until: Some(end),
            });
            start = end;
        }
        windows
    }
}

#[async_trait]
impl BackgroundJob for RepositoryActivitySync {
    const NAME: &'static str = "repository_activity_sync";
    const DESCRIPTION: &'static str = "Sync a tracked repository's issues and pull requests (from its watermark, or a since/until window), commits, releases and contributor statistics.";
    const ARGS: &'static [ArgSpec] = &[
        FULL_NAME,
        ArgSpec {
            name: "since",
            description: "Backfill window start, YYYY-MM-DD (default: the watermark)",
            example: "2026-01-01",
            required: false,
        },
        ArgSpec {
            name: "until",
            description: "Backfill window end, YYYY-MM-DD, exclusive (needs since)",
            example: "2026-02-01",
            required: false,
        },
    ];
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "ACTIVITY_CRON",
        default: "0 */30 * * * *",
        description: "repository activity syncs of tracked repositories",
    });

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        let full_name = parse_full_name(args)?;
        let since = args.date("since")?;
        let until = args.date("until")?;
        match (since, until) {
            (None, Some(_)) => Err(TaskRequestError::Invalid(
                "argument until needs since: a window is since..until".into(),
            )),
            (Some(since), Some(until)) if until <= since => Err(TaskRequestError::Invalid(
                format!("argument until ({until}) must be after since ({since})"),
            )),
            _ => Ok(Self {
                full_name,
                since,
                until,
            }),
        }
    }

    async fn scheduled(ctx: &AppContext) -> Result<Vec<Self>, JobError> {
        Ok(tracked_names(ctx)
            .await?
            .into_iter()
            .map(Self::of)
            .collect())
    }

    async fn estimate(&self, _ctx: &AppContext) -> Result<u32, JobError> {
        // The repository and the first pages of issues, commits, releases and statistics.
        Ok(5)
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let tracked = tracked_repository(run.ctx, &self.full_name).await?;
        let outcome = self.sync(run, &tracked.id).await;
        if let Err(error) = &outcome {
            if is_blocked(error) {
                record_block(run.ctx, &tracked, error).await?;
            } else if error_is_final(error) {
                tracked::record_repository_error(
                    &mut *run.ctx.conn().await?,
                    tracked.id,
                    &error.to_string(),
                )
                .await?;
            }
        }
        outcome
    }
}

/// Whether a failure is the repository's (recorded as `last_error`) rather than a wait.
fn error_is_final(error: &JobError) -> bool {
    match error {
        JobError::Github(github) => github.retry_at().is_none(),
        JobError::Database(_) => false,
        _ => true,
    }
}

impl RepositoryActivitySync {
    async fn sync(&self, run: &JobRun<'_>, tracked_id: &uuid::Uuid) -> Result<Outcome, JobError> {
        let (ctx, stats) = (run.ctx, run.stats);
        let tracked =
            tracked::get::<tracked::TrackedRepository>(&mut *ctx.conn().await?, *tracked_id)
                .await?
                .ok_or_else(|| {
                    JobError::Failed(format!("{} is no longer tracked", self.full_name))
                })?;
        let (repository_id, full_name) = resolve(ctx, stats, &self.full_name).await?;
        if tracked.repository_id != Some(repository_id) || tracked.full_name != full_name {
            tracked::resolve_repository(
                &mut *ctx.conn().await?,
                tracked.id,
                &full_name,
                repository_id,
            )
            .await?;
        }
        let home = Home {
            repository_id,
            full_name: &full_name,
        };
        let window = self.window(tracked.issues_watermark);
        let changed = walk_issues(ctx, stats, home, &window).await?;
        if window.advances_watermark
            && let Some(latest) =
                issues::latest_update(&mut *ctx.conn().await?, repository_id).await?
        {
            tracked::advance_issues_watermark(&mut *ctx.conn().await?, tracked.id, latest).await?;
        }
        let commits_since = match self.since {
            Some(since) => Some(midnight(since)),
            None => tracked.commits_watermark,
        };
        walk_commits(ctx, stats, home, commits_since, window.until).await?;
        if window.advances_watermark
            && let Some(latest) =
                commits::latest_commit(&mut *ctx.conn().await?, repository_id).await?
        {
            tracked::advance_commits_watermark(&mut *ctx.conn().await?, tracked.id, latest).await?;
        }
        walk_releases(ctx, stats, home).await?;
        if changed > 0 {
            // Their timelines are due: read them now rather than at the next TIMELINE_CRON.
            let full_name = FullName::parse(&full_name).map_err(JobError::Failed)?;
            crate::jobs::enqueue(ctx, &IssueTimelineSync { full_name }.to_task()?).await?;
        }
        if let Some(wait) = read_statistics(ctx, stats, home).await? {
            return Ok(Outcome::RunAgainAt {
                at: Utc::now() + wait,
                reason: Some(format!(
                    "GitHub is computing the contributor statistics of {full_name}; asking again in {}s",
                    wait.num_seconds()
                )),
            });
        }
        tracked::mark_activity_synced(&mut *ctx.conn().await?, tracked.id).await?;
        leaderboards::rebuild(&mut *ctx.conn().await?, repository_id).await?;
        tracing::debug!(repository = %full_name, changed, "repository activity synced");
        Ok(Outcome::Succeeded)
    }

    fn window(&self, watermark: Option<DateTime<Utc>>) -> Window {
        match self.since {
            Some(since) => Window {
                since: Some(midnight(since)),
                until: self.until.map(midnight),
                advances_watermark: false,
            },
            None => Window {
                since: watermark.map(|mark| mark - OVERLAP),
                until: None,
                advances_watermark: true,
            },
        }
    }
}

/// Which updates a walk asks for.
struct Window {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    advances_watermark: bool,
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Walks the issues and pull requests of the window, storing each fresh page with its cache
/// entry; returns how many items were fresh.
async fn walk_issues(
    ctx: &AppContext,
    stats: &RequestStats,
    home: Home<'_>,
    window: &Window,
) -> Result<usize, JobError> {
    let mut path = format!(
        "/repos/{}/issues?state=all&sort=updated&direction=asc&per_page={}",
        home.full_name,
        crate::github::paging::PER_PAGE
    );
    if let Some(since) = window.since {
        path.push_str(&format!("&since={}", rfc3339(since)));
    }
    let what = format!("issues of GitHub repository {}", home.full_name);
    let mut pages = Pages::from(ctx.github.url(&path));
    let mut fresh = 0;
    while let Some(page) = pages.next::<Issue>(ctx, stats, &what).await? {
        let PageItems::Fresh(items) = &page.items else {
            continue;
        };
        fresh += items.len();
        store_page(ctx, page.cache.as_ref(), Fresh::Issues(home, items)).await?;
        // Sorted by update: past the window's end, the rest is another window's.
        if let Some(until) = window.until
            && items.last().is_some_and(|issue| issue.updated_at >= until)
        {
            break;
        }
    }
    Ok(fresh)
}

/// Walks `/commits?since=` (and `until` in a backfill window).
async fn walk_commits(
    ctx: &AppContext,
    stats: &RequestStats,
    home: Home<'_>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<(), JobError> {
    let mut path = format!(
        "/repos/{}/commits?per_page={}",
        home.full_name,
        crate::github::paging::PER_PAGE
    );
    if let Some(since) = since {
        path.push_str(&format!("&since={}", rfc3339(since)));
    }
    if let Some(until) = until {
        path.push_str(&format!("&until={}", rfc3339(until)));
    }
    let what = format!("commits of GitHub repository {}", home.full_name);
    let mut pages = Pages::from(ctx.github.url(&path));
    while let Some(page) = pages.next::<Commit>(ctx, stats, &what).await? {
        if let PageItems::Fresh(items) = &page.items {
            store_page(ctx, page.cache.as_ref(), Fresh::Commits(home, items)).await?;
        }
    }
    Ok(())
}

/// Walks every release (an unchanged list is one free 304).
async fn walk_releases(
    ctx: &AppContext,
    stats: &RequestStats,
    home: Home<'_>,
) -> Result<(), JobError> {
    let path = format!(
        "/repos/{}/releases?per_page={}",
        home.full_name,
        crate::github::paging::PER_PAGE
    );
    let what = format!("releases of GitHub repository {}", home.full_name);
    let mut pages = Pages::from(ctx.github.url(&path));
    while let Some(page) = pages.next::<Release>(ctx, stats, &what).await? {
        if let PageItems::Fresh(items) = &page.items {
            store_page(ctx, page.cache.as_ref(), Fresh::Releases(home, items)).await?;
        }
    }
    Ok(())
}

/// Reads `/stats/contributors` with its ETag and replaces the stored weeks; returns how long
/// to wait when GitHub answers 202 (still computing).
async fn read_statistics(
    ctx: &AppContext,
    stats: &RequestStats,
    home: Home<'_>,
) -> Result<Option<chrono::TimeDelta>, JobError> {
    let url = ctx
        .github
        .url(&format!("/repos/{}/stats/contributors", home.full_name));
    let cached = pages::find(&mut *ctx.conn().await?, &url).await?;
    let etag = cached.as_ref().map(|page| page.etag.as_str());
    let (body, etag) = match ctx.github.get(stats, &url, etag).await? {
        Fetched::Accepted => {
            let secs = rand::thread_rng().gen_range(STATS_RETRY);
            let wait = chrono::TimeDelta::from_std(Duration::from_secs(secs)).unwrap_or_default();
            return Ok(Some(wait));
        }
        Fetched::NotModified { .. } => return Ok(None),
        Fetched::Modified { body, etag, .. } => (body, etag),
        // Not what GitHub answers here (it answers 204), but it means the same.
        Fetched::EmptyRepository => (String::new(), None),
        Fetched::NotFound => {
            return Err(GithubError::NotFound {
                what: format!(
                    "contributor statistics of GitHub repository {}",
                    home.full_name
                ),
            }
            .into());
        }
        Fetched::Gone => {
            return Err(GithubError::Gone {
                what: format!(
                    "contributor statistics of GitHub repository {}",
                    home.full_name
                ),
            }
            .into());
        }
        Fetched::Moved { location } => {
            return Err(GithubError::Moved { url, location }.into());
        }
    };
    // An empty repository answers 204 with no body.
    let contributors: Vec<ContributorStats> = if body.trim().is_empty() {
        Vec::new()
    } else {
        parse(&url, &body)?
    };
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, DbError, _>(async |conn| {
        let authors =
            store::accounts(conn, contributors.iter().filter_map(|c| c.author.as_ref())).await?;
        let rows: Vec<NewContributorWeek<'_>> = contributors
            .iter()
            .filter_map(|contributor| contributor.author.as_ref().map(|a| (a, contributor)))
            .flat_map(|(author, contributor)| {
                let developer_id = authors.get(&author.id).copied();
                contributor
                    .weeks
                    .iter()
                    .filter(|week| week.c > 0 || week.a > 0 || week.d > 0)
                    .filter_map(move |week| {
                        Some(NewContributorWeek {
                            repository_id: home.repository_id,
                            author_github_id: author.id,
                            developer_id,
                            login: &author.login,
                            author_type: author.kind.as_deref(),
                            week: DateTime::from_timestamp(week.w, 0)?,
                            commits: crate::jobs::store::count(Some(week.c))?,
                            additions: crate::jobs::store::count(Some(week.a))?,
                            deletions: crate::jobs::store::count(Some(week.d))?,
                        })
                    })
            })
            .collect();
        contributor_weeks::replace(conn, home.repository_id, &rows).await?;
        if let Some(etag) = etag {
            pages::store(
                conn,
                &CachedPage {
                    url: url.clone(),
                    etag,
                    next_url: None,
                    item_ids: Vec::new(),
                },
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn a_backfill_is_one_window_per_month_cut_at_both_ends() {
        let full_name = FullName::parse("o/r").expect("valid");
        let windows: Vec<(String, String)> =
            RepositoryActivitySync::backfill(&full_name, day("2026-01-15"), day("2026-04-02"))
                .into_iter()
                .map(|job| {
                    (
                        job.since.map(|d| d.to_string()).unwrap_or_default(),
                        job.until.map(|d| d.to_string()).unwrap_or_default(),
                    )
                })
                .collect();
        let expected = [
            ("2026-01-15", "2026-02-01"),
            ("2026-02-01", "2026-03-01"),
            ("2026-03-01", "2026-04-01"),
            ("2026-04-01", "2026-04-02"),
        ];
        assert_eq!(
            windows,
            expected.map(|(a, b)| (a.to_owned(), b.to_owned())).to_vec()
        );
        assert!(
            RepositoryActivitySync::backfill(&full_name, day("2026-01-01"), day("2026-01-01"))
                .is_empty()
        );
    }
}
