//! `/github/members/`: the members of tracked organizations, present and past.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::resource::{Declaration, Operation, Resource};
use crate::api::views::MemberView;
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::members::{self, MemberRecord};

/// Members of tracked organizations.
pub struct Members;

impl Resource for Members {
    type Record = MemberRecord;
    type View = MemberView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "members",
        path: "/members/",
        singular: "member",
        tag: "activity",
        fields: members::FIELDS,
        ordering: "login",
        list: Operation {
            id: "list_members",
            summary: "Lists members of tracked organizations, present and past, by login.",
        },
        detail: Operation {
            id: "get_member",
            summary: "One member.",
        },
    };
    const ALL: () = ();

    fn view(record: MemberRecord, links: &Links) -> MemberView {
        MemberView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<MemberRecord>, DbError> {
        members::list(conn, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<MemberRecord>, DbError> {
        members::get(conn, id).await
    }
}
