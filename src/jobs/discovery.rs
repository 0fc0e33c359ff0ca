//! `discovery_scraper`: enqueue profile syncs of the developers most in need of one.

use std::time::Duration;

use crate::context::AppContext;
use crate::db::queries::developers;
use crate::domain::GithubLogin;
use crate::jobs::{Job, JobError, enqueue};

/// Developers synced more recently than this are not picked again.
const FRESH_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Picks DISCOVERY_BATCH developers and enqueues a `full_profile_sync` for each; returns
/// how many were enqueued.
pub async fn run(ctx: &AppContext) -> Result<usize, JobError> {
    let logins =
        developers::pick_for_discovery(&ctx.db, ctx.config.discovery_batch, FRESH_FOR).await?;
    let mut enqueued = 0;
    for login in logins {
        // Stored logins came from GitHub; one that does not parse is skipped, not fatal.
        let Ok(username) = GithubLogin::parse(&login) else {
            tracing::warn!(developer.login = %login, "discovery: skipping an invalid login");
            continue;
        };
        let (_, created) = enqueue(ctx, &Job::FullProfileSync { username }).await?;
        enqueued += usize::from(created);
    }
    Ok(enqueued)
}
