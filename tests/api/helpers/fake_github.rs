//! An in-process fake of GitHub's REST v3 API over real HTTP: payload shapes, ETags and 304s,
//! Link paging, rate-limit headers, quota, redirects and injected failures.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const NOT_FOUND_DOCS: &str = "https://docs.github.com/rest";
const RATE_LIMIT_DOCS: &str =
    "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting";
const SECONDARY_LIMIT_DOCS: &str = "https://docs.github.com/rest/overview/\
     rate-limits-for-the-rest-api#about-secondary-rate-limits";
const SECONDARY_LIMIT_MESSAGE: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
const REDIRECT_DOCS: &str =
    "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects";
const DEFAULT_DATE: &str = "2011-01-25T18:44:36Z";
/// Repository ids start here so that a user id mistaken for a repository id finds nothing.
const FIRST_REPO_ID: i64 = 1_000_001;
/// Length of a quota window, as on GitHub.
const WINDOW_SECS: i64 = 3600;
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;

// ---------------------------------------------------------------------------
// The graph
// ---------------------------------------------------------------------------

/// Users, repositories and the relations between them; every count in a payload is derived from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    pub users: BTreeMap<i64, FakeUser>,
    /// (follower, followee)
    pub follows: BTreeSet<(i64, i64)>,
    pub repos: BTreeMap<i64, FakeRepo>,
    /// (user, repo)
    pub stars: BTreeSet<(i64, i64)>,
    /// Former `owner/name` (lowercase) of renamed or transferred repositories → repository id:
    /// answered with 301.
    pub repo_redirects: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeUser {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub company: Option<String>,
    /// GitHub answers `""` for an unset blog, never null.
    pub blog: Option<String>,
    pub location: Option<String>,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub twitter_username: Option<String>,
    pub hireable: Option<bool>,
    pub public_gists: i64,
    pub created_at: String,
    pub updated_at: String,
    /// `"User"` or `"Organization"`.
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeRepo {
    pub id: i64,
    pub owner_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub fork: bool,
    pub archived: bool,
    pub disabled: bool,
    pub has_issues: bool,
    pub has_projects: bool,
    pub has_downloads: bool,
    pub has_wiki: bool,
    pub has_pages: bool,
    pub size: i64,
    pub forks_count: i64,
    pub open_issues_count: i64,
    pub default_branch: String,
    pub created_at: String,
    pub updated_at: String,
    pub pushed_at: String,
}

impl FakeUser {
    fn new(id: i64, login: &str) -> FakeUser {
        FakeUser {
            id,
            login: login.to_string(),
            name: None,
            company: None,
            blog: None,
            location: None,
            email: None,
            bio: None,
            twitter_username: None,
            hireable: None,
            public_gists: 0,
            created_at: DEFAULT_DATE.to_string(),
            updated_at: DEFAULT_DATE.to_string(),
            kind: "User".to_string(),
        }
    }
}

impl FakeRepo {
    fn new(id: i64, owner_id: i64, name: &str) -> FakeRepo {
        FakeRepo {
            id,
            owner_id,
            name: name.to_string(),
            description: None,
            homepage: None,
            language: None,
            fork: false,
            archived: false,
            disabled: false,
            has_issues: true,
            has_projects: true,
            has_downloads: true,
            has_wiki: true,
            has_pages: false,
            size: 0,
            forks_count: 0,
            open_issues_count: 0,
            default_branch: "main".to_string(),
            created_at: DEFAULT_DATE.to_string(),
            updated_at: DEFAULT_DATE.to_string(),
            pushed_at: DEFAULT_DATE.to_string(),
        }
    }
}

impl Graph {
    /// Adds a user (type `User`) and returns its id: 1, 2, 3...
    pub fn add_user(&mut self, login: &str) -> i64 {
        assert!(self.user_id(login).is_none(), "login {login} is taken");
        let id = self.users.keys().next_back().map_or(1, |last| last + 1);
        self.users.insert(id, FakeUser::new(id, login));
        id
    }

    /// Adds an organization (type `Organization`) and returns its id.
    pub fn add_org(&mut self, login: &str) -> i64 {
        let id = self.add_user(login);
        self.user_mut(id).kind = "Organization".to_string();
        id
    }

    /// Removes a user with their follows, stars and repositories: they answer 404 from now on.
    pub fn remove_user(&mut self, id: i64) {
        let owned: Vec<i64> = self.owned_repos(id);
        for repo in owned {
            self.remove_repo(repo);
        }
        self.follows.retain(|&(a, b)| a != id && b != id);
        self.stars.retain(|&(user, _)| user != id);
        self.users.remove(&id);
    }

    pub fn follow(&mut self, follower: i64, followee: i64) {
        assert!(follower != followee, "user {follower} cannot follow itself");
        self.user(follower);
        self.user(followee);
        self.follows.insert((follower, followee));
    }

    pub fn unfollow(&mut self, follower: i64, followee: i64) {
        self.follows.remove(&(follower, followee));
    }

    /// Adds a repository owned by `owner` and returns its id (ids start at 1 000 001).
    pub fn add_repo(&mut self, owner: i64, name: &str) -> i64 {
        let login = self.user(owner).login.clone();
        assert!(
            self.repo_id(&login, name).is_none(),
            "{login}/{name} exists"
        );
        let id = self
            .repos
            .keys()
            .next_back()
            .map_or(FIRST_REPO_ID, |last| last + 1);
        self.repos.insert(id, FakeRepo::new(id, owner, name));
        id
    }

    /// Removes a repository and its stars: it answers 404 from now on.
    pub fn remove_repo(&mut self, id: i64) {
        self.stars.retain(|&(_, repo)| repo != id);
        self.repo_redirects.retain(|_, &mut repo| repo != id);
        self.repos.remove(&id);
    }

    pub fn star(&mut self, user: i64, repo: i64) {
        self.user(user);
        self.repo(repo);
        self.stars.insert((user, repo));
    }

    pub fn unstar(&mut self, user: i64, repo: i64) {
        self.stars.remove(&(user, repo));
    }

    /// Renames a user; their repositories' former `login/name` answer 301 (GitHub does not
    /// redirect the user itself).
    pub fn rename_user(&mut self, id: i64, new_login: &str) {
        assert!(
            self.user_id(new_login).is_none(),
            "login {new_login} is taken"
        );
        for repo in self.owned_repos(id) {
            self.remember_repo_location(repo);
        }
        self.user_mut(id).login = new_login.to_string();
    }

    /// Renames a repository; its former `owner/name` answers 301.
    pub fn rename_repo(&mut self, id: i64, new_name: &str) {
        self.remember_repo_location(id);
        self.repo_mut(id).name = new_name.to_string();
    }

    /// Transfers a repository to another owner; its former `owner/name` answers 301.
    pub fn transfer_repo(&mut self, id: i64, new_owner: i64) {
        self.user(new_owner);
        self.remember_repo_location(id);
        self.repo_mut(id).owner_id = new_owner;
    }

    /// The id of a login, compared case-insensitively like GitHub.
    pub fn user_id(&self, login: &str) -> Option<i64> {
        self.users
            .values()
            .find(|user| user.login.eq_ignore_ascii_case(login))
            .map(|user| user.id)
    }

    /// The id of `owner/name` as it is now (not through a redirect), case-insensitively.
    pub fn repo_id(&self, owner_login: &str, name: &str) -> Option<i64> {
        let owner = self.user_id(owner_login)?;
        self.repos
            .values()
            .find(|repo| repo.owner_id == owner && repo.name.eq_ignore_ascii_case(name))
            .map(|repo| repo.id)
    }

    /// `owner/name` of a repository.
    pub fn full_name(&self, repo: i64) -> String {
        let repo = self.repo(repo);
        format!("{}/{}", self.user(repo.owner_id).login, repo.name)
    }

    /// Followers of a user, by id ascending.
    pub fn followers(&self, user: i64) -> Vec<i64> {
        self.follows
            .iter()
            .filter(|&&(_, followee)| followee == user)
            .map(|&(follower, _)| follower)
            .collect()
    }

    /// Users a user follows, by id ascending.
    pub fn following(&self, user: i64) -> Vec<i64> {
        self.follows
            .iter()
            .filter(|&&(follower, _)| follower == user)
            .map(|&(_, followee)| followee)
            .collect()
    }

    /// Repositories a user starred, by id ascending.
    pub fn starred(&self, user: i64) -> Vec<i64> {
        self.stars
            .iter()
            .filter(|&&(who, _)| who == user)
            .map(|&(_, repo)| repo)
            .collect()
    }

    /// Users who starred a repository, by id ascending.
    pub fn stargazers(&self, repo: i64) -> Vec<i64> {
        self.stars
            .iter()
            .filter(|&&(_, starred)| starred == repo)
            .map(|&(user, _)| user)
            .collect()
    }

    /// Repositories a user owns, by id ascending.
    pub fn owned_repos(&self, user: i64) -> Vec<i64> {
        self.repos
            .values()
            .filter(|repo| repo.owner_id == user)
            .map(|repo| repo.id)
            .collect()
    }

    /// Watchers of a repository: its owner (GitHub subscribes owners) and every stargazer who
    /// follows the owner.
    pub fn subscribers(&self, repo: i64) -> usize {
        let owner = self.repo(repo).owner_id;
        let following_stargazers = self
            .stargazers(repo)
            .into_iter()
            .filter(|&user| user != owner && self.follows.contains(&(user, owner)))
            .count();
        1 + following_stargazers
    }

    /// Every user reachable from `start` through follower/following edges (either direction).
    pub fn reachable_from(&self, start: i64) -> BTreeSet<i64> {
        let mut seen = BTreeSet::from([start]);
        let mut todo = vec![start];
        while let Some(user) = todo.pop() {
            for next in self.followers(user).into_iter().chain(self.following(user)) {
                if seen.insert(next) {
                    todo.push(next);
                }
            }
        }
        seen
    }

    /// The user with this id; panics when there is none (a test mistake).
    pub fn user(&self, id: i64) -> &FakeUser {
        self.users
            .get(&id)
            .unwrap_or_else(|| panic!("no user {id} in the fake graph"))
    }

    pub fn user_mut(&mut self, id: i64) -> &mut FakeUser {
        self.users
            .get_mut(&id)
            .unwrap_or_else(|| panic!("no user {id} in the fake graph"))
    }

    /// The repository with this id; panics when there is none (a test mistake).
    pub fn repo(&self, id: i64) -> &FakeRepo {
        self.repos
            .get(&id)
            .unwrap_or_else(|| panic!("no repository {id} in the fake graph"))
    }

    pub fn repo_mut(&mut self, id: i64) -> &mut FakeRepo {
        self.repos
            .get_mut(&id)
            .unwrap_or_else(|| panic!("no repository {id} in the fake graph"))
    }

    fn remember_repo_location(&mut self, repo: i64) {
        let old = self.full_name(repo).to_lowercase();
        self.repo_redirects.insert(old, repo);
    }

    fn redirected_repo(&self, owner_login: &str, name: &str) -> Option<i64> {
        let key = format!("{owner_login}/{name}").to_lowercase();
        self.repo_redirects.get(&key).copied()
    }
}

// ---------------------------------------------------------------------------
// A generated graph
// ---------------------------------------------------------------------------

const FIRST_NAMES: &[&str] = &[
    "Ada", "Linus", "Grace", "Ken", "Barbara", "Dennis", "Margaret", "Guido",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace", "Torvalds", "Hopper", "Thompson", "Liskov", "Ritchie", "Hamilton",
];
const COMPANIES: &[&str] = &["@github", "Acme Corp", "Initech", "Globex", "Hooli"];
const LOCATIONS: &[&str] = &[
    "Berlin",
    "San Francisco",
    "Tokyo",
    "Lagos",
    "São Paulo",
    "Paris",
];
const BIOS: &[&str] = &[
    "Rustacean.",
    "I like compilers.",
    "Open source maintainer.",
    "Coffee → code",
];
const LANGUAGES: &[&str] = &["Rust", "Python", "Go", "JavaScript", "C", "Haskell"];
const REPO_WORDS: &[&str] = &[
    "parser", "dotfiles", "crawler", "notes", "engine", "toolkit", "demo",
];
/// 2008-02-08T00:00:00Z, GitHub's launch.
const EPOCH_START: i64 = 1_202_428_800;
const YEAR_SECS: i64 = 365 * 24 * 3600;

impl Graph {
    /// A deterministic graph of `developers` users named `dev-1`, `dev-2`...: connected from
    /// user 1 through follows, user 1 followed by about three quarters of everyone (so its
    /// followers page), 0–3 repositories each (user 1 at least one, starred by about 40 % of
    /// users), random stars, some null names and bios.
    pub fn generate(developers: usize, seed: u64) -> Graph {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut graph = Graph::default();
        let users: Vec<i64> = (0..developers)
            .map(|_| graph.add_generated_user(&mut rng))
            .collect();
        graph.add_generated_follows(&users, &mut rng);
        let mut repos = Vec::new();
        for (index, &owner) in users.iter().enumerate() {
            let count = if index == 0 {
                rng.gen_range(1..=3)
            } else {
                rng.gen_range(0..=3)
            };
            for k in 0..count {
                repos.push(graph.add_generated_repo(owner, k, &mut rng));
            }
        }
        graph.add_generated_stars(&users, &repos, &mut rng);
        graph
    }

    fn add_generated_user(&mut self, rng: &mut StdRng) -> i64 {
        let next = self.users.len() + 1;
        let id = self.add_user(&format!("dev-{next}"));
        let login = self.user(id).login.clone();
        let created = EPOCH_START + rng.gen_range(0..12 * YEAR_SECS);
        let user = self.user_mut(id);
        user.name = rng
            .gen_bool(0.8)
            .then(|| format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)));
        user.company = rng.gen_bool(0.4).then(|| pick(rng, COMPANIES));
        user.blog = rng
            .gen_bool(0.3)
            .then(|| format!("https://{login}.example.com"));
        user.location = rng.gen_bool(0.6).then(|| pick(rng, LOCATIONS));
        user.email = rng.gen_bool(0.25).then(|| format!("{login}@example.com"));
        user.bio = rng.gen_bool(0.5).then(|| pick(rng, BIOS));
        user.hireable = rng.gen_bool(0.2).then_some(true);
        user.public_gists = rng.gen_range(0..50);
        user.created_at = rfc3339(created);
        user.updated_at = rfc3339(created + rng.gen_range(0..3 * YEAR_SECS));
        id
    }

    /// A random spanning tree (each user linked to an earlier one, either direction) makes the
    /// graph connected; then most users follow user 1 and a few other random users.
    fn add_generated_follows(&mut self, users: &[i64], rng: &mut StdRng) {
        let Some(&seed) = users.first() else { return };
        for (index, &user) in users.iter().enumerate().skip(1) {
            let earlier = users[rng.gen_range(0..index)];
            if rng.gen_bool(0.5) {
                self.follow(user, earlier);
            } else {
                self.follow(earlier, user);
            }
            if rng.gen_bool(0.75) {
                self.follow(user, seed);
            }
            for _ in 0..rng.gen_range(0..=2) {
                let other = users[rng.gen_range(0..users.len())];
                if other != user {
                    self.follow(user, other);
                }
            }
        }
    }

    fn add_generated_repo(&mut self, owner: i64, k: usize, rng: &mut StdRng) -> i64 {
        let name = format!("{}-{k}", pick(rng, REPO_WORDS));
        let id = self.add_repo(owner, &name);
        let full_name = self.full_name(id);
        let created = EPOCH_START + rng.gen_range(0..12 * YEAR_SECS);
        let repo = self.repo_mut(id);
        repo.description = rng.gen_bool(0.7).then(|| format!("The {name} project"));
        repo.homepage = rng
            .gen_bool(0.2)
            .then(|| format!("https://example.com/{full_name}"));
        repo.language = rng.gen_bool(0.85).then(|| pick(rng, LANGUAGES));
        repo.fork = rng.gen_bool(0.1);
        repo.archived = rng.gen_bool(0.05);
        repo.has_pages = rng.gen_bool(0.1);
        repo.size = rng.gen_range(0..50_000);
        repo.forks_count = rng.gen_range(0..20);
        repo.open_issues_count = rng.gen_range(0..15);
        repo.created_at = rfc3339(created);
        repo.updated_at = rfc3339(created + rng.gen_range(0..YEAR_SECS));
        repo.pushed_at = repo.updated_at.clone();
        id
    }

    /// Each user stars up to four random repositories, and about 40 % star user 1's first one.
    fn add_generated_stars(&mut self, users: &[i64], repos: &[i64], rng: &mut StdRng) {
        let (Some(&seed), Some(&popular)) = (users.first(), repos.first()) else {
            return;
        };
        for &user in users {
            for _ in 0..rng.gen_range(0..=4) {
                self.star(user, repos[rng.gen_range(0..repos.len())]);
            }
            if user != seed && rng.gen_bool(0.4) {
                self.star(user, popular);
            }
        }
    }
}

