//! The fake GitHub against GitHub's published REST description (`@octokit/openapi`): every
//! answer of every endpoint the crawler calls validates against that endpoint's response
//! schema, and the published examples of those endpoints go through gitomatic's own payload
//! types, as GitHub's real answers would.

use std::collections::{BTreeMap, BTreeSet};

use gitomatic::github::activity::{
    Commit, ContributorStats, Issue, PullRequest, Release, TimelineItem,
};
use gitomatic::github::types::{Event, RateLimitResponse, Repository, SimpleUser, User};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::helpers::fake_github::{FAKE_EVENT_TYPES, FakeGithub, Graph};
use crate::helpers::github_openapi::{Documented, github_openapi};

/// Every REST endpoint the crawler (and the fake) serves, with the check that reads its 200
/// body with gitomatic's own type (`None`: the crawler never reads it). A new endpoint the
/// crawler calls belongs here, and the walk below must reach it.
#[rustfmt::skip]
const ENDPOINTS: &[(&str, Option<Check>)] = &[
    ("GET /users/{username}", Some(check_user)),
    ("GET /user/{account_id}", Some(check_user)),
    ("GET /users/{username}/followers", Some(check_simple_users)),
    ("GET /users/{username}/following", Some(check_simple_users)),
    ("GET /users/{username}/starred", Some(check_repositories)),
    ("GET /users/{username}/repos", Some(check_repositories)),
    ("GET /repos/{owner}/{repo}", Some(check_repository)),
    ("GET /repos/{owner}/{repo}/stargazers", Some(check_simple_users)),
    ("GET /repos/{owner}/{repo}/issues", Some(check_issues)),
    ("GET /repos/{owner}/{repo}/issues/{issue_number}", Some(check_issue)),
    ("GET /repos/{owner}/{repo}/issues/{issue_number}/timeline", Some(check_timeline)),
    // Served by the fake, never read by the crawler (the timeline carries the comments).
    ("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", None),
    ("GET /repos/{owner}/{repo}/pulls/{pull_number}", Some(check_pull)),
    ("GET /repos/{owner}/{repo}/commits", Some(check_commits)),
    ("GET /repos/{owner}/{repo}/releases", Some(check_releases)),
    ("GET /repos/{owner}/{repo}/stats/contributors", Some(check_contributors)),
    ("GET /repos/{owner}/{repo}/events", Some(check_events)),
    ("GET /orgs/{org}/members", Some(check_simple_users)),
    ("GET /orgs/{org}/repos", Some(check_repositories)),
    ("GET /events", Some(check_events)),
    ("GET /rate_limit", Some(check_rate_limit)),
];

/// Answers other than 200 the walk must meet (each validated when the description gives it a
/// JSON body).
const OTHER_ANSWERS: &[(&str, u16)] = &[
    ("GET /users/{username}", 404),
    ("GET /repos/{owner}/{repo}", 301),
    ("GET /repos/{owner}/{repo}", 404),
    ("GET /repos/{owner}/{repo}/issues/{issue_number}", 301),
    ("GET /repos/{owner}/{repo}/issues/{issue_number}", 404),
    ("GET /repos/{owner}/{repo}/stats/contributors", 202),
];

/// Reads a 200 body with the crawler's type and compares what it read with the payload.
type Check = fn(&Value) -> Result<(), String>;

/// The token the walk sends, as the crawler sends its tokens.
const TOKEN: &str = "ghp_conformance";
/// The crawler's page size.
const PER_PAGE: usize = 100;
/// The timeline events the fake serves; each must be walked at least once.
const TIMELINE_EVENTS: &[&str] = &[
    "commented",
    "labeled",
    "unlabeled",
    "closed",
    "reopened",
    "merged",
    "committed",
    "reviewed",
    "cross-referenced",
];

