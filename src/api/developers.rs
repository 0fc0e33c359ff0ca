//! `/github/developers/`: developers, each with followers, following and mutuals as
//! paginated sub-collections.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
use crate::api::views::DeveloperView;
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::developers::{self, DeveloperRecord, DeveloperSet};

/// GitHub developers (users and organizations).
pub struct Developers;

impl Resource for Developers {
    type Record = DeveloperRecord;
    type View = DeveloperView;
    type Scope = DeveloperSet;
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "developers",
        path: "/developers/",
        singular: "developer",
        tag: "developers",
        fields: developers::FIELDS,
        ordering: "-created_at",
        list: Operation {
            id: "list_developers",
            summary: "Lists developers.",
        },
        detail: Operation {
            id: "get_developer",
            summary: "One developer.",
        },
    };
    const ALL: DeveloperSet = DeveloperSet::All;

    fn view(record: DeveloperRecord, links: &Links) -> DeveloperView {
        DeveloperView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        scope: DeveloperSet,
        query: &ListQuery,
    ) -> Result<Page<DeveloperRecord>, DbError> {
        developers::list(conn, scope, query).await
    }

    async fn get(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> Result<Option<DeveloperRecord>, DbError> {
        developers::get(conn, id).await
    }

    fn nested() -> Vec<Collection> {
        vec![
            Collection::nested::<Developers, Developers>(
                "followers",
                Operation {
                    id: "list_developer_followers",
                    summary: "Developers following a developer.",
                },
                DeveloperSet::FollowersOf,
            ),
            Collection::nested::<Developers, Developers>(
                "following",
                Operation {
                    id: "list_developer_following",
                    summary: "Developers a developer follows.",
                },
                DeveloperSet::FollowedBy,
            ),
            Collection::nested::<Developers, Developers>(
                "mutuals",
                Operation {
                    id: "list_developer_mutuals",
                    summary: "Developers a developer follows who follow it back.",
                },
                DeveloperSet::MutualsOf,
            ),
        ]
    }
}
