//! `discovery_scraper`: enqueue profile syncs of the developers most in need of one.

use std::time::Duration;

use async_trait::async_trait;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::queries::developers::{self, Picked};
use crate::db::queries::tasks::{self, NewTask};
use crate::domain::GithubLogin;
use crate::jobs::enqueue::publish_created;
use crate::jobs::{
    Args, BackgroundJob, FullProfileSync, GraphqlProfileBatch, JobError, JobKind, JobRun, Outcome,
    Registry, TaskRequestError,
};

/// Developers synced more recently than this are not picked again (the rest are the
/// frontier the dashboard charts).
pub const FRESH_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// `discovery_scraper`: no arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryScraper {}

#[async_trait]
impl BackgroundJob for DiscoveryScraper {
    const NAME: &'static str = "discovery_scraper";
    const DESCRIPTION: &'static str = "Enqueue syncs of the DISCOVERY_BATCH developers most in need of one (never synced first, then the stalest): GraphQL batches where there is nothing to revalidate, REST profile syncs where stored ETags make a re-sync free.";
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "DISCOVERY_CRON",
        default: "0 0 * * * *",
        description: "discovery of developers to sync",
    });

    fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {})
    }

    async fn scheduled(_ctx: &AppContext) -> Result<Vec<Self>, JobError> {
        Ok(vec![Self {}])
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let enqueued = discover(run.ctx, run.registry).await?;
        tracing::debug!(enqueued, "discovery: profile syncs enqueued");
        Ok(Outcome::Succeeded)
    }
}

/// Picks DISCOVERY_BATCH developers and enqueues their syncs (see [`plan_syncs`]) in one
/// transaction with the pick; returns how many tasks were enqueued.
async fn discover(ctx: &AppContext, registry: &Registry) -> Result<usize, JobError> {
    let mut conn = ctx.conn().await?;
    let batch = ctx.config.discovery_batch;
    let created = conn
        .transaction::<_, JobError, _>(async |conn| {
            let claimed = claimed_logins(registry, conn).await?;
            let picked = developers::pick_for_discovery(conn, batch, FRESH_FOR, &claimed).await?;
            let mut created = Vec::new();
            for task in plan_syncs(ctx, &picked)? {
                let (row, new) = tasks::insert_or_existing(conn, &task).await?;
                if new {
                    created.push(row.id);
                }
            }
            Ok(created)
        })
        .await?;
    drop(conn);
    publish_created(ctx, &created).await;
    Ok(created.len())
}

/// The developers (lower-cased logins) that active tasks already sync: the job kinds that
/// claim developers say which, from each active task's arguments. A task whose arguments
/// do not parse claims nothing (it fails when run).
async fn claimed_logins(
    registry: &Registry,
    conn: &mut AsyncPgConnection,
) -> Result<Vec<String>, JobError> {
    let kinds: Vec<&dyn JobKind> = registry.claiming_logins().collect();
    let names: Vec<&str> = kinds.iter().map(|kind| kind.name()).collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut claimed = Vec::new();
    for (name, args) in tasks::active_args(conn, &names).await? {
        let Some(kind) = kinds.iter().find(|kind| kind.name() == name) else {
            continue;
        };
        match kind.claimed_logins(&args) {
            Ok(logins) => claimed.extend(logins.iter().map(|l| l.as_str().to_lowercase())),
            Err(error) => {
                tracing::warn!(task.name = %name, %error, "discovery: an active task's arguments do not parse");
            }
        }
    }
    claimed.sort_unstable();
    claimed.dedup();
    Ok(claimed)
}

/// The cheaper sync of each developer: a REST `full_profile_sync` where a profile ETag is
/// stored (every unchanged page answers a free 304), otherwise a place in a
/// `graphql_profile_batch` (GITHUB_GRAPHQL_BATCH developers per query, about 0.05 points
/// each). Without GraphQL (`GITHUB_GRAPHQL=off`, or no token) every sync is REST.
pub fn plan_syncs(ctx: &AppContext, picked: &[Picked]) -> Result<Vec<NewTask>, JobError> {
    let graphql = ctx.config.github_graphql && ctx.github.authenticated();
    let mut tasks = Vec::new();
    let mut batched = Vec::new();
    for developer in picked {
        // Stored logins came from GitHub; one that does not parse is skipped.
        let Ok(username) = GithubLogin::parse(&developer.login) else {
            tracing::warn!(developer.login = %developer.login, "discovery: skipping an invalid login");
            continue;
        };
        if graphql && !developer.has_etag {
            batched.push(username);
        } else {
            tasks.push(FullProfileSync { username }.to_task()?);
        }
    }
    let size = usize::try_from(ctx.config.github_graphql_batch)
        .unwrap_or(1)
        .max(1);
    for usernames in batched.chunks(size) {
        let job = GraphqlProfileBatch {
            usernames: usernames.to_vec(),
        };
        tasks.push(job.to_task()?);
    }
    Ok(tasks)
}
