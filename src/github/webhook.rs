//! GitHub's webhook deliveries: the signature check, and serde models of the payloads
//! gitomatic applies. Payload objects are read into the types the REST walks use
//! (`Issue`, `Release`, `Repository`, `SimpleUser`, `TimelineItem`), or turned into them
//! by a thin adapter where GitHub's webhook shape differs (a pull request, a pushed
//! commit), so that one code path stores each kind of object whatever its source.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use crate::github::activity::{Issue, Label, PullRequestPart, Release, TimelineItem};
use crate::github::types::{Repository, SimpleUser};

/// The header carrying the signature: `sha256=<hex HMAC-SHA256 of the raw body>`.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
/// The header naming the event (`issues`, `push`...).
pub const EVENT_HEADER: &str = "X-GitHub-Event";
/// The header carrying the delivery's GUID.
pub const DELIVERY_HEADER: &str = "X-GitHub-Delivery";

/// Whether `signature` (the `X-Hub-Signature-256` value) is the HMAC-SHA256 of `body` under
/// `secret`: hex in either case, compared in constant time. A missing or malformed
/// signature is not.
pub fn signature_matches(secret: &[u8], body: &[u8], signature: Option<&str>) -> bool {
    let Some(hex_digest) = signature.and_then(|value| value.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The `X-Hub-Signature-256` value GitHub sends for `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The events GitHub delivers to webhooks: metric labels are bounded to these (anything
/// else counts as `unknown`, since an unsigned request may name anything).
pub const EVENTS: &[&str] = &[
    "branch_protection_configuration",
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "code_scanning_alert",
    "commit_comment",
    "create",
    "custom_property",
    "custom_property_values",
    "delete",
    "dependabot_alert",
    "deploy_key",
    "deployment",
    "deployment_protection_rule",
    "deployment_review",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "github_app_authorization",
    "gollum",
    "installation",
    "installation_repositories",
    "installation_target",
    "issue_comment",
    "issue_dependencies",
    "issues",
    "label",
    "marketplace_purchase",
    "member",
    "membership",
    "merge_group",
    "meta",
    "milestone",
    "org_block",
    "organization",
    "package",
    "page_build",
    "personal_access_token_request",
    "ping",
    "project",
    "project_card",
    "project_column",
    "projects_v2",
    "projects_v2_item",
    "projects_v2_status_update",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
    "push",
    "registry_package",
    "release",
    "repository",
    "repository_advisory",
    "repository_dispatch",
    "repository_import",
    "repository_ruleset",
    "repository_vulnerability_alert",
    "secret_scanning_alert",
    "secret_scanning_alert_location",
    "secret_scanning_scan",
    "security_advisory",
    "security_and_analysis",
    "sponsorship",
    "star",
    "status",
    "sub_issues",
    "team",
    "team_add",
    "watch",
    "workflow_dispatch",
    "workflow_job",
    "workflow_run",
];

/// An event name as a metric label: one of [`EVENTS`], else `unknown`.
pub fn event_label(event: Option<&str>) -> &'static str {
    event
        .and_then(|event| EVENTS.iter().find(|known| **known == event))
        .copied()
        .unwrap_or("unknown")
}

/// The repository of a payload as the REST walks' type. Push deliveries give its
/// `created_at` and `pushed_at` as epoch seconds: they are read as times.
pub fn repository(value: &Value) -> Result<Repository, serde_json::Error> {
    let mut value = value.clone();
    if let Value::Object(fields) = &mut value {
        for field in ["created_at", "updated_at", "pushed_at"] {
            if let Some(seconds) = fields.get(field).and_then(Value::as_i64) {
                let time = DateTime::from_timestamp(seconds, 0)
                    .map_or(Value::Null, |time| Value::String(time.to_rfc3339()));
                fields.insert(field.to_owned(), time);
            }
        }
    }
    serde_json::from_value(value)
}

/// `issues`: an issue opened, edited, closed, transferred...
#[derive(Clone, Debug, Deserialize)]
pub struct IssuesEvent {
    pub issue: Issue,
    #[serde(default)]
    pub changes: Option<IssueChanges>,
    pub repository: Value,
    #[serde(default)]
    pub sender: Option<SimpleUser>,
}

/// What an `issues` delivery says changed; `transferred` names where the issue went.
#[derive(Clone, Debug, Deserialize)]
pub struct IssueChanges {
    #[serde(default)]
    pub new_issue: Option<Issue>,
    #[serde(default)]
    pub new_repository: Option<Value>,
}

/// The issue a comment belongs to, as far as a comment needs it.
#[derive(Clone, Debug, Deserialize)]
pub struct IssueRef {
    pub id: i64,
    pub number: i32,
    /// Present when the issue is a pull request.
    #[serde(default)]
    pub pull_request: Option<Value>,
}

/// `issue_comment`: a comment created, edited or deleted.
#[derive(Clone, Debug, Deserialize)]
pub struct IssueCommentEvent {
    pub issue: IssueRef,
    pub comment: Value,
    pub repository: Value,
}

impl IssueCommentEvent {
    /// The comment as the timeline lists it: a `commented` item by its user.
    pub fn timeline_item(&self) -> TimelineItem {
        timeline_item(&self.comment, "commented", "user")
    }
}

/// `pull_request`: a pull request opened, edited, closed, synchronized...
#[derive(Clone, Debug, Deserialize)]
pub struct PullRequestEvent {
    pub pull_request: PullRequest,
    pub repository: Value,
    #[serde(default)]
    pub sender: Option<SimpleUser>,
}

/// A pull request as webhook payloads carry it (`GET /pulls/{n}`'s shape).
#[derive(Clone, Debug, Deserialize)]
pub struct PullRequest {
    /// The pull request's own id (not the issue's).
    pub id: i64,
    pub number: i32,
    pub title: String,
    pub state: String,
    #[serde(default)]
    pub user: Option<SimpleUser>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub assignees: Vec<SimpleUser>,
    #[serde(default)]
    pub comments: Option<i64>,
    #[serde(default)]
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub merged_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub html_url: Option<String>,
}

impl PullRequest {
    /// The pull request as the issues walk lists it, under the issue id `github_id`; its
    /// merged state is the payload's `merged_at`.
    pub fn as_issue(&self, github_id: i64, comments_when_unsaid: i64) -> Issue {
        Issue {
            id: github_id,
            number: self.number,
            title: self.title.clone(),
            state: self.state.clone(),
            state_reason: None,
            user: self.user.clone(),
            labels: self.labels.clone(),
            assignees: self.assignees.clone(),
            comments: self.comments.unwrap_or(comments_when_unsaid),
            locked: self.locked,
            created_at: self.created_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
            closed_by: None,
            html_url: self.html_url.clone(),
            repository_url: None,
            pull_request: Some(PullRequestPart {
                merged_at: Some(self.merged_at),
            }),
            draft: Some(self.draft.unwrap_or(false)),
        }
    }
}

/// The pull request a review belongs to, as far as a review needs it.
#[derive(Clone, Debug, Deserialize)]
pub struct PullRequestRef {
    pub number: i32,
}

/// `pull_request_review`: a review submitted or dismissed.
#[derive(Clone, Debug, Deserialize)]
pub struct PullRequestReviewEvent {
    pub review: Value,
    pub pull_request: PullRequestRef,
    pub repository: Value,
}

impl PullRequestReviewEvent {
    /// The review as the timeline lists it: a `reviewed` item by its user.
    pub fn timeline_item(&self) -> TimelineItem {
        timeline_item(&self.review, "reviewed", "user")
    }
}

/// `release`: a release published, edited or deleted.
#[derive(Clone, Debug, Deserialize)]
pub struct ReleaseEvent {
    pub release: Release,
    pub repository: Value,
}

/// `push`: commits pushed to a branch.
#[derive(Clone, Debug, Deserialize)]
pub struct PushEvent {
    /// `refs/heads/<branch>`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    #[serde(default)]
    pub commits: Vec<PushCommit>,
    pub repository: Value,
}

impl PushEvent {
    /// Whether the push went to the repository's default branch.
    pub fn to_default_branch(&self) -> bool {
        let default = self
            .repository
            .get("default_branch")
            .or_else(|| self.repository.get("master_branch"))
            .and_then(Value::as_str);
        default.is_some_and(|branch| self.git_ref == format!("refs/heads/{branch}"))
    }
}

/// A commit of a push.
#[derive(Clone, Debug, Deserialize)]
pub struct PushCommit {
    /// The sha.
    pub id: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    pub author: Option<PushAuthor>,
}

/// The git author of a pushed commit, with the GitHub login it is linked to, if any.
#[derive(Clone, Debug, Deserialize)]
pub struct PushAuthor {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// `star`: a star added or removed, by the sender.
#[derive(Clone, Debug, Deserialize)]
pub struct StarEvent {
    pub repository: Value,
    pub sender: SimpleUser,
}

/// `organization`: a member added or removed (among others gitomatic ignores).
#[derive(Clone, Debug, Deserialize)]
pub struct OrganizationEvent {
    #[serde(default)]
    pub membership: Option<Membership>,
    pub organization: Organization,
}

/// A membership of an `organization` delivery.
#[derive(Clone, Debug, Deserialize)]
pub struct Membership {
    pub user: SimpleUser,
}

/// The organization of a delivery.
#[derive(Clone, Debug, Deserialize)]
pub struct Organization {
    pub login: String,
}

/// `repository`: a repository renamed or transferred (among others gitomatic ignores).
#[derive(Clone, Debug, Deserialize)]
pub struct RepositoryEvent {
    pub repository: Value,
    #[serde(default)]
    pub changes: Value,
}

impl RepositoryEvent {
    /// The `owner/name` the repository had before: its old name (renamed), or its old
    /// owner (transferred).
    pub fn former_full_name(&self) -> Option<String> {
        let owner = self
            .repository
            .pointer("/owner/login")
            .and_then(Value::as_str);
        let name = self.repository.get("name").and_then(Value::as_str);
        if let Some(old_name) = self
            .changes
            .pointer("/repository/name/from")
            .and_then(Value::as_str)
        {
            return Some(format!("{}/{old_name}", owner?));
        }
        let old_owner = ["user", "organization"].iter().find_map(|kind| {
            self.changes
                .pointer(&format!("/owner/from/{kind}/login"))
                .and_then(Value::as_str)
        })?;
        Some(format!("{old_owner}/{}", name?))
    }
}

/// A comment or review of a payload as a timeline item of `event`, its `actor` taken from
/// `user_field`.
fn timeline_item(object: &Value, event: &str, user_field: &str) -> TimelineItem {
    let mut item = object.clone();
    if let Value::Object(fields) = &mut item {
        let actor = fields.get(user_field).cloned().unwrap_or(Value::Null);
        fields.insert("event".into(), Value::String(event.to_owned()));
        fields.entry("actor").or_insert(actor);
    }
    TimelineItem(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signatures_are_checked_over_the_raw_bytes_in_either_case() {
        let body = br#"{"zen": "Keep it logically awesome."}"#;
        let signature = sign(b"s3cret", body);
        assert!(signature.starts_with("sha256="));
        assert!(signature_matches(b"s3cret", body, Some(&signature)));
        assert!(signature_matches(
            b"s3cret",
            body,
            Some(&signature.to_uppercase().replace("SHA256=", "sha256="))
        ));
        assert!(!signature_matches(b"other", body, Some(&signature)));
        assert!(!signature_matches(b"s3cret", b"{}", Some(&signature)));
        assert!(!signature_matches(b"s3cret", body, None));
        assert!(!signature_matches(b"s3cret", body, Some("sha256=zz")));
        assert!(!signature_matches(
            b"s3cret",
            body,
            Some(signature.trim_start_matches("sha256="))
        ));
        // GitHub's documented example (docs.github.com, "Validating webhook deliveries").
        assert!(signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            Some("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        ));
    }

    #[test]
    fn event_labels_are_bounded() {
        assert_eq!(event_label(Some("issues")), "issues");
        assert_eq!(event_label(Some("made_up")), "unknown");
        assert_eq!(event_label(None), "unknown");
    }

    #[test]
    fn a_push_repository_with_epoch_times_reads_as_a_repository() {
        let repo = repository(&json!({
            "id": 1, "name": "r", "full_name": "o/r", "owner": {"id": 2, "login": "o"},
            "created_at": 1_700_000_000, "pushed_at": 1_700_000_100,
            "updated_at": "2026-01-01T00:00:00Z", "stargazers_count": 3
        }))
        .expect("a repository");
        assert_eq!(repo.created_at.map(|t| t.timestamp()), Some(1_700_000_000));
        assert_eq!(
            repo.pushed_at.flatten().map(|t| t.timestamp()),
            Some(1_700_000_100)
        );
        assert_eq!(repo.stargazers_count, Some(3));
    }

    #[test]
    fn former_names_come_from_the_changes() {
        let renamed: RepositoryEvent = serde_json::from_value(json!({
            "repository": {"name": "new", "owner": {"login": "o"}},
            "changes": {"repository": {"name": {"from": "old"}}}
        }))
        .expect("a repository event");
        assert_eq!(renamed.former_full_name().as_deref(), Some("o/old"));
        let transferred: RepositoryEvent = serde_json::from_value(json!({
            "repository": {"name": "r", "owner": {"login": "new-owner"}},
            "changes": {"owner": {"from": {"user": {"login": "old-owner"}}}}
        }))
        .expect("a repository event");
        assert_eq!(
            transferred.former_full_name().as_deref(),
            Some("old-owner/r")
        );
    }
}
