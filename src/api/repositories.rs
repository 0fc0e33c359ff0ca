//! `/github/repositories/`: repositories, with their stargazers; and the repositories a
//! developer starred or owns, as the developer's sub-collections.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::api::developers::Developers;
use crate::api::links::Links;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
use crate::api::views::RepositoryView;
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::developers::DeveloperSet;
use crate::db::queries::repositories::{self, RepositoryRecord, RepositorySet};

/// GitHub repositories.
pub struct Repositories;

impl Resource for Repositories {
    type Record = RepositoryRecord;
    type View = RepositoryView;
    type Scope = RepositorySet;
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "repositories",
        path: "/repositories/",
        singular: "repository",
        tag: "repositories",
        fields: repositories::FIELDS,
        ordering: "-created_at",
        list: Operation {
            id: "list_repositories",
            summary: "Lists repositories.",
        },
        detail: Operation {
            id: "get_repository",
            summary: "One repository.",
        },
    };
    const ALL: RepositorySet = RepositorySet::All;

    fn view(record: RepositoryRecord, links: &Links) -> RepositoryView {
        RepositoryView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        scope: RepositorySet,
        query: &ListQuery,
    ) -> Result<Page<RepositoryRecord>, DbError> {
        repositories::list(conn, scope, query).await
    }

    async fn get(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> Result<Option<RepositoryRecord>, DbError> {
        repositories::get(conn, id).await
    }

    fn nested() -> Vec<Collection> {
        vec![
            Collection::nested::<Repositories, Developers>(
                "stargazers",
                Operation {
                    id: "list_repository_stargazers",
                    summary: "Developers who starred a repository.",
                },
                DeveloperSet::StargazersOf,
            ),
            Collection::nested::<Developers, Repositories>(
                "starred_repositories",
                Operation {
                    id: "list_developer_starred_repositories",
                    summary: "Repositories a developer starred.",
                },
                RepositorySet::StarredBy,
            ),
            Collection::nested::<Developers, Repositories>(
                "repositories",
                Operation {
                    id: "list_developer_repositories",
                    summary: "Repositories a developer owns.",
                },
                RepositorySet::OwnedBy,
            ),
        ]
    }
}
