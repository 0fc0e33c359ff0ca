//! The job registry: every job kind, by name. The worker dispatches through it, the API
//! parses triggers and documents task names with it, the scheduler asks it what to enqueue.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::config::CronEntry;
use crate::context::AppContext;
use crate::db::queries::tasks::NewTask;
use crate::jobs::{
    ActivityReconcile, ArgSpec, Args, BackgroundJob, DiscoveryScraper, EventsPoll, FullProfileSync,
    FullRepositorySync, GraphqlProfileBatch, IssueTimelineSync, JobError, JobRun, OrgMembersSync,
    Outcome, RepositoryActivitySync, TaskRequestError,
};

/// One job kind with its type erased, as the registry holds it.
#[async_trait]
pub trait JobKind: Send + Sync {
    /// The task name.
    fn name(&self) -> &'static str;
    /// What the job does.
    fn description(&self) -> &'static str;
    /// The arguments a trigger may give.
    fn args(&self) -> &'static [ArgSpec];
    /// The cron entry that enqueues this kind, if any.
    fn schedule(&self) -> Option<CronEntry>;
    /// Parses a trigger's arguments into the task to insert.
    fn parse(&self, args: Args) -> Result<NewTask, TaskRequestError>;
    /// The tasks a tick of its cron entry enqueues.
    async fn scheduled(&self, ctx: &AppContext) -> Result<Vec<NewTask>, JobError>;
    /// Reads a stored task's arguments, checks the quota, and runs the job.
    async fn execute(&self, run: &JobRun<'_>, args: &Value) -> Result<Outcome, JobError>;
}

struct Kind<J>(PhantomData<fn() -> J>);

#[async_trait]
impl<J: BackgroundJob> JobKind for Kind<J> {
    fn name(&self) -> &'static str {
        J::NAME
    }

    fn description(&self) -> &'static str {
        J::DESCRIPTION
    }

    fn args(&self) -> &'static [ArgSpec] {
        J::ARGS
    }

    fn schedule(&self) -> Option<CronEntry> {
        J::SCHEDULE
    }

    fn parse(&self, mut args: Args) -> Result<NewTask, TaskRequestError> {
        let job = J::parse(&mut args)?;
        args.finish(J::NAME)?;
        job.to_task()
            .map_err(|error| TaskRequestError::Invalid(error.to_string()))
    }

    async fn scheduled(&self, ctx: &AppContext) -> Result<Vec<NewTask>, JobError> {
        J::scheduled(ctx)
            .await?
            .iter()
            .map(BackgroundJob::to_task)
            .collect()
    }

    async fn execute(&self, run: &JobRun<'_>, args: &Value) -> Result<Outcome, JobError> {
        let job: J = serde_json::from_value(args.clone())
            .map_err(|error| JobError::InvalidTask(format!("arguments of {}: {error}", J::NAME)))?;
        let needed = job.estimate(run.ctx).await?;
        if needed > 0 {
            run.ctx.github.ensure_quota(needed).await?;
        }
        job.run(run).await
    }
}

/// The job kinds a process knows, in registration order.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: Vec<Arc<dyn JobKind>>,
}

impl Registry {
    /// Every job kind gitomatic has: one line per kind.
    pub fn builtin() -> Self {
        Self::default()
            .with::<FullProfileSync>()
            .with::<FullRepositorySync>()
            .with::<DiscoveryScraper>()
            .with::<RepositoryActivitySync>()
            .with::<IssueTimelineSync>()
            .with::<ActivityReconcile>()
            .with::<OrgMembersSync>()
            .with::<EventsPoll>()
            .with::<GraphqlProfileBatch>()
    }

    /// Adds a kind; a kind of the same name is replaced.
    pub fn with<J: BackgroundJob>(mut self) -> Self {
        self.kinds.retain(|kind| kind.name() != J::NAME);
        self.kinds.push(Arc::new(Kind::<J>(PhantomData)));
        self
    }

    /// Every kind, in registration order.
    pub fn kinds(&self) -> impl Iterator<Item = &dyn JobKind> {
        self.kinds.iter().map(AsRef::as_ref)
    }

    /// The task names, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.kinds().map(JobKind::name).collect()
    }

    /// The kind of this name.
    pub fn get(&self, name: &str) -> Option<&dyn JobKind> {
        self.kinds().find(|kind| kind.name() == name)
    }

    /// The kinds a cron entry enqueues.
    pub fn scheduled_by(&self, entry: CronEntry) -> impl Iterator<Item = &dyn JobKind> {
        self.kinds()
            .filter(move |kind| kind.schedule() == Some(entry))
    }

    /// Parses a trigger (a name, blank counting as missing, and its arguments) into the
    /// task to insert.
    pub fn parse(&self, name: Option<&str>, args: Args) -> Result<NewTask, TaskRequestError> {
        let name = name
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| TaskRequestError::MissingName(self.names_in_words()))?;
        let kind = self
            .get(name)
            .ok_or_else(|| TaskRequestError::UnknownName(name.chars().take(100).collect()))?;
        kind.parse(args)
    }

    /// "a, b or c".
    fn names_in_words(&self) -> String {
        let names = self.names();
        match names.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn args(value: Value) -> Args {
        let Value::Object(loose) = value else {
            return Args::default();
        };
        Args::new(Map::new(), loose).expect("no conflict")
    }

    #[test]
    fn triggers_parse_into_tasks_with_the_contract_messages() {
        let registry = Registry::builtin();
        let task = registry
            .parse(Some("discovery_scraper"), args(json!({})))
            .expect("valid");
        assert_eq!(task.name, "discovery_scraper");
        assert_eq!(task.args, json!({}));
        let task = registry
            .parse(
                Some("full_repository_sync"),
                args(json!({"username": "OctoCat", "repo_name": "Hello"})),
            )
            .expect("valid");
        assert_eq!(
            task.args,
            json!({"username": "OctoCat", "repo_name": "Hello"})
        );
        assert_eq!(task.dedupe_key, "octocat/hello");
        assert_eq!(task.username.as_deref(), Some("OctoCat"));
        let message = |name: Option<&str>, value: Value| {
            registry
                .parse(name, args(value))
                .expect_err("invalid")
                .to_string()
        };
        assert_eq!(
            message(Some("full_profile_sync"), json!({})),
            "Missing username. Provide a valid github username"
        );
        assert_eq!(
            message(
                Some("full_repository_sync"),
                json!({"username": "octocat", "repo_name": " "})
            ),
            "Missing repo_name. Provide a valid repository name"
        );
        assert_eq!(
            message(Some("foo"), json!({})),
            "task name foo not recognized"
        );
        assert_eq!(
            message(None, json!({})),
            "Missing name. Provide a task name: full_profile_sync, full_repository_sync, discovery_scraper, repository_activity_sync, issue_timeline_sync, activity_reconcile, org_members_sync, events_poll or graphql_profile_batch"
        );
        assert!(
            message(Some("full_profile_sync"), json!({"username": "bad/name"}))
                .contains("not a valid GitHub username")
        );
    }

    #[test]
    fn the_dedupe_keys_of_the_original_jobs_match_the_migration() {
        // migrations/2026-12-01-000001_jobs_as_data derives the same keys for old rows.
        let registry = Registry::builtin();
        let key = |name, value| {
            registry
                .parse(Some(name), args(value))
                .expect("valid")
                .dedupe_key
        };
        assert_eq!(
            key("full_profile_sync", json!({"username": "Octo"})),
            "octo"
        );
        assert_eq!(key("discovery_scraper", json!({})), "{}");
    }
}
