//! What the API returns: one `*View` per resource, built from database records with
//! absolute hyperlinks, and `Page<T>` for lists.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::links::Links;
use crate::db::queries::developers::DeveloperRecord;
use crate::db::queries::rate_limits::RateLimitRow;
use crate::db::queries::repositories::RepositoryRecord;
use crate::db::queries::tasks::{TaskRow, TaskStatus};

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
    pub has_downloads: bool,
    pub has_issues: bool,
    pub has_pages: bool,
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
    pub open_issues_count: i32,
    /// When gitomatic last completed a full repository sync.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Developers who starred this repository.
    pub stargazers: String,
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
    /// Why the task failed, or why it was last deferred.
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
