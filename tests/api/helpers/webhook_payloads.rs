//! Webhook payloads in the shapes GitHub's published webhook descriptions give, filled with
//! what the fake GitHub answers (so what gitomatic stores from them can be compared with
//! what the fake holds). Shared by the webhook tests (`tests/api/webhooks.rs`, which
//! validate every delivery they send against `@octokit/openapi-webhooks`) and the webhook
//! benchmark (`benches/webhooks.rs`).

#![allow(dead_code)]

use serde_json::{Value, json};

/// The fields of a simple user object (a delivery's `sender`, an owner).
pub const SIMPLE_USER: &[&str] = &[
    "login",
    "id",
    "node_id",
    "avatar_url",
    "gravatar_id",
    "url",
    "html_url",
    "followers_url",
    "following_url",
    "gists_url",
    "starred_url",
    "subscriptions_url",
    "organizations_url",
    "repos_url",
    "events_url",
    "received_events_url",
    "type",
    "user_view_type",
    "site_admin",
];

/// `value` with only these fields (those it has).
pub fn keep(value: &Value, fields: &[&str]) -> Value {
    Value::Object(
        fields
            .iter()
            .filter_map(|field| value.get(*field).map(|v| ((*field).to_owned(), v.clone())))
            .collect(),
    )
}

/// `value` with the fields of `more` added (or replaced).
pub fn with(mut value: Value, more: Value) -> Value {
    if let (Value::Object(target), Value::Object(more)) = (&mut value, more) {
        target.extend(more);
    }
    value
}

/// A `reactions` rollup with no reaction.
pub fn reactions(url: &str) -> Value {
    json!({
        "url": format!("{url}/reactions"), "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
        "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0,
    })
}

/// Builds payload parts from the fake GitHub at `url`, as it answers now.
#[derive(Clone)]
pub struct Payloads {
    http: reqwest::Client,
    url: String,
}

impl Payloads {
    /// Payloads from the fake GitHub at `url` (`http://127.0.0.1:PORT`).
    pub fn new(http: reqwest::Client, url: &str) -> Self {
        Self {
            http,
            url: url.to_owned(),
        }
    }

    /// GET a path of the fake GitHub (200 expected).
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("the fake answers");
        assert_eq!(response.status(), 200, "GET {path} on the fake");
        response.json().await.expect("JSON")
    }

    /// A user as deliveries name the sender.
    pub async fn user(&self, login: &str) -> Value {
        keep(&self.get(&format!("/users/{login}")).await, SIMPLE_USER)
    }

    /// A repository as deliveries carry it.
    pub async fn repository(&self, full_name: &str) -> Value {
        let mut repo = self.get(&format!("/repos/{full_name}")).await;
        if let Value::Object(fields) = &mut repo {
            // What only `GET /repos/{owner}/{repo}` answers (a token's, when it has one).
            fields.remove("temp_clone_token");
        }
        with(repo, json!({"custom_properties": {}}))
    }

    /// An issue (or a pull request's issue) as `issues` and `issue_comment` deliveries
    /// carry it.
    pub async fn issue(&self, full_name: &str, number: i64) -> Value {
        let issue = self
            .get(&format!("/repos/{full_name}/issues/{number}"))
            .await;
        let url = issue["url"].as_str().expect("url").to_owned();
        with(issue, json!({"reactions": reactions(&url)}))
    }

    /// A pull request as `pull_request` deliveries carry it.
    pub async fn pull(&self, full_name: &str, number: i64) -> Value {
        self.get(&format!("/repos/{full_name}/pulls/{number}"))
            .await
    }

    /// A comment as `issue_comment` deliveries carry it.
    pub async fn comment(&self, full_name: &str, number: i64, id: i64) -> Value {
        let comments = self
            .get(&format!("/repos/{full_name}/issues/{number}/comments"))
            .await;
        let comment = comments
            .as_array()
            .expect("comments")
            .iter()
            .find(|comment| comment["id"] == id)
            .unwrap_or_else(|| panic!("no comment {id}"))
            .clone();
        let url = comment["url"].as_str().expect("url").to_owned();
        with(comment, json!({"reactions": reactions(&url)}))
    }

    /// A review as `pull_request_review` deliveries carry it.
    pub async fn review(&self, full_name: &str, number: i64, id: i64) -> Value {
        let timeline = self
            .get(&format!("/repos/{full_name}/issues/{number}/timeline"))
            .await;
        let mut review = timeline
            .as_array()
            .expect("timeline")
            .iter()
            .find(|item| item["event"] == "reviewed" && item["id"] == id)
            .unwrap_or_else(|| panic!("no review {id}"))
            .clone();
        if let Value::Object(fields) = &mut review {
            fields.remove("event");
        }
        let api = format!("{}/repos/{full_name}/pulls/{number}", self.url);
        let html = review["html_url"].as_str().unwrap_or_default().to_owned();
        with(
            review,
            json!({
                "pull_request_url": api,
                "_links": {"html": {"href": html}, "pull_request": {"href": api}},
            }),
        )
    }

    /// A release as `release` deliveries carry it.
    pub async fn release(&self, full_name: &str, id: i64) -> Value {
        let releases = self.get(&format!("/repos/{full_name}/releases")).await;
        let release = releases
            .as_array()
            .expect("releases")
            .iter()
            .find(|release| release["id"] == id)
            .unwrap_or_else(|| panic!("no release {id}"))
            .clone();
        let updated = release["published_at"].clone();
        with(release, json!({"immutable": false, "updated_at": updated}))
    }

    /// An organization as `organization` deliveries carry it.
    pub async fn organization(&self, login: &str) -> Value {
        let org = self.get(&format!("/users/{login}")).await;
        let api = format!("{}/orgs/{login}", self.url);
        json!({
            "login": login, "id": org["id"], "node_id": org["node_id"], "url": api,
            "repos_url": format!("{api}/repos"), "events_url": format!("{api}/events"),
            "hooks_url": format!("{api}/hooks"), "issues_url": format!("{api}/issues"),
            "members_url": format!("{api}/members{{/member}}"),
            "public_members_url": format!("{api}/public_members{{/member}}"),
            "avatar_url": org["avatar_url"], "description": null,
        })
    }

    /// An `issues` delivery about issue `number` of `full_name`, as the fake has it now.
    pub async fn issues_delivery(
        &self,
        action: &str,
        full_name: &str,
        number: i64,
        sender: &str,
    ) -> Value {
        json!({
            "action": action,
            "issue": self.issue(full_name, number).await,
            "repository": self.repository(full_name).await,
            "sender": self.user(sender).await,
        })
    }
}
