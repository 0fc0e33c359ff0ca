//! `org_members_sync(org)`: a tracked organization's members (new ones inserted, departed
//! ones marked inactive, returning ones active again) and its repositories (each tracked).
//!
//! GitHub lists only public members to a token whose identity is not a member of the
//! organization: a hidden member then looks inactive.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::queries::{developers, members, repositories, tracked};
use crate::domain::{FullName, GithubLogin};
use crate::github::GithubError;
use crate::github::types::{Repository, SimpleUser};
use crate::jobs::activity::RepositoryActivitySync;
use crate::jobs::crawl::walk;
use crate::jobs::{ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// `org_members_sync(org)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMembersSync {
    /// The tracked organization's login.
    pub org: GithubLogin,
}

#[async_trait]
impl BackgroundJob for OrgMembersSync {
    const NAME: &'static str = "org_members_sync";
    const DESCRIPTION: &'static str = "Sync a tracked organization: its members (joined, left, returned) and its repositories, each tracked.";
    const ARGS: &'static [ArgSpec] = &[ArgSpec {
        name: "org",
        description: "A tracked organization's login",
        example: "github",
        required: true,
    }];
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "MEMBERS_CRON",
        default: "0 30 4 * * *",
        description: "member syncs of tracked organizations",
    });

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        let org = args.required_text("org", "Missing org. Provide an organization login")?;
        let org = GithubLogin::parse(&org).map_err(TaskRequestError::Invalid)?;
        Ok(Self { org })
    }

    async fn scheduled(ctx: &AppContext) -> Result<Vec<Self>, JobError> {
        let logins = tracked::organization_logins(&mut *ctx.conn().await?).await?;
        Ok(logins
            .iter()
            .filter_map(|login| GithubLogin::parse(login).ok())
            .map(|org| Self { org })
            .collect())
    }

    async fn estimate(&self, _ctx: &AppContext) -> Result<u32, JobError> {
        Ok(2)
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let ctx = run.ctx;
        let org = tracked::find::<tracked::TrackedOrganization>(
            &mut *ctx.conn().await?,
            self.org.as_str(),
        )
        .await?
        .ok_or_else(|| {
            JobError::Failed(format!(
                "organization {} is not tracked; track it with POST /github/tracked_organizations/",
                self.org
            ))
        })?;
        let outcome = sync(ctx, run, &self.org, org.id).await;
        let error = match &outcome {
            Err(JobError::Github(error)) if error.retry_at().is_some() => return outcome,
            Err(JobError::Database(_)) => return outcome,
            Err(error) => Some(error.to_string()),
            Ok(_) => None,
        };
        tracked::record_members_sync(&mut *ctx.conn().await?, org.id, error.as_deref()).await?;
        outcome
    }
}

async fn sync(
    ctx: &AppContext,
    run: &JobRun<'_>,
    org: &GithubLogin,
    org_id: uuid::Uuid,
) -> Result<Outcome, JobError> {
    let stats = run.stats;
    let listed = walk::<SimpleUser>(
        ctx,
        stats,
        &format!("/orgs/{org}/members"),
        &format!("members of GitHub organization {org}"),
    )
    .await
    .map_err(|error| not_an_organization(error, org))?;
    let mut conn = ctx.conn().await?;
    let accounts = developers::by_github_ids(&mut conn, &listed).await?;
    let change = members::replace(&mut conn, org.as_str(), &accounts).await?;
    drop(conn);
    let owned = walk::<Repository>(
        ctx,
        stats,
        &format!("/orgs/{org}/repos"),
        &format!("repositories of GitHub organization {org}"),
    )
    .await?;
    let names = repositories::full_names_by_github_ids(&mut *ctx.conn().await?, &owned).await?;
    let mut tracked_now = 0;
    for name in names {
        let Ok(full_name) = FullName::parse(&name) else {
            continue;
        };
        let (_, new) =
            tracked::track_repository(&mut *ctx.conn().await?, full_name.as_str(), Some(org_id))
                .await?;
        if new {
            tracked_now += 1;
            crate::jobs::enqueue(ctx, &RepositoryActivitySync::of(full_name).to_task()?).await?;
        }
    }
    tracing::debug!(
        organization = %org,
        joined = change.joined,
        returned = change.returned,
        left = change.left,
        repositories_tracked = tracked_now,
        "organization synced"
    );
    Ok(Outcome::Succeeded)
}

/// A 404 on the members list names the organization.
fn not_an_organization(error: JobError, org: &GithubLogin) -> JobError {
    match error {
        JobError::Github(GithubError::NotFound { .. }) => JobError::Github(GithubError::NotFound {
            what: format!("GitHub organization {org}"),
        }),
        other => other,
    }
}
