//! `/github/repositories/`: repositories, with their stargazers; and the repositories a
//! developer starred or owns, as the developer's sub-collections.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::developers::Developers;
use crate::api::links::Links;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
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

/// A GitHub repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryView {
    pub url: String,
    pub id: Uuid,
    /// The owning developer.
    pub owner: String,
    pub github_id: i64,
    pub owner_github_id: i64,
    pub name: String,
    pub full_name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub pushed_at: Option<DateTime<Utc>>,
    /// Unknown (null) for a repository only seen in GraphQL answers, which lack the field.
    pub has_downloads: Option<bool>,
    pub has_issues: bool,
    /// Unknown (null) for a repository only seen in GraphQL answers, which lack the field.
    pub has_pages: Option<bool>,
    pub has_projects: bool,
    pub has_wiki: bool,
    pub private: bool,
    pub archived: bool,
    pub disabled: bool,
    pub fork: bool,
    pub stargazers_count: i32,
    /// Only known once the repository itself was synced.
    pub subscribers_count: Option<i32>,
    pub watchers_count: i32,
    pub forks_count: i32,
    /// Unknown (null) for a repository only seen in GraphQL batches (a nested count there
    /// would cost 100 times the batch).
    pub open_issues_count: Option<i32>,
    /// When gitomatic last completed a full repository sync.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Developers who starred this repository.
    pub stargazers: String,
    /// Its issues (tracked repositories only have any).
    pub issues: String,
    /// Its pull requests.
    pub pull_requests: String,
    /// Its commits.
    pub commits: String,
    /// Its releases.
    pub releases: String,
}

impl RepositoryView {
    /// The view of a record.
    pub fn new(record: RepositoryRecord, links: &Links) -> Self {
        let id = record.id;
        Self {
            url: links.repository(id, ""),
            id,
            owner: links.developer(record.owner_id, ""),
            github_id: record.github_id,
            owner_github_id: record.owner_github_id,
            name: record.name,
            full_name: record.full_name,
            description: record.description,
            homepage: record.homepage,
            language: record.language,
            created_at: record.created_at,
            updated_at: record.updated_at,
            pushed_at: record.pushed_at,
            has_downloads: record.has_downloads,
            has_issues: record.has_issues,
            has_pages: record.has_pages,
            has_projects: record.has_projects,
            has_wiki: record.has_wiki,
            private: record.private,
            archived: record.archived,
            disabled: record.disabled,
            fork: record.fork,
            stargazers_count: record.stargazers_count,
            subscribers_count: record.subscribers_count,
            watchers_count: record.watchers_count,
            forks_count: record.forks_count,
            open_issues_count: record.open_issues_count,
            last_synced_at: record.last_synced_at,
            stargazers: links.repository(id, "stargazers/"),
            issues: links.repository(id, "issues/"),
            pull_requests: links.repository(id, "pull_requests/"),
            commits: links.repository(id, "commits/"),
            releases: links.repository(id, "releases/"),
        }
    }
}
