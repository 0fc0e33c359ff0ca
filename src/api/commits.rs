//! `/github/commits/`: the commits of tracked repositories, and each repository's.

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
use crate::db::queries::commits::{self, CommitRecord};

/// Commits of tracked repositories.
pub struct Commits;

impl Resource for Commits {
    type Record = CommitRecord;
    type View = CommitView;
    /// A repository's, or every one's.
    type Scope = Option<Uuid>;
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "commits",
        path: "/commits/",
        singular: "commit",
        tag: "activity",
        fields: commits::FIELDS,
        ordering: "-authored_at",
        list: Operation {
            id: "list_commits",
            summary: "Lists commits of tracked repositories, the latest authored first.",
        },
        detail: Operation {
            id: "get_commit",
            summary: "One commit.",
        },
    };
    const ALL: Option<Uuid> = None;

    fn view(record: CommitRecord, links: &Links) -> CommitView {
        CommitView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        repository_id: Option<Uuid>,
        query: &ListQuery,
    ) -> Result<Page<CommitRecord>, DbError> {
        commits::list(conn, repository_id, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<CommitRecord>, DbError> {
        commits::get(conn, id).await
    }

    fn nested() -> Vec<Collection> {
        vec![Collection::nested::<Repositories, Commits>(
            "commits",
            Operation {
                id: "list_repository_commits",
                summary: "The commits of a repository.",
            },
            Some,
        )]
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