/// The schema of each timeline item by its `event` (the alternatives of the description's
/// `timeline-issue-events`).
const TIMELINE_SCHEMAS: &[(&str, Option<&str>)] = &[
    ("commented", Some("timeline-comment-event")),
    ("labeled", Some("labeled-issue-event")),
    ("unlabeled", Some("unlabeled-issue-event")),
    ("closed", Some("state-change-issue-event")),
    ("reopened", Some("state-change-issue-event")),
    ("merged", Some("state-change-issue-event")),
    ("committed", Some("timeline-committed-event")),
    ("reviewed", Some("timeline-reviewed-event")),
    ("cross-referenced", Some("timeline-cross-referenced-event")),
    ("assigned", Some("timeline-assigned-issue-event")),
    ("unassigned", Some("timeline-unassigned-issue-event")),
];

/// The schema of each event's `payload` by its `type` (the alternatives of the description's
/// `event.payload`); `None` for the types the description gives no payload schema.
const EVENT_PAYLOAD_SCHEMAS: &[(&str, Option<&str>)] = &[
    ("CommitCommentEvent", Some("commit-comment-event")),
    ("CreateEvent", Some("create-event")),
    ("DeleteEvent", Some("delete-event")),
    ("DiscussionEvent", Some("discussion-event")),
    ("ForkEvent", Some("fork-event")),
    ("GollumEvent", Some("gollum-event")),
    ("IssueCommentEvent", Some("issue-comment-event")),
    ("IssuesEvent", Some("issues-event")),
    ("MemberEvent", Some("member-event")),
    ("PublicEvent", Some("public-event")),
    ("PullRequestEvent", Some("pull-request-event")),
    ("PullRequestReviewEvent", Some("pull-request-review-event")),
    (
        "PullRequestReviewCommentEvent",
        Some("pull-request-review-comment-event"),
    ),
    ("PullRequestReviewThreadEvent", None),
    ("PushEvent", Some("push-event")),
    ("ReleaseEvent", Some("release-event")),
    ("SponsorshipEvent", None),
    ("WatchEvent", Some("watch-event")),
];

/// Users, an organization with members, repositories with generated activity (every kind of
/// timeline item, a draft, a merge, a bot), a transferred issue, a renamed repository, an
/// issue by a deleted account, an empty repository and events of every type.
struct World {
    graph: Graph,
    /// `owner/name` of repositories with activity.
    active: Vec<String>,
    /// `owner/name` of a repository with no commits, issues or releases.
    empty: String,
    /// (former `owner/name`, former issue number) of a transferred issue.
    transferred: (String, i64),
    /// Former `owner/name` of a renamed repository.
    renamed: String,
    org: String,
}

fn world() -> World {
    let mut graph = Graph::generate(60, 20);
    let org = graph.add_org("octo-org");
    let tool = graph.add_repo(org, "tool");
    {
        let repo = graph.repo_mut(tool);
        repo.description = Some("The organization's tool".to_string());
        repo.language = Some("Rust".to_string());
    }
    graph.generate_activity(tool, 14, 14, 1);
    let home = graph.owned_repos(1)[0];
    graph.generate_activity(home, 8, 8, 2);
    let members = graph.members(org);
    graph.star(members[0], tool);

    // An issue transferred from the organization's repository to dev-1's.
    let author = members[0];
    let moving = graph.add_issue(tool, author, "Belongs elsewhere");
    graph.comment(moving, author, "Moving this.");
    let old_number = graph.issue(moving).number;
    graph.transfer_issue(moving, home);
    // An issue whose author deleted their account: GitHub shows `ghost`.
    let leaving = graph.add_user("leaving-soon");
    let orphan = graph.add_issue(tool, leaving, "Written by someone who left");
    graph.comment(orphan, leaving, "Bye.");
    graph.remove_user(leaving);

    let empty_repo = graph.add_repo(1, "empty");
    let renamed_id = graph.add_repo(2, "old-name");
    let renamed = graph.full_name(renamed_id);
    graph.rename_repo(renamed_id, "new-name");

    graph.generate_events(120, 3);
    for (kind, actions) in FAKE_EVENT_TYPES {
        let action = actions.first().copied();
        graph.add_event(kind, 1, tool, action);
        graph.add_event(kind, 2, home, action);
    }
    World {
        active: vec![graph.full_name(tool), graph.full_name(home)],
        empty: graph.full_name(empty_repo),
        transferred: (graph.full_name(tool), old_number),
        renamed,
        org: graph.user(org).login.clone(),
        graph,
    }
}

