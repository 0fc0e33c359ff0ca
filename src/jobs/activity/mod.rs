//! Repository activity: the jobs that follow what happens inside tracked repositories and
//! organizations, and what they share (finding the tracked row, walking pages, storing
//! payloads).

pub mod issue;
pub mod leaderboard;
pub mod members;
pub mod reconcile;
pub mod repository;
mod store;
pub mod timeline;
mod transfer;
pub mod webhook;

pub use issue::IssueSync;
pub use leaderboard::LeaderboardRebuild;
pub use members::OrgMembersSync;
pub use reconcile::ActivityReconcile;
pub use repository::RepositoryActivitySync;
pub use timeline::IssueTimelineSync;
pub use webhook::WebhookDelivery;

use chrono::Utc;
use serde::de::DeserializeOwned;

use crate::context::AppContext;
use diesel_async::AsyncConnection;

use crate::db::DbError;
use crate::db::queries::pages::{self, CachedPage};
use crate::db::queries::repositories;
use crate::db::queries::tracked::{self, TrackedRepository};
use crate::domain::{FullName, GithubLogin, RepoName};
use crate::github::types::GithubId;
use crate::github::{BeyondFullPage, Conditional, GithubError, ListPage, RequestStats};
use crate::jobs::crawl::store_repositories;
use crate::jobs::{ArgSpec, Args, JobError, TaskRequestError};

/// The `full_name` argument of the activity jobs.
pub(crate) const FULL_NAME: ArgSpec = ArgSpec {
    name: "full_name",
    description: "A tracked repository, `owner/name`",
    example: "octocat/hello-world",
    required: true,
};

/// Reads the `full_name` argument.
pub(crate) fn parse_full_name(args: &mut Args) -> Result<FullName, TaskRequestError> {
    let full_name = args.required_text(
        "full_name",
        "Missing full_name. Provide a repository as owner/name",
    )?;
    FullName::parse(&full_name).map_err(TaskRequestError::Invalid)
}

/// The tracked row of `full_name`, or a failure saying how to track it.
///
/// A repository GitHub blocked less than [`tracked::BLOCK_PAUSE`] ago fails at once, without
/// a request (a task queued before the block met it); a task posted by hand for it lifts
/// the block before it is queued.
pub(crate) async fn tracked_repository(
    ctx: &AppContext,
    full_name: &FullName,
) -> Result<TrackedRepository, JobError> {
    let tracked =
        tracked::find::<tracked::TrackedRepository>(&mut *ctx.conn().await?, full_name.as_str())
            .await?
            .ok_or_else(|| {
                JobError::Failed(format!(
                    "{full_name} is not tracked; track it with POST /github/tracked_repositories/"
                ))
            })?;
    if let Some(until) = tracked.blocked_until(Utc::now()) {
        return Err(JobError::Failed(format!(
            "{} is left alone until {until}: {}; post a task for it by hand to try again",
            tracked.full_name,
            tracked
                .last_error
                .as_deref()
                .unwrap_or("GitHub blocks access to it"),
        )));
    }
    Ok(tracked)
}

/// Whether a failure is GitHub's block of the repository (451, or 403 "Repository access
/// blocked").
pub(crate) fn is_blocked(error: &JobError) -> bool {
    matches!(error, JobError::Github(GithubError::Blocked { .. }))
}

/// Records GitHub's block of a tracked repository on its row (`last_error`, `blocked_at`):
/// the scheduled jobs leave it alone for [`tracked::BLOCK_PAUSE`].
pub(crate) async fn record_block(
    ctx: &AppContext,
    tracked: &TrackedRepository,
    error: &JobError,
) -> Result<(), JobError> {
    tracing::warn!(
        repository = %tracked.full_name,
        %error,
        pause_hours = tracked::BLOCK_PAUSE.num_hours(),
        "GitHub blocks access to the repository; scheduled jobs skip it"
    );
    tracked::record_block(&mut *ctx.conn().await?, tracked.id, &error.to_string()).await?;
    Ok(())
}

