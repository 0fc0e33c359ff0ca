//! Serde models of the payloads of repository activity: issues and pull requests,
//! timeline items, commits, releases and contributor statistics.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::github::types::{GithubId, SimpleUser};

/// An issue or pull request as `GET /repos/{o}/{r}/issues` lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct Issue {
    pub id: i64,
    pub number: i32,
    pub title: String,
    pub state: String,
    #[serde(default)]
    pub state_reason: Option<String>,
    #[serde(default)]
    pub user: Option<SimpleUser>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub assignees: Vec<SimpleUser>,
    #[serde(default)]
    pub comments: i64,
    #[serde(default)]
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Only in the single-issue payload.
    #[serde(default)]
    pub closed_by: Option<SimpleUser>,
    #[serde(default)]
    pub html_url: Option<String>,
    /// `https://api.github.com/repos/{o}/{r}`.
    #[serde(default)]
    pub repository_url: Option<String>,
    /// Present on pull requests only.
    #[serde(default)]
    pub pull_request: Option<PullRequestPart>,
    /// Pull requests only.
    #[serde(default)]
    pub draft: Option<bool>,
}

impl Issue {
    /// Whether this is a pull request.
    pub fn is_pull_request(&self) -> bool {
        self.pull_request.is_some()
    }

    /// A pull request's merged state: `None` while open or when the payload does not say.
    pub fn merged(&self) -> Option<bool> {
        let part = self.pull_request.as_ref()?;
        if self.state != "closed" {
            return None;
        }
        part.merged_at.as_ref().map(Option::is_some)
    }

    /// A pull request's merge time.
    pub fn merged_at(&self) -> Option<DateTime<Utc>> {
        self.pull_request.as_ref()?.merged_at.flatten()
    }

    /// `owner/name` of the repository, from `repository_url`.
    pub fn repository_full_name(&self) -> Option<String> {
        let url = self.repository_url.as_deref()?;
        let (_, full_name) = url.split_once("/repos/")?;
        Some(full_name.trim_end_matches('/').to_owned())
    }
}

impl GithubId for Issue {
    fn github_id(&self) -> i64 {
        self.id
    }
}

/// The `pull_request` part of an issue payload.
#[derive(Clone, Debug, Deserialize)]
pub struct PullRequestPart {
    /// `Some(None)`: not merged; `None`: the payload does not say (older GitHub versions).
    #[serde(default, deserialize_with = "present")]
    pub merged_at: Option<Option<DateTime<Utc>>>,
}

/// Tells a field that is present and null from one that is absent.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A label of an issue. GitHub's description allows a label to be its name alone, and an
/// object whose `name` is left out: such a label has an empty name and is not stored.
#[derive(Clone, Debug, Deserialize)]
#[serde(from = "RawLabel")]
pub struct Label {
    pub name: String,
}

/// The two shapes of a label in an issue payload.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawLabel {
    Name(String),
    Object {
        #[serde(default)]
        name: Option<String>,
    },
}

impl From<RawLabel> for Label {
    fn from(raw: RawLabel) -> Self {
        let name = match raw {
            RawLabel::Name(name) => name,
            RawLabel::Object { name } => name.unwrap_or_default(),
        };
        Self { name }
    }
}

/// `GET /repos/{o}/{r}/pulls/{n}`: what reconciliation needs of a pull request.
#[derive(Clone, Debug, Deserialize)]
pub struct PullRequest {
    pub number: i32,
    #[serde(default)]
    pub merged: Option<bool>,
    #[serde(default)]
    pub merged_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub merged_by: Option<SimpleUser>,
}

/// One item of `GET /repos/{o}/{r}/issues/{n}/timeline`, kept whole: its shape depends on
/// its `event`.
#[derive(Clone, Debug, Deserialize)]
#[serde(transparent)]
pub struct TimelineItem(pub Value);