/// Requests sent through the fake, each answer judged against the description.
struct Walk {
    http: reqwest::Client,
    base: String,
    /// (operation, status) of every answer.
    met: BTreeSet<(String, u16)>,
    /// Violation (array indices as `*`) → (answers showing it, the first request).
    violations: BTreeMap<String, (usize, String)>,
    /// Answers with a status the description does not document (not judged).
    undocumented: BTreeSet<String>,
    /// Timeline events seen.
    timeline_events: BTreeSet<String>,
    requests: usize,
}

impl Walk {
    fn new(fake: &FakeGithub) -> Walk {
        Walk {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            base: fake.url.clone(),
            met: BTreeSet::new(),
            violations: BTreeMap::new(),
            undocumented: BTreeSet::new(),
            timeline_events: BTreeSet::new(),
            requests: 0,
        }
    }

    /// `GET` of an API path (with its query) as the crawler sends it; the answer is judged
    /// and returned with its headers.
    async fn get(&mut self, path_and_query: &str) -> (u16, Option<Value>, HeaderMap) {
        let url = if path_and_query.starts_with("http") {
            path_and_query.to_owned()
        } else {
            format!("{}{path_and_query}", self.base)
        };
        let response = self
            .http
            .get(&url)
            .header("accept", "application/vnd.github+json")
            .header("authorization", format!("Bearer {TOKEN}"))
            .send()
            .await
            .unwrap_or_else(|error| panic!("the fake answers {url}: {error}"));
        self.requests += 1;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let parsed = url::Url::parse(&url).expect("a URL");
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str::<Value>(&text).ok();
        let request = format!("GET {}", &url[self.base.len()..]);
        self.judge(&request, parsed.path(), status, &text, body.as_ref());
        (status, body, headers)
    }

    fn judge(&mut self, request: &str, path: &str, status: u16, text: &str, body: Option<&Value>) {
        let openapi = github_openapi();
        let Some(operation) = openapi.operation("GET", path) else {
            self.violate(
                request,
                format!("{path}: no operation of GitHub's description"),
            );
            return;
        };
        let name = operation.name();
        self.met.insert((name.clone(), status));
        match (openapi.documented(&operation, status), body) {
            (Documented::Json(_), Some(body)) => {
                if let Err(violations) = openapi.validate("GET", path, status, body) {
                    for violation in violations {
                        self.violate(request, format!("{name} {status}: {violation}"));
                    }
                }
                if status == 200 {
                    self.judge_items(request, &name, body);
                }
            }
            (Documented::Json(_), None) => {
                let start: String = text.chars().take(80).collect();
                self.violate(
                    request,
                    format!("{name} {status}: the body is not JSON: {start:?}"),
                );
            }
            (Documented::NoBody, _) => {}
            (Documented::No, _) if status == 200 => {
                self.violate(request, format!("{name}: 200 is not documented"));
            }
            (Documented::No, _) => {
                self.undocumented.insert(format!("{name} {status}"));
            }
        }
    }

    /// Judges each timeline item and each event payload against the alternative its `event`
    /// or `type` names: the description's `anyOf` lets anything through (two of its timeline
    /// alternatives and `public-event` require nothing).
    fn judge_items(&mut self, request: &str, name: &str, body: &Value) {
        let (field, schemas) = if name.ends_with("/timeline") {
            ("event", TIMELINE_SCHEMAS)
        } else if name.ends_with("/events") {
            ("type", EVENT_PAYLOAD_SCHEMAS)
        } else {
            return;
        };
        for (index, item) in body.as_array().into_iter().flatten().enumerate() {
            let kind = item[field].as_str().unwrap_or_default();
            if field == "event" {
                self.timeline_events.insert(kind.to_owned());
            }
            let (judged, part) = if field == "event" {
                (item, String::new())
            } else {
                (&item["payload"], "/payload".to_owned())
            };
            match schemas.iter().find(|(k, _)| *k == kind) {
                Some((_, Some(schema))) => {
                    if let Err(violations) = github_openapi().validate_component(schema, judged) {
                        for violation in violations {
                            self.violate(
                                request,
                                format!(
                                    "{name} 200: /{index}{part} ({kind} as {schema}): {violation}"
                                ),
                            );
                        }
                    }
                }
                Some((_, None)) => {}
                None => self.violate(
                    request,
                    format!("{name} 200: /{index}: unknown {field} {kind:?}"),
                ),
            }
        }
    }

