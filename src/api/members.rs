//! `/github/members/`: the members of tracked organizations, present and past.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::resource::{Declaration, Operation, Resource};
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
