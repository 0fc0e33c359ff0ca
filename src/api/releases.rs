//! `/github/releases/`: the releases of tracked repositories, and each repository's.

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

/// A release of a tracked repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseView {
    pub url: String,
    pub id: Uuid,
    pub github_id: i64,
    /// The repository.
    pub repository: String,
    pub full_name: String,
    pub tag_name: String,
    pub name: Option<String>,
    /// The author's account (null when it is not stored).
    pub author: Option<String>,
    pub author_login: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub html_url: Option<String>,
}

impl ReleaseView {
    /// The view of a record.
    pub fn new(record: ReleaseRecord, links: &Links) -> Self {
        Self {
            url: links.release(record.id),
            id: record.id,
            github_id: record.github_id,
            repository: links.repository(record.repository_id, ""),
            full_name: record.full_name,
            tag_name: record.tag_name,
            name: record.name,
            author: record.author_id.map(|id| links.developer(id, "")),
            author_login: record.author_login,
            draft: record.draft,
            prerelease: record.prerelease,
            created_at: record.created_at,
            published_at: record.published_at,
            html_url: record.html_url,
        }
    }
}
