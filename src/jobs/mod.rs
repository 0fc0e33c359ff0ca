//! Jobs: what a task asks for, how it is enqueued, and the code that runs each kind.
//!
//! A job kind is one type implementing [`BackgroundJob`], in its own file: the type is its
//! arguments (stored as the task's `args`), and the trait says how a trigger's arguments
//! are parsed, which tasks count as identical, which developers a task claims, what quota
//! a run needs, its schedule (cron variable and default) and what a tick enqueues, and how
//! it runs. [`Registry::builtin`] lists the kinds, one line each; the configuration's cron
//! variables and `--help`, the API's trigger form and errors, the OpenAPI enum of task
//! names, discovery, the scheduler and the worker's dispatch all read that one registry.

pub mod activity;
mod args;
pub mod batch;
mod crawl;
pub mod developer_rank;
mod discovery;
pub mod enqueue;
pub mod events;
pub mod graph_snapshot;
mod profile;
pub mod registry;
mod repository;
pub mod runner;
mod store;

pub use activity::{
    ActivityReconcile, IssueSync, IssueTimelineSync, LeaderboardRebuild, OrgMembersSync,
    RepositoryActivitySync, WebhookDelivery,
};
pub use args::{ArgSpec, Args};
pub use batch::GraphqlProfileBatch;
pub use developer_rank::DeveloperRank;
pub use discovery::{DiscoveryScraper, FRESH_FOR, plan_syncs};
pub use enqueue::{enqueue, publish_created};
pub use events::EventsPoll;
pub use graph_snapshot::GraphSnapshot;
pub use profile::FullProfileSync;
pub use registry::{JobKind, Registry};
pub use repository::FullRepositorySync;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

pub use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::tasks::NewTask;
use crate::domain::GithubLogin;
use crate::github::{GithubError, RequestStats};

/// What one run of a job has at hand.
pub struct JobRun<'a> {
    /// The process's shared context.
    pub ctx: &'a AppContext,
    /// The job kinds of this process (discovery asks them which developers active tasks
    /// claim).
    pub registry: &'a Registry,
    /// GitHub requests of this run (the task's `github_requests` and the log line).
    pub stats: &'a RequestStats,
    /// The task being run.
    pub task_id: Uuid,
    /// 1 for the first run of the task, then 2, 3...
    pub attempt: i32,
}

/// How a run that did not fail ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The work is done: the task succeeds.
    Succeeded,
    /// The work is done, in a way the operator should hear of (a GraphQL batch that handed
    /// developers to REST): the task succeeds with this note as its `error`.
    SucceededWithNote(String),
    /// Run the task again at this time (a poller obeying `X-Poll-Interval`, GitHub still
    /// computing statistics): the task is `deferred` until then, with `reason` as its note.
    RunAgainAt {
        /// When to run again.
        at: DateTime<Utc>,
        /// Why, shown as the task's `error` while it waits (none for a routine poll).
        reason: Option<String>,
    },
}

/// A kind of job: its arguments, identity, quota, schedule and run.
///
/// Implement it on a type holding the job's arguments and add one line to
/// [`Registry::builtin`]; nothing else names job kinds.
#[async_trait]
pub trait BackgroundJob: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The task name, as stored and as accepted by `POST /github/tasks/`.
    const NAME: &'static str;

    /// What the job does, in one sentence (trigger form, OpenAPI).
    const DESCRIPTION: &'static str;

    /// The arguments a trigger may give (trigger form, OpenAPI).
    const ARGS: &'static [ArgSpec] = &[];

    /// The cron entry that enqueues this kind, if any (see [`BackgroundJob::scheduled`]):
    /// its variable, default and description. The configuration reads the variable of
    /// every registered kind's schedule; kinds declaring the same schedule share its ticks.
    const SCHEDULE: Option<Schedule> = None;

    /// The developers whose profiles a task of this kind syncs, if it syncs any: discovery
    /// picks no developer that an active task claims.
    const CLAIMS_LOGINS: Option<fn(&Self) -> &[GithubLogin]> = None;

    /// Builds the job from a trigger's arguments, validating each.
    fn parse(args: &mut Args) -> Result<Self, TaskRequestError>;

    /// Tasks of this kind with the same key are identical: only one is active at a time.
    /// By default the arguments as canonical JSON, lower-cased (GitHub names ignore case).
    fn dedupe_key(&self) -> String {
        serde_json::to_value(self)
            .map(|args| args.to_string().to_lowercase())
            .unwrap_or_default()
    }

    /// The `username` column of the task resource (the original jobs' argument).
    fn username(&self) -> Option<&str> {
        None
    }

    /// The `repo_name` column of the task resource (the original jobs' argument).
    fn repo_name(&self) -> Option<&str> {
        None
    }

    /// The jobs a tick of [`BackgroundJob::SCHEDULE`] enqueues.
    async fn scheduled(_ctx: &AppContext) -> Result<Vec<Self>, JobError> {
        Ok(Vec::new())
    }

    /// GitHub requests the run needs before it starts (checked against the quota reserve;
    /// 0 for a job that makes none).
    async fn estimate(&self, _ctx: &AppContext) -> Result<u32, JobError> {
        Ok(0)
    }

    /// Runs the job once.
    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError>;

    /// The task row that asks for this job.
    fn to_task(&self) -> Result<NewTask, JobError> {
        let args = serde_json::to_value(self)
            .map_err(|error| JobError::InvalidTask(format!("arguments not storable: {error}")))?;
        if !args.is_object() {
            return Err(JobError::InvalidTask(format!(
                "arguments of {} must serialize to a JSON object",
                Self::NAME
            )));
        }
        Ok(NewTask {
            name: Self::NAME,
            args,
            dedupe_key: self.dedupe_key(),
            username: self.username().map(str::to_owned),
            repo_name: self.repo_name().map(str::to_owned),
        })
    }
}

/// Why a trigger does not describe a job; the messages are part of the API contract.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaskRequestError {
    /// No task name was given; holds the names that exist.
    #[error("Missing name. Provide a task name: {0}")]
    MissingName(String),
    /// The task name is not one the registry knows.
    #[error("task name {0} not recognized")]
    UnknownName(String),
    /// A missing or malformed argument; the message names it.
    #[error("{0}")]
    Invalid(String),
}

/// Why a job stopped before finishing.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// GitHub failed, refused, or the quota ran low.
    #[error(transparent)]
    Github(#[from] GithubError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The stored task does not describe a job (edited by hand, or from another version).
    #[error("invalid task: {0}")]
    InvalidTask(String),
    /// The job ran and found it cannot do its work; the message says why.
    #[error("{0}")]
    Failed(String),
    /// The job panicked; the task fails with the panic's message.
    #[error("job panicked: {0}")]
    Panicked(String),
}

impl From<diesel::result::Error> for JobError {
    fn from(error: diesel::result::Error) -> Self {
        JobError::Database(DbError::Query(error))
    }
}
