//! `full_profile_sync(username)`: a developer, their followers, following, starred and
//! owned repositories.

use async_trait::async_trait;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::developers::{self, StoredDeveloper};
use crate::db::queries::relations::{self, Relation};
use crate::domain::GithubLogin;
use crate::github::types::{Repository, SimpleUser};
use crate::github::{Conditional, GithubError, RequestStats};
use crate::jobs::crawl::{sync_relation, walk};
use crate::jobs::{
    ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError, store,
};

/// `full_profile_sync(username)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullProfileSync {
    /// The developer's login.
    pub username: GithubLogin,
}

/// The `username` argument of the jobs that take one.
pub(crate) const USERNAME: ArgSpec = ArgSpec {
    name: "username",
    description: "GitHub login (`[A-Za-z0-9-]{1,39}`)",
    example: "octocat",
    required: true,
};

/// Reads the `username` argument with the contract's messages.
pub(crate) fn parse_username(args: &mut Args) -> Result<GithubLogin, TaskRequestError> {
    let username = args.required_text(
        "username",
        "Missing username. Provide a valid github username",
    )?;
    GithubLogin::parse(&username).map_err(TaskRequestError::Invalid)
}

#[async_trait]
impl BackgroundJob for FullProfileSync {
    const NAME: &'static str = "full_profile_sync";
    const DESCRIPTION: &'static str =
        "Sync one developer: the profile, followers, following, starred and owned repositories.";
    const ARGS: &'static [ArgSpec] = &[USERNAME];
    const CLAIMS_LOGINS: Option<fn(&Self) -> &[GithubLogin]> =
        Some(|job| std::slice::from_ref(&job.username));

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {
            username: parse_username(args)?,
        })
    }

    fn dedupe_key(&self) -> String {
        self.username.as_str().to_lowercase()
    }

    fn username(&self) -> Option<&str> {
        Some(self.username.as_str())
    }

    async fn estimate(&self, ctx: &AppContext) -> Result<u32, JobError> {
        Ok(estimate(stored(ctx, &self.username).await?.as_ref()))
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let stored = stored(run.ctx, &self.username).await?;
        sync(run.ctx, run.stats, &self.username, stored).await?;
        Ok(Outcome::Succeeded)
    }
}

/// Requests a never-synced developer costs at least: profile and four first pages.
const FIRST_SYNC_MINIMUM: u32 = 5;

/// Quota a profile sync needs before it starts: the full cost when nothing is cached,
/// one request when a previous sync cached its pages (unchanged pages are free).
fn estimate(stored: Option<&StoredDeveloper>) -> u32 {
    match stored {
        Some(dev) if dev.etag.is_some() => 1,
        Some(dev) => {
            let pages = |n: Option<i32>| {
                u32::try_from(n.unwrap_or(0))
                    .unwrap_or(0)
                    .div_ceil(100)
                    .max(1)
            };
            1 + pages(dev.followers_count)
                + pages(dev.following_count)
                + 1
                + pages(dev.public_repos)
        }
        None => FIRST_SYNC_MINIMUM,
    }
}

/// The developer stored under this login, if any: what `estimate` and `run` start from.
async fn stored(
    ctx: &AppContext,
    username: &GithubLogin,
) -> Result<Option<StoredDeveloper>, DbError> {
    developers::find_by_login(&mut *ctx.conn().await?, username.as_str()).await
}

/// Runs the sync from what `stored` read.
pub(crate) async fn sync(
    ctx: &AppContext,
    stats: &RequestStats,
    username: &GithubLogin,
    stored: Option<StoredDeveloper>,
) -> Result<(), JobError> {
    let etag = stored.as_ref().and_then(|dev| dev.etag.as_deref());
    let (developer_id, login) = match ctx.github.fetch_user(stats, username, etag).await {
        Ok(Conditional::Modified { value, etag }) => {
            let mut conn = ctx.conn().await?;
            let id =
                developers::upsert_profile(&mut conn, &store::profile(&value, etag.as_deref()))
                    .await?;
            (id, value.login)
        }
        Ok(Conditional::NotModified) => match stored {
            Some(dev) => (dev.id, dev.login),
            None => {
                return Err(JobError::Github(GithubError::Status {
                    status: 304,
                    url: format!("/users/{username}"),
                    message: "304 Not Modified for a developer that is not stored".into(),
                }));
            }
        },
        Err(error @ GithubError::NotFound { .. }) => {
            developers::mark_gone(&mut *ctx.conn().await?, username.as_str()).await?;
            return Err(error.into());
        }
        Err(error) => return Err(error.into()),
    };

    for (relation, list) in [
        (Relation::Followers, "followers"),
        (Relation::Following, "following"),
    ] {
        let path = format!("/users/{login}/{list}");
        let what = format!("{list} of GitHub user {login}");
        sync_relation::<SimpleUser>(ctx, stats, &path, &what, relation, developer_id).await?;
    }
    let path = format!("/users/{login}/starred");
    let what = format!("starred repositories of GitHub user {login}");
    sync_relation::<Repository>(ctx, stats, &path, &what, Relation::Starred, developer_id).await?;

    let path = format!("/users/{login}/repos");
    let what = format!("repositories of GitHub user {login}");
    let owned = walk::<Repository>(ctx, stats, &path, &what).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, DbError, _>(async |conn| {
        relations::retire_unlisted_repositories(conn, developer_id, &owned).await?;
        developers::mark_synced(conn, developer_id).await
    })
    .await?;
    Ok(())
}