fn pick(rng: &mut StdRng, words: &[&str]) -> String {
    words.choose(rng).copied().unwrap_or_default().to_string()
}

/// Epoch seconds as GitHub writes dates: `2011-01-25T18:44:36Z`.
fn rfc3339(epoch: i64) -> String {
    DateTime::<Utc>::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

// ---------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------

/// Renders graph entities as GitHub's JSON objects, with URLs under the fake's base.
struct Render<'a> {
    base: &'a str,
    graph: &'a Graph,
}

impl Render<'_> {
    /// The "simple user" of lists and `owner` fields: no name, bio or counts.
    fn simple_user(&self, id: i64) -> Value {
        let user = self.graph.user(id);
        let (base, login) = (self.base, &user.login);
        json!({
            "login": login,
            "id": id,
            "node_id": node_id(&user.kind, id),
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
            "gravatar_id": "",
            "url": format!("{base}/users/{login}"),
            "html_url": format!("https://github.com/{login}"),
            "followers_url": format!("{base}/users/{login}/followers"),
            "following_url": format!("{base}/users/{login}/following{{/other_user}}"),
            "gists_url": format!("{base}/users/{login}/gists{{/gist_id}}"),
            "starred_url": format!("{base}/users/{login}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{base}/users/{login}/subscriptions"),
            "organizations_url": format!("{base}/users/{login}/orgs"),
            "repos_url": format!("{base}/users/{login}/repos"),
            "events_url": format!("{base}/users/{login}/events{{/privacy}}"),
            "received_events_url": format!("{base}/users/{login}/received_events"),
            "type": user.kind,
            "user_view_type": "public",
            "site_admin": false,
        })
    }

    /// `GET /users/{login}`: the simple user plus profile fields and counts.
    fn full_user(&self, id: i64) -> Value {
        let user = self.graph.user(id);
        let mut value = self.simple_user(id);
        extend(
            &mut value,
            json!({
                "name": user.name,
                "company": user.company,
                "blog": user.blog.clone().unwrap_or_default(),
                "location": user.location,
                "email": user.email,
                "hireable": user.hireable,
                "bio": user.bio,
                "twitter_username": user.twitter_username,
                "public_repos": self.graph.owned_repos(id).len(),
                "public_gists": user.public_gists,
                "followers": self.graph.followers(id).len(),
                "following": self.graph.following(id).len(),
                "created_at": user.created_at,
                "updated_at": user.updated_at,
            }),
        );
        value
    }

    /// A repository as listed by `/users/{login}/repos` and `/starred`.
    fn repo(&self, id: i64) -> Value {
        let repo = self.graph.repo(id);
        let full_name = self.graph.full_name(id);
        let (base, html) = (self.base, format!("https://github.com/{full_name}"));
        let api = format!("{base}/repos/{full_name}");
        let stars = self.graph.stargazers(id).len();
        let mut value = json!({
            "id": id,
            "node_id": node_id("Repository", id),
            "name": repo.name,
            "full_name": full_name,
            "private": false,
            "owner": self.simple_user(repo.owner_id),
            "html_url": html,
            "description": repo.description,
            "fork": repo.fork,
            "url": api,
            "forks_url": format!("{api}/forks"),
            "stargazers_url": format!("{api}/stargazers"),
            "subscribers_url": format!("{api}/subscribers"),
            "contributors_url": format!("{api}/contributors"),
            "languages_url": format!("{api}/languages"),
            "created_at": repo.created_at,
            "updated_at": repo.updated_at,
            "pushed_at": repo.pushed_at,
            "git_url": format!("git://github.com/{full_name}.git"),
            "ssh_url": format!("git@github.com:{full_name}.git"),
            "clone_url": format!("{html}.git"),
            "svn_url": html,
        });
        // Two `json!` calls: one would exceed the default macro recursion limit.
        extend(
            &mut value,
            json!({
                "homepage": repo.homepage,
                "size": repo.size,
                "stargazers_count": stars,
                "watchers_count": stars,
                "language": repo.language,
                "has_issues": repo.has_issues,
                "has_projects": repo.has_projects,
                "has_downloads": repo.has_downloads,
                "has_wiki": repo.has_wiki,
                "has_pages": repo.has_pages,
                "has_discussions": false,
                "forks_count": repo.forks_count,
                "mirror_url": null,
                "archived": repo.archived,
                "disabled": repo.disabled,
                "open_issues_count": repo.open_issues_count,
                "license": null,
                "allow_forking": true,
                "is_template": false,
                "web_commit_signoff_required": false,
                "topics": [],
                "visibility": "public",
                "forks": repo.forks_count,
                "open_issues": repo.open_issues_count,
                "watchers": stars,
                "default_branch": repo.default_branch,
            }),
        );
        value
    }

    /// `GET /repos/{owner}/{repo}`: the listed repository plus watcher and network counts.
    fn full_repo(&self, id: i64) -> Value {
        let mut value = self.repo(id);
        extend(
            &mut value,
            json!({
                "temp_clone_token": null,
                "network_count": self.graph.repo(id).forks_count,
                "subscribers_count": self.graph.subscribers(id),
            }),
        );
        value
    }
}

