//! GitHub's GraphQL API (`POST /graphql`): batched first syncs of developers.
//!
//! A query is priced before it is sent with GitHub's rule — every connection needs as many
//! requests as its parents' `first` multiplied, and a query costs
//! max(1, round(requests / 100)) points — and that many points are reserved on the
//! `graphql` quota of the identity with the most left above `GITHUB_GRAPHQL_RESERVE`. The
//! response's `x-ratelimit-*` headers (resource `graphql`) settle the reservation, and
//! `rateLimit { cost }` in the answer reports what GitHub charged.
//!
//! GitHub's failure answers (SPEC-3 section 0) come back typed: `RATE_LIMITED` in
//! `errors` marks the identity's `graphql` quota spent until its reset (the job is deferred,
//! not failed); a 200 with `errors` and no `data` is a refused document
//! ([`GraphqlRefusal::Invalid`]); a 502/504, or a 200 whose only errors say the query timed
//! out, is a query too heavy to run ([`GraphqlRefusal::TooHeavy`]), for the caller to split.
//!
//! Payloads are converted to the REST types ([`User`], [`SimpleUser`], [`Repository`]) so
//! that both paths store through the same mapping.

use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use crate::github::error::{GithubError, GraphqlRefusal};
use crate::github::identity::Request;
use crate::github::ledger::Resource;
use crate::github::pipeline::{Call, Exchange, Payer, Pipeline, RequestStats};
use crate::github::types::{Repository, SimpleUser, User, parse};

/// Items per connection page: GitHub's maximum.
pub const PAGE: u32 = 100;

/// GitHub's points for a query needing `requests` requests: max(1, round(requests / 100)).
pub fn points(requests: u64) -> u32 {
    let rounded = (requests + 50) / 100;
    u32::try_from(rounded).unwrap_or(u32::MAX).max(1)
}

/// A GraphQL answer: `data` and the errors of the parts that failed (a login that is not
/// found answers `null` with a `NOT_FOUND` error for its path, the rest of the batch stands).
#[derive(Debug)]
pub struct Answer {
    /// The `data` object.
    pub data: Value,
    /// The errors GitHub reported beside the data.
    pub errors: Vec<GraphqlError>,
    /// Points GitHub charged (`rateLimit { cost }`), when asked.
    pub cost: Option<u32>,
}

/// One entry of a GraphQL `errors` list.
#[derive(Clone, Debug, Deserialize)]
pub struct GraphqlError {
    /// GitHub's error type: `NOT_FOUND`, `RATE_LIMITED`...
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The aliases and fields leading to the failed part.
    #[serde(default)]
    pub path: Vec<Value>,
    /// What went wrong.
    pub message: String,
}

impl Answer {
    /// The error reported for the top-level field `alias`, if any.
    pub fn error_at(&self, alias: &str) -> Option<&GraphqlError> {
        self.errors
            .iter()
            .find(|error| error.path.first().and_then(Value::as_str) == Some(alias))
    }
}

/// Sends a GraphQL query priced at `points` through `pipeline`, counted into `stats` (see
/// `GithubClient::graphql`).
pub(crate) async fn query(
    pipeline: &Pipeline,
    stats: &RequestStats,
    query: &str,
    points: u32,
) -> Result<Answer, GithubError> {
    let url = pipeline.url("/graphql");
    let body = serde_json::json!({ "query": query });
    let call = Call {
        payer: Payer::Reserve {
            resource: Resource::Graphql,
            cost: points,
            stats,
        },
        request: Request::Post {
            url: &url,
            body: &body,
        },
        // GitHub's 502/504 to a query means it is too heavy, not that GitHub is down.
        keeps: |status, _| {
            matches!(
                status,
                StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
            )
        },
    };
    let Exchange {
        status,
        headers,
        body: text,
        identity,
    } = pipeline.exchange(call).await?;
    match status {
        s if s.is_success() => {
            let raw: Raw = parse(&url, &text)?;
            if raw.rate_limited() {
                let reset = pipeline
                    .ledger()
                    .spent_until_reset(identity, Resource::Graphql, &headers)
                    .await?;
                tracing::warn!(github.identity = %identity.label(), %reset,
                    "GitHub answered RATE_LIMITED: GraphQL waits for the reset");
                return Err(GithubError::QuotaExhausted { reset });
            }
            raw.into_answer(&url)
        }
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => Err(GithubError::GraphqlRefused {
            refusal: GraphqlRefusal::TooHeavy,
            url,
            message: status.to_string(),
        }),
        _ => Err(GithubError::status(status, &url, &text)),
    }
}