    fn violate(&mut self, request: &str, violation: String) {
        let entry = self
            .violations
            .entry(generalize(&violation))
            .or_insert((0, request.to_owned()));
        entry.0 += 1;
    }

    /// Every page of a list from `path` (the crawler's `per_page`), along `Link: rel="next"`.
    async fn list(&mut self, path: &str) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{separator}per_page={PER_PAGE}"));
        let mut items = Vec::new();
        while let Some(url) = next.take() {
            let (status, body, headers) = self.get(&url).await;
            if status != 200 {
                break;
            }
            items.extend(body.and_then(|b| b.as_array().cloned()).unwrap_or_default());
            next = next_link(&headers);
        }
        items
    }

    /// The violations, one line each.
    fn report(&self) -> String {
        self.violations
            .iter()
            .map(|(violation, (count, first))| {
                format!("- {violation}\n    ({count} times; first in {first})")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A violation with array indices of its instance path as `*`, so that one mistake repeated
/// in every item of a list reads once.
fn generalize(violation: &str) -> String {
    violation
        .split('/')
        .map(|segment| {
            let digits = segment.bytes().take_while(u8::is_ascii_digit).count();
            let ends_path = segment[digits..].starts_with([':', ' ', ';']);
            if digits > 0 && (digits == segment.len() || ends_path) {
                format!("*{}", &segment[digits..])
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The target of `rel="next"` in a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(", ").find_map(|link| {
        let (target, rel) = link.split_once("; ")?;
        (rel == "rel=\"next\"").then(|| target.trim_matches(['<', '>']).to_string())
    })
}

/// Walks every endpoint as the crawler does: profiles and their lists, repositories and their
/// stargazers, activity (issues both ways, each issue, timeline and pull request, commits,
/// releases, statistics), organization members and repositories, the event feeds, the quota.
async fn walk_everything(walk: &mut Walk, world: &World) {
    let graph = &world.graph;
    walk.get("/rate_limit").await;
    let logins: Vec<String> = graph
        .users
        .values()
        .map(|user| user.login.clone())
        .collect();
    for login in &logins {
        let (status, _, _) = walk.get(&format!("/users/{login}")).await;
        assert_eq!(status, 200, "{login} has a profile");
        for list in ["followers", "following", "starred", "repos"] {
            walk.list(&format!("/users/{login}/{list}")).await;
        }
    }
    walk.get("/users/no-such-user-anywhere").await;
    // As GitHub's `Link` headers page a user's lists.
    walk.get("/user/1").await;
    walk.list("/user/1/followers").await;

    for id in graph.repos.keys() {
        let full_name = graph.full_name(*id);
        walk.get(&format!("/repos/{full_name}")).await;
        walk.list(&format!("/repos/{full_name}/stargazers")).await;
    }
    walk.get(&format!("/repos/{}", world.renamed)).await;
    walk.get("/repos/nobody/nothing").await;
    let first_repo = graph.repos.keys().next().copied().expect("a repository");
    walk.get(&format!("/repositories/{first_repo}")).await;

    let mut repositories = world.active.clone();
    repositories.push(world.empty.clone());
    for full_name in &repositories {
        walk_activity(walk, full_name).await;
    }
    let (from, number) = &world.transferred;
    let (status, _, headers) = walk.get(&format!("/repos/{from}/issues/{number}")).await;
    assert_eq!(status, 301, "a transferred issue answers 301");
    if let Some(location) = headers.get("location").and_then(|l| l.to_str().ok()) {
        walk.get(location).await;
    }
    walk.get(&format!("/repos/{from}/issues/999999")).await;

    let org = &world.org;
    walk.get(&format!("/users/{org}")).await;
    walk.list(&format!("/orgs/{org}/members")).await;
    walk.list(&format!("/orgs/{org}/repos")).await;

    walk.list("/events").await;
    for full_name in &world.active {
        walk.list(&format!("/repos/{full_name}/events")).await;
    }
}

/// A repository's activity as `repository_activity_sync`, the timeline sync and reconciliation
/// ask for it.
async fn walk_activity(walk: &mut Walk, full_name: &str) {
    let issues = walk
        .list(&format!(
            "/repos/{full_name}/issues?state=all&sort=updated&direction=asc"
        ))
        .await;
    walk.list(&format!(
        "/repos/{full_name}/issues?state=all&sort=created&direction=asc&since=2020-01-01T00:00:00Z"
    ))
    .await;
    for issue in &issues {
        let number = issue["number"].as_i64().expect("an issue number");
        walk.get(&format!("/repos/{full_name}/issues/{number}"))
            .await;
        walk.list(&format!("/repos/{full_name}/issues/{number}/timeline"))
            .await;
        walk.list(&format!("/repos/{full_name}/issues/{number}/comments"))
            .await;
        if issue.get("pull_request").is_some() {
            walk.get(&format!("/repos/{full_name}/pulls/{number}"))
                .await;
        }
    }
    walk.list(&format!("/repos/{full_name}/commits")).await;
    walk.list(&format!(
        "/repos/{full_name}/commits?since=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z"
    ))
    .await;
    walk.list(&format!("/repos/{full_name}/releases")).await;
    // The first request of a repository with commits answers 202 while GitHub computes.
    for _ in 0..2 {
        walk.get(&format!("/repos/{full_name}/stats/contributors"))
            .await;
    }
}

#[tokio::test]
async fn every_answer_of_the_fake_validates_against_githubs_openapi_description() {
    let world = world();
    let fake = FakeGithub::start(world.graph.clone()).await;
    let mut walk = Walk::new(&fake);
    walk_everything(&mut walk, &world).await;

    let missing: Vec<String> = ENDPOINTS
        .iter()
        .map(|(name, _)| (name.to_string(), 200))
        .chain(
            OTHER_ANSWERS
                .iter()
                .map(|(name, status)| (name.to_string(), *status)),
        )
        .filter(|answer| !walk.met.contains(answer))
        .map(|(name, status)| format!("{name} {status}"))
        .collect();
    assert!(
        missing.is_empty(),
        "the walk never met these answers: {missing:?}"
    );
    let unlisted: Vec<&(String, u16)> = walk
        .met
        .iter()
        .filter(|(name, status)| *status == 200 && !ENDPOINTS.iter().any(|(e, _)| e == name))
        .collect();
    assert!(
        unlisted.is_empty(),
        "endpoints walked but missing from ENDPOINTS: {unlisted:?}"
    );
    let timeline_missing: Vec<&&str> = TIMELINE_EVENTS
        .iter()
        .filter(|event| !walk.timeline_events.contains(**event))
        .collect();
    assert!(
        timeline_missing.is_empty(),
        "the walk met no timeline item of these kinds: {timeline_missing:?}"
    );
    assert!(
        walk.violations.is_empty(),
        "{} kinds of violations of GitHub's published response schemas in {} answers \
         (undocumented statuses, not judged: {:?}):\n{}",
        walk.violations.len(),
        walk.requests,
        walk.undocumented,
        walk.report()
    );
}

/// Published examples of answers to a media type gitomatic never asks for (it sends
/// `Accept: application/vnd.github+json`).
const OTHER_MEDIA_TYPES: &[(&str, &str)] = &[(
    // `application/vnd.github.star+json`: `{starred_at, user}` items.
    "GET /repos/{owner}/{repo}/stargazers",
    "alternative-response-with-star-creation-timestamps",
)];

#[test]
fn the_published_examples_of_every_endpoint_parse_with_gitomatics_types() {
    let openapi = github_openapi();
    let mut failures = Vec::new();
    let mut parsed = 0;
    for (name, parser) in ENDPOINTS {
        let Some(check) = parser else { continue };
        let (method, template) = name.split_once(' ').expect("METHOD /path");
        let operation = openapi
            .operation(method, template)
            .unwrap_or_else(|| panic!("{name} is in GitHub's description"));
        assert_eq!(operation.template, template, "{name} is found as itself");
        let examples = openapi.examples(&operation, 200);
        assert!(!examples.is_empty(), "{name} has published examples");
        for (example, value) in examples {
            if OTHER_MEDIA_TYPES.contains(&(*name, example.as_str())) {
                continue;
            }
            parsed += 1;
            if let Err(error) = check(&value) {
                failures.push(format!("{name} example {example:?}: {error}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "published examples gitomatic cannot read:\n{}",
        failures.join("\n")
    );
    assert!(parsed >= ENDPOINTS.len(), "{parsed} examples parsed");
}

#[test]
fn the_validator_names_where_and_what_is_wrong() {
    let openapi = github_openapi();
    let user = serde_json::json!({"login": "octocat", "id": "one"});
    let violations = openapi
        .validate(
            "GET",
            "/users/octocat/followers",
            200,
            &serde_json::json!([user]),
        )
        .expect_err("a string id and missing fields are violations");
    let text = violations.join("\n");
    assert!(text.contains("/0/id") && text.contains("integer"), "{text}");
    assert!(
        text.contains("/0: \"avatar_url\" is a required property"),
        "{text}"
    );

    // `nullable: true` admits null; a date must be a date (formats are asserted).
    let followers = openapi
        .operation("GET", "/users/octocat/followers")
        .expect("an operation");
    let mut users = openapi.examples(&followers, 200).remove(0).1;
    users[0]["gravatar_id"] = Value::Null;
    users[0]["name"] = Value::Null;
    openapi
        .validate("GET", "/user/1/followers", 200, &users)
        .expect("a null gravatar_id and name are allowed");
    users[0]["login"] = Value::Null;
    let violations = openapi
        .validate("GET", "/users/octocat/followers", 200, &users)
        .expect_err("a null login is not");
    assert!(
        violations.iter().any(|v| v.starts_with("/0/login: null")),
        "{violations:?}"
    );
    let releases = openapi
        .operation("GET", "/repos/octo/hello/releases")
        .expect("an operation");
    let mut listed = openapi.examples(&releases, 200).remove(0).1;
    listed[0]["created_at"] = Value::from("yesterday");
    let violations = openapi
        .validate("GET", "/repositories/42/releases", 200, &listed)
        .expect_err("a date that is not a date");
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with("/0/created_at") && v.contains("date-time")),
        "{violations:?}"
    );
}

/// Published examples that break their own response schema: the description's defects,
/// not the validator's (each fails with the named property).
const EXAMPLE_DEFECTS: &[(&str, &str, &str)] = &[
    // The example of `full-repository` has no `language` (required) in itself nor `source`.
    (
        "GET /repos/{owner}/{repo}",
        "default-response",
        "\"language\" is a required property",
    ),
    // Its requested team has no `type` (required by `team`).
    (
        "GET /repos/{owner}/{repo}/pulls/{pull_number}",
        "default",
        "/requested_teams/0",
    ),
];

#[test]
fn githubs_own_examples_validate_against_their_schemas() {
    let openapi = github_openapi();
    let mut unexpected = Vec::new();
    let mut defects = Vec::new();
    for (name, _) in ENDPOINTS {
        let (method, template) = name.split_once(' ').expect("METHOD /path");
        let operation = openapi.operation(method, template).expect("an operation");
        for (example, value) in openapi.examples(&operation, 200) {
            let Err(violations) = openapi.validate(method, template, 200, &value) else {
                continue;
            };
            let known = EXAMPLE_DEFECTS
                .iter()
                .find(|(n, e, _)| n == name && *e == example);
            match known {
                Some((_, _, what)) if violations.iter().all(|v| v.contains(what)) => {
                    defects.push((*name, example));
                }
                _ => unexpected.push(format!("{name} example {example:?}: {violations:?}")),
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "published examples the validator refuses:\n{}",
        unexpected.join("\n")
    );
    assert_eq!(
        defects.len(),
        EXAMPLE_DEFECTS.len(),
        "the known defects of the description still show: {defects:?}"
    );
}

fn parse<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|error| error.to_string())
}

/// `Err` naming `what` when gitomatic read `parsed` where the payload says `raw`.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, parsed: T, raw: T) -> Result<(), String> {
    if parsed == raw {
        Ok(())
    } else {
        Err(format!("{what}: read {parsed:?}, the payload says {raw:?}"))
    }
}

fn ensure(condition: bool, what: &str) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what.to_owned())
    }
}

/// The items of a list payload, at least one.
fn items(value: &Value) -> Result<&Vec<Value>, String> {
    let items = value.as_array().ok_or("not a list")?;
    ensure(!items.is_empty(), "an empty list")?;
    Ok(items)
}

fn check_user(value: &Value) -> Result<(), String> {
    let user: User = parse(value)?;
    same("id", Some(user.id), value["id"].as_i64())?;
    same("login", Some(user.login.as_str()), value["login"].as_str())?;
    same("name", user.name.as_deref(), value["name"].as_str())?;
    same("bio", user.bio.as_deref(), value["bio"].as_str())?;
    same("followers", user.followers, value["followers"].as_i64())?;
    same(
        "public_repos",
        user.public_repos,
        value["public_repos"].as_i64(),
    )?;
    ensure(user.created_at.is_some(), "created_at")
}

fn check_simple_user(value: &Value) -> Result<(), String> {
    let user: SimpleUser = parse(value)?;
    same("id", Some(user.id), value["id"].as_i64())?;
    same("login", Some(user.login.as_str()), value["login"].as_str())?;
    same("type", user.kind.as_deref(), value["type"].as_str())
}

fn check_simple_users(value: &Value) -> Result<(), String> {
    parse::<Vec<SimpleUser>>(value)?;
    items(value)?.iter().try_for_each(check_simple_user)
}

fn check_repository(value: &Value) -> Result<(), String> {
    let repository: Repository = parse(value)?;
    same("id", Some(repository.id), value["id"].as_i64())?;
    same(
        "full_name",
        Some(repository.full_name.as_str()),
        value["full_name"].as_str(),
    )?;
    same(
        "owner",
        Some(repository.owner.login.as_str()),
        value["owner"]["login"].as_str(),
    )?;
    same(
        "stargazers_count",
        repository.stargazers_count,
        value["stargazers_count"].as_i64(),
    )?;
    same(
        "language",
        repository.language.clone().flatten().as_deref(),
        value["language"].as_str(),
    )?;
    same("fork", repository.fork, value["fork"].as_bool())
}

fn check_repositories(value: &Value) -> Result<(), String> {
    parse::<Vec<Repository>>(value)?;
    items(value)?.iter().try_for_each(check_repository)
}

fn check_issue(value: &Value) -> Result<(), String> {
    let issue: Issue = parse(value)?;
    same("id", Some(issue.id), value["id"].as_i64())?;
    same(
        "number",
        Some(i64::from(issue.number)),
        value["number"].as_i64(),
    )?;
    same("state", Some(issue.state.as_str()), value["state"].as_str())?;
    same(
        "author",
        issue.user.as_ref().map(|user| user.login.as_str()),
        value["user"]["login"].as_str(),
    )?;
    let labels: Vec<&str> = issue
        .labels
        .iter()
        .map(|label| label.name.as_str())
        .collect();
    let raw: Vec<&str> = (value["labels"].as_array().into_iter().flatten())
        .filter_map(|label| label["name"].as_str())
        .collect();
    same("labels", labels, raw)?;
    same(
        "pull request",
        issue.is_pull_request(),
        value.get("pull_request").is_some(),
    )?;
    let repository = value["repository_url"]
        .as_str()
        .and_then(|url| url.split_once("/repos/"));
    same(
        "repository",
        issue.repository_full_name().as_deref(),
        repository.map(|(_, name)| name),
    )
}

fn check_issues(value: &Value) -> Result<(), String> {
    parse::<Vec<Issue>>(value)?;
    items(value)?.iter().try_for_each(check_issue)
}

fn check_timeline(value: &Value) -> Result<(), String> {
    let parsed: Vec<TimelineItem> = parse(value)?;
    for (item, raw) in parsed.iter().zip(items(value)?) {
        same("event", Some(item.event()), raw["event"].as_str())?;
        let key = item.key();
        ensure(!key.is_empty() && key != ":", "a key")?;
        ensure(item.created_at().is_some(), "a time")?;
        if let Some(actor) = ["actor", "user"]
            .iter()
            .find_map(|f| raw[f]["login"].as_str())
        {
            same("actor", item.actor_login(), Some(actor))?;
        }
    }
    Ok(())
}

fn check_pull(value: &Value) -> Result<(), String> {
    let pull: PullRequest = parse(value)?;
    same(
        "number",
        Some(i64::from(pull.number)),
        value["number"].as_i64(),
    )?;
    same("merged", pull.merged, value["merged"].as_bool())?;
    same(
        "merged_by",
        pull.merged_by.as_ref().map(|user| user.login.as_str()),
        value["merged_by"]["login"].as_str(),
    )
}

fn check_commits(value: &Value) -> Result<(), String> {
    let commits: Vec<Commit> = parse(value)?;
    for (commit, raw) in commits.iter().zip(items(value)?) {
        same("sha", Some(commit.sha.as_str()), raw["sha"].as_str())?;
        same(
            "author",
            commit.author.as_ref().map(|user| user.login.as_str()),
            raw["author"]["login"].as_str(),
        )?;
        same(
            "message",
            Some(commit.commit.message.as_str()),
            raw["commit"]["message"].as_str(),
        )?;
        let date = commit.commit.author.as_ref().and_then(|a| a.date);
        ensure(date.is_some(), "an author date")?;
    }
    Ok(())
}

fn check_releases(value: &Value) -> Result<(), String> {
    let releases: Vec<Release> = parse(value)?;
    for (release, raw) in releases.iter().zip(items(value)?) {
        same("id", Some(release.id), raw["id"].as_i64())?;
        same(
            "tag_name",
            Some(release.tag_name.as_str()),
            raw["tag_name"].as_str(),
        )?;
        same(
            "author",
            release.author.as_ref().map(|user| user.login.as_str()),
            raw["author"]["login"].as_str(),
        )?;
        same(
            "prerelease",
            Some(release.prerelease),
            raw["prerelease"].as_bool(),
        )?;
    }
    Ok(())
}

fn check_contributors(value: &Value) -> Result<(), String> {
    let rows: Vec<ContributorStats> = parse(value)?;
    for (row, raw) in rows.iter().zip(items(value)?) {
        same(
            "author",
            row.author.as_ref().map(|user| user.login.as_str()),
            raw["author"]["login"].as_str(),
        )?;
        let commits: i64 = row.weeks.iter().map(|week| week.c).sum();
        let raw_commits: i64 = (raw["weeks"].as_array().into_iter().flatten())
            .filter_map(|week| week["c"].as_i64())
            .sum();
        same("commits", commits, raw_commits)?;
        ensure(!row.weeks.is_empty(), "weeks")?;
    }
    Ok(())
}

fn check_events(value: &Value) -> Result<(), String> {
    let events: Vec<Event> = parse(value)?;
    for (event, raw) in events.iter().zip(items(value)?) {
        same("id", Some(event.id.as_str()), raw["id"].as_str())?;
        ensure(event.id.parse::<i64>().is_ok(), "a numeric id")?;
        same("type", Some(event.kind.as_str()), raw["type"].as_str())?;
        same(
            "actor",
            Some(event.actor.login.as_str()),
            raw["actor"]["login"].as_str(),
        )?;
        same(
            "repo",
            Some(event.repo.name.as_str()),
            raw["repo"]["name"].as_str(),
        )?;
        same(
            "org",
            event.org.as_ref().map(|org| org.login.as_str()),
            raw["org"]["login"].as_str(),
        )?;
        same("payload", &event.payload, &raw["payload"])?;
    }
    Ok(())
}

fn check_rate_limit(value: &Value) -> Result<(), String> {
    let reading: RateLimitResponse = parse(value)?;
    for resource in ["core", "graphql", "search"] {
        let parsed = reading
            .resources
            .get(resource)
            .ok_or(format!("no {resource} resource"))?;
        let raw = &value["resources"][resource];
        same(resource, Some(parsed.remaining), raw["remaining"].as_i64())?;
        same(resource, Some(parsed.reset), raw["reset"].as_i64())?;
    }
    Ok(())
}