fn extend(value: &mut Value, more: Value) {
    if let (Value::Object(target), Value::Object(source)) = (value, more) {
        target.extend(source);
    }
}

/// GitHub's legacy global node id: base64 of `0{len}:{Kind}{id}` (`MDQ6VXNlcjE=` for user 1).
fn node_id(kind: &str, id: i64) -> String {
    base64(format!("0{}:{kind}{id}", kind.len()).as_bytes())
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let bits = chunk.iter().enumerate().fold(0u32, |acc, (i, &byte)| {
            acc | (u32::from(byte) << (16 - 8 * i))
        });
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(bits >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Quota, requests, replies
// ---------------------------------------------------------------------------

/// The core quota window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    pub used: u32,
    /// Epoch seconds at which the window renews.
    pub reset_epoch: i64,
}

impl Quota {
    fn fresh(limit: u32) -> Quota {
        Quota {
            limit,
            remaining: limit,
            used: 0,
            reset_epoch: now() + WINDOW_SECS,
        }
    }

    fn renew_if_expired(&mut self) {
        if now() >= self.reset_epoch {
            *self = Quota::fresh(self.limit);
        }
    }

    fn spend(&mut self) {
        self.remaining = self.remaining.saturating_sub(1);
        self.used += 1;
    }

    fn json(&self, resource: &str) -> Value {
        json!({
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "reset": self.reset_epoch,
            "resource": resource,
        })
    }
}

fn now() -> i64 {
    Utc::now().timestamp()
}

/// One request received by the fake, with what it answered.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, `""` when there is none.
    pub query: String,
    pub status: u16,
    pub if_none_match: Option<String>,
    pub authorization: Option<String>,
    pub costs_quota: bool,
}

