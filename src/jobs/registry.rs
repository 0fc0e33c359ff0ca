//! The job registry: every job kind, by name. The worker dispatches through it, the API
//! parses triggers and documents task names with it, the configuration reads the cron
//! variables of its schedules, the scheduler asks it what to enqueue and discovery which
//! developers active tasks claim.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::queries::tasks::NewTask;
use crate::domain::GithubLogin;
use crate::jobs::{
    ActivityReconcile, ArgSpec, Args, BackgroundJob, DeveloperRank, DiscoveryScraper, EventsPoll,
    FullProfileSync, FullRepositorySync, GraphSnapshot, GraphqlProfileBatch, IssueSync,
    IssueTimelineSync, JobError, JobRun, LeaderboardRebuild, OrgMembersSync, Outcome,
    RepositoryActivitySync, TaskRequestError, WebhookDelivery,
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
    fn schedule(&self) -> Option<Schedule>;
    /// Whether tasks of this kind claim developers ([`BackgroundJob::CLAIMS_LOGINS`]).
    fn claims_logins(&self) -> bool;
    /// The developers a stored task of this kind claims, read from its arguments.
    fn claimed_logins(&self, args: &Value) -> Result<Vec<GithubLogin>, JobError>;
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

    fn schedule(&self) -> Option<Schedule> {
        J::SCHEDULE
    }

    fn claims_logins(&self) -> bool {
        J::CLAIMS_LOGINS.is_some()
    }

    fn claimed_logins(&self, args: &Value) -> Result<Vec<GithubLogin>, JobError> {
        let Some(claims) = J::CLAIMS_LOGINS else {
            return Ok(Vec::new());
        };
        let job = deserialize::<J>(args)?;
        Ok(claims(&job).to_vec())
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
        let job = deserialize::<J>(args)?;
        let needed = job.estimate(run.ctx).await?;
        if needed > 0 {
            run.ctx.github.ensure_quota(needed).await?;
        }
        job.run(run).await
    }
}

