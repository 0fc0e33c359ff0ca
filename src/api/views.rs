//! What the API returns: one `*View` per resource, built from database records with
//! absolute hyperlinks, and `Page<T>` for lists.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::links::Links;
use crate::db::queries::commits::CommitRecord;
use crate::db::queries::developers::DeveloperRecord;
use crate::db::queries::issues::IssueRecord;
use crate::db::queries::members::MemberRecord;
use crate::db::queries::rate_limits::RateLimitRow;
use crate::db::queries::releases::ReleaseRecord;
use crate::db::queries::repositories::RepositoryRecord;
use crate::db::queries::tasks::{TaskRow, TaskStatus};
use crate::db::queries::timeline::TimelineItemRecord;
use crate::db::queries::tracked::{TrackedOrganization, TrackedRepository};
use crate::db::queries::transfers::TransferRecord;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// Items in the whole (filtered) list.
    pub count: i64,
    /// The next page, absent on the last.
    pub next: Option<String>,
    /// The previous page, absent on the first.
    pub previous: Option<String>,
    /// This page's items.
    pub results: Vec<T>,
}

/// A GitHub developer (user or organization).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeveloperView {
    pub url: String,
    pub id: Uuid,
    pub github_id: i64,
    pub login: String,
    pub name: Option<String>,
    pub location: Option<String>,
    pub bio: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub html_url: Option<String>,
    /// When the GitHub account was created (null until the profile was fetched).
    pub created_at: Option<DateTime<Utc>>,
    /// When the GitHub profile last changed.
    pub updated_at: Option<DateTime<Utc>>,
    pub followers_count: Option<i32>,
    pub following_count: Option<i32>,
    pub public_gists: Option<i32>,
    pub public_repos: Option<i32>,
    /// When gitomatic last completed a full profile sync (null: discovered, never synced).
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Developers following this one.
    pub followers: String,
    /// Developers this one follows.
    pub following: String,
    /// Repositories this developer starred.
    pub starred_repositories: String,
    /// Repositories this developer owns.
    pub repositories: String,
    /// Developers this one follows who follow it back.
    pub mutuals: String,
    /// Developers followed by those this one follows, not followed yet, scored.
    pub suggestions: String,
}

impl DeveloperView {
    /// The view of a record.
    pub fn new(record: DeveloperRecord, links: &Links) -> Self {
        let id = record.id;
        Self {
            url: links.developer(id, ""),
            id,
            github_id: record.github_id,
            login: record.login,
            name: record.name,
            location: record.location,
            bio: record.bio,
            company: record.company,
            email: record.email,
            avatar_url: record.avatar_url,
            html_url: record.html_url,
            created_at: record.created_at,
            updated_at: record.updated_at,
            followers_count: record.followers_count,
            following_count: record.following_count,
            public_gists: record.public_gists,
            public_repos: record.public_repos,
            last_synced_at: record.last_synced_at,
            followers: links.developer(id, "followers/"),
            following: links.developer(id, "following/"),
            starred_repositories: links.developer(id, "starred_repositories/"),
            repositories: links.developer(id, "repositories/"),
            mutuals: links.developer(id, "mutuals/"),
            suggestions: links.developer(id, "suggestions/"),
        }
    }
}

/// A GitHub repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryView {
    pub url: String,
    pub id: Uuid,
    /// The owning developer.
    pub owner: String,
    pub github_id: i64,
    pub owner_github_id: i64,
    pub name: String,
    pub full_name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub pushed_at: Option<DateTime<Utc>>,
    /// Unknown (null) for a repository only seen in GraphQL answers, which lack the field.
    pub has_downloads: Option<bool>,
    pub has_issues: bool,
    /// Unknown (null) for a repository only seen in GraphQL answers, which lack the field.
    pub has_pages: Option<bool>,
    pub has_projects: bool,
    pub has_wiki: bool,
    pub private: bool,
    pub archived: bool,
    pub disabled: bool,
    pub fork: bool,
    pub stargazers_count: i32,
    /// Only known once the repository itself was synced.
    pub subscribers_count: Option<i32>,
    pub watchers_count: i32,
    pub forks_count: i32,
    /// Unknown (null) for a repository only seen in GraphQL batches (a nested count there
    /// would cost 100 times the batch).
    pub open_issues_count: Option<i32>,
    /// When gitomatic last completed a full repository sync.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Developers who starred this repository.
    pub stargazers: String,
    /// Its issues (tracked repositories only have any).
    pub issues: String,
    /// Its pull requests.
    pub pull_requests: String,
    /// Its commits.
    pub commits: String,
    /// Its releases.
    pub releases: String,
}