/// A failure injected by `fail_next` or `secondary_limit_next`, consumed by one API request.
#[derive(Clone, Copy, Debug)]
enum Injected {
    Error(u16),
    SecondaryLimit { status: u16, retry_after_secs: u64 },
}

/// What the fake answers, before the quota headers are added.
struct Reply {
    status: u16,
    body: Option<String>,
    headers: Vec<(&'static str, String)>,
    costs_quota: bool,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            body: Some(value.to_string()),
            headers: Vec::new(),
            costs_quota: true,
        }
    }

    /// A 200 carrying `ETag: W/"<sha256 of the body>"`.
    fn ok(value: &Value) -> Reply {
        Reply::raw_ok(value.to_string())
    }

    /// A 200 with this exact body (which need not be JSON) and its ETag.
    fn raw_ok(body: String) -> Reply {
        let mut reply = Reply {
            status: 200,
            body: Some(body),
            headers: Vec::new(),
            costs_quota: true,
        };
        let body = reply.body.as_deref().unwrap_or_default();
        let etag = format!("W/\"{}\"", hex::encode(Sha256::digest(body)));
        reply.headers.push(("etag", etag));
        reply
    }

    fn error(status: u16, message: &str, docs: &str) -> Reply {
        Reply::json(
            status,
            &json!({"message": message, "documentation_url": docs}),
        )
    }

    fn not_found() -> Reply {
        Reply::error(404, "Not Found", NOT_FOUND_DOCS)
    }

    fn moved(location: String) -> Reply {
        let body = json!({
            "message": "Moved Permanently",
            "url": location,
            "documentation_url": REDIRECT_DOCS,
        });
        let mut reply = Reply::json(301, &body);
        reply.headers.push(("location", location));
        reply
    }

    fn rate_limited(ip: &str) -> Reply {
        let message = format!(
            "API rate limit exceeded for {ip}. (But here's the good news: Authenticated requests \
             get a higher rate limit. Check out the documentation for more details.)"
        );
        let mut reply = Reply::error(403, &message, RATE_LIMIT_DOCS);
        reply.costs_quota = false;
        reply
    }

    fn injected(injected: Injected) -> Reply {
        let mut reply = match injected {
            Injected::Error(status) => {
                let reason = StatusCode::from_u16(status)
                    .ok()
                    .and_then(|code| code.canonical_reason())
                    .unwrap_or("Server Error");
                Reply::error(status, reason, NOT_FOUND_DOCS)
            }
            Injected::SecondaryLimit {
                status,
                retry_after_secs,
            } => {
                let mut reply = Reply::error(status, SECONDARY_LIMIT_MESSAGE, SECONDARY_LIMIT_DOCS);
                reply
                    .headers
                    .push(("retry-after", retry_after_secs.to_string()));
                reply
            }
        };
        reply.costs_quota = false;
        reply
    }

    fn etag(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| *name == "etag")
            .map(|(_, value)| value.as_str())
    }

    /// A 200 whose ETag the client already has becomes a free 304: no body, no Link.
    fn conditional(mut self, if_none_match: Option<&str>) -> Reply {
        let (Some(etag), Some(wanted)) = (self.etag(), if_none_match) else {
            return self;
        };
        if self.status == 200 && etag_matches(etag, wanted) {
            self.status = 304;
            self.body = None;
            self.headers.retain(|(name, _)| *name == "etag");
            self.costs_quota = false;
        }
        self
    }

    fn into_response(self, quota: &Quota, request_number: usize) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = HttpResponse::build(status);
        response
            .insert_header(("x-ratelimit-limit", quota.limit.to_string()))
            .insert_header(("x-ratelimit-remaining", quota.remaining.to_string()))
            .insert_header(("x-ratelimit-used", quota.used.to_string()))
            .insert_header(("x-ratelimit-reset", quota.reset_epoch.to_string()))
            .insert_header(("x-ratelimit-resource", "core"))
            .insert_header(("x-github-media-type", "github.v3; format=json"))
            .insert_header(("x-github-request-id", format!("FAKE:{request_number:08X}")));
        for (name, value) in self.headers {
            response.insert_header((name, value));
        }
        match self.body {
            Some(body) => response
                .content_type("application/json; charset=utf-8")
                .body(body),
            None => response.finish(),
        }
    }
}

