//! `webhook_delivery(delivery_id)`: applies one stored webhook delivery from its payload
//! alone (SPEC-3 A), through the upserts the activity walks use.
//!
//! A delivery about a tracked repository or organization whose event and action are in
//! the table below is applied; any other is `ignored`. The delivery's row is locked, the
//! payload applied and the status recorded in one transaction, so a delivery is applied
//! exactly once however often its task runs (a redelivered message, a worker killed
//! mid-apply): a second run finds it no longer `accepted`.
//!
//! | event | actions | effect |
//! |---|---|---|
//! | `issues` | opened, edited, closed, reopened, labeled, unlabeled, assigned, unassigned, locked, unlocked | the issue upserted |
//! | `issues` | transferred | the new issue stored, the transfer recorded |
//! | `issues` | deleted | `deleted_at` set |
//! | `issue_comment` | created, edited, deleted | the `commented` timeline item upserted / removed |
//! | `pull_request` | opened, edited, closed, reopened, synchronize, ready_for_review, converted_to_draft | the pull request upserted |
//! | `pull_request_review` | submitted, dismissed | the `reviewed` timeline item upserted |
//! | `release` | published, edited, deleted | the release upserted / removed |
//! | `push` | (default branch) | its commits upserted |
//! | `star` | created, deleted | the star added / removed |
//! | `organization` | member_added, member_removed | the member active / inactive |
//! | `repository` | renamed, transferred | the tracked row and repository follow |
//!
//! Every delivery about a tracked repository also stores the repository its payload
//! carries (its star count, a new name). An issue, pull request or comment whose payload
//! `updated_at` is earlier than the stored one changes nothing. A comment or review on an
//! issue never stored asks for an [`IssueSync`] of it, the only GitHub requests a delivery
//! causes; a change to a repository's activity asks for its leaderboard's rebuild
//! ([`leaderboard::schedule`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::issues::{self, StoredIssue};
use crate::db::queries::transfers::{self, NewTransfer};
use crate::db::queries::webhook_deliveries::{self, StoredDelivery};
use crate::db::queries::{
    commits, developers, members, relations, releases, tasks, timeline, tracked,
};
use crate::github::activity::{Issue, TimelineItem};
use crate::github::types::Repository;
use crate::github::webhook::{
    self, IssueCommentEvent, IssuesEvent, OrganizationEvent, PullRequestEvent,
    PullRequestReviewEvent, PushEvent, ReleaseEvent, RepositoryEvent, StarEvent,
};
use crate::jobs::activity::issue::IssueSync;
use crate::jobs::activity::leaderboard;
use crate::jobs::activity::store::{self, Home};
use crate::jobs::crawl::store_repositories;
use crate::jobs::{ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};
use crate::metrics::WEBHOOK_DELIVERIES;

/// `webhook_delivery(delivery_id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// The delivery's `X-GitHub-Delivery`.
    pub delivery_id: String,
}

#[async_trait]
impl BackgroundJob for WebhookDelivery {
    const NAME: &'static str = "webhook_delivery";
    const DESCRIPTION: &'static str =
        "Apply a stored GitHub webhook delivery from its payload alone (no GitHub request).";
    const ARGS: &'static [ArgSpec] = &[ArgSpec {
        name: "delivery_id",
        description: "A stored delivery's X-GitHub-Delivery",
        example: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        required: true,
    }];

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        let delivery_id = args.required_text(
            "delivery_id",
            "Missing delivery_id. Provide a stored delivery's X-GitHub-Delivery",
        )?;
        Ok(Self { delivery_id })
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        apply(run.ctx, &self.delivery_id).await
    }
}

/// The event/actions of the table that upsert an issue.
const ISSUE_ACTIONS: &[&str] = &[
    "opened",
    "edited",
    "closed",
    "reopened",
    "labeled",
    "unlabeled",
    "assigned",
    "unassigned",
    "locked",
    "unlocked",
];

/// The actions of `pull_request` that upsert the pull request.
const PULL_REQUEST_ACTIONS: &[&str] = &[
    "opened",
    "edited",
    "closed",
    "reopened",
    "synchronize",
    "ready_for_review",
    "converted_to_draft",
];

/// What applying a delivery did.
enum Effect {
    /// Applied; with the work it asks for.
    Applied(Follow),
    /// Not about anything tracked, or not an event/action of the table.
    Ignored,
}

