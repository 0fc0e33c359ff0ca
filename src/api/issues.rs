//! `/github/issues/` and `/github/pull_requests/` (GitHub lists them together; here they
//! are two resources over one table), and both per repository.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::repositories::Repositories;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::issues::{self, IssueKind, IssueRecord};

/// Issues of tracked repositories (not pull requests).
pub struct Issues;

/// Pull requests of tracked repositories.
pub struct PullRequests;

impl Resource for Issues {
    type Record = IssueRecord;
    type View = IssueView;
    /// A repository's, or every one's.
    type Scope = Option<Uuid>;
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "issues",
        path: "/issues/",
        singular: "issue",
        tag: "activity",
        fields: issues::ISSUE_FIELDS,
        ordering: "-updated_at",
        list: Operation {
            id: "list_issues",
            summary: "Lists issues (not pull requests), most recently updated first.",
        },
        detail: Operation {
            id: "get_issue",
            summary: "One issue (a pull request's id is 404 here).",
        },
    };
    const ALL: Option<Uuid> = None;

    fn view(record: IssueRecord, links: &Links) -> IssueView {
        IssueView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        repository_id: Option<Uuid>,
        query: &ListQuery,
    ) -> Result<Page<IssueRecord>, DbError> {
        issues::list(conn, IssueKind::Issue, repository_id, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<IssueRecord>, DbError> {
        issues::get(conn, IssueKind::Issue, id).await
    }

    fn nested() -> Vec<Collection> {
        vec![Collection::nested::<Repositories, Issues>(
            "issues",
            Operation {
                id: "list_repository_issues",
                summary: "The issues of a repository.",
            },
            Some,
        )]
    }
}

impl Resource for PullRequests {
    type Record = IssueRecord;
    type View = PullRequestView;
    /// A repository's, or every one's.
    type Scope = Option<Uuid>;
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "pull_requests",
        path: "/pull_requests/",
        singular: "pull request",
        tag: "activity",
        fields: issues::PULL_REQUEST_FIELDS,
        ordering: "-updated_at",
        list: Operation {
            id: "list_pull_requests",
            summary: "Lists pull requests, most recently updated first.",
        },
        detail: Operation {
            id: "get_pull_request",
            summary: "One pull request (an issue's id is 404 here).",
        },
    };
    const ALL: Option<Uuid> = None;

    fn view(record: IssueRecord, links: &Links) -> PullRequestView {
        PullRequestView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        repository_id: Option<Uuid>,
        query: &ListQuery,
    ) -> Result<Page<IssueRecord>, DbError> {
        issues::list(conn, IssueKind::PullRequest, repository_id, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<IssueRecord>, DbError> {
        issues::get(conn, IssueKind::PullRequest, id).await
    }

    fn nested() -> Vec<Collection> {
        vec![Collection::nested::<Repositories, PullRequests>(
            "pull_requests",
            Operation {
                id: "list_repository_pull_requests",
                summary: "The pull requests of a repository.",
            },
            Some,
        )]
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