impl RepositoryView {
    /// The view of a record.
    pub fn new(record: RepositoryRecord, links: &Links) -> Self {
        let id = record.id;
        Self {
            url: links.repository(id, ""),
            id,
            owner: links.developer(record.owner_id, ""),
            github_id: record.github_id,
            owner_github_id: record.owner_github_id,
            name: record.name,
            full_name: record.full_name,
            description: record.description,
            homepage: record.homepage,
            language: record.language,
            created_at: record.created_at,
            updated_at: record.updated_at,
            pushed_at: record.pushed_at,
            has_downloads: record.has_downloads,
            has_issues: record.has_issues,
            has_pages: record.has_pages,
            has_projects: record.has_projects,
            has_wiki: record.has_wiki,
            private: record.private,
            archived: record.archived,
            disabled: record.disabled,
            fork: record.fork,
            stargazers_count: record.stargazers_count,
            subscribers_count: record.subscribers_count,
            watchers_count: record.watchers_count,
            forks_count: record.forks_count,
            open_issues_count: record.open_issues_count,
            last_synced_at: record.last_synced_at,
            stargazers: links.repository(id, "stargazers/"),
            issues: links.repository(id, "issues/"),
            pull_requests: links.repository(id, "pull_requests/"),
            commits: links.repository(id, "commits/"),
            releases: links.repository(id, "releases/"),
        }
    }
}

/// The GitHub quota of one identity and resource, as last read from GitHub.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitView {
    pub url: String,
    pub id: i64,
    /// `anonymous` or `token:<first 8 hex of the token's SHA-256>`.
    pub identity: String,
    /// core, search, graphql...
    pub resource: String,
    pub rate_limit: i32,
    pub rate_remaining: i32,
    pub rate_used: i32,
    /// Reset time, epoch seconds.
    pub rate_reset_raw: i64,
    /// Reset time, RFC 3339.
    pub rate_reset: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RateLimitView {
    /// The view of a row.
    pub fn new(row: RateLimitRow, links: &Links) -> Self {
        Self {
            url: links.rate_limit(row.id),
            id: row.id,
            identity: row.identity,
            resource: row.resource,
            rate_limit: row.rate_limit,
            rate_remaining: row.rate_remaining,
            rate_used: row.rate_used,
            rate_reset_raw: row.rate_reset.timestamp(),
            rate_reset: row.rate_reset,
            updated_at: row.updated_at,
        }
    }
}

/// One task run.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub url: String,
    pub id: Uuid,
    /// The job kind.
    pub name: String,
    /// The job's arguments.
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// The login argument, for full_profile_sync and full_repository_sync.
    pub username: Option<String>,
    /// The repository argument, for full_repository_sync.
    pub repo_name: Option<String>,
    pub status: TaskStatus,
    /// Runs started so far.
    pub attempts: i32,
    /// When a deferred task runs again.
    pub not_before: Option<DateTime<Utc>>,
    /// Why the task failed, or why it was last deferred; for a succeeded task, a note on
    /// how it did its work when the operator should know (a GraphQL batch that handed
    /// developers to REST).
    pub error: Option<String>,
    /// Quota-costing GitHub requests spent (304s are free and not counted).
    pub github_requests: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl TaskView {
    /// The view of a row.
    pub fn new(row: TaskRow, links: &Links) -> Self {
        Self {
            url: links.task(row.id),
            id: row.id,
            name: row.name,
            args: row.args,
            username: row.username,
            repo_name: row.repo_name,
            status: row.status,
            attempts: row.attempts,
            not_before: row.not_before,
            error: row.error,
            github_requests: row.github_requests,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }
    }
}