/// A GraphQL answer as sent: `data` (absent or null when the whole query failed) and
/// `errors`.
#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

impl Raw {
    /// GitHub's GraphQL budget (or its secondary limit) stopped the query.
    fn rate_limited(&self) -> bool {
        self.errors
            .iter()
            .any(|error| error.kind.as_deref() == Some("RATE_LIMITED"))
    }

    /// Data and partial errors, or why there is no data.
    fn into_answer(self, url: &str) -> Result<Answer, GithubError> {
        let Some(data) = self.data.filter(Value::is_object) else {
            let messages: Vec<&str> = self.errors.iter().map(|e| e.message.as_str()).collect();
            let refusal = if self.errors.is_empty() {
                return Err(GithubError::Payload {
                    url: url.to_owned(),
                    message: "a GraphQL answer with neither data nor errors".into(),
                });
            } else if self.errors.iter().all(GraphqlError::is_timeout) {
                GraphqlRefusal::TooHeavy
            } else {
                // The document itself was refused: a bug in the query gitomatic built.
                GraphqlRefusal::Invalid
            };
            return Err(GithubError::GraphqlRefused {
                refusal,
                url: url.to_owned(),
                message: messages.join("; "),
            });
        };
        let cost = data
            .get("rateLimit")
            .and_then(|limit| limit.get("cost"))
            .and_then(Value::as_u64)
            .and_then(|cost| u32::try_from(cost).ok());
        Ok(Answer {
            data,
            errors: self.errors,
            cost,
        })
    }
}

impl GraphqlError {
    /// GitHub gave up on the query for its weight: it timed out, or "Something went wrong
    /// while executing your query" (GitHub's words for a timeout it does not name).
    pub fn is_timeout(&self) -> bool {
        let message = self.message.to_lowercase();
        [
            "timed out",
            "timeout",
            "something went wrong while executing your query",
            "couldn't respond to your request in time",
        ]
        .iter()
        .any(|words| message.contains(words))
    }
}

/// A GraphQL string literal (JSON's escaping is valid GraphQL).
pub fn literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

// ---------------------------------------------------------------------------
// Selections and payloads
// ---------------------------------------------------------------------------

/// A listed user (the nodes of `followers` and `following`, which are `User`s: their
/// fields are asked directly, a fragment on another type is a validation error there).
pub const ACCOUNT_FIELDS: &str = "__typename databaseId login avatarUrl url";

/// The fields of a repository's owner, as a literal (for [`REPOSITORY_FIELDS`] too).
macro_rules! owner_fields {
    () => {
        "__typename login avatarUrl url \
         ... on User { databaseId } ... on Organization { databaseId }"
    };
}

/// A repository's owner (the `RepositoryOwner` interface: a user or an organization, each
/// asked for its `databaseId`, which the interface does not have).
pub const OWNER_FIELDS: &str = owner_fields!();

/// A repository: every field the REST list payload gives that GraphQL has without nested
/// connections (`watchers_count` is GitHub's legacy name of the stargazer count).
pub const REPOSITORY_FIELDS: &str = concat!(
    "databaseId name nameWithOwner description homepageUrl \
     primaryLanguage { name } createdAt updatedAt pushedAt hasIssuesEnabled \
     hasProjectsEnabled hasWikiEnabled isPrivate isArchived isDisabled isFork \
     stargazerCount forkCount owner { ",
    owner_fields!(),
    " }"
);