/// Work a delivery asks for once applied: leaderboard rebuilds and the sync of an issue
/// never stored.
#[derive(Default)]
struct Follow {
    /// Repositories (`owner/name`) whose activity changed.
    rebuild: Vec<String>,
    /// An issue to sync with its timeline.
    refresh: Option<IssueSync>,
}

impl Follow {
    fn rebuild(full_name: &str) -> Effect {
        Effect::Applied(Self {
            rebuild: vec![full_name.to_owned()],
            refresh: None,
        })
    }

    fn nothing() -> Effect {
        Effect::Applied(Self::default())
    }
}

/// Why a delivery could not be applied: its payload does not say what the event's
/// description promises (the delivery fails), or the job failed (a database error).
enum ApplyError {
    Payload(String),
    Job(JobError),
}

impl From<diesel::result::Error> for ApplyError {
    fn from(error: diesel::result::Error) -> Self {
        ApplyError::Job(error.into())
    }
}

impl From<DbError> for ApplyError {
    fn from(error: DbError) -> Self {
        ApplyError::Job(error.into())
    }
}

impl From<JobError> for ApplyError {
    fn from(error: JobError) -> Self {
        ApplyError::Job(error)
    }
}

/// What became of a delivery in its transaction.
struct Processed {
    event: String,
    status: &'static str,
    error: Option<String>,
    /// Tasks to publish after the commit, with when they are due.
    publish: Vec<(Uuid, DateTime<Utc>)>,
}

/// Applies (or ignores) the stored delivery `delivery_id`, records its status, and asks for
/// the work it implies; a delivery no longer `accepted` is left as it is.
pub async fn apply(ctx: &AppContext, delivery_id: &str) -> Result<Outcome, JobError> {
    let now = Utc::now();
    let mut conn = ctx.conn().await?;
    let result = conn
        .transaction::<_, JobError, _>(async |conn| process(conn, delivery_id, now).await)
        .await;
    let processed = match result {
        Ok(Some(processed)) => processed,
        Ok(None) => {
            return Ok(Outcome::SucceededWithNote(format!(
                "delivery {delivery_id} is not stored, or was processed already"
            )));
        }
        Err(error) => {
            if !matches!(&error, JobError::Database(cause) if cause.is_transient()) {
                // A bug, not a wait: the delivery says so too.
                let message = error.to_string();
                let event = conn
                    .transaction::<_, DbError, _>(async |conn| {
                        let Some(delivery) = webhook_deliveries::lock(conn, delivery_id).await?
                        else {
                            return Ok(None);
                        };
                        webhook_deliveries::finish(conn, delivery.id, "failed", Some(&message))
                            .await?;
                        Ok(Some(delivery.event))
                    })
                    .await?;
                if let Some(event) = event {
                    count(ctx, &event, "failed");
                }
            }
            return Err(error);
        }
    };
    drop(conn);
    count(ctx, &processed.event, processed.status);
    for (task_id, due) in &processed.publish {
        let wait = (*due - Utc::now()).to_std().unwrap_or_default();
        if let Err(error) = ctx.publisher.publish_after(*task_id, wait).await {
            tracing::warn!(task.id = %task_id, %error, "task stored but not published; the sweep will republish it");
        }
    }
    tracing::debug!(delivery = %delivery_id, event = %processed.event, status = processed.status, "webhook delivery processed");
    match processed.error {
        Some(error) => Err(JobError::Failed(error)),
        None => Ok(Outcome::Succeeded),
    }
}

/// Counts a processed delivery in `gitomatic_webhook_deliveries_total`.
fn count(ctx: &AppContext, event: &str, status: &str) {
    ctx.metrics.count(
        &WEBHOOK_DELIVERIES,
        [webhook::event_label(Some(event)), status],
        1.0,
    );
}