/// An error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorView {
    /// What is wrong, naming the parameter or field.
    pub error: String,
}

/// A repository whose activity gitomatic follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedRepositoryView {
    pub url: String,
    pub id: Uuid,
    /// `owner/name` as tracked; follows GitHub when the repository is renamed or transferred.
    pub full_name: String,
    /// The repository (null until the first sync found it).
    pub repository: Option<String>,
    /// The tracked organization that brought it in, if any.
    pub organization: Option<String>,
    /// Its contributors, ranked (null until the first sync found the repository).
    pub leaderboard: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When issues, pull requests, commits and releases were last synced completely.
    pub activity_synced_at: Option<DateTime<Utc>>,
    /// When the timelines were last synced completely.
    pub timeline_synced_at: Option<DateTime<Utc>>,
    /// Why the last sync failed (cleared by a successful one).
    pub last_error: Option<String>,
    /// When GitHub last answered that access to it is blocked (451, or 403 "Repository
    /// access blocked"): the scheduled jobs leave it alone for 24 hours from then. Cleared
    /// by a task posted by hand for it, or a successful sync.
    pub blocked_at: Option<DateTime<Utc>>,
}

impl TrackedRepositoryView {
    /// The view of a row.
    pub fn new(row: TrackedRepository, links: &Links) -> Self {
        Self {
            url: links.tracked_repository(row.id),
            id: row.id,
            full_name: row.full_name,
            repository: row.repository_id.map(|id| links.repository(id, "")),
            organization: row.organization_id.map(|id| links.tracked_organization(id)),
            leaderboard: row
                .repository_id
                .map(|id| links.repository(id, "leaderboard/")),
            created_at: row.created_at,
            activity_synced_at: row.activity_synced_at,
            timeline_synced_at: row.timeline_synced_at,
            last_error: row.last_error,
            blocked_at: row.blocked_at,
        }
    }
}

/// An organization whose members (and repositories) gitomatic follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedOrganizationView {
    pub url: String,
    pub id: Uuid,
    pub login: String,
    pub created_at: DateTime<Utc>,
    /// When the members were last synced completely.
    pub members_synced_at: Option<DateTime<Utc>>,
    /// Why the last members sync failed.
    pub last_error: Option<String>,
    /// Its members, present and past.
    pub members: String,
}

impl TrackedOrganizationView {
    /// The view of a row.
    pub fn new(row: TrackedOrganization, links: &Links) -> Self {
        Self {
            url: links.tracked_organization(row.id),
            id: row.id,
            members: links.members_of(&row.login),
            login: row.login,
            created_at: row.created_at,
            members_synced_at: row.members_synced_at,
            last_error: row.last_error,
        }
    }
}

/// An issue of a tracked repository (pull requests are their own resource).
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueView {
    pub url: String,
    pub id: Uuid,
    pub github_id: i64,
    /// The repository.
    pub repository: String,
    pub full_name: String,
    pub number: i32,
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// GitHub's `state_reason` (completed, not_planned, reopened...).
    pub state_reason: Option<String>,
    /// The author (null when the account is not stored).
    pub author: Option<String>,
    pub author_login: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// Number of comments.
    pub comments: i32,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it (from its timeline).
    pub closed_by_login: Option<String>,
    pub html_url: Option<String>,
    /// The issue this one became when it was transferred, or null.
    pub transferred_to: Option<String>,
    /// When GitHub answered 410 Gone for it (deleted there), or null. Deleted issues leave
    /// the lists unless `include_deleted=true`.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Its timeline.
    pub timeline: String,
}

