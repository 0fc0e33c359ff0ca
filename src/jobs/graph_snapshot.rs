//! `graph_snapshot`: counts the stored graph for `GET /github/graph/`.
//!
//! The page's statistics need a pass over every developer (seconds at a million), so the
//! page reads the latest snapshot instead, and this job refreshes it on `GRAPH_CRON`
//! (every 15 minutes by default). A tick enqueues one task; the dedupe index keeps a tick
//! from adding another while one is queued or running.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::queries::graph_snapshot;
use crate::jobs::{Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// `graph_snapshot`: no arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphSnapshot {}

#[async_trait]
impl BackgroundJob for GraphSnapshot {
    const NAME: &'static str = "graph_snapshot";
    const DESCRIPTION: &'static str = "Count the stored graph (developers, synced, follow edges, stars, repositories, degree histograms, the 10 most followed) and store it as the snapshot GET /github/graph/ answers with.";
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "GRAPH_CRON",
        default: "0 */15 * * * *",
        description: "snapshots of the graph's statistics (GET /github/graph/)",
    });

    fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {})
    }

    async fn scheduled(_ctx: &AppContext) -> Result<Vec<Self>, JobError> {
        Ok(vec![Self {}])
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let mut conn = run.ctx.conn().await?;
        let snapshot = graph_snapshot::refresh(&mut conn).await?;
        tracing::info!(
            graph.developers = snapshot.developers,
            graph.follow_edges = snapshot.follow_edges,
            graph.computed_at = %snapshot.computed_at,
            duration_ms = snapshot.duration_ms,
            "graph: snapshot stored"
        );
        Ok(Outcome::Succeeded)
    }
}