/// Weak comparison of `If-None-Match` (a list, or `*`) with the current ETag.
fn etag_matches(etag: &str, if_none_match: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    if_none_match
        .split(',')
        .any(|candidate| candidate.trim() == "*" || opaque(candidate) == opaque(etag))
}

/// The parts of an HTTP request the fake looks at.
struct Incoming {
    method: String,
    path: String,
    query: String,
    if_none_match: Option<String>,
    authorization: Option<String>,
    ip: String,
}

impl Incoming {
    fn from_request(req: &HttpRequest) -> Incoming {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        Incoming {
            method: req.method().to_string(),
            path: req.path().to_string(),
            query: req.query_string().to_string(),
            if_none_match: header("if-none-match"),
            authorization: header("authorization"),
            ip: req
                .peer_addr()
                .map_or_else(|| "127.0.0.1".to_string(), |addr| addr.ip().to_string()),
        }
    }

    fn is_rate_limit(&self) -> bool {
        self.method == "GET" && self.path.trim_end_matches('/') == "/rate_limit"
    }

    /// `per_page` (default 30, at most 100) and 1-based `page` (default 1).
    fn paging(&self) -> (usize, usize) {
        let param = |key: &str| {
            url::form_urlencoded::parse(self.query.as_bytes())
                .find(|(name, _)| name == key)
                .and_then(|(_, value)| value.parse::<usize>().ok())
                .filter(|&n| n > 0)
        };
        let per_page = param("per_page")
            .unwrap_or(DEFAULT_PER_PAGE)
            .min(MAX_PER_PAGE);
        (per_page, param("page").unwrap_or(1))
    }