impl GithubId for TimelineItem {
    /// The item's GitHub id; 0 for items that have none (commits, cross-references).
    fn github_id(&self) -> i64 {
        self.0.get("id").and_then(Value::as_i64).unwrap_or(0)
    }
}

impl TimelineItem {
    /// `commented`, `labeled`, `committed`, `reviewed`, `cross-referenced`...
    pub fn event(&self) -> &str {
        self.str("event").unwrap_or("unknown")
    }

    /// What identifies the item within its issue and event: its id, a commit's sha, or a
    /// cross-reference's source and time.
    pub fn key(&self) -> String {
        if let Some(id) = self.0.get("id").and_then(Value::as_i64) {
            return id.to_string();
        }
        if let Some(sha) = self.str("sha") {
            return sha.to_owned();
        }
        if let Some(node) = self.str("node_id") {
            return node.to_owned();
        }
        let source = self
            .0
            .pointer("/source/issue/id")
            .and_then(Value::as_i64)
            .map(|id| id.to_string())
            .unwrap_or_default();
        format!("{}:{}", source, self.str("created_at").unwrap_or_default())
    }

    /// Who did it: the actor, a review's or comment's user, or a commit's linked author.
    pub fn actor(&self) -> Option<&Value> {
        ["actor", "user", "author"]
            .iter()
            .filter_map(|field| self.0.get(*field))
            .find(|user| user.get("login").is_some())
    }

    /// The actor's login.
    pub fn actor_login(&self) -> Option<&str> {
        self.actor()?.get("login")?.as_str()
    }

    /// The actor's GitHub account type.
    pub fn actor_type(&self) -> Option<&str> {
        self.actor()?.get("type")?.as_str()
    }

    /// When it happened: a review's `submitted_at`, a commit's author date, or `created_at`.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        let raw = self
            .str("submitted_at")
            .or_else(|| self.0.pointer("/author/date").and_then(Value::as_str))
            .or_else(|| self.str("created_at"))?;
        DateTime::parse_from_rfc3339(raw)
            .ok()
            .map(|time| time.with_timezone(&Utc))
    }

    /// When it was last edited: a comment's `updated_at` (items that cannot be edited have
    /// none).
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(self.str("updated_at")?)
            .ok()
            .map(|time| time.with_timezone(&Utc))
    }

    /// The item's own fields worth keeping: label name, commit sha and message, review
    /// state and body, comment body, source issue, state reason.
    pub fn details(&self) -> Value {
        let mut details = serde_json::Map::new();
        let mut keep = |name: &str, value: Option<&Value>| {
            if let Some(value) = value.filter(|v| !v.is_null()) {
                details.insert(name.to_owned(), value.clone());
            }
        };
        keep("id", self.0.get("id"));
        keep("label", self.0.pointer("/label/name"));
        keep("sha", self.0.get("sha"));
        keep("commit_id", self.0.get("commit_id"));
        keep("message", self.0.get("message"));
        keep("state", self.0.get("state"));
        keep("state_reason", self.0.get("state_reason"));
        keep("body", self.0.get("body"));
        keep("html_url", self.0.get("html_url"));
        keep("assignee", self.0.pointer("/assignee/login"));
        keep("source_issue", self.0.pointer("/source/issue/html_url"));
        keep("source_number", self.0.pointer("/source/issue/number"));
        keep(
            "source_repository",
            self.0.pointer("/source/issue/repository/full_name"),
        );
        Value::Object(details)
    }

    fn str(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(Value::as_str)
    }
}

/// A commit as `GET /repos/{o}/{r}/commits` lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct Commit {
    pub sha: String,
    pub commit: CommitDetail,
    /// The GitHub account linked to the author, if any.
    #[serde(default)]
    pub author: Option<SimpleUser>,
}

/// The git part of a commit.
#[derive(Clone, Debug, Deserialize)]
pub struct CommitDetail {
    #[serde(default)]
    pub author: Option<GitSignature>,
    #[serde(default)]
    pub committer: Option<GitSignature>,
    #[serde(default)]
    pub message: String,
}

