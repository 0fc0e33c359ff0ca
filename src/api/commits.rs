//! `/github/commits/`: the commits of tracked repositories, and each repository's.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::repositories::Repositories;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
use crate::api::views::CommitView;
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