    /// The request's URL with `page` replaced, other parameters kept in order.
    fn page_url(&self, base: &str, page: usize) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in url::form_urlencoded::parse(self.query.as_bytes()) {
            if name != "page" {
                query.append_pair(&name, &value);
            }
        }
        query.append_pair("page", &page.to_string());
        format!("{base}{}?{}", self.path, query.finish())
    }
}

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

/// Everything the server shares with the test's `FakeGithub` handle.
struct State {
    base: String,
    graph: Graph,
    quota: Quota,
    log: Vec<LoggedRequest>,
    injected: VecDeque<Injected>,
    latency: Duration,
    /// Bodies served instead of the graph's, by path (hostile or malformed payloads).
    overrides: BTreeMap<String, String>,
}

impl State {
    /// Answers one request: injected failures, quota, routing, ETags, then bookkeeping.
    fn answer(&mut self, req: &Incoming) -> HttpResponse {
        self.quota.renew_if_expired();
        let reply = if req.is_rate_limit() {
            let mut reply = self.rate_limit();
            reply.costs_quota = false;
            reply
        } else if let Some(injected) = self.injected.pop_front() {
            Reply::injected(injected)
        } else if self.quota.remaining == 0 {
            Reply::rate_limited(&req.ip)
        } else if let Some(body) = self.overrides.get(&req.path) {
            Reply::raw_ok(body.clone())
        } else {
            self.route(req)
        };
        let reply = reply.conditional(req.if_none_match.as_deref());
        if reply.costs_quota {
            self.quota.spend();
        }
        self.log.push(LoggedRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            status: reply.status,
            if_none_match: req.if_none_match.clone(),
            authorization: req.authorization.clone(),
            costs_quota: reply.costs_quota,
        });
        reply.into_response(&self.quota, self.log.len())
    }

    fn rate_limit(&self) -> Reply {
        let core = self.quota.json("core");
        let search = Quota {
            limit: 30,
            remaining: 30,
            used: 0,
            reset_epoch: self.quota.reset_epoch,
        };
        Reply::ok(&json!({
            "resources": {
                "core": core,
                "search": search.json("search"),
                "graphql": Quota { limit: 5000, remaining: 5000, ..search }.json("graphql"),
            },
            "rate": core,
        }))
    }

    fn route(&self, req: &Incoming) -> Reply {
        if req.method != "GET" {
            return Reply::not_found();
        }
        let path = req.path.trim_matches('/');
        let segments: Vec<&str> = path.split('/').collect();
        match segments.as_slice() {
            ["users", login] => self.user(self.graph.user_id(login)),
            ["user", id] => self.user(self.user_by_id(id)),
            ["users", login, list] => self.user_list(req, self.graph.user_id(login), list),
            ["user", id, list] => self.user_list(req, self.user_by_id(id), list),
            ["repos", owner, name, rest @ ..] => self.repo_by_name(req, owner, name, rest),
            ["repositories", id, rest @ ..] => {
                let repo = id
                    .parse()
                    .ok()
                    .filter(|id| self.graph.repos.contains_key(id));
                self.repo(req, repo, rest)
            }
            _ => Reply::not_found(),
        }
    }

    fn render(&self) -> Render<'_> {
        Render {
            base: &self.base,
            graph: &self.graph,
        }
    }

    fn user_by_id(&self, id: &str) -> Option<i64> {
        id.parse()
            .ok()
            .filter(|id| self.graph.users.contains_key(id))
    }

    fn user(&self, user: Option<i64>) -> Reply {
        user.map_or_else(Reply::not_found, |id| {
            Reply::ok(&self.render().full_user(id))
        })
    }

    fn user_list(&self, req: &Incoming, user: Option<i64>, list: &str) -> Reply {
        let Some(user) = user else {
            return Reply::not_found();
        };
        let render = self.render();
        let graph = &self.graph;
        match list {
            "followers" => self.page(req, graph.followers(user), |id| render.simple_user(id)),
            "following" => self.page(req, graph.following(user), |id| render.simple_user(id)),
            "starred" => self.page(req, graph.starred(user), |id| render.repo(id)),
            "repos" => self.page(req, graph.owned_repos(user), |id| render.repo(id)),
            _ => Reply::not_found(),
        }
    }

    /// `/repos/{owner}/{name}...`: the repository, or a 301 to `/repositories/{id}...` when it
    /// moved.
    fn repo_by_name(&self, req: &Incoming, owner: &str, name: &str, rest: &[&str]) -> Reply {
        if let Some(id) = self.graph.repo_id(owner, name) {
            return self.repo(req, Some(id), rest);
        }
        let Some(id) = self.graph.redirected_repo(owner, name) else {
            return Reply::not_found();
        };
        let suffix: String = rest.iter().map(|segment| format!("/{segment}")).collect();
        let query = if req.query.is_empty() {
            String::new()
        } else {
            format!("?{}", req.query)
        };
        Reply::moved(format!("{}/repositories/{id}{suffix}{query}", self.base))
    }

    fn repo(&self, req: &Incoming, repo: Option<i64>, rest: &[&str]) -> Reply {
        let Some(repo) = repo else {
            return Reply::not_found();
        };
        let render = self.render();
        match rest {
            [] => Reply::ok(&render.full_repo(repo)),
            ["stargazers"] => self.page(req, self.graph.stargazers(repo), |id| {
                render.simple_user(id)
            }),
            _ => Reply::not_found(),
        }
    }

    /// One page of a list (by id ascending) with GitHub's `Link` header when there are several
    /// pages.
    fn page(&self, req: &Incoming, ids: Vec<i64>, render: impl Fn(i64) -> Value) -> Reply {
        let (per_page, page) = req.paging();
        let last = ids.len().div_ceil(per_page).max(1);
        let items: Vec<Value> = ids
            .into_iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .map(render)
            .collect();
        let mut reply = Reply::ok(&Value::Array(items));
        if let Some(link) = link_header(req, &self.base, page, last) {
            reply.headers.push(("link", link));
        }
        reply
    }
}