/// A git author or committer.
#[derive(Clone, Debug, Deserialize)]
pub struct GitSignature {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub date: Option<DateTime<Utc>>,
}

impl GithubId for Commit {
    /// Commits have no numeric id: the first 15 hex digits of the sha stand in for the
    /// page cache (collisions only cost a needless re-read).
    fn github_id(&self) -> i64 {
        i64::from_str_radix(self.sha.get(..15).unwrap_or("0"), 16).unwrap_or(0)
    }
}

/// A release as `GET /repos/{o}/{r}/releases` lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct Release {
    pub id: i64,
    pub tag_name: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub author: Option<SimpleUser>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub prerelease: bool,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub html_url: Option<String>,
}

impl GithubId for Release {
    fn github_id(&self) -> i64 {
        self.id
    }
}

/// One author of `GET /repos/{o}/{r}/stats/contributors`.
#[derive(Clone, Debug, Deserialize)]
pub struct ContributorStats {
    #[serde(default)]
    pub author: Option<SimpleUser>,
    #[serde(default)]
    pub weeks: Vec<ContributorWeek>,
}

/// One week of a contributor: its Sunday (epoch seconds), additions, deletions, commits.
#[derive(Clone, Debug, Deserialize)]
pub struct ContributorWeek {
    pub w: i64,
    #[serde(default)]
    pub a: i64,
    #[serde(default)]
    pub d: i64,
    #[serde(default)]
    pub c: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(extra: Value) -> Issue {
        let mut value = serde_json::json!({
            "id": 1, "number": 7, "title": "t", "state": "closed",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z",
            "repository_url": "https://api.github.com/repos/octo/hello"
        });
        if let (Value::Object(target), Value::Object(more)) = (&mut value, extra) {
            target.extend(more);
        }
        serde_json::from_value(value).expect("an issue payload")
    }

    #[test]
    fn merged_state_comes_from_the_pull_request_part() {
        let merged =
            issue(serde_json::json!({"pull_request": {"merged_at": "2026-01-02T00:00:00Z"}}));
        assert_eq!(merged.merged(), Some(true));
        let closed = issue(serde_json::json!({"pull_request": {"merged_at": null}}));
        assert_eq!(closed.merged(), Some(false));
        let unknown = issue(serde_json::json!({"pull_request": {"url": "x"}}));
        assert_eq!(unknown.merged(), None);
        let plain = issue(serde_json::json!({}));
        assert!(!plain.is_pull_request());
        assert_eq!(plain.merged(), None);
        assert_eq!(plain.repository_full_name().as_deref(), Some("octo/hello"));
    }

    #[test]
    fn timeline_items_have_keys_actors_and_dates() {
        let review = TimelineItem(serde_json::json!({
            "id": 5, "event": "reviewed", "state": "approved",
            "user": {"login": "rev", "id": 3, "type": "User"},
            "submitted_at": "2026-01-03T00:00:00Z"
        }));
        assert_eq!(review.key(), "5");
        assert_eq!(review.actor_login(), Some("rev"));
        assert_eq!(
            review.created_at().map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-01-03T00:00:00+00:00")
        );
        let commit = TimelineItem(serde_json::json!({
            "sha": "abc", "event": "committed", "message": "m",
            "author": {"name": "A", "email": "a@x", "date": "2026-01-01T00:00:00Z"}
        }));
        assert_eq!(commit.key(), "abc");
        assert_eq!(commit.actor_login(), None);
        assert_eq!(commit.details()["sha"], "abc");
        let reference = TimelineItem(serde_json::json!({
            "event": "cross-referenced", "created_at": "2026-01-01T00:00:00Z",
            "actor": {"login": "x", "type": "Bot"}, "source": {"issue": {"id": 9, "number": 2}}
        }));
        assert_eq!(reference.key(), "9:2026-01-01T00:00:00Z");
        assert_eq!(reference.actor_type(), Some("Bot"));
    }
}