/// The transaction of one delivery: lock it, apply it (in a savepoint, so a payload that
/// does not fit leaves nothing half-stored), record its status and enqueue what it asks for.
async fn process(
    conn: &mut AsyncPgConnection,
    delivery_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Processed>, JobError> {
    let Some(delivery) = webhook_deliveries::lock(conn, delivery_id).await? else {
        return Ok(None);
    };
    if delivery.status != "accepted" {
        return Ok(None);
    }
    let applied = conn
        .transaction::<_, ApplyError, _>(async |conn| effect(conn, &delivery).await)
        .await;
    let (status, error, follow) = match applied {
        Ok(Effect::Applied(follow)) => ("applied", None, follow),
        Ok(Effect::Ignored) => ("ignored", None, Follow::default()),
        Err(ApplyError::Payload(message)) => ("failed", Some(message), Follow::default()),
        Err(ApplyError::Job(error)) => return Err(error),
    };
    webhook_deliveries::finish(conn, delivery.id, status, error.as_deref()).await?;
    let mut publish = Vec::new();
    let mut rebuild = follow.rebuild;
    rebuild.sort_by_key(|name| name.to_lowercase());
    rebuild.dedup_by_key(|name| name.to_lowercase());
    for full_name in &rebuild {
        publish.extend(leaderboard::schedule(conn, full_name, now).await?);
    }
    if let Some(refresh) = &follow.refresh {
        let (row, created) = tasks::insert_or_existing(conn, &refresh.to_task()?).await?;
        if created {
            publish.push((row.id, now));
        }
    }
    Ok(Some(Processed {
        event: delivery.event,
        status,
        error,
        publish,
    }))
}

/// Applies a delivery's payload, or says it is ignored.
async fn effect(
    conn: &mut AsyncPgConnection,
    delivery: &StoredDelivery,
) -> Result<Effect, ApplyError> {
    let payload = &delivery.payload;
    let action = delivery.action.as_deref().unwrap_or("");
    match delivery.event.as_str() {
        "issues" if ISSUE_ACTIONS.contains(&action) || action == "deleted" => {
            issues_event(conn, parse(payload, "issues")?, action).await
        }
        "issues" if action == "transferred" => {
            issue_transferred(conn, parse(payload, "issues")?).await
        }
        "issue_comment" if matches!(action, "created" | "edited" | "deleted") => {
            issue_comment(conn, parse(payload, "issue_comment")?, action).await
        }
        "pull_request" if PULL_REQUEST_ACTIONS.contains(&action) => {
            pull_request(conn, parse(payload, "pull_request")?, action).await
        }
        "pull_request_review" if matches!(action, "submitted" | "dismissed") => {
            review(conn, parse(payload, "pull_request_review")?).await
        }
        "release" if matches!(action, "published" | "edited" | "deleted") => {
            release(conn, parse(payload, "release")?, action).await
        }
        "push" => push(conn, parse(payload, "push")?).await,
        "star" if matches!(action, "created" | "deleted") => {
            star(conn, parse(payload, "star")?, action == "created").await
        }
        "organization" if matches!(action, "member_added" | "member_removed") => {
            membership(
                conn,
                parse(payload, "organization")?,
                action == "member_added",
            )
            .await
        }
        "repository" if matches!(action, "renamed" | "transferred") => {
            let event: RepositoryEvent = parse(payload, "repository")?;
            let former = event.former_full_name();
            Ok(
                match tracked_home(conn, &event.repository, former.as_deref()).await? {
                    Some(_) => Follow::nothing(),
                    None => Effect::Ignored,
                },
            )
        }
        _ => Ok(Effect::Ignored),
    }
}

/// A payload as an event's model; the error names where it does not fit.
fn parse<T: DeserializeOwned>(payload: &Value, event: &str) -> Result<T, ApplyError> {
    serde_path_to_error::deserialize(payload).map_err(|error| {
        ApplyError::Payload(format!(
            "the {event} payload does not fit at {}: {}",
            error.path(),
            error.inner()
        ))
    })
}

/// A repository of a payload as the walks' type.
fn repository_of(value: &Value, what: &str) -> Result<Repository, ApplyError> {
    webhook::repository(value)
        .map_err(|error| ApplyError::Payload(format!("the {what} does not fit: {error}")))
}

/// The stored repository a delivery is about, owned by the tracked row it belongs to.
struct TrackedHome {
    repository_id: Uuid,
    full_name: String,
}

impl TrackedHome {
    fn home(&self) -> Home<'_> {
        Home {
            repository_id: self.repository_id,
            full_name: &self.full_name,
        }
    }
}

/// The tracked repository the payload's `repository` is (under its name now, its name
/// before a rename or transfer — `former` —, or its GitHub id), after storing that
/// repository and letting the tracked row follow it as a 301 does; `None` when it is not
/// tracked (nothing is stored then).
async fn tracked_home(
    conn: &mut AsyncPgConnection,
    repository: &Value,
    former: Option<&str>,
) -> Result<Option<TrackedHome>, ApplyError> {
    let repository = repository_of(repository, "repository")?;
    let mut names = vec![repository.full_name.as_str()];
    names.extend(former);
    let Some(tracked) = tracked::find_for_delivery(conn, repository.id, &names).await? else {
        return Ok(None);
    };
    let id = stored_repository(conn, &repository).await?;
    if tracked.repository_id != Some(id) || tracked.full_name != repository.full_name {
        tracked::resolve_repository(conn, tracked.id, &repository.full_name, id).await?;
    }
    Ok(Some(TrackedHome {
        repository_id: id,
        full_name: repository.full_name,
    }))
}