/// The profile fields of a user (the counts come from the connections' `totalCount`).
pub const PROFILE_FIELDS: &str = "databaseId login name company location email bio \
     avatarUrl url createdAt updatedAt";

/// `pageInfo` of a connection.
pub const PAGE_INFO: &str = "totalCount pageInfo { hasNextPage endCursor }";

/// A listed account as GraphQL gives it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlAccount {
    #[serde(rename = "__typename")]
    pub typename: String,
    pub database_id: i64,
    pub login: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

impl GqlAccount {
    /// The REST shape of a listed user.
    pub fn into_simple(self) -> SimpleUser {
        SimpleUser {
            id: self.database_id,
            login: self.login,
            avatar_url: self.avatar_url,
            html_url: self.url,
            kind: Some(self.typename),
        }
    }
}

/// `{ name }` of a language.
#[derive(Clone, Debug, Deserialize)]
pub struct GqlLanguage {
    pub name: String,
}

/// A repository as GraphQL gives it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlRepository {
    pub database_id: i64,
    pub name: String,
    pub name_with_owner: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub homepage_url: Option<String>,
    #[serde(default)]
    pub primary_language: Option<GqlLanguage>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub pushed_at: Option<DateTime<Utc>>,
    pub has_issues_enabled: bool,
    pub has_projects_enabled: bool,
    pub has_wiki_enabled: bool,
    pub is_private: bool,
    pub is_archived: bool,
    pub is_disabled: bool,
    pub is_fork: bool,
    pub stargazer_count: i64,
    pub fork_count: i64,
    pub owner: GqlAccount,
}

impl GqlRepository {
    /// The REST shape of a listed repository; what GraphQL lacks (`has_downloads`,
    /// `has_pages`, `open_issues_count`) stays unknown.
    pub fn into_rest(self) -> Repository {
        Repository {
            id: self.database_id,
            name: self.name,
            full_name: self.name_with_owner,
            owner: self.owner.into_simple(),
            description: Some(self.description),
            homepage: Some(self.homepage_url),
            language: Some(self.primary_language.map(|language| language.name)),
            created_at: self.created_at,
            updated_at: self.updated_at,
            pushed_at: Some(self.pushed_at),
            has_downloads: None,
            has_issues: Some(self.has_issues_enabled),
            has_pages: None,
            has_projects: Some(self.has_projects_enabled),
            has_wiki: Some(self.has_wiki_enabled),
            private: Some(self.is_private),
            archived: Some(self.is_archived),
            disabled: Some(self.is_disabled),
            fork: Some(self.is_fork),
            stargazers_count: Some(self.stargazer_count),
            subscribers_count: None,
            watchers_count: Some(self.stargazer_count),
            forks_count: Some(self.fork_count),
            open_issues_count: None,
        }
    }
}

/// `pageInfo` of a connection.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

/// One page of a connection.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection<T> {
    pub total_count: i64,
    pub page_info: PageInfo,
    pub nodes: Vec<T>,
}

/// `{ totalCount }` of a connection.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub total_count: i64,
}

/// A user with the first page of each relation.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlUser {
    pub database_id: i64,
    pub login: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub bio: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    pub followers: Connection<GqlAccount>,
    pub following: Connection<GqlAccount>,
    pub starred_repositories: Connection<GqlRepository>,
    pub repositories: Connection<GqlRepository>,
    pub gists: Count,
}

impl GqlUser {
    /// The REST profile (`GET /users/{login}`) this answer stands for. GraphQL's `email` is
    /// an empty string where REST answers `null`.
    pub fn profile(&self) -> User {
        User {
            id: self.database_id,
            login: self.login.clone(),
            name: self.name.clone(),
            company: self.company.clone(),
            location: self.location.clone(),
            email: self.email.clone().filter(|email| !email.is_empty()),
            bio: self.bio.clone(),
            avatar_url: self.avatar_url.clone(),
            html_url: self.url.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            followers: Some(self.followers.total_count),
            following: Some(self.following.total_count),
            public_gists: Some(self.gists.total_count),
            public_repos: Some(self.repositories.total_count),
        }
    }
}