impl IssueView {
    /// The view of a record.
    pub fn new(record: IssueRecord, links: &Links) -> Self {
        let id = record.id;
        let transferred_to = transferred_to(&record, links);
        Self {
            url: links.issue(false, id, ""),
            id,
            github_id: record.github_id,
            repository: links.repository(record.repository_id, ""),
            full_name: record.full_name,
            number: record.number,
            title: record.title,
            state: record.state,
            state_reason: record.state_reason,
            author: record.author_id.map(|id| links.developer(id, "")),
            author_login: record.author_login,
            labels: record.labels,
            assignees: record.assignees,
            comments: record.comments,
            locked: record.locked,
            created_at: record.created_at,
            updated_at: record.updated_at,
            closed_at: record.closed_at,
            closed_by_login: record.closed_by_login,
            html_url: record.html_url,
            transferred_to,
            deleted_at: record.deleted_at,
            timeline: links.issue(false, id, "timeline/"),
        }
    }
}

fn transferred_to(record: &IssueRecord, links: &Links) -> Option<String> {
    record.transferred_to_id.map(|to| {
        links.issue(
            record.transferred_to_is_pull_request.unwrap_or(false),
            to,
            "",
        )
    })
}

/// A pull request of a tracked repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct PullRequestView {
    pub url: String,
    pub id: Uuid,
    pub github_id: i64,
    /// The repository.
    pub repository: String,
    pub full_name: String,
    pub number: i32,
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    pub state_reason: Option<String>,
    /// The author (null when the account is not stored).
    pub author: Option<String>,
    pub author_login: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// Number of comments.
    pub comments: i32,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it (from its timeline).
    pub closed_by_login: Option<String>,
    pub html_url: Option<String>,
    /// What it became when it was transferred, or null.
    pub transferred_to: Option<String>,
    /// When GitHub answered 410 Gone for it (deleted there), or null. Deleted pull requests
    /// leave the lists unless `include_deleted=true`.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Its timeline.
    pub timeline: String,
    pub draft: Option<bool>,
    /// Null while open (or while unknown), then true or false.
    pub merged: Option<bool>,
    pub merged_at: Option<DateTime<Utc>>,
    pub merged_by_login: Option<String>,
    /// Its reviews: the timeline's `reviewed` items.
    pub reviews: String,
}

impl PullRequestView {
    /// The view of a record.
    pub fn new(record: IssueRecord, links: &Links) -> Self {
        let id = record.id;
        let transferred_to = transferred_to(&record, links);
        Self {
            url: links.issue(true, id, ""),
            id,
            github_id: record.github_id,
            repository: links.repository(record.repository_id, ""),
            full_name: record.full_name,
            number: record.number,
            title: record.title,
            state: record.state,
            state_reason: record.state_reason,
            author: record.author_id.map(|id| links.developer(id, "")),
            author_login: record.author_login,
            labels: record.labels,
            assignees: record.assignees,
            comments: record.comments,
            locked: record.locked,
            created_at: record.created_at,
            updated_at: record.updated_at,
            closed_at: record.closed_at,
            closed_by_login: record.closed_by_login,
            html_url: record.html_url,
            transferred_to,
            deleted_at: record.deleted_at,
            timeline: links.issue(true, id, "timeline/"),
            draft: record.draft,
            merged: record.merged,
            merged_at: record.merged_at,
            merged_by_login: record.merged_by_login,
            reviews: links.issue(true, id, "timeline/?event=reviewed"),
        }
    }
}

/// One item of an issue's or pull request's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItemView {
    pub url: String,
    pub id: Uuid,
    /// The issue or pull request.
    pub issue: String,
    /// 0-based place in the timeline.
    pub position: i32,
    /// commented, labeled, unlabeled, closed, reopened, merged, committed, reviewed,
    /// cross-referenced, transferred, ...
    pub event: String,
    pub actor_login: Option<String>,
    /// A review's submitted_at, a commit's author date, otherwise GitHub's created_at.
    pub created_at: Option<DateTime<Utc>>,
    /// The item's own fields (label name, commit sha, review state, comment body, source issue).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl TimelineItemView {
    /// The view of a record.
    pub fn new(record: TimelineItemRecord, links: &Links) -> Self {
        Self {
            url: links.timeline_item(record.id),
            id: record.id,
            issue: links.issue(
                record.issue_is_pull_request.unwrap_or(false),
                record.issue_id,
                "",
            ),
            position: record.position,
            event: record.event,
            actor_login: record.actor_login,
            created_at: record.created_at,
            details: record.details,
        }
    }
}

