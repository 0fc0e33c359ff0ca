//! Serde models of GitHub's payloads: unknown fields ignored, nullable fields optional.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::github::error::GithubError;

/// Parses a JSON payload, naming the URL when it does not fit.
pub fn parse<T: DeserializeOwned>(url: &str, body: &str) -> Result<T, GithubError> {
    serde_json::from_str(body).map_err(|error| GithubError::Payload {
        url: url.to_owned(),
        message: error.to_string(),
    })
}

/// A full user profile (`GET /users/{login}`).
#[derive(Clone, Debug, Deserialize)]
pub struct User {
    pub id: i64,
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
    pub html_url: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub followers: Option<i64>,
    #[serde(default)]
    pub following: Option<i64>,
    #[serde(default)]
    pub public_gists: Option<i64>,
    #[serde(default)]
    pub public_repos: Option<i64>,
}

/// A user as listed by followers, following, stargazers, or a repository's owner.
#[derive(Clone, Debug, Deserialize)]
pub struct SimpleUser {
    pub id: i64,
    pub login: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    /// GitHub's account type: `User`, `Organization` or `Bot`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// A repository, as listed (starred, owned) or fetched (`GET /repos/{owner}/{repo}`).
#[derive(Clone, Debug, Deserialize)]
pub struct Repository {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub owner: SimpleUser,
    #[serde(default, deserialize_with = "given")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    pub homepage: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    pub language: Option<Option<String>>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "given")]
    pub pushed_at: Option<Option<DateTime<Utc>>>,
    #[serde(default)]
    pub has_downloads: Option<bool>,
    #[serde(default)]
    pub has_issues: Option<bool>,
    #[serde(default)]
    pub has_pages: Option<bool>,
    #[serde(default)]
    pub has_projects: Option<bool>,
    #[serde(default)]
    pub has_wiki: Option<bool>,
    #[serde(default)]
    pub private: Option<bool>,
    #[serde(default)]
    pub archived: Option<bool>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub fork: Option<bool>,
    #[serde(default)]
    pub stargazers_count: Option<i64>,
    /// Only in the single-repository payload.
    #[serde(default)]
    pub subscribers_count: Option<i64>,
    #[serde(default)]
    pub watchers_count: Option<i64>,
    #[serde(default)]
    pub forks_count: Option<i64>,
    #[serde(default)]
    pub open_issues_count: Option<i64>,
}

/// Anything GitHub lists has a numeric id; the page cache remembers pages by these ids.
pub trait GithubId {
    /// GitHub's numeric id.
    fn github_id(&self) -> i64;
}

impl GithubId for SimpleUser {
    fn github_id(&self) -> i64 {
        self.id
    }
}

impl GithubId for Repository {
    fn github_id(&self) -> i64 {
        self.id
    }
}

/// `GET /rate_limit`.
#[derive(Clone, Debug, Deserialize)]
pub struct RateLimitResponse {
    pub resources: std::collections::BTreeMap<String, RateLimitResource>,
}

/// One resource of `GET /rate_limit`.
#[derive(Clone, Debug, Deserialize)]
pub struct RateLimitResource {
    pub limit: i64,
    pub remaining: i64,
    #[serde(default)]
    pub used: Option<i64>,
    pub reset: i64,
}

/// An event of GitHub's public feeds (`GET /events`, `GET /repos/{o}/{r}/events`).
#[derive(Clone, Debug, Deserialize)]
pub struct Event {
    /// A numeric string, e.g. `"22249084947"`.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: EventAccount,
    pub repo: EventRepository,
    #[serde(default)]
    pub org: Option<EventAccount>,
    #[serde(default)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// The `actor` or `org` of an event.
#[derive(Clone, Debug, Deserialize)]
pub struct EventAccount {
    pub login: String,
}

/// The `repo` of an event: `name` is `owner/name`.
#[derive(Clone, Debug, Deserialize)]
pub struct EventRepository {
    pub name: String,
}

/// The event types GitHub's feeds deliver
/// (<https://docs.github.com/en/rest/using-the-rest-api/github-event-types>).
pub const EVENT_TYPES: [&str; 18] = [
    "CommitCommentEvent",
    "CreateEvent",
    "DeleteEvent",
    "DiscussionEvent",
    "ForkEvent",
    "GollumEvent",
    "IssueCommentEvent",
    "IssuesEvent",
    "MemberEvent",
    "PublicEvent",
    "PullRequestEvent",
    "PullRequestReviewEvent",
    "PullRequestReviewCommentEvent",
    "PullRequestReviewThreadEvent",
    "PushEvent",
    "ReleaseEvent",
    "SponsorshipEvent",
    "WatchEvent",
];

/// A field GitHub may leave out or send as `null`: `None` when left out, `Some(None)` when
/// null. Used with `#[serde(default, deserialize_with = "given")]`.
fn given<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
