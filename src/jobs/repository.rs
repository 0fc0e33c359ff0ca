//! `full_repository_sync(username, repo_name)`: a repository, its owner and stargazers.

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::relations::Relation;
use crate::db::queries::repositories;
use crate::domain::{GithubLogin, RepoName};
use crate::github::types::SimpleUser;
use crate::github::{Conditional, GithubError, RequestStats};
use crate::jobs::JobError;
use crate::jobs::crawl::{store_repositories, sync_relation};

/// Runs the sync.
pub async fn run(
    ctx: &AppContext,
    stats: &RequestStats,
    owner: &GithubLogin,
    name: &RepoName,
) -> Result<(), JobError> {
    let full_name = format!("{owner}/{name}");
    let stored = repositories::find_by_full_name(&ctx.db, &full_name).await?;
    let etag = stored.as_ref().and_then(|repo| repo.etag.as_deref());
    let (repository_id, full_name) =
        match ctx.github.fetch_repository(stats, owner, name, etag).await {
            Ok(Conditional::Modified { value, etag }) => {
                let mut conn = ctx.db.get().await.map_err(DbError::from)?;
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
                repositories::mark_gone(&ctx.db, &full_name).await?;
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
    let mut conn = ctx.db.get().await.map_err(DbError::from)?;
    repositories::mark_synced(&mut conn, repository_id).await?;
    Ok(())
}
