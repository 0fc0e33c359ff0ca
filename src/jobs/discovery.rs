//! `discovery_scraper`: enqueue profile syncs of the developers most in need of one.

use std::time::Duration;

use async_trait::async_trait;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};

use crate::config::CronEntry;
use crate::context::AppContext;
use crate::db::queries::{developers, tasks};
use crate::domain::GithubLogin;
use crate::jobs::enqueue::publish_created;
use crate::jobs::{
    Args, BackgroundJob, FullProfileSync, JobError, JobRun, Outcome, TaskRequestError,
};

/// Developers synced more recently than this are not picked again.
const FRESH_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// `discovery_scraper`: no arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryScraper {}

#[async_trait]
impl BackgroundJob for DiscoveryScraper {
    const NAME: &'static str = "discovery_scraper";
    const DESCRIPTION: &'static str = "Enqueue profile syncs of the DISCOVERY_BATCH developers most in need of one (never synced first, then the stalest).";
    const SCHEDULE: Option<CronEntry> = Some(CronEntry::Discovery);

    fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {})
    }

    async fn scheduled(_ctx: &AppContext) -> Result<Vec<Self>, JobError> {
        Ok(vec![Self {}])
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let enqueued = discover(run.ctx).await?;
        tracing::debug!(enqueued, "discovery: profile syncs enqueued");
        Ok(Outcome::Succeeded)
    }
}

/// Picks DISCOVERY_BATCH developers and enqueues a `full_profile_sync` for each, in one
/// transaction with the pick; returns how many were enqueued.
async fn discover(ctx: &AppContext) -> Result<usize, JobError> {
    let mut conn = ctx.conn().await?;
    let batch = ctx.config.discovery_batch;
    let created = conn
        .transaction::<_, JobError, _>(async |conn| {
            let logins = developers::pick_for_discovery(conn, batch, FRESH_FOR, FullProfileSync::NAME)
                    .await?;
            let mut created = Vec::new();
            for login in logins {
                // Stored logins came from GitHub; one that does not parse is skipped.
                let Ok(username) = GithubLogin::parse(&login) else {
                    tracing::warn!(developer.login = %login, "discovery: skipping an invalid login");
                    continue;
                };
                let task = FullProfileSync { username }.to_task()?;
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