/// An issue that moved to another repository; both ends are kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    pub url: String,
    pub id: Uuid,
    pub from_full_name: String,
    pub from_number: i32,
    pub to_full_name: String,
    pub to_number: i32,
    /// The issue as it was.
    pub from_issue: String,
    /// The issue it became.
    pub to_issue: String,
    pub detected_at: DateTime<Utc>,
}

impl TransferView {
    /// The view of a record.
    pub fn new(record: TransferRecord, links: &Links) -> Self {
        Self {
            url: links.transfer(record.id),
            id: record.id,
            from_issue: links.issue(
                record.from_is_pull_request.unwrap_or(false),
                record.from_issue_id,
                "",
            ),
            to_issue: links.issue(
                record.to_is_pull_request.unwrap_or(false),
                record.to_issue_id,
                "",
            ),
            from_full_name: record.from_full_name,
            from_number: record.from_number,
            to_full_name: record.to_full_name,
            to_number: record.to_number,
            detected_at: record.detected_at,
        }
    }
}

/// A member of a tracked organization, present (active) or past.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub url: String,
    pub id: Uuid,
    pub organization_login: String,
    /// The member.
    pub developer: String,
    pub login: String,
    /// False once the organization no longer lists the member.
    pub active: bool,
    /// When gitomatic first saw the member.
    pub inserted_at: DateTime<Utc>,
    /// When the member was last seen gone.
    pub inactive_at: Option<DateTime<Utc>>,
}

impl MemberView {
    /// The view of a record.
    pub fn new(record: MemberRecord, links: &Links) -> Self {
        Self {
            url: links.member(record.id),
            id: record.id,
            organization_login: record.organization_login,
            developer: links.developer(record.developer_id, ""),
            login: record.login,
            active: record.active,
            inserted_at: record.inserted_at,
            inactive_at: record.inactive_at,
        }
    }
}

/// A commit of a tracked repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitView {
    pub url: String,
    pub id: Uuid,
    /// The repository.
    pub repository: String,
    pub full_name: String,
    pub sha: String,
    /// The author's account (null when GitHub links none, or it is not stored).
    pub author: Option<String>,
    /// Null when GitHub links no account to the commit.
    pub author_login: Option<String>,
    /// The name in the commit.
    pub author_name: Option<String>,
    pub authored_at: Option<DateTime<Utc>>,
    pub committed_at: Option<DateTime<Utc>>,
    pub message: String,
}

impl CommitView {
    /// The view of a record.
    pub fn new(record: CommitRecord, links: &Links) -> Self {
        Self {
            url: links.commit(record.id),
            id: record.id,
            repository: links.repository(record.repository_id, ""),
            full_name: record.full_name,
            sha: record.sha,
            author: record.author_id.map(|id| links.developer(id, "")),
            author_login: record.author_login,
            author_name: record.author_name,
            authored_at: record.authored_at,
            committed_at: record.committed_at,
            message: record.message,
        }
    }
}

/// A release of a tracked repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseView {
    pub url: String,
    pub id: Uuid,
    pub github_id: i64,
    /// The repository.
    pub repository: String,
    pub full_name: String,
    pub tag_name: String,
    pub name: Option<String>,
    /// The author's account (null when it is not stored).
    pub author: Option<String>,
    pub author_login: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub html_url: Option<String>,
}

impl ReleaseView {
    /// The view of a record.
    pub fn new(record: ReleaseRecord, links: &Links) -> Self {
        Self {
            url: links.release(record.id),
            id: record.id,
            github_id: record.github_id,
            repository: links.repository(record.repository_id, ""),
            full_name: record.full_name,
            tag_name: record.tag_name,
            name: record.name,
            author: record.author_id.map(|id| links.developer(id, "")),
            author_login: record.author_login,
            draft: record.draft,
            prerelease: record.prerelease,
            created_at: record.created_at,
            published_at: record.published_at,
            html_url: record.html_url,
        }
    }
}
