//! `developer_rank`: PageRank over the stored follow graph (SPEC-3 C), on `RANK_CRON`.
//!
//! One run: read every developer and follow edge through binary COPY (one snapshot), number
//! the developers in id order, build compressed sparse rows of the incoming edges, iterate
//! ([`crate::graph::rank`]), rank, and replace every stored rank in one transaction. The
//! run is deterministic (fixed node order, fixed summation order), so a rerun of the same
//! graph stores the same ranks; a run killed before its commit leaves the previous ones.

use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Schedule;
use crate::db::DbError;
use crate::db::queries::developer_ranks::{self, NewRanks};
use crate::graph::rank::{self, FollowGraph};
use crate::jobs::{Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// `developer_rank`: no arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeveloperRank {}

#[async_trait]
impl BackgroundJob for DeveloperRank {
    const NAME: &'static str = "developer_rank";
    const DESCRIPTION: &'static str = "Compute the follow rank: PageRank (damping 0.85) over the stored follow graph, every stored developer a node; store each developer's rank and rank_score at once.";
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "RANK_CRON",
        default: "0 0 3 * * *",
        description: "the follow rank (PageRank of the stored follow graph)",
    });

    fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {})
    }

    async fn scheduled(_ctx: &crate::context::AppContext) -> Result<Vec<Self>, JobError> {
        Ok(vec![Self {}])
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let summary = rank_developers(&run.ctx.config.database_url, || Ok(())).await?;
        tracing::info!(
            rank.developers = summary.developers,
            rank.follow_edges = summary.follow_edges,
            rank.iterations = summary.iterations,
            rank.l1_change = summary.l1_change,
            rank.computed_at = %summary.computed_at,
            read_ms = summary.read_ms,
            compute_ms = summary.compute_ms,
            write_ms = summary.write_ms,
            graph_bytes = summary.graph_bytes,
            "developer_rank: ranks stored"
        );
        Ok(Outcome::Succeeded)
    }
}

/// What one run did.
#[derive(Clone, Debug, PartialEq)]
pub struct RankSummary {
    /// When its ranks were committed.
    pub computed_at: DateTime<Utc>,
    /// Developers ranked.
    pub developers: usize,
    /// Follow edges read.
    pub follow_edges: usize,
    /// PageRank iterations.
    pub iterations: u32,
    /// The last iteration's L1 change.
    pub l1_change: f64,
    /// Reading the graph (COPY out and numbering), in milliseconds.
    pub read_ms: u64,
    /// Building the rows and iterating, in milliseconds.
    pub compute_ms: u64,
    /// Writing the ranks (COPY in and commit), in milliseconds.
    pub write_ms: u64,
    /// Bytes of the in-memory graph (ids, logins, sparse rows).
    pub graph_bytes: usize,
}

/// Runs the follow rank once against the database at `database_url`, on a connection of
/// its own. `before_commit` runs after every new rank is written, just before the commit;
/// an error from it rolls the write back (the previous ranks stay) and is returned — tests
/// inject a failure there; the job passes `|| Ok(())`.
pub async fn rank_developers(
    database_url: &str,
    before_commit: impl FnOnce() -> Result<(), JobError>,
) -> Result<RankSummary, JobError> {
    let started = Instant::now();
    let mut conn = developer_ranks::connect(database_url).await?;
    let stored = developer_ranks::read_graph(&mut conn).await?;
    let read_ms = elapsed_ms(started);
    let computing = Instant::now();
    let developers = stored.ids.len();
    let logins = stored.logins;
    let edges = stored.edges;
    let (graph, pagerank, ranks) = tokio::task::spawn_blocking(move || {
        let graph = FollowGraph::new(developers, &edges);
        drop(edges);
        let graph = graph.map_err(|error| JobError::Failed(error.to_string()))?;
        let pagerank = rank::pagerank(&graph);
        let ranks = rank::ranks(&pagerank.scores, &logins);
        Ok::<_, JobError>((graph, pagerank, ranks))
    })
    .await
    .map_err(|error| JobError::Failed(format!("the rank computation stopped: {error}")))??;
    let compute_ms = elapsed_ms(computing);
    let graph_bytes = graph.heap_bytes() + 16 * stored.ids.capacity();
    let writing = Instant::now();
    let computed_at = developer_ranks::store(
        &mut conn,
        &NewRanks {
            ids: &stored.ids,
            ranks: &ranks,
            scores: &pagerank.scores,
            synced: stored.synced,
            follow_edges: graph.edges() as u64,
            dangling: graph.dangling() as u64,
            iterations: pagerank.iterations,
            l1_change: pagerank.l1_change,
            duration_ms: i64::try_from(read_ms + compute_ms).unwrap_or(i64::MAX),
        },
        before_commit,
    )
    .await
    .map_err(JobError::from)??;
    Ok(RankSummary {
        computed_at,
        developers,
        follow_edges: graph.edges(),
        iterations: pagerank.iterations,
        l1_change: pagerank.l1_change,
        read_ms,
        compute_ms,
        write_ms: elapsed_ms(writing),
        graph_bytes,
    })
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl From<tokio_postgres::Error> for JobError {
    fn from(error: tokio_postgres::Error) -> Self {
        JobError::Database(DbError::from(error))
    }
}