/// A stored task's arguments as its kind's type.
fn deserialize<J: BackgroundJob>(args: &Value) -> Result<J, JobError> {
    serde_json::from_value(args.clone())
        .map_err(|error| JobError::InvalidTask(format!("arguments of {}: {error}", J::NAME)))
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
            .with::<GraphSnapshot>()
            .with::<WebhookDelivery>()
            .with::<IssueSync>()
            .with::<LeaderboardRebuild>()
            .with::<DeveloperRank>()
    }

    /// Adds a kind; a kind of the same name is replaced.
    ///
    /// # Panics
    /// When the kind's schedule has the variable of another kind's schedule but another
    /// default or description: kinds sharing a cron entry declare the same
    /// [`Schedule`] (e.g. `const SCHEDULE: Option<Schedule> = EventsPoll::SCHEDULE;`).
    pub fn with<J: BackgroundJob>(mut self) -> Self {
        self.kinds.retain(|kind| kind.name() != J::NAME);
        if let Some(schedule) = J::SCHEDULE {
            let clash = self
                .schedules()
                .into_iter()
                .find(|other| other.variable == schedule.variable && *other != schedule);
            assert!(
                clash.is_none(),
                "job kind {} declares {schedule:?}, but another kind declares {clash:?}",
                J::NAME
            );
        }
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

    /// The schedules of the kinds, each once, in registration order: the cron variables
    /// the configuration reads and the entries the scheduler runs.
    pub fn schedules(&self) -> Vec<Schedule> {
        let mut schedules: Vec<Schedule> = Vec::new();
        for schedule in self.kinds().filter_map(JobKind::schedule) {
            if !schedules.contains(&schedule) {
                schedules.push(schedule);
            }
        }
        schedules
    }

    /// The kinds the schedule set by `variable` enqueues.
    pub fn scheduled_by<'a>(&'a self, variable: &'a str) -> impl Iterator<Item = &'a dyn JobKind> {
        self.kinds()
            .filter(move |kind| kind.schedule().is_some_and(|s| s.variable == variable))
    }

    /// The kinds whose tasks claim developers (discovery skips those an active task claims).
    pub fn claiming_logins(&self) -> impl Iterator<Item = &dyn JobKind> {
        self.kinds().filter(|kind| kind.claims_logins())
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
    use crate::config::{Config, ConfigError};
    use serde::{Deserialize, Serialize};
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
            "Missing name. Provide a task name: full_profile_sync, full_repository_sync, discovery_scraper, repository_activity_sync, issue_timeline_sync, activity_reconcile, org_members_sync, events_poll, graphql_profile_batch, graph_snapshot, webhook_delivery, issue_sync, leaderboard_rebuild or developer_rank"
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

    /// The configuration read with the builtin kinds' schedules.
    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let schedules = Registry::builtin().schedules();
        Config::from_lookup(&schedules, |name| {
            vars.iter()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn the_builtin_schedules_are_the_spec_entries_with_their_defaults() {
        let registry = Registry::builtin();
        let schedules: Vec<(&str, &str)> = registry
            .schedules()
            .iter()
            .map(|s| (s.variable, s.default))
            .collect();
        assert_eq!(
            schedules,
            [
                ("DISCOVERY_CRON", "0 0 * * * *"),
                ("ACTIVITY_CRON", "0 */30 * * * *"),
                ("TIMELINE_CRON", "0 */10 * * * *"),
                ("RECONCILE_CRON", "0 0 5 * * *"),
                ("MEMBERS_CRON", "0 30 4 * * *"),
                ("EVENTS_CRON", "0 * * * * *"),
                ("GRAPH_CRON", "0 */15 * * * *"),
                ("RANK_CRON", "0 0 3 * * *"),
            ]
        );
        let config = config(&[]).expect("the defaults are valid");
        for (variable, default) in schedules {
            assert_eq!(config.cron(variable), Some(default), "{variable}");
        }
        let bound = |variable| -> Vec<&str> {
            registry.scheduled_by(variable).map(JobKind::name).collect()
        };
        assert_eq!(bound("DISCOVERY_CRON"), ["discovery_scraper"]);
        assert_eq!(bound("ACTIVITY_CRON"), ["repository_activity_sync"]);
        assert_eq!(bound("TIMELINE_CRON"), ["issue_timeline_sync"]);
        assert_eq!(bound("RECONCILE_CRON"), ["activity_reconcile"]);
        assert_eq!(bound("MEMBERS_CRON"), ["org_members_sync"]);
        assert_eq!(bound("EVENTS_CRON"), ["events_poll"]);
        assert_eq!(bound("GRAPH_CRON"), ["graph_snapshot"]);
        assert_eq!(bound("RANK_CRON"), ["developer_rank"]);
    }

    #[test]
    fn each_builtin_schedule_is_validated_and_can_be_off() {
        for (name, value) in [
            ("DISCOVERY_CRON", "0 * * * *"),
            ("ACTIVITY_CRON", "0 0 99 * * *"),
            ("TIMELINE_CRON", "every ten minutes"),
            ("RECONCILE_CRON", "0 0 5 * *"),
            ("MEMBERS_CRON", "0 61 4 * * *"),
            ("EVENTS_CRON", "disabled"),
            ("GRAPH_CRON", "0 */15 * * *"),
            ("GRAPH_CRON", "*/15 minutes"),
            ("RANK_CRON", "0 0 3 * *"),
        ] {
            let error = config(&[(name, value)]).expect_err(name);
            assert_eq!(error.variable, name);
            assert!(error.to_string().contains(name), "{error}");
        }
        let error = config(&[("DISCOVERY_CRON", "0 * * * *")]).expect_err("5 fields");
        assert!(
            error.to_string().ends_with(
                "6-field cron expression with seconds, e.g. `0 0 * * * *` (found 5 fields)"
            ),
            "{error}"
        );
        let variables: Vec<&str> = Registry::builtin()
            .schedules()
            .iter()
            .map(|s| s.variable)
            .collect();
        for variable in &variables {
            let config = config(&[(variable, "off")]).expect("valid");
            assert_eq!(config.cron(variable), None, "{variable}");
            assert!(
                variables
                    .iter()
                    .filter(|other| *other != variable)
                    .all(|other| config.cron(other).is_some()),
                "{variable}"
            );
        }
    }

    /// A kind of this test that claims to run on EVENTS_CRON with another default.
    #[derive(Serialize, Deserialize)]
    struct Clashing {}

    #[async_trait]
    impl BackgroundJob for Clashing {
        const NAME: &'static str = "clashing";
        const DESCRIPTION: &'static str = "Declares EVENTS_CRON with another default.";
        const SCHEDULE: Option<Schedule> = Some(Schedule {
            variable: "EVENTS_CRON",
            default: "0 0 * * * *",
            description: "polls of GitHub's event feeds",
        });

        fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
            Ok(Self {})
        }

        async fn run(&self, _run: &JobRun<'_>) -> Result<Outcome, JobError> {
            Ok(Outcome::Succeeded)
        }
    }

    #[test]
    #[should_panic(expected = "job kind clashing declares")]
    fn two_kinds_declaring_one_variable_differently_are_refused() {
        let _ = Registry::builtin().with::<Clashing>();
    }

    #[test]
    fn the_profile_syncing_kinds_say_which_developers_their_tasks_claim() {
        let registry = Registry::builtin();
        let claiming: Vec<&str> = registry.claiming_logins().map(JobKind::name).collect();
        assert_eq!(claiming, ["full_profile_sync", "graphql_profile_batch"]);
        let claimed = |name: &str, args: Value| -> Vec<String> {
            registry
                .get(name)
                .expect("a builtin kind")
                .claimed_logins(&args)
                .expect("valid arguments")
                .iter()
                .map(|login| login.as_str().to_owned())
                .collect()
        };
        assert_eq!(
            claimed("full_profile_sync", json!({"username": "Octo"})),
            ["Octo"]
        );
        assert_eq!(
            claimed(
                "graphql_profile_batch",
                json!({"usernames": ["Octo", "mona"]})
            ),
            ["Octo", "mona"]
        );
        assert!(claimed("full_repository_sync", json!({})).is_empty());
        assert!(
            registry
                .get("graphql_profile_batch")
                .expect("a builtin kind")
                .claimed_logins(&json!({"usernames": "Octo"}))
                .is_err(),
            "arguments that do not parse claim nothing"
        );
    }
}
