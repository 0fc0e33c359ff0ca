//! `/github/developers/`: developers, each with followers, following and mutuals as
//! paginated sub-collections.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::links::Links;
use crate::api::resource::{Collection, Declaration, Operation, Resource};
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

/// A GitHub developer (user or organization).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeveloperView {
    pub url: String,
    pub id: Uuid,
    pub github_id: i64,
    pub login: String,
    pub name: Option<String>,
    pub location: Option<String>,
    pub bio: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub html_url: Option<String>,
    /// When the GitHub account was created (null until the profile was fetched).
    pub created_at: Option<DateTime<Utc>>,
    /// When the GitHub profile last changed.
    pub updated_at: Option<DateTime<Utc>>,
    pub followers_count: Option<i32>,
    pub following_count: Option<i32>,
    pub public_gists: Option<i32>,
    pub public_repos: Option<i32>,
    /// When gitomatic last completed a full profile sync (null: discovered, never synced).
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Position by follow rank, 1 the highest: PageRank over the stored follow graph,
    /// ties by login (byte order). As of the last `developer_rank` run (see
    /// `rank_computed_at` on `/github/graph/`); null until the first run, and for a
    /// developer stored after the last one. Ranks only the crawled part of GitHub.
    #[schema(required = true)]
    pub rank: Option<i32>,
    /// The PageRank score behind `rank` (the scores of one run sum to 1); null when `rank` is.
    #[schema(required = true)]
    pub rank_score: Option<f64>,
    /// Developers following this one.
    pub followers: String,
    /// Developers this one follows.
    pub following: String,
    /// Repositories this developer starred.
    pub starred_repositories: String,
    /// Repositories this developer owns.
    pub repositories: String,
    /// Developers this one follows who follow it back.
    pub mutuals: String,
    /// Developers followed by those this one follows, not followed yet, scored.
    pub suggestions: String,
}

impl DeveloperView {
    /// The view of a record.
    pub fn new(record: DeveloperRecord, links: &Links) -> Self {
        let id = record.id;
        Self {
            url: links.developer(id, ""),
            id,
            github_id: record.github_id,
            login: record.login,
            name: record.name,
            location: record.location,
            bio: record.bio,
            company: record.company,
            email: record.email,
            avatar_url: record.avatar_url,
            html_url: record.html_url,
            created_at: record.created_at,
            updated_at: record.updated_at,
            followers_count: record.followers_count,
            following_count: record.following_count,
            public_gists: record.public_gists,
            public_repos: record.public_repos,
            last_synced_at: record.last_synced_at,
            rank: record.rank,
            rank_score: record.rank_score,
            followers: links.developer(id, "followers/"),
            following: links.developer(id, "following/"),
            starred_repositories: links.developer(id, "starred_repositories/"),
            repositories: links.developer(id, "repositories/"),
            mutuals: links.developer(id, "mutuals/"),
            suggestions: links.developer(id, "suggestions/"),
        }
    }
}
