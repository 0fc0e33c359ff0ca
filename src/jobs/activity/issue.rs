//! `issue_sync(full_name, number)`: one issue or pull request of a tracked repository and
//! its timeline. A webhook delivery about a comment or review on an issue gitomatic never
//! stored asks for it: the issue's own request and its timeline's are the only GitHub
//! requests a delivery ever causes.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::db::queries::{issues, leaderboards};
use crate::domain::FullName;
use crate::github::activity::Issue;
use crate::github::client::{Fetched, parse};
use crate::jobs::activity::store::{self, Home};
use crate::jobs::activity::timeline::read_timeline;
use crate::jobs::activity::{FULL_NAME, noting_block, parse_full_name, tracked_repository};
use crate::jobs::{ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// `issue_sync(full_name, number)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueSync {
    /// The tracked repository.
    pub full_name: FullName,
    /// The issue's (or pull request's) number.
    pub number: i32,
}

#[async_trait]
impl BackgroundJob for IssueSync {
    const NAME: &'static str = "issue_sync";
    const DESCRIPTION: &'static str =
        "Sync one issue or pull request of a tracked repository and its timeline.";
    const ARGS: &'static [ArgSpec] = &[
        FULL_NAME,
        ArgSpec {
            name: "number",
            description: "The issue's or pull request's number",
            example: "42",
            required: true,
        },
    ];

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        let full_name = parse_full_name(args)?;
        let number = args
            .integer("number")?
            .and_then(|number| i32::try_from(number).ok())
            .filter(|number| *number > 0)
            .ok_or_else(|| {
                TaskRequestError::Invalid(
                    "Missing number. Provide the issue's number, a whole number from 1".into(),
                )
            })?;
        Ok(Self { full_name, number })
    }

    async fn estimate(&self, _ctx: &crate::context::AppContext) -> Result<u32, JobError> {
        // The issue and the first page of its timeline.
        Ok(2)
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let tracked = tracked_repository(run.ctx, &self.full_name).await?;
        let outcome = self.sync(run, &tracked).await;
        noting_block(run.ctx, &tracked, outcome).await
    }
}

impl IssueSync {
    async fn sync(
        &self,
        run: &JobRun<'_>,
        tracked: &crate::db::queries::tracked::TrackedRepository,
    ) -> Result<Outcome, JobError> {
        let (ctx, stats) = (run.ctx, run.stats);
        let Some(repository_id) = tracked.repository_id else {
            // Never synced: its first activity sync reads every issue and timeline.
            return Ok(Outcome::SucceededWithNote(format!(
                "{} was never synced; its activity sync reads the issue",
                tracked.full_name
            )));
        };
        let home = Home {
            repository_id,
            full_name: &tracked.full_name,
        };
        let url = ctx.github.url(&format!(
            "/repos/{}/issues/{}",
            tracked.full_name, self.number
        ));
        let payload: Issue = match ctx.github.get(stats, &url, None).await? {
            Fetched::Modified { body, .. } => parse(&url, &body)?,
            other => {
                return Ok(Outcome::SucceededWithNote(format!(
                    "{}#{} answered {other:?}; left to the scheduled walks",
                    tracked.full_name, self.number
                )));
            }
        };
        store::issues(&mut *ctx.conn().await?, home, &[payload]).await?;
        let stored = issues::find_by_number(&mut *ctx.conn().await?, repository_id, self.number)
            .await?
            .ok_or_else(|| {
                JobError::Failed(format!(
                    "{}#{} was not stored",
                    tracked.full_name, self.number
                ))
            })?;
        read_timeline(ctx, stats, &tracked.full_name, &stored).await?;
        leaderboards::rebuild(&mut *ctx.conn().await?, repository_id).await?;
        Ok(Outcome::Succeeded)
    }
}
