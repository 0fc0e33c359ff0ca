//! `/github/issues/` and `/github/pull_requests/` (GitHub lists them together; here they
//! are two resources over one table), and both per repository.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::repositories::Repositories;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
use crate::api::views::{IssueView, PullRequestView};
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