/// `<url?page=2>; rel="next", <url?page=5>; rel="last"` (plus `prev` and `first` after page 1).
fn link_header(req: &Incoming, base: &str, page: usize, last: usize) -> Option<String> {
    let mut links = Vec::new();
    if page > 1 {
        links.push((page - 1, "prev"));
    }
    if page < last {
        links.push((page + 1, "next"));
        links.push((last, "last"));
    }
    if page > 1 {
        links.push((1, "first"));
    }
    let links: Vec<String> = links
        .into_iter()
        .map(|(target, rel)| format!("<{}>; rel=\"{rel}\"", req.page_url(base, target)))
        .collect();
    (!links.is_empty()).then(|| links.join(", "))
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

type Shared = Mutex<State>;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The one handler: every method and path goes through `State::answer`, then the configured
/// latency.
async fn serve_request(req: HttpRequest, state: web::Data<Shared>) -> HttpResponse {
    let incoming = Incoming::from_request(&req);
    let (response, latency) = {
        let mut state = lock(&state);
        (state.answer(&incoming), state.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

/// A running fake GitHub on `127.0.0.1` and a random port; stopped when dropped.
pub struct FakeGithub {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    state: Arc<Shared>,
    server: ServerHandle,
}

impl FakeGithub {
    /// Starts serving `graph` with a fresh quota of 5000 requests (needs a running tokio runtime).
    pub async fn start(graph: Graph) -> FakeGithub {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind a random port for the fake GitHub");
        let port = listener
            .local_addr()
            .expect("fake GitHub local address")
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State {
            base: url.clone(),
            graph,
            quota: Quota::fresh(5000),
            log: Vec::new(),
            injected: VecDeque::new(),
            latency: Duration::ZERO,
            overrides: BTreeMap::new(),
        }));
        let data = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(serve_request))
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("fake GitHub listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeGithub {
            url,
            state,
            server: handle,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Changes the graph between requests (unfollow, unstar, rename...).
    pub fn with_graph<R>(&self, f: impl FnOnce(&mut Graph) -> R) -> R {
        f(&mut self.state().graph)
    }

    /// A copy of the current graph.
    pub fn graph(&self) -> Graph {
        self.state().graph.clone()
    }

    /// Every request received so far, in order, with the status answered.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state().log.clone()
    }

    pub fn clear_requests(&self) {
        self.state().log.clear();
    }

    /// How many logged requests cost quota.
    pub fn quota_spent(&self) -> usize {
        self.state()
            .log
            .iter()
            .filter(|request| request.costs_quota)
            .count()
    }

    /// Sets the core window; `used` becomes `limit - remaining`.
    pub fn set_quota(&self, limit: u32, remaining: u32, reset_epoch: i64) {
        self.state().quota = Quota {
            limit,
            remaining,
            used: limit.saturating_sub(remaining),
            reset_epoch,
        };
    }

    /// The core window as the next request sees it (renewed if its reset time has passed).
    pub fn quota(&self) -> Quota {
        let mut state = self.state();
        state.quota.renew_if_expired();
        state.quota
    }

    /// The next `n` API requests (not `/rate_limit`) answer `status` with a JSON error, costing
    /// no quota.
    pub fn fail_next(&self, n: usize, status: u16) {
        let injected = std::iter::repeat_n(Injected::Error(status), n);
        self.state().injected.extend(injected);
    }

    /// The next `n` API requests answer `status` (403 or 429) with `Retry-After` and GitHub's
    /// secondary-rate-limit message; the quota is left as it is.
    pub fn secondary_limit_next(&self, n: usize, retry_after_secs: u64, status: u16) {
        let injected = Injected::SecondaryLimit {
            status,
            retry_after_secs,
        };
        self.state()
            .injected
            .extend(std::iter::repeat_n(injected, n));
    }

    /// Serves `body` (any text, valid JSON or not) with 200 for GETs of `path` from now on.
    pub fn override_body(&self, path: &str, body: impl Into<String>) {
        self.state().overrides.insert(path.to_owned(), body.into());
    }

    /// Waits this long after computing each answer and before sending it.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        // The stop command is sent at once; nobody needs to wait for its completion.
        drop(self.server.stop(false));
    }
}