/// Stores a repository of a payload (and its owner); returns its id.
async fn stored_repository(
    conn: &mut AsyncPgConnection,
    repository: &Repository,
) -> Result<Uuid, ApplyError> {
    let ids = store_repositories(conn, std::slice::from_ref(repository), None).await?;
    Ok(ids.get(&repository.id).copied().ok_or_else(|| {
        DbError::Inconsistent(format!(
            "repository {} was not stored",
            repository.full_name
        ))
    })?)
}

/// Upserts an issue or pull request unless the stored one is newer (by `updated_at`);
/// returns whether it was stored.
async fn upsert_issue(
    conn: &mut AsyncPgConnection,
    home: Home<'_>,
    issue: &Issue,
    stored: Option<&StoredIssue>,
) -> Result<bool, ApplyError> {
    if stored.is_some_and(|stored| stored.updated_at > issue.updated_at) {
        return Ok(false);
    }
    store::issues(conn, home, std::slice::from_ref(issue)).await?;
    Ok(true)
}

/// The stored issue with GitHub id `github_id`, its deliveries serialized from here on.
async fn locked_issue(
    conn: &mut AsyncPgConnection,
    github_id: i64,
) -> Result<Option<StoredIssue>, ApplyError> {
    webhook_deliveries::lock_object(conn, "issue", &github_id.to_string()).await?;
    Ok(issues::find_by_github_id(conn, github_id).await?)
}

/// `issues`: the issue upserted (who closed it is the sender); `deleted` also marks it
/// deleted.
async fn issues_event(
    conn: &mut AsyncPgConnection,
    event: IssuesEvent,
    action: &str,
) -> Result<Effect, ApplyError> {
    let Some(home) = tracked_home(conn, &event.repository, None).await? else {
        return Ok(Effect::Ignored);
    };
    let mut issue = event.issue;
    if action == "closed" && issue.closed_by.is_none() {
        issue.closed_by = event.sender;
    }
    let stored = locked_issue(conn, issue.id).await?;
    upsert_issue(conn, home.home(), &issue, stored.as_ref()).await?;
    if action == "deleted"
        && let Some(stored) = issues::find_by_github_id(conn, issue.id).await?
    {
        issues::mark_deleted(conn, stored.id).await?;
    }
    Ok(Follow::rebuild(&home.full_name))
}

/// `issues.transferred`: the issue as it was and the one it became are stored (the new
/// one under its repository, which the payload carries), the transfer recorded and the old
/// issue linked to the new one, as a 301 on the issue does.
async fn issue_transferred(
    conn: &mut AsyncPgConnection,
    event: IssuesEvent,
) -> Result<Effect, ApplyError> {
    let Some(home) = tracked_home(conn, &event.repository, None).await? else {
        return Ok(Effect::Ignored);
    };
    let missing = |what: &str| ApplyError::Payload(format!("issues.transferred without {what}"));
    let changes = event.changes.ok_or_else(|| missing("changes"))?;
    let new_issue = changes
        .new_issue
        .ok_or_else(|| missing("changes.new_issue"))?;
    let new_repository = changes
        .new_repository
        .ok_or_else(|| missing("changes.new_repository"))?;
    let old = locked_issue(conn, event.issue.id).await?;
    upsert_issue(conn, home.home(), &event.issue, old.as_ref()).await?;
    let old = issues::find_by_github_id(conn, event.issue.id)
        .await?
        .ok_or_else(|| DbError::Inconsistent(format!("issue {} not stored", event.issue.id)))?;
    // The repository it went to: followed as a tracked one when it is tracked.
    let new_home = match tracked_home(conn, &new_repository, None).await? {
        Some(tracked) => tracked,
        None => {
            let repository = repository_of(&new_repository, "changes.new_repository")?;
            TrackedHome {
                repository_id: stored_repository(conn, &repository).await?,
                full_name: repository.full_name,
            }
        }
    };
    let new = locked_issue(conn, new_issue.id).await?;
    upsert_issue(conn, new_home.home(), &new_issue, new.as_ref()).await?;
    let new_id = issues::find_by_github_id(conn, new_issue.id)
        .await?
        .ok_or_else(|| DbError::Inconsistent(format!("issue {} not stored", new_issue.id)))?
        .id;
    transfers::record(
        conn,
        &NewTransfer {
            from_issue_id: old.id,
            to_issue_id: new_id,
            from_full_name: &home.full_name,
            from_number: old.number,
            to_full_name: &new_home.full_name,
            to_number: new_issue.number,
        },
    )
    .await?;
    issues::mark_transferred(conn, old.id, new_id).await?;
    let mut rebuild = vec![home.full_name.clone()];
    if tracked::find_by_repository(conn, new_home.repository_id)
        .await?
        .is_some()
    {
        rebuild.push(new_home.full_name.clone());
    }
    Ok(Effect::Applied(Follow {
        rebuild,
        refresh: None,
    }))
}