/// `outcome` of a job on a tracked repository, after recording the block it met, if any.
pub(crate) async fn noting_block<T>(
    ctx: &AppContext,
    tracked: &TrackedRepository,
    outcome: Result<T, JobError>,
) -> Result<T, JobError> {
    if let Err(error) = &outcome
        && is_blocked(error)
    {
        record_block(ctx, tracked, error).await?;
    }
    outcome
}

/// Every tracked repository the scheduled jobs work on (none GitHub blocked less than
/// [`tracked::BLOCK_PAUSE`] ago), oldest tracked first: what the activity crons enqueue for.
pub(crate) async fn tracked_names(ctx: &AppContext) -> Result<Vec<FullName>, JobError> {
    let names = tracked::scheduled_repository_names(&mut *ctx.conn().await?).await?;
    // Stored names passed the same check when tracked; one that does not parse is skipped.
    Ok(names
        .iter()
        .filter_map(|name| FullName::parse(name).ok())
        .collect())
}

/// A list walked page by page along GitHub's `Link: rel="next"`, never building page numbers.
pub(crate) struct Pages {
    next: Option<String>,
}

impl Pages {
    /// A walk starting at this absolute URL.
    pub(crate) fn from(url: String) -> Self {
        Self { next: Some(url) }
    }

    /// The next page (fresh, or the ids of an unchanged one), or `None` after the last.
    pub(crate) async fn next<T: DeserializeOwned + GithubId>(
        &mut self,
        ctx: &AppContext,
        stats: &RequestStats,
        what: &str,
    ) -> Result<Option<ListPage<T>>, JobError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let page = ctx
            .github
            .list_page::<T>(stats, &url, what, BeyondFullPage::ReadAgain)
            .await?;
        self.next.clone_from(&page.next);
        Ok(Some(page))
    }
}

/// Fetches the repository (a 304 when unchanged), following a rename or transfer; returns
/// its stored id and current `owner/name`. A 404 marks it gone and fails.
pub(crate) async fn resolve(
    ctx: &AppContext,
    stats: &RequestStats,
    full_name: &FullName,
) -> Result<(uuid::Uuid, String), JobError> {
    let (owner, name) = (
        GithubLogin::parse(full_name.owner()).map_err(JobError::Failed)?,
        RepoName::parse(full_name.name()).map_err(JobError::Failed)?,
    );
    let stored =
        repositories::find_by_full_name(&mut *ctx.conn().await?, full_name.as_str()).await?;
    let etag = stored.as_ref().and_then(|repo| repo.etag.as_deref());
    match ctx
        .github
        .fetch_repository(stats, &owner, &name, etag)
        .await
    {
        Ok(Conditional::Modified { value, etag }) => {
            let mut conn = ctx.conn().await?;
            let ids = store_repositories(&mut conn, std::slice::from_ref(&value), etag.as_deref())
                .await?;
            let id = ids.get(&value.id).copied().ok_or_else(|| {
                DbError::Inconsistent(format!("repository {} was not stored", value.full_name))
            })?;
            Ok((id, value.full_name))
        }
        Ok(Conditional::NotModified) => {
            stored.map(|repo| (repo.id, repo.full_name)).ok_or_else(|| {
                JobError::Failed(format!(
                    "GitHub answered 304 for {full_name}, which is not stored"
                ))
            })
        }
        Err(error @ GithubError::NotFound { .. }) => {
            repositories::mark_gone(&mut *ctx.conn().await?, full_name.as_str()).await?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Stores one fresh page's items and its cache entry in one transaction, so that a job
/// stopped mid-walk keeps what it stored and re-reads nothing it has.
pub(crate) async fn store_page(
    ctx: &AppContext,
    cache: Option<&CachedPage>,
    page: store::Fresh<'_>,
) -> Result<(), JobError> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, DbError, _>(async |conn| {
        store::fresh(conn, page).await?;
        if let Some(cache) = cache {
            pages::store(conn, cache).await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}
