//! `/github/releases/`: the releases of tracked repositories, and each repository's.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::repositories::Repositories;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
use crate::api::views::ReleaseView;
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::releases::{self, ReleaseRecord};

/// Releases of tracked repositories.
pub struct Releases;

impl Resource for Releases {
    type Record = ReleaseRecord;
    type View = ReleaseView;
    /// A repository's, or every one's.
    type Scope = Option<Uuid>;
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "releases",
        path: "/releases/",
        singular: "release",
        tag: "activity",
        fields: releases::FIELDS,
        ordering: "-published_at",
        list: Operation {
            id: "list_releases",
            summary: "Lists releases of tracked repositories, the latest published first.",
        },
        detail: Operation {
            id: "get_release",
            summary: "One release.",
        },
    };
    const ALL: Option<Uuid> = None;

    fn view(record: ReleaseRecord, links: &Links) -> ReleaseView {
        ReleaseView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        repository_id: Option<Uuid>,
        query: &ListQuery,
    ) -> Result<Page<ReleaseRecord>, DbError> {
        releases::list(conn, repository_id, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<ReleaseRecord>, DbError> {
        releases::get(conn, id).await
    }

    fn nested() -> Vec<Collection> {
        vec![Collection::nested::<Repositories, Releases>(
            "releases",
            Operation {
                id: "list_repository_releases",
                summary: "The releases of a repository.",
            },
            Some,
        )]
    }
}