/// An item of a stored issue's timeline upserted where it stands (or after the last item,
/// for a new one, until the next read of the timeline orders it), unless the stored one
/// was edited later; or removed.
async fn timeline_item(
    conn: &mut AsyncPgConnection,
    issue: &StoredIssue,
    item: &TimelineItem,
    remove: bool,
) -> Result<(), ApplyError> {
    let (event, key) = (item.event(), item.key());
    webhook_deliveries::lock_object(conn, event, &format!("{}:{key}", issue.id)).await?;
    if remove {
        timeline::remove(conn, issue.id, event, &key).await?;
        return Ok(());
    }
    let stored = timeline::stored(conn, issue.id, event, &key).await?;
    if let (Some((_, Some(stored_at))), Some(edited_at)) = (stored, item.updated_at())
        && stored_at > edited_at
    {
        return Ok(());
    }
    let position = match stored {
        Some((position, _)) => position,
        None => timeline::next_position(conn, issue.id).await?,
    };
    let first = usize::try_from(position).unwrap_or_default();
    store::timeline_page(conn, issue.id, first, std::slice::from_ref(item)).await?;
    Ok(())
}

/// `issue_comment`: the `commented` item of the issue's timeline; an issue never stored
/// is synced instead (its timeline holds the comment).
async fn issue_comment(
    conn: &mut AsyncPgConnection,
    event: IssueCommentEvent,
    action: &str,
) -> Result<Effect, ApplyError> {
    let Some(home) = tracked_home(conn, &event.repository, None).await? else {
        return Ok(Effect::Ignored);
    };
    if event.issue.pull_request.is_some() {
        // The comment names the pull request's issue id: a pull request stored from a
        // `pull_request` delivery under a placeholder takes it.
        issues::adopt_placeholders(
            conn,
            &[(home.repository_id, event.issue.number, event.issue.id)],
        )
        .await?;
    }
    let Some(issue) = locked_issue(conn, event.issue.id).await? else {
        return Ok(refresh(&home, event.issue.number));
    };
    timeline_item(conn, &issue, &event.timeline_item(), action == "deleted").await?;
    Ok(Follow::rebuild(&home.full_name))
}

/// The sync of an issue never stored, asked for by a comment or review on it.
fn refresh(home: &TrackedHome, number: i32) -> Effect {
    match crate::domain::FullName::parse(&home.full_name) {
        Ok(full_name) => Effect::Applied(Follow {
            rebuild: Vec::new(),
            refresh: Some(IssueSync { full_name, number }),
        }),
        Err(_) => Follow::nothing(),
    }
}

/// `pull_request`: the pull request upserted, its merged state from the payload (who
/// closed it is the sender). One not stored yet is stored under a placeholder id (see
/// [`issues::placeholder_id`]).
async fn pull_request(
    conn: &mut AsyncPgConnection,
    event: PullRequestEvent,
    action: &str,
) -> Result<Effect, ApplyError> {
    let Some(home) = tracked_home(conn, &event.repository, None).await? else {
        return Ok(Effect::Ignored);
    };
    let pull = &event.pull_request;
    webhook_deliveries::lock_object(
        conn,
        "pull",
        &format!("{}#{}", home.repository_id, pull.number),
    )
    .await?;
    let stored = issues::find_by_number(conn, home.repository_id, pull.number).await?;
    let github_id = stored.as_ref().map_or_else(
        || issues::placeholder_id(pull.id),
        |stored| stored.github_id,
    );
    let mut issue = pull.as_issue(github_id, 0);
    if action == "closed" {
        issue.closed_by = event.sender.clone();
    }
    upsert_issue(conn, home.home(), &issue, stored.as_ref()).await?;
    Ok(Follow::rebuild(&home.full_name))
}

