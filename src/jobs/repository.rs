//! `full_repository_sync(username, repo_name)`: a repository, its owner and stargazers.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::relations::Relation;
use crate::db::queries::repositories;
use crate::domain::{GithubLogin, RepoName};
use crate::github::types::SimpleUser;
use crate::github::{Conditional, GithubError, RequestStats};
use crate::jobs::crawl::{store_repositories, sync_relation};
use crate::jobs::profile::{USERNAME, parse_username};
use crate::jobs::{ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// `full_repository_sync(username, repo_name)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullRepositorySync {
    /// The owner's login.
    pub username: GithubLogin,
    /// The repository's name.
    pub repo_name: RepoName,
}

#[async_trait]
impl BackgroundJob for FullRepositorySync {
    const NAME: &'static str = "full_repository_sync";
    const DESCRIPTION: &'static str =
        "Sync one repository: the repository, its owner and its stargazers.";
    const ARGS: &'static [ArgSpec] = &[
        ArgSpec {
            description: "GitHub login of the repository's owner (`[A-Za-z0-9-]{1,39}`)",
            ..USERNAME
        },
        ArgSpec {
            name: "repo_name",
            description: "Repository name (`[A-Za-z0-9._-]{1,100}`)",
            example: "hello-world",
            required: true,
        },
    ];

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        let username = parse_username(args)?;
        let repo_name = args.required_text(
            "repo_name",
            "Missing repo_name. Provide a valid repository name",
        )?;
        Ok(Self {
            username,
            repo_name: RepoName::parse(&repo_name).map_err(TaskRequestError::Invalid)?,
        })
    }

    fn dedupe_key(&self) -> String {
        format!("{}/{}", self.username, self.repo_name).to_lowercase()
    }

    fn username(&self) -> Option<&str> {
        Some(self.username.as_str())
    }

    fn repo_name(&self) -> Option<&str> {
        Some(self.repo_name.as_str())
    }

    async fn estimate(&self, _ctx: &AppContext) -> Result<u32, JobError> {
        Ok(1)
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        sync(run.ctx, run.stats, &self.username, &self.repo_name).await?;
        Ok(Outcome::Succeeded)
    }
}

/// Runs the sync.
async fn sync(
    ctx: &AppContext,
    stats: &RequestStats,
    owner: &GithubLogin,
    name: &RepoName,
) -> Result<(), JobError> {
    let full_name = format!("{owner}/{name}");
    let stored = repositories::find_by_full_name(&mut *ctx.conn().await?, &full_name).await?;
    let etag = stored.as_ref().and_then(|repo| repo.etag.as_deref());
    let (repository_id, full_name) =
        match ctx.github.fetch_repository(stats, owner, name, etag).await {
            Ok(Conditional::Modified { value, etag }) => {
                let mut conn = ctx.conn().await?;
                let ids =
                    store_repositories(&mut conn, std::slice::from_ref(&value), etag.as_deref())
                        .await?;
                let id = ids.get(&value.id).copied().ok_or_else(|| {
                    DbError::Inconsistent(format!("repository {} was not stored", value.full_name))
                })?;
                (id, value.full_name)
            }
            Ok(Conditional::NotModified) => match stored {
                Some(repo) => (repo.id, repo.full_name),
                None => {
                    return Err(JobError::Github(GithubError::Status {
                        status: 304,
                        url: format!("/repos/{full_name}"),
                        message: "304 Not Modified for a repository that is not stored".into(),
                    }));
                }
            },
            Err(error @ GithubError::NotFound { .. }) => {
                repositories::mark_gone(&mut *ctx.conn().await?, &full_name).await?;
                return Err(error.into());
            }
            Err(error) => return Err(error.into()),
        };

    let path = format!("/repos/{full_name}/stargazers");
    let what = format!("stargazers of GitHub repository {full_name}");
    sync_relation::<SimpleUser>(
        ctx,
        stats,
        &path,
        &what,
        Relation::Stargazers,
        repository_id,
    )
    .await?;
    let mut conn = ctx.conn().await?;
    repositories::mark_synced(&mut conn, repository_id).await?;
    Ok(())
}