/// `pull_request_review`: the `reviewed` item of the pull request's timeline; a pull
/// request never stored is synced instead.
async fn review(
    conn: &mut AsyncPgConnection,
    event: PullRequestReviewEvent,
) -> Result<Effect, ApplyError> {
    let Some(home) = tracked_home(conn, &event.repository, None).await? else {
        return Ok(Effect::Ignored);
    };
    let number = event.pull_request.number;
    let Some(pull) = issues::find_by_number(conn, home.repository_id, number).await? else {
        return Ok(refresh(&home, number));
    };
    timeline_item(conn, &pull, &event.timeline_item(), false).await?;
    Ok(Follow::rebuild(&home.full_name))
}

/// `release`: the release upserted, or removed.
async fn release(
    conn: &mut AsyncPgConnection,
    event: ReleaseEvent,
    action: &str,
) -> Result<Effect, ApplyError> {
    let Some(home) = tracked_home(conn, &event.repository, None).await? else {
        return Ok(Effect::Ignored);
    };
    if action == "deleted" {
        releases::remove(conn, event.release.id).await?;
    } else {
        store::releases(conn, home.home(), std::slice::from_ref(&event.release)).await?;
    }
    Ok(Follow::rebuild(&home.full_name))
}

/// `push` to the default branch: its commits upserted (sha, author login, `timestamp` as
/// the author date, message); a push to another branch is ignored.
async fn push(conn: &mut AsyncPgConnection, event: PushEvent) -> Result<Effect, ApplyError> {
    if !event.to_default_branch() {
        return Ok(Effect::Ignored);
    }
    let Some(home) = tracked_home(conn, &event.repository, None).await? else {
        return Ok(Effect::Ignored);
    };
    let mut rows = Vec::with_capacity(event.commits.len());
    for commit in &event.commits {
        let login = commit.author.as_ref().and_then(|a| a.username.as_deref());
        let author_id = match login {
            Some(login) => developers::find_by_login(conn, login)
                .await?
                .map(|developer| developer.id),
            None => None,
        };
        rows.push(commits::NewCommit {
            repository_id: home.repository_id,
            full_name: &home.full_name,
            sha: &commit.id,
            author_id,
            author_login: login,
            author_type: None,
            author_name: commit.author.as_ref().and_then(|a| a.name.as_deref()),
            authored_at: commit.timestamp,
            committed_at: None,
            message: &commit.message,
        });
    }
    commits::upsert(conn, &rows).await?;
    Ok(Follow::rebuild(&home.full_name))
}

/// `star`: the sender's star on the repository added or removed (its count comes with the
/// repository the payload carries).
async fn star(
    conn: &mut AsyncPgConnection,
    event: StarEvent,
    starred: bool,
) -> Result<Effect, ApplyError> {
    let Some(home) = tracked_home(conn, &event.repository, None).await? else {
        return Ok(Effect::Ignored);
    };
    let ids = store::accounts(conn, std::iter::once(&event.sender)).await?;
    let developer = ids.get(&event.sender.id).copied().ok_or_else(|| {
        DbError::Inconsistent(format!("developer {} was not stored", event.sender.login))
    })?;
    relations::set_star(conn, developer, home.repository_id, starred).await?;
    Ok(Follow::nothing())
}

/// `organization.member_added` / `member_removed`: the member of a tracked organization
/// active or inactive.
async fn membership(
    conn: &mut AsyncPgConnection,
    event: OrganizationEvent,
    added: bool,
) -> Result<Effect, ApplyError> {
    let Some(organization) =
        tracked::find::<tracked::TrackedOrganization>(conn, &event.organization.login).await?
    else {
        return Ok(Effect::Ignored);
    };
    let user = event
        .membership
        .ok_or_else(|| ApplyError::Payload("organization event without membership".into()))?
        .user;
    let ids = store::accounts(conn, std::iter::once(&user)).await?;
    let developer = ids
        .get(&user.id)
        .copied()
        .ok_or_else(|| DbError::Inconsistent(format!("developer {} was not stored", user.login)))?;
    members::set_active(conn, &organization.login, developer, &user.login, added).await?;
    Ok(Follow::nothing())
}
