//! An in-process fake of GitHub's REST v3 API over real HTTP: payload shapes, ETags and 304s,
//! Link paging, rate-limit headers, quota per token (`core` and `graphql`), redirects and
//! injected failures; plus `POST /graphql` for what gitomatic asks (see `fake_graphql.rs`).

#![allow(dead_code)]

use std::cmp::Reverse;
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

#[path = "github_graphql.rs"]
pub mod github_graphql;
#[path = "fake_graphql.rs"]
pub mod graphql;

const NOT_FOUND_DOCS: &str = "https://docs.github.com/rest";
const RATE_LIMIT_DOCS: &str =
    "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting";
const SECONDARY_LIMIT_DOCS: &str = "https://docs.github.com/rest/overview/\
     rate-limits-for-the-rest-api#about-secondary-rate-limits";
const SECONDARY_LIMIT_MESSAGE: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
const ISSUE_DOCS: &str = "https://docs.github.com/rest/issues/issues#get-an-issue";
const TIMELINE_DOCS: &str =
    "https://docs.github.com/rest/issues/timeline#list-timeline-events-for-an-issue";
const COMMENTS_DOCS: &str = "https://docs.github.com/rest/issues/comments#list-issue-comments";
const COMMITS_DOCS: &str = "https://docs.github.com/rest/commits/commits#list-commits";
const REDIRECT_DOCS: &str =
    "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects";
const DEFAULT_DATE: &str = "2011-01-25T18:44:36Z";
/// GitHub's message for a repository it blocks (DMCA takedown or terms of service).
const BLOCKED_MESSAGE: &str = "Repository access blocked";
const DMCA_NOTICE: &str =
    "https://github.com/github/dmca/blob/master/2011/01/2011-01-25-example.md";
/// Repository ids start here so that a user id mistaken for a repository id finds nothing.
const FIRST_REPO_ID: i64 = 1_000_001;
/// Length of a quota window, as on GitHub (`FakeGithub::set_window` changes it).
const WINDOW_SECS: i64 = 3600;
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;
/// The id of GitHub's `ghost` user, who stands for deleted accounts.
const GHOST_ID: i64 = 10_137;

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
    /// Issues, pull requests, timelines, commits, releases, organization members.
    pub activity: Activity,
    /// Public events, in the order they happened (ids ascending): what `/events` and
    /// `/repos/{o}/{r}/events` serve, newest first.
    pub events: Vec<FakeEvent>,
    /// Repositories GitHub blocks access to: every URL of theirs answers the block.
    pub blocks: BTreeMap<i64, RepoBlock>,
}

/// Why GitHub blocks access to a repository, which decides how it answers: a DMCA takedown
/// with 451, a terms-of-service block with 403; both say `Repository access blocked`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoBlock {
    Dmca,
    Tos,
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
        self.activity
            .members
            .retain(|&(org, member)| org != id && member != id);
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
        self.remove_repo_activity(id);
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
// Activity: issues, pull requests, timelines, commits, releases, members
// ---------------------------------------------------------------------------

/// Issue ids start here, pull-request ids (the `/pulls/{n}` object) at the next million, and so
/// on: each kind of id has its own range, so no id of one kind is mistaken for another.
const FIRST_ISSUE_ID: i64 = 2_000_001;
const FIRST_PULL_ID: i64 = 3_000_001;
/// One counter for every timeline item (comments, events, reviews): unique across the fake.
const FIRST_ITEM_ID: i64 = 4_000_001;
const FIRST_RELEASE_ID: i64 = 5_000_001;
const FIRST_LABEL_ID: i64 = 6_000_001;
/// The clock moves this much per mutation.
const CLOCK_STEP_SECS: i64 = 60;
/// The clock starts this long before the real time.
const CLOCK_START_AGO_SECS: i64 = 60 * DAY_SECS;
const DAY_SECS: i64 = 24 * 3600;
/// GitHub's default labels: (name, color, description).
const DEFAULT_LABELS: &[(&str, &str, &str)] = &[
    ("bug", "d73a4a", "Something isn't working"),
    (
        "documentation",
        "0075ca",
        "Improvements or additions to documentation",
    ),
    (
        "duplicate",
        "cfd3d7",
        "This issue or pull request already exists",
    ),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
];

/// Issues, pull requests and their timelines, commits, releases, labels and organization
/// members, with the clock that stamps them. Held by `Graph::activity`; changed through `Graph`'s
/// methods.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Issues and pull requests by GitHub id.
    pub issues: BTreeMap<i64, FakeIssue>,
    /// (repository, number) of a transferred issue → the id of the issue it became: its URLs
    /// answer 301.
    pub issue_redirects: BTreeMap<(i64, i64), i64>,
    /// Labels defined in each repository, by (repository, name).
    pub labels: BTreeMap<(i64, String), FakeLabel>,
    /// Commits on the default branch of every repository, in the order they were added.
    pub commits: Vec<FakeCommit>,
    /// Releases by id.
    pub releases: BTreeMap<i64, FakeRelease>,
    /// (organization, member)
    pub members: BTreeSet<(i64, i64)>,
    /// Epoch seconds of the last mutation; `None` until the first one (or `set_clock`), then the
    /// clock starts at the real time minus 60 days.
    pub clock: Option<i64>,
    /// Repositories whose contributor statistics GitHub has computed (answered with 200).
    pub stats_cached: BTreeSet<i64>,
    /// Repositories whose next `stats/contributors` request answers 202.
    pub stats_pending: BTreeSet<i64>,
    /// The last issue number given in each repository (numbers are never reused).
    pub numbers: BTreeMap<i64, i64>,
    /// (repository, number) of deleted issues: their URLs answer 410 Gone.
    pub deleted_issues: BTreeSet<(i64, i64)>,
    /// The last id given, by kind (`issue`, `pull`, `item`, `release`, `label`, `sha`).
    pub counters: BTreeMap<String, i64>,
}

/// An issue, or a pull request when `pull` is set (GitHub's issues list shows both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeIssue {
    pub id: i64,
    pub repo: i64,
    /// Per repository, shared by issues and pull requests, from 1.
    pub number: i64,
    pub title: String,
    pub body: Option<String>,
    /// User id.
    pub author: i64,
    /// `"open"` or `"closed"`.
    pub state: String,
    /// `"completed"`, `"not_planned"`, `"reopened"` or `None` (always `None` for pull requests).
    pub state_reason: Option<String>,
    /// Label names, in the order they were added.
    pub labels: Vec<String>,
    /// User ids.
    pub assignees: Vec<i64>,
    pub locked: bool,
    /// Epoch seconds, like every time below.
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub closed_by: Option<i64>,
    pub pull: Option<FakePull>,
    /// Oldest first.
    pub timeline: Vec<FakeTimelineItem>,
}

/// The pull-request part of an issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakePull {
    /// The id of `/pulls/{n}`'s object (not the issue id).
    pub id: i64,
    pub draft: bool,
    pub merged_at: Option<i64>,
    pub merged_by: Option<i64>,
    pub merge_commit_sha: Option<String>,
    /// Leaves `pull_request.merged_at` out of issue-list payloads ("merged state unknown").
    pub omit_merged_at: bool,
    /// The head branch.
    pub head_ref: String,
}

impl FakePull {
    /// A pull request just opened from branch `patch-{number}`.
    fn opened(id: i64, number: i64) -> FakePull {
        FakePull {
            id,
            draft: false,
            merged_at: None,
            merged_by: None,
            merge_commit_sha: None,
            omit_merged_at: false,
            head_ref: format!("patch-{number}"),
        }
    }
}

/// One item of an issue's timeline. `event` is GitHub's name: `commented`, `labeled`,
/// `unlabeled`, `closed`, `reopened`, `merged`, `committed`, `reviewed` or `cross-referenced`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeTimelineItem {
    /// `None` for `committed` and `cross-referenced`, which GitHub gives no id.
    pub id: Option<i64>,
    pub event: String,
    /// The actor; the comment's or review's user; the commit's linked author (`None`: no
    /// account).
    pub actor: Option<i64>,
    /// Creation time; a review's `submitted_at`; a commit's author and committer date.
    pub created_at: i64,
    /// Differs from `created_at` for an edited comment.
    pub updated_at: i64,
    /// A comment's or review's body, a commit's message.
    pub body: Option<String>,
    /// `labeled`/`unlabeled`: the label name.
    pub label: Option<String>,
    /// `reviewed`: `approved`, `commented` or `changes_requested`; `closed`/`reopened`: the
    /// state reason.
    pub state: Option<String>,
    /// `committed`: the sha; `merged`, `reviewed`, `closed` by a merge: the commit id.
    pub sha: Option<String>,
    /// `cross-referenced`: the id of the issue that mentions this one.
    pub source: Option<i64>,
}

impl FakeTimelineItem {
    fn new(id: Option<i64>, event: &str, actor: Option<i64>, at: i64) -> FakeTimelineItem {
        FakeTimelineItem {
            id,
            event: event.to_string(),
            actor,
            created_at: at,
            updated_at: at,
            body: None,
            label: None,
            state: None,
            sha: None,
            source: None,
        }
    }
}

impl FakeIssue {
    pub fn is_pull(&self) -> bool {
        self.pull.is_some()
    }

    pub fn is_open(&self) -> bool {
        self.state == "open"
    }

    pub fn is_merged(&self) -> bool {
        self.pull
            .as_ref()
            .is_some_and(|pull| pull.merged_at.is_some())
    }

    /// The `comments` count: `commented` timeline items.
    pub fn comments(&self) -> usize {
        self.items("commented").count()
    }

    /// The timeline items of one kind, oldest first.
    pub fn items<'a>(&'a self, event: &'a str) -> impl Iterator<Item = &'a FakeTimelineItem> {
        self.timeline.iter().filter(move |item| item.event == event)
    }
}

/// A label defined in a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeLabel {
    pub id: i64,
    pub repo: i64,
    pub name: String,
    /// Six hex digits, no `#`.
    pub color: String,
    pub default: bool,
    pub description: Option<String>,
}

/// A commit on a repository's default branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeCommit {
    /// 40 hex digits.
    pub sha: String,
    pub repo: i64,
    /// The linked GitHub account, `None` when the email matches none.
    pub author: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    pub authored_at: i64,
    pub committed_at: i64,
    pub message: String,
    pub additions: i64,
    pub deletions: i64,
    pub parents: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeRelease {
    pub id: i64,
    pub repo: i64,
    pub tag_name: String,
    pub name: Option<String>,
    pub body: Option<String>,
    /// User id.
    pub author: i64,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub prerelease: bool,
    pub draft: bool,
}

impl Graph {
    // --- clock and ids ---

    /// Sets the activity clock (epoch seconds); the next mutation is stamped one minute later.
    pub fn set_clock(&mut self, epoch_secs: i64) {
        self.activity.clock = Some(epoch_secs);
    }

    /// The activity clock: the time of the last mutation, or where it will start (the real time
    /// minus 60 days) when nothing happened yet.
    pub fn clock(&self) -> i64 {
        self.activity
            .clock
            .unwrap_or_else(|| now() - CLOCK_START_AGO_SECS)
    }

    /// Advances the clock by a minute and returns the new time.
    fn tick(&mut self) -> i64 {
        let at = self.clock() + CLOCK_STEP_SECS;
        self.activity.clock = Some(at);
        at
    }

    fn next_id(&mut self, kind: &str, first: i64) -> i64 {
        let last = self
            .activity
            .counters
            .entry(kind.to_string())
            .or_insert(first - 1);
        *last += 1;
        *last
    }

    /// A new deterministic 40-hex-digit sha.
    fn new_sha(&mut self, seed: &str) -> String {
        let n = self.next_id("sha", 1);
        derived_sha(&format!("{n}:{seed}"))
    }

    /// Advances the clock and stamps the issue's `updated_at` with it.
    fn touch(&mut self, issue: i64) -> i64 {
        let at = self.tick();
        self.issue_mut(issue).updated_at = at;
        at
    }

    fn push_item(&mut self, issue: i64, item: FakeTimelineItem) {
        self.issue_mut(issue).timeline.push(item);
    }

    // --- issues and pull requests ---

    /// Opens an issue in `repo` and returns its id; its number is the repository's next one.
    pub fn add_issue(&mut self, repo: i64, author: i64, title: &str) -> i64 {
        self.open_issue(repo, author, title, false)
    }

    /// Opens a pull request (an issue with a pull-request part) and returns its issue id.
    pub fn add_pull(&mut self, repo: i64, author: i64, title: &str) -> i64 {
        self.open_issue(repo, author, title, true)
    }

    fn open_issue(&mut self, repo: i64, author: i64, title: &str, pull: bool) -> i64 {
        self.repo(repo);
        self.user(author);
        let at = self.tick();
        let id = self.next_id("issue", FIRST_ISSUE_ID);
        let number = self.next_number(repo);
        let pull = pull.then(|| FakePull::opened(self.next_id("pull", FIRST_PULL_ID), number));
        let issue = FakeIssue {
            id,
            repo,
            number,
            title: title.to_string(),
            body: Some(format!("{title}.\n\nMore details in the description.")),
            author,
            state: "open".to_string(),
            state_reason: None,
            labels: Vec::new(),
            assignees: Vec::new(),
            locked: false,
            created_at: at,
            updated_at: at,
            closed_at: None,
            closed_by: None,
            pull,
            timeline: Vec::new(),
        };
        self.activity.issues.insert(id, issue);
        id
    }

    fn next_number(&mut self, repo: i64) -> i64 {
        let last = self.activity.numbers.entry(repo).or_insert(0);
        *last += 1;
        *last
    }

    /// Adds a `commented` item and returns its id.
    pub fn comment(&mut self, issue: i64, user: i64, body: &str) -> i64 {
        self.user(user);
        let at = self.touch(issue);
        let id = self.next_id("item", FIRST_ITEM_ID);
        let mut item = FakeTimelineItem::new(Some(id), "commented", Some(user), at);
        item.body = Some(body.to_string());
        self.push_item(issue, item);
        id
    }

    /// Edits a comment's body: its `updated_at` (and its issue's) moves to the next clock value.
    pub fn edit_comment(&mut self, comment: i64, body: &str) {
        let issue = self
            .activity
            .issues
            .values()
            .find(|issue| issue.timeline.iter().any(|item| item.id == Some(comment)))
            .map(|issue| issue.id)
            .unwrap_or_else(|| panic!("no comment {comment} in the fake graph"));
        let at = self.touch(issue);
        let item = self
            .issue_mut(issue)
            .timeline
            .iter_mut()
            .find(|item| item.id == Some(comment))
            .unwrap_or_else(|| panic!("no comment {comment}"));
        item.body = Some(body.to_string());
        item.updated_at = at;
    }

    /// Defines a label in a repository if it is not there yet (GitHub's colors for its default
    /// labels, a color derived from the name otherwise) and returns its id.
    pub fn define_label(&mut self, repo: i64, name: &str) -> i64 {
        self.repo(repo);
        let key = (repo, name.to_string());
        if let Some(label) = self.activity.labels.get(&key) {
            return label.id;
        }
        let id = self.next_id("label", FIRST_LABEL_ID);
        let default = DEFAULT_LABELS
            .iter()
            .find(|(default, _, _)| default.eq_ignore_ascii_case(name));
        let label = FakeLabel {
            id,
            repo,
            name: name.to_string(),
            color: default.map_or_else(
                || derived_sha(name)[..6].to_string(),
                |(_, color, _)| color.to_string(),
            ),
            default: default.is_some(),
            description: default.map(|(_, _, description)| description.to_string()),
        };
        self.activity.labels.insert(key, label);
        id
    }

    /// Adds a label (defining it in the repository if needed) with a `labeled` item; nothing
    /// happens when the issue already has it.
    pub fn label(&mut self, issue: i64, actor: i64, name: &str) {
        self.user(actor);
        if self.issue(issue).labels.iter().any(|label| label == name) {
            return;
        }
        let repo = self.issue(issue).repo;
        self.define_label(repo, name);
        let at = self.touch(issue);
        let id = self.next_id("item", FIRST_ITEM_ID);
        let mut item = FakeTimelineItem::new(Some(id), "labeled", Some(actor), at);
        item.label = Some(name.to_string());
        let issue = self.issue_mut(issue);
        issue.labels.push(name.to_string());
        issue.timeline.push(item);
    }

    /// Removes a label with an `unlabeled` item; nothing happens when the issue lacks it.
    pub fn unlabel(&mut self, issue: i64, actor: i64, name: &str) {
        self.user(actor);
        if !self.issue(issue).labels.iter().any(|label| label == name) {
            return;
        }
        let at = self.touch(issue);
        let id = self.next_id("item", FIRST_ITEM_ID);
        let mut item = FakeTimelineItem::new(Some(id), "unlabeled", Some(actor), at);
        item.label = Some(name.to_string());
        let issue = self.issue_mut(issue);
        issue.labels.retain(|label| label != name);
        issue.timeline.push(item);
    }

    /// Assigns a user (bumps `updated_at`; no timeline item).
    pub fn assign(&mut self, issue: i64, user: i64) {
        self.user(user);
        if self.issue(issue).assignees.contains(&user) {
            return;
        }
        self.touch(issue);
        self.issue_mut(issue).assignees.push(user);
    }

    /// Closes an issue or pull request (not merging it): `closed_at`, `closed_by`, a `closed`
    /// item. `reason` (`completed` or `not_planned`) is the issue's `state_reason`; pull requests
    /// have none.
    pub fn close(&mut self, issue: i64, actor: i64, reason: &str) {
        self.user(actor);
        assert!(self.issue(issue).is_open(), "issue {issue} is not open");
        let at = self.touch(issue);
        let id = self.next_id("item", FIRST_ITEM_ID);
        let reason = (!self.issue(issue).is_pull()).then(|| reason.to_string());
        let mut item = FakeTimelineItem::new(Some(id), "closed", Some(actor), at);
        item.state = reason.clone();
        let issue = self.issue_mut(issue);
        issue.state = "closed".to_string();
        issue.state_reason = reason;
        issue.closed_at = Some(at);
        issue.closed_by = Some(actor);
        issue.timeline.push(item);
    }

    /// Reopens a closed (not merged) issue or pull request: `state_reason` `reopened` for issues,
    /// `closed_at` and `closed_by` cleared, a `reopened` item.
    pub fn reopen(&mut self, issue: i64, actor: i64) {
        self.user(actor);
        let current = self.issue(issue);
        assert!(!current.is_open(), "issue {issue} is open");
        assert!(!current.is_merged(), "pull request {issue} is merged");
        let reason = (!current.is_pull()).then(|| "reopened".to_string());
        let at = self.touch(issue);
        let id = self.next_id("item", FIRST_ITEM_ID);
        let mut item = FakeTimelineItem::new(Some(id), "reopened", Some(actor), at);
        item.state = reason.clone();
        let issue = self.issue_mut(issue);
        issue.state = "open".to_string();
        issue.state_reason = reason;
        issue.closed_at = None;
        issue.closed_by = None;
        issue.timeline.push(item);
    }

    /// Merges an open pull request: closed and merged at the same clock tick, `merged_by`, a
    /// merge commit sha, then `merged` and `closed` items. The merge commit is not added to the
    /// repository's commits (use `add_commit` for that).
    pub fn merge(&mut self, pull: i64, actor: i64) {
        self.user(actor);
        let current = self.issue(pull);
        assert!(current.is_pull(), "issue {pull} is not a pull request");
        assert!(current.is_open(), "pull request {pull} is not open");
        let at = self.touch(pull);
        let sha = self.new_sha(&format!("merge:{pull}"));
        let merged_id = self.next_id("item", FIRST_ITEM_ID);
        let closed_id = self.next_id("item", FIRST_ITEM_ID);
        let mut merged = FakeTimelineItem::new(Some(merged_id), "merged", Some(actor), at);
        merged.sha = Some(sha.clone());
        let mut closed = FakeTimelineItem::new(Some(closed_id), "closed", Some(actor), at);
        closed.sha = Some(sha.clone());
        let issue = self.issue_mut(pull);
        issue.state = "closed".to_string();
        issue.state_reason = None;
        issue.closed_at = Some(at);
        issue.closed_by = Some(actor);
        if let Some(part) = issue.pull.as_mut() {
            part.merged_at = Some(at);
            part.merged_by = Some(actor);
            part.merge_commit_sha = Some(sha);
            part.draft = false;
        }
        issue.timeline.push(merged);
        issue.timeline.push(closed);
    }

    /// Adds a `reviewed` item (`state`: `approved`, `commented` or `changes_requested`) on the
    /// pull request's head commit and returns its id.
    pub fn review(&mut self, pull: i64, reviewer: i64, state: &str) -> i64 {
        self.user(reviewer);
        assert!(
            self.issue(pull).is_pull(),
            "issue {pull} is not a pull request"
        );
        assert!(
            ["approved", "commented", "changes_requested"].contains(&state),
            "review state {state}"
        );
        let head = self.head_sha(pull);
        let at = self.touch(pull);
        let id = self.next_id("item", FIRST_ITEM_ID);
        let mut item = FakeTimelineItem::new(Some(id), "reviewed", Some(reviewer), at);
        item.state = Some(state.to_string());
        item.sha = Some(head);
        item.body = Some(match state {
            "approved" => "Looks good to me.".to_string(),
            "changes_requested" => "A few things to change first.".to_string(),
            _ => String::new(),
        });
        self.push_item(pull, item);
        id
    }

    /// Pushes a commit by `author` to the pull request's branch: a `committed` item (no id).
    /// Returns its sha.
    pub fn pr_commit(&mut self, pull: i64, author: i64) -> String {
        self.user(author);
        assert!(
            self.issue(pull).is_pull(),
            "issue {pull} is not a pull request"
        );
        let at = self.touch(pull);
        let sha = self.new_sha(&format!("pr:{pull}"));
        let count = self.issue(pull).items("committed").count() + 1;
        let mut item = FakeTimelineItem::new(None, "committed", Some(author), at);
        item.sha = Some(sha.clone());
        item.body = Some(format!("Change {count} of #{}", self.issue(pull).number));
        self.push_item(pull, item);
        sha
    }

    /// `from_issue` mentions `issue`: a `cross-referenced` item (no id) on `issue`'s timeline,
    /// by `from_issue`'s author.
    pub fn cross_reference(&mut self, issue: i64, from_issue: i64) {
        let actor = self.issue(from_issue).author;
        let at = self.touch(issue);
        let mut item = FakeTimelineItem::new(None, "cross-referenced", Some(actor), at);
        item.source = Some(from_issue);
        self.push_item(issue, item);
    }

    /// Transfers an issue (not a pull request) to another repository the way GitHub does: a new
    /// issue with a new id and the target's next number keeps title, body, author, state,
    /// assignees, the labels the target defines, and the comments; the old issue disappears and
    /// its URLs answer 301 to the new one. Returns the new issue's id.
    pub fn transfer_issue(&mut self, issue: i64, to_repo: i64) -> i64 {
        self.repo(to_repo);
        assert!(
            !self.issue(issue).is_pull(),
            "pull requests cannot be transferred"
        );
        let at = self.tick();
        let id = self.next_id("issue", FIRST_ISSUE_ID);
        let number = self.next_number(to_repo);
        let mut moved = self
            .activity
            .issues
            .remove(&issue)
            .unwrap_or_else(|| panic!("no issue {issue}"));
        let labels = &self.activity.labels;
        moved
            .labels
            .retain(|name| labels.contains_key(&(to_repo, name.clone())));
        moved.timeline.retain(|item| item.event == "commented");
        let (old_repo, old_number) = (moved.repo, moved.number);
        moved.id = id;
        moved.repo = to_repo;
        moved.number = number;
        moved.updated_at = at;
        self.activity.issues.insert(id, moved);
        for target in self.activity.issue_redirects.values_mut() {
            if *target == issue {
                *target = id;
            }
        }
        self.activity
            .issue_redirects
            .insert((old_repo, old_number), id);
        for other in self.activity.issues.values_mut() {
            for item in &mut other.timeline {
                if item.source == Some(issue) {
                    item.source = Some(id);
                }
            }
        }
        id
    }

    /// Deletes an issue the way GitHub does: it leaves its repository's lists, and its URLs
    /// (the issue, its timeline, its comments) answer 410 Gone.
    pub fn delete_issue(&mut self, issue: i64) {
        let deleted = self
            .activity
            .issues
            .remove(&issue)
            .unwrap_or_else(|| panic!("no issue {issue}"));
        self.activity
            .deleted_issues
            .insert((deleted.repo, deleted.number));
    }

    /// GitHub blocks access to a repository from now on (`RepoBlock::Dmca`: 451,
    /// `RepoBlock::Tos`: 403), until `unblock_repo`.
    pub fn block_repo(&mut self, repo: i64, block: RepoBlock) {
        self.repo(repo);
        self.blocks.insert(repo, block);
    }

    /// GitHub lifts its block of a repository.
    pub fn unblock_repo(&mut self, repo: i64) {
        self.blocks.remove(&repo);
    }

    /// Adds `items` comments to an issue (by its author and up to four other users in turn) and
    /// returns their ids: `long_timeline(issue, 250)` makes a 3-page timeline at `per_page=100`.
    pub fn long_timeline(&mut self, issue: i64, items: usize) -> Vec<i64> {
        let author = self.issue(issue).author;
        let mut users = vec![author];
        users.extend(
            self.users
                .values()
                .filter(|user| user.kind == "User" && user.id != author)
                .map(|user| user.id)
                .take(4),
        );
        (0..items)
            .map(|n| {
                let user = users[n % users.len()];
                self.comment(issue, user, &format!("Comment {} of a long thread.", n + 1))
            })
            .collect()
    }

    // --- commits, releases, members, statistics ---

    /// Adds a commit to a repository's default branch (authored and committed now) and returns
    /// its sha. `author` is the linked account (`None`: an email GitHub links to no one); the
    /// repository's `pushed_at` follows.
    pub fn add_commit(
        &mut self,
        repo: i64,
        author: Option<i64>,
        message: &str,
        additions: i64,
        deletions: i64,
    ) -> String {
        self.repo(repo);
        let (author_name, author_email) = self.git_identity(author);
        let at = self.tick();
        let sha = self.new_sha(&format!("commit:{repo}:{message}"));
        let parents: Vec<String> = self
            .commits_of(repo)
            .last()
            .map(|commit| commit.sha.clone())
            .into_iter()
            .collect();
        self.activity.commits.push(FakeCommit {
            sha: sha.clone(),
            repo,
            author,
            author_name,
            author_email,
            authored_at: at,
            committed_at: at,
            message: message.to_string(),
            additions,
            deletions,
            parents,
        });
        self.repo_mut(repo).pushed_at = rfc3339(at);
        sha
    }

    /// The name and email git records for a user (their noreply address), or an unlinked
    /// identity.
    pub fn git_identity(&self, user: Option<i64>) -> (String, String) {
        match user.and_then(|id| self.users.get(&id)) {
            Some(user) => (
                user.name.clone().unwrap_or_else(|| user.login.clone()),
                format!("{}+{}@users.noreply.github.com", user.id, user.login),
            ),
            None => (
                "Anonymous Contributor".to_string(),
                "anonymous@example.com".to_string(),
            ),
        }
    }

    /// Publishes a release of `tag` (a prerelease when the tag has a `-`) and returns its id.
    pub fn add_release(&mut self, repo: i64, author: i64, tag: &str) -> i64 {
        self.repo(repo);
        self.user(author);
        let at = self.tick();
        let id = self.next_id("release", FIRST_RELEASE_ID);
        let release = FakeRelease {
            id,
            repo,
            tag_name: tag.to_string(),
            name: Some(tag.to_string()),
            body: Some(format!("Release {tag}.")),
            author,
            created_at: at,
            published_at: Some(at),
            prerelease: tag.contains('-'),
            draft: false,
        };
        self.activity.releases.insert(id, release);
        id
    }

    /// Makes `user` a (public) member of the organization `org`.
    pub fn add_member(&mut self, org: i64, user: i64) {
        assert_eq!(
            self.user(org).kind,
            "Organization",
            "{org} is not an organization"
        );
        self.user(user);
        self.activity.members.insert((org, user));
    }

    pub fn remove_member(&mut self, org: i64, user: i64) {
        self.activity.members.remove(&(org, user));
    }

    /// The next `stats/contributors` request for `repo` answers 202 (GitHub is computing).
    pub fn stats_computing(&mut self, repo: i64) {
        self.repo(repo);
        self.activity.stats_pending.insert(repo);
    }

    /// Whether a `stats/contributors` request answers 202 now; the answer after it is 200.
    fn take_stats_computing(&mut self, repo: i64) -> bool {
        let pending = self.activity.stats_pending.remove(&repo);
        let has_commits = self
            .activity
            .commits
            .iter()
            .any(|commit| commit.repo == repo);
        let first = has_commits && self.activity.stats_cached.insert(repo);
        pending || first
    }

    // --- accessors ---

    /// The issue or pull request with this id; panics when there is none (a test mistake).
    pub fn issue(&self, id: i64) -> &FakeIssue {
        self.activity
            .issues
            .get(&id)
            .unwrap_or_else(|| panic!("no issue {id} in the fake graph"))
    }

    pub fn issue_mut(&mut self, id: i64) -> &mut FakeIssue {
        self.activity
            .issues
            .get_mut(&id)
            .unwrap_or_else(|| panic!("no issue {id} in the fake graph"))
    }

    /// The id of issue `number` of a repository, if it is there (not transferred away).
    pub fn issue_id(&self, repo: i64, number: i64) -> Option<i64> {
        self.activity
            .issues
            .values()
            .find(|issue| issue.repo == repo && issue.number == number)
            .map(|issue| issue.id)
    }

    /// Issues and pull requests of a repository, by number ascending.
    pub fn issues_of(&self, repo: i64) -> Vec<&FakeIssue> {
        let mut issues: Vec<&FakeIssue> = self
            .activity
            .issues
            .values()
            .filter(|issue| issue.repo == repo)
            .collect();
        issues.sort_by_key(|issue| issue.number);
        issues
    }

    /// An issue's timeline, oldest first.
    pub fn timeline(&self, issue: i64) -> &[FakeTimelineItem] {
        &self.issue(issue).timeline
    }

    /// The head sha of a pull request: its last `committed` item, or one derived from its id.
    pub fn head_sha(&self, pull: i64) -> String {
        let issue = self.issue(pull);
        issue
            .items("committed")
            .last()
            .and_then(|item| item.sha.clone())
            .unwrap_or_else(|| derived_sha(&format!("head:{pull}")))
    }

    /// A repository's commits, oldest first.
    pub fn commits_of(&self, repo: i64) -> Vec<&FakeCommit> {
        self.activity
            .commits
            .iter()
            .filter(|commit| commit.repo == repo)
            .collect()
    }

    /// A repository's releases, by id ascending (oldest first).
    pub fn releases_of(&self, repo: i64) -> Vec<&FakeRelease> {
        self.activity
            .releases
            .values()
            .filter(|release| release.repo == repo)
            .collect()
    }

    /// Members of an organization, by id ascending.
    pub fn members(&self, org: i64) -> Vec<i64> {
        self.activity
            .members
            .iter()
            .filter(|&&(of, _)| of == org)
            .map(|&(_, user)| user)
            .collect()
    }

    /// The label `name` of a repository, if defined.
    pub fn label_of(&self, repo: i64, name: &str) -> Option<&FakeLabel> {
        self.activity.labels.get(&(repo, name.to_string()))
    }

    /// Drops everything a removed repository had.
    fn remove_repo_activity(&mut self, repo: i64) {
        let activity = &mut self.activity;
        activity.issues.retain(|_, issue| issue.repo != repo);
        let issues = &activity.issues;
        activity
            .issue_redirects
            .retain(|&(from, _), target| from != repo && issues.contains_key(target));
        activity.labels.retain(|&(of, _), _| of != repo);
        activity.commits.retain(|commit| commit.repo != repo);
        activity.releases.retain(|_, release| release.repo != repo);
        activity.stats_cached.remove(&repo);
        activity.stats_pending.remove(&repo);
        activity.deleted_issues.retain(|&(of, _)| of != repo);
    }
}

/// The first 40 hex digits of the SHA-256 of `seed`.
fn derived_sha(seed: &str) -> String {
    hex::encode(Sha256::digest(seed))[..40].to_string()
}

/// The Sunday 00:00 UTC starting the week of `epoch` (GitHub's `w` in statistics).
fn week_start(epoch: i64) -> i64 {
    let day = epoch.div_euclid(DAY_SECS);
    // Day 0 (1970-01-01) was a Thursday, four days after a Sunday.
    (day - (day + 4).rem_euclid(7)) * DAY_SECS
}

/// An ISO 8601 time as GitHub accepts it in `since`/`until`: RFC 3339 (a `+` decoded to a space
/// is put back) or a bare date.
fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim().replace(' ', "+");
    DateTime::parse_from_rfc3339(&text)
        .map(|time| time.timestamp())
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
                .map(|time| time.and_utc().timestamp())
        })
}

// ---------------------------------------------------------------------------
// Generated activity
// ---------------------------------------------------------------------------

const ISSUE_TITLES: &[&str] = &[
    "Crash when the input is empty",
    "Support a configuration file",
    "Typo in the README",
    "Slow startup on large inputs",
    "Add a --verbose flag",
    "Panic on invalid UTF-8",
    "Improve error messages",
    "Windows paths are not handled",
    "Document the release process",
    "Flaky test on CI",
];
const PULL_TITLES: &[&str] = &[
    "Fix the empty-input crash",
    "Read settings from a config file",
    "Fix typos",
    "Speed up startup",
    "Add --verbose",
    "Handle invalid UTF-8",
    "Refactor the parser",
    "Update CI workflow",
];
const ISSUE_LABELS: &[&str] = &[
    "bug",
    "enhancement",
    "documentation",
    "question",
    "good first issue",
];
const COMMENTS: &[&str] = &[
    "I can reproduce this.",
    "Thanks for the report!",
    "Any update on this?",
    "Fixed on main, please try again.",
    "+1",
    "Could you share a minimal example?",
];
const COMMIT_MESSAGES: &[&str] = &[
    "Fix a panic in the parser",
    "Update dependencies",
    "Add tests",
    "Refactor the crawler",
    "Improve docs",
    "Bump version",
];
const DEPENDENCIES: &[&str] = &["serde", "tokio", "rand", "clap", "regex"];
/// The login GitHub gives Dependabot (a user of type `Bot`).
pub const DEPENDABOT: &str = "dependabot[bot]";

impl Graph {
    /// The `dependabot[bot]` user (type `Bot`), added when missing.
    pub fn dependabot(&mut self) -> i64 {
        self.user_id(DEPENDABOT).unwrap_or_else(|| {
            let id = self.add_user(DEPENDABOT);
            self.user_mut(id).kind = "Bot".to_string();
            id
        })
    }

    /// Deterministic activity in `repo` for a given seed (timestamps follow the clock: call
    /// `set_clock` first for identical graphs): a few commits and releases; `issues` issues and
    /// `pulls` pull requests by the repository's owner (when a user), `contributor-1` to
    /// `contributor-4` (added when missing; members when the owner is an organization) and
    /// `dependabot[bot]`; then labels, assignees, comments, cross-references, reviews, branch
    /// commits, closes, reopens and merges in random order across them. Returns the issue ids in
    /// creation order.
    pub fn generate_activity(
        &mut self,
        repo: i64,
        issues: usize,
        pulls: usize,
        seed: u64,
    ) -> Vec<i64> {
        let mut rng = StdRng::seed_from_u64(seed);
        let owner = self.repo(repo).owner_id;
        let bot = self.dependabot();
        let mut humans = Vec::new();
        if self.user(owner).kind == "User" {
            humans.push(owner);
        }
        for k in 1..=4 {
            let login = format!("contributor-{k}");
            let id = self
                .user_id(&login)
                .unwrap_or_else(|| self.add_user(&login));
            if self.user(owner).kind == "Organization" && k <= 3 {
                self.add_member(owner, id);
            }
            humans.push(id);
        }
        let maintainer = humans[0];
        let mut version = 1;
        for _ in 0..rng.gen_range(3..=6) {
            self.generated_commit(repo, &humans, &mut rng);
        }
        // An author whose email GitHub links to no account.
        self.add_commit(repo, None, "Import vendored code", 1200, 0);
        self.add_release(repo, maintainer, "v0.1.0");

        let mut kinds: Vec<bool> = std::iter::repeat_n(false, issues)
            .chain(std::iter::repeat_n(true, pulls))
            .collect();
        kinds.shuffle(&mut rng);
        let mut created = Vec::new();
        for is_pull in kinds {
            let id = if is_pull {
                self.generated_pull(repo, &humans, bot, &mut rng)
            } else {
                let author = humans[rng.gen_range(0..humans.len())];
                let id = self.add_issue(repo, author, &pick(&mut rng, ISSUE_TITLES));
                for _ in 0..rng.gen_range(0..=2) {
                    self.label(id, maintainer, &pick(&mut rng, ISSUE_LABELS));
                }
                id
            };
            if rng.gen_bool(0.3) {
                self.assign(id, humans[rng.gen_range(0..humans.len())]);
            }
            created.push(id);
        }

        for _ in 0..created.len() * 3 {
            let id = created[rng.gen_range(0..created.len())];
            let other = created[rng.gen_range(0..created.len())];
            let roll: f64 = rng.gen_range(0.0..1.0);
            if roll < 0.03 {
                self.generated_commit(repo, &humans, &mut rng);
            } else if roll < 0.05 {
                version += 1;
                let tag = if rng.gen_bool(0.25) {
                    format!("v0.{version}.0-rc.1")
                } else {
                    format!("v0.{version}.0")
                };
                self.add_release(repo, maintainer, &tag);
            } else {
                self.generated_step(id, other, &humans, &mut rng);
            }
        }
        self.ensure_variety(&created, maintainer);
        created
    }

    fn generated_commit(&mut self, repo: i64, humans: &[i64], rng: &mut StdRng) {
        let author = rng
            .gen_bool(0.85)
            .then(|| humans[rng.gen_range(0..humans.len())]);
        let message = pick(rng, COMMIT_MESSAGES);
        let (additions, deletions) = (rng.gen_range(1..300), rng.gen_range(0..120));
        self.add_commit(repo, author, &message, additions, deletions);
    }

    fn generated_pull(&mut self, repo: i64, humans: &[i64], bot: i64, rng: &mut StdRng) -> i64 {
        if rng.gen_bool(0.25) {
            let dependency = pick(rng, DEPENDENCIES);
            let (from, to) = (rng.gen_range(1..9), rng.gen_range(10..20));
            let title = format!("Bump {dependency} from 1.{from}.0 to 1.{to}.0");
            let id = self.add_pull(repo, bot, &title);
            self.label(id, bot, "dependencies");
            self.pr_commit(id, bot);
            return id;
        }
        let author = humans[rng.gen_range(0..humans.len())];
        let id = self.add_pull(repo, author, &pick(rng, PULL_TITLES));
        if rng.gen_bool(0.15)
            && let Some(pull) = self.issue_mut(id).pull.as_mut()
        {
            pull.draft = true;
        }
        for _ in 0..rng.gen_range(1..=3) {
            self.pr_commit(id, author);
        }
        id
    }

    /// One random event on `id` (`other` may cross-reference it).
    fn generated_step(&mut self, id: i64, other: i64, humans: &[i64], rng: &mut StdRng) {
        let issue = self.issue(id);
        let (author, is_pull, is_open, merged) = (
            issue.author,
            issue.is_pull(),
            issue.is_open(),
            issue.is_merged(),
        );
        let user = humans[rng.gen_range(0..humans.len())];
        let maintainer = humans[0];
        let roll: f64 = rng.gen_range(0.0..1.0);
        if roll < 0.45 {
            self.comment(id, user, &pick(rng, COMMENTS));
        } else if roll < 0.52 {
            let label = pick(rng, ISSUE_LABELS);
            if self.issue(id).labels.contains(&label) {
                self.unlabel(id, maintainer, &label);
            } else {
                self.label(id, maintainer, &label);
            }
        } else if roll < 0.60 {
            if other != id {
                self.cross_reference(id, other);
            }
        } else if roll < 0.75 && is_pull {
            let reviewer = if user == author { maintainer } else { user };
            let state = ["approved", "commented", "changes_requested"][rng.gen_range(0..3)];
            self.review(id, reviewer, state);
        } else if roll < 0.80 && is_pull && is_open {
            let committer = if self.user(author).kind == "Bot" {
                author
            } else {
                user
            };
            self.pr_commit(id, committer);
        } else if is_open {
            if is_pull && rng.gen_bool(0.7) {
                self.merge(id, maintainer);
            } else {
                let reason = if rng.gen_bool(0.75) {
                    "completed"
                } else {
                    "not_planned"
                };
                self.close(id, maintainer, reason);
            }
        } else if !merged && rng.gen_bool(0.3) {
            self.reopen(id, user);
        } else {
            self.comment(id, user, &pick(rng, COMMENTS));
        }
    }

    /// With enough items: at least one closed issue, one open issue, one merged pull request.
    fn ensure_variety(&mut self, created: &[i64], maintainer: i64) {
        let (issues, pulls): (Vec<i64>, Vec<i64>) =
            created.iter().partition(|&&id| !self.issue(id).is_pull());
        if issues.len() >= 2 {
            if !issues.iter().any(|&id| !self.issue(id).is_open()) {
                self.close(issues[0], maintainer, "completed");
            }
            if !issues.iter().any(|&id| self.issue(id).is_open()) {
                self.reopen(issues[1], maintainer);
            }
        }
        if pulls.len() >= 2 && !pulls.iter().any(|&id| self.issue(id).is_merged()) {
            let open = pulls.iter().copied().find(|&id| self.issue(id).is_open());
            let closed = pulls.first().copied();
            if let Some(id) = open.or(closed) {
                if !self.issue(id).is_open() {
                    self.reopen(id, maintainer);
                }
                self.merge(id, maintainer);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Events: GitHub's public feeds
// ---------------------------------------------------------------------------

/// Event ids start here (GitHub's are numeric strings of 11 digits nowadays).
const FIRST_EVENT_ID: i64 = 40_000_000_001;
/// GitHub's feeds hold the newest 300 events, whatever the page size.
pub const FEED_DEPTH: usize = 300;
/// The `X-Poll-Interval` GitHub sends on event feeds.
pub const DEFAULT_POLL_INTERVAL_SECS: u64 = 60;
/// GitHub's answer past the last page of an event feed.
const FEED_PAGINATION_MESSAGE: &str = "In order to keep the API fast for everyone, pagination \
     is limited for this resource. Check the rel=last link relation in the Link response \
     header to see how far back you can traverse.";

/// GitHub's event types, each with the actions its payload may carry.
pub const FAKE_EVENT_TYPES: [(&str, &[&str]); 18] = [
    ("CommitCommentEvent", &["created"]),
    ("CreateEvent", &[]),
    ("DeleteEvent", &[]),
    ("DiscussionEvent", &["created", "answered"]),
    ("ForkEvent", &["forked"]),
    ("GollumEvent", &[]),
    ("IssueCommentEvent", &["created", "edited", "deleted"]),
    ("IssuesEvent", &["opened", "closed", "reopened"]),
    ("MemberEvent", &["added"]),
    ("PublicEvent", &[]),
    ("PullRequestEvent", &["opened", "closed", "reopened"]),
    ("PullRequestReviewEvent", &["created"]),
    ("PullRequestReviewCommentEvent", &["created"]),
    ("PullRequestReviewThreadEvent", &["resolved", "unresolved"]),
    ("PushEvent", &[]),
    ("ReleaseEvent", &["published"]),
    ("SponsorshipEvent", &["created"]),
    ("WatchEvent", &["started"]),
];

/// One public event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeEvent {
    pub id: i64,
    /// GitHub's type, e.g. `PushEvent`.
    pub kind: String,
    pub actor: i64,
    pub repo: i64,
    /// `payload.action`, when the type has one.
    pub action: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
}

impl Graph {
    /// Adds a public event by `actor` in `repo` happening now (never before the previous
    /// event) and returns its id.
    pub fn add_event(&mut self, kind: &str, actor: i64, repo: i64, action: Option<&str>) -> i64 {
        let at = self
            .events
            .last()
            .map_or_else(now, |last| last.created_at.max(now()));
        self.add_event_at(kind, actor, repo, action, at)
    }

    /// Adds a public event created at `created_at` (epoch seconds) and returns its id; ids
    /// grow with each event added, as GitHub's do.
    pub fn add_event_at(
        &mut self,
        kind: &str,
        actor: i64,
        repo: i64,
        action: Option<&str>,
        created_at: i64,
    ) -> i64 {
        assert!(self.repos.contains_key(&repo), "repository {repo} exists");
        let id = self
            .events
            .last()
            .map_or(FIRST_EVENT_ID, |last| last.id + 1);
        self.events.push(FakeEvent {
            id,
            kind: kind.to_string(),
            actor,
            repo,
            action: action.map(str::to_string),
            created_at,
        });
        id
    }

    /// Adds `n` events of random types, actions, actors and repositories of the graph (a user
    /// and a repository are created when there are none), spaced 1 to 20 seconds apart and
    /// ending now; returns their ids.
    pub fn generate_events(&mut self, n: usize, seed: u64) -> Vec<i64> {
        let mut rng = StdRng::seed_from_u64(seed);
        if self.users.is_empty() {
            self.add_user("eventful");
        }
        if self.repos.is_empty() {
            let owner = *self.users.keys().next().expect("a user");
            self.add_repo(owner, "busy");
        }
        let users: Vec<i64> = self.users.keys().copied().collect();
        let repos: Vec<i64> = self.repos.keys().copied().collect();
        let steps: Vec<i64> = (0..n).map(|_| rng.gen_range(1..=20)).collect();
        let start = self
            .events
            .last()
            .map_or(i64::MIN, |last| last.created_at)
            .max(now() - steps.iter().sum::<i64>());
        let mut at = start;
        let mut ids = Vec::with_capacity(n);
        for step in steps {
            at += step;
            let (kind, actions) = FAKE_EVENT_TYPES[rng.gen_range(0..FAKE_EVENT_TYPES.len())];
            let action = actions.choose(&mut rng).copied();
            let actor = users[rng.gen_range(0..users.len())];
            let repo = repos[rng.gen_range(0..repos.len())];
            ids.push(self.add_event_at(kind, actor, repo, action, at));
        }
        ids
    }

    /// A repository's events, oldest first.
    pub fn events_of(&self, repo: i64) -> Vec<&FakeEvent> {
        self.events
            .iter()
            .filter(|event| event.repo == repo)
            .collect()
    }
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
        let base = self.base;
        let login = login_in_url(&user.login);
        json!({
            "login": user.login,
            "id": id,
            "node_id": node_id(&user.kind, id),
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
            "gravatar_id": "",
            "url": format!("{base}/users/{login}"),
            "html_url": profile_html_url(user),
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

    /// The simple user, or GitHub's `ghost` for a user who no longer exists (authors of
    /// issues, comments and events outlive their accounts).
    fn person(&self, id: i64) -> Value {
        if self.graph.users.contains_key(&id) {
            return self.simple_user(id);
        }
        let mut ghost = FakeUser::new(GHOST_ID, "ghost");
        ghost.name = Some("Deleted user".to_string());
        let mut graph = Graph::default();
        graph.users.insert(GHOST_ID, ghost);
        Render {
            base: self.base,
            graph: &graph,
        }
        .simple_user(GHOST_ID)
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
        extend(&mut value, repo_url_templates(&api));
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
        let owner = self.graph.repo(id).owner_id;
        if self.graph.user(owner).kind == "Organization" {
            extend(&mut value, json!({"organization": self.simple_user(owner)}));
        }
        value
    }
}

// Activity payloads.
impl Render<'_> {
    fn repo_api(&self, repo: i64) -> String {
        format!("{}/repos/{}", self.base, self.graph.full_name(repo))
    }

    /// GitHub's `author_association` of a user in a repository.
    fn author_association(&self, repo: i64, user: i64) -> &'static str {
        let owner = self.graph.repo(repo).owner_id;
        let activity = &self.graph.activity;
        if user == owner {
            "OWNER"
        } else if activity.members.contains(&(owner, user)) {
            "MEMBER"
        } else if activity
            .commits
            .iter()
            .any(|commit| commit.repo == repo && commit.author == Some(user))
        {
            "CONTRIBUTOR"
        } else {
            "NONE"
        }
    }

    fn label(&self, repo: i64, name: &str) -> Value {
        let label = self.graph.label_of(repo, name);
        let id = label.map_or(0, |label| label.id);
        json!({
            "id": id,
            "node_id": node_id("Label", id),
            "url": format!("{}/labels/{}", self.repo_api(repo), name.replace(' ', "%20")),
            "name": name,
            "color": label.map_or("ededed", |label| label.color.as_str()),
            "default": label.is_some_and(|label| label.default),
            "description": label.and_then(|label| label.description.clone()),
        })
    }

    /// An issue as listed by `/issues` (`single`: as `/issues/{n}` answers, with `closed_by`;
    /// `pull_request.merged_at` is always there).
    fn issue(&self, id: i64, single: bool) -> Value {
        let issue = self.graph.issue(id);
        let full = self.graph.full_name(issue.repo);
        let n = issue.number;
        let api = format!("{}/issues/{n}", self.repo_api(issue.repo));
        let kind = if issue.is_pull() { "pull" } else { "issues" };
        let labels: Vec<Value> = issue
            .labels
            .iter()
            .map(|name| self.label(issue.repo, name))
            .collect();
        let assignees: Vec<Value> = issue
            .assignees
            .iter()
            .map(|&user| self.person(user))
            .collect();
        let mut value = json!({
            "url": api,
            "repository_url": self.repo_api(issue.repo),
            "labels_url": format!("{api}/labels{{/name}}"),
            "comments_url": format!("{api}/comments"),
            "events_url": format!("{api}/events"),
            "html_url": format!("https://github.com/{full}/{kind}/{n}"),
            "id": id,
            "node_id": node_id("Issue", id),
            "number": n,
            "title": issue.title,
            "user": self.person(issue.author),
            "labels": labels,
            "state": issue.state,
            "locked": issue.locked,
            "assignee": assignees.first(),
            "assignees": assignees,
            "milestone": null,
        });
        extend(
            &mut value,
            json!({
                "comments": issue.comments(),
                "created_at": rfc3339(issue.created_at),
                "updated_at": rfc3339(issue.updated_at),
                "closed_at": issue.closed_at.map(rfc3339),
                "author_association": self.author_association(issue.repo, issue.author),
                "active_lock_reason": null,
                "body": issue.body,
                "timeline_url": format!("{api}/timeline"),
                "performed_via_github_app": null,
                "state_reason": issue.state_reason,
            }),
        );
        if let Some(pull) = &issue.pull {
            let html = format!("https://github.com/{full}/pull/{n}");
            let mut part = json!({
                "url": format!("{}/pulls/{n}", self.repo_api(issue.repo)),
                "html_url": html,
                "diff_url": format!("{html}.diff"),
                "patch_url": format!("{html}.patch"),
            });
            if single || !pull.omit_merged_at {
                extend(&mut part, json!({"merged_at": pull.merged_at.map(rfc3339)}));
            }
            extend(
                &mut value,
                json!({"draft": pull.draft, "pull_request": part}),
            );
        }
        if single {
            let closed_by = issue.closed_by.map(|user| self.person(user));
            extend(&mut value, json!({ "closed_by": closed_by }));
        }
        value
    }

    /// `GET /repos/{o}/{r}/pulls/{n}`: GitHub's pull-request object (`None` for an issue).
    fn pull(&self, id: i64) -> Option<Value> {
        let issue = self.graph.issue(id);
        let pull = issue.pull.as_ref()?;
        let repo = self.graph.repo(issue.repo);
        let full = self.graph.full_name(issue.repo);
        let n = issue.number;
        let api = format!("{}/pulls/{n}", self.repo_api(issue.repo));
        let html = format!("https://github.com/{full}/pull/{n}");
        let owner_login = &self.graph.user(repo.owner_id).login;
        let base_sha = self
            .graph
            .commits_of(issue.repo)
            .last()
            .map_or_else(|| derived_sha(&format!("base:{id}")), |c| c.sha.clone());
        let branch = |label: String, name: &str, sha: String, user: i64| {
            json!({
                "label": label,
                "ref": name,
                "sha": sha,
                "user": self.person(user),
                "repo": self.repo(issue.repo),
            })
        };
        let plain = self.issue(id, false);
        let mut value = json!({
            "url": api,
            "id": pull.id,
            "node_id": node_id("PullRequest", pull.id),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "issue_url": format!("{}/issues/{n}", self.repo_api(issue.repo)),
            "commits_url": format!("{api}/commits"),
            "review_comments_url": format!("{api}/comments"),
            "review_comment_url": format!("{}/pulls/comments{{/number}}", self.repo_api(issue.repo)),
            "comments_url": format!("{}/issues/{n}/comments", self.repo_api(issue.repo)),
            "number": n,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": plain["user"],
            "body": issue.body,
            "labels": plain["labels"],
            "milestone": null,
            "active_lock_reason": null,
        });
        extend(
            &mut value,
            json!({
                "created_at": rfc3339(issue.created_at),
                "updated_at": rfc3339(issue.updated_at),
                "closed_at": issue.closed_at.map(rfc3339),
                "merged_at": pull.merged_at.map(rfc3339),
                "merge_commit_sha": pull.merge_commit_sha,
                "assignee": plain["assignee"],
                "assignees": plain["assignees"],
                "requested_reviewers": [],
                "requested_teams": [],
                "head": branch(
                    format!("{owner_login}:{}", pull.head_ref),
                    &pull.head_ref,
                    self.graph.head_sha(id),
                    repo.owner_id,
                ),
                "base": branch(
                    format!("{owner_login}:{}", repo.default_branch),
                    &repo.default_branch,
                    base_sha,
                    repo.owner_id,
                ),
                "author_association": plain["author_association"],
                "auto_merge": null,
                "draft": pull.draft,
            }),
        );
        let head_sha = self.graph.head_sha(id);
        let statuses = format!("{}/statuses/{head_sha}", self.repo_api(issue.repo));
        let issue_api = format!("{}/issues/{n}", self.repo_api(issue.repo));
        extend(
            &mut value,
            json!({
                "statuses_url": statuses,
                "_links": {
                    "self": {"href": api},
                    "html": {"href": html},
                    "issue": {"href": issue_api},
                    "comments": {"href": format!("{issue_api}/comments")},
                    "review_comments": {"href": format!("{api}/comments")},
                    "review_comment": {"href": format!("{}/pulls/comments{{/number}}", self.repo_api(issue.repo))},
                    "commits": {"href": format!("{api}/commits")},
                    "statuses": {"href": statuses},
                },
            }),
        );
        extend(
            &mut value,
            json!({
                "merged": pull.merged_at.is_some(),
                "mergeable": null,
                "rebaseable": null,
                "mergeable_state": "unknown",
                "merged_by": pull.merged_by.map(|user| self.person(user)),
                "comments": issue.comments(),
                "review_comments": 0,
                "maintainer_can_modify": false,
                "commits": issue.items("committed").count(),
                "additions": 0,
                "deletions": 0,
                "changed_files": 0,
            }),
        );
        Some(value)
    }

    /// An issue comment as `/issues/{n}/comments` lists it.
    fn comment(&self, issue: &FakeIssue, item: &FakeTimelineItem) -> Value {
        let full = self.graph.full_name(issue.repo);
        let api = self.repo_api(issue.repo);
        let id = item.id.unwrap_or_default();
        let kind = if issue.is_pull() { "pull" } else { "issues" };
        let user = item.actor.map(|user| self.person(user));
        let association = item
            .actor
            .map_or("NONE", |user| self.author_association(issue.repo, user));
        json!({
            "url": format!("{api}/issues/comments/{id}"),
            "html_url": format!("https://github.com/{full}/{kind}/{}#issuecomment-{id}", issue.number),
            "issue_url": format!("{api}/issues/{}", issue.number),
            "id": id,
            "node_id": node_id("IssueComment", id),
            "user": user,
            "created_at": rfc3339(item.created_at),
            "updated_at": rfc3339(item.updated_at),
            "author_association": association,
            "body": item.body,
            "performed_via_github_app": null,
        })
    }

    /// `{name, email, date}` of a git author or committer.
    fn git_person(&self, user: Option<i64>, date: i64) -> Value {
        let (name, email) = self.graph.git_identity(user);
        json!({"name": name, "email": email, "date": rfc3339(date)})
    }

    fn verification() -> Value {
        json!({
            "verified": false,
            "reason": "unsigned",
            "signature": null,
            "payload": null,
            "verified_at": null,
        })
    }

    /// One timeline item in GitHub's shape for its event.
    fn timeline_item(&self, issue: &FakeIssue, item: &FakeTimelineItem) -> Value {
        let full = self.graph.full_name(issue.repo);
        let api = self.repo_api(issue.repo);
        let n = issue.number;
        let id = item.id.unwrap_or_default();
        let actor = item.actor.map(|user| self.person(user));
        let at = rfc3339(item.created_at);
        let event = item.event.as_str();
        let event_url = format!("{api}/issues/events/{id}");
        let commit_url = item.sha.as_ref().map(|sha| format!("{api}/commits/{sha}"));
        match event {
            "commented" => {
                let mut value = self.comment(issue, item);
                extend(&mut value, json!({"event": event, "actor": actor}));
                value
            }
            "labeled" | "unlabeled" => {
                let name = item.label.clone().unwrap_or_default();
                let label = self.label(issue.repo, &name);
                let kind = if event == "labeled" {
                    "LabeledEvent"
                } else {
                    "UnlabeledEvent"
                };
                json!({
                    "id": id,
                    "node_id": node_id(kind, id),
                    "url": event_url,
                    "actor": actor,
                    "event": event,
                    "commit_id": null,
                    "commit_url": null,
                    "created_at": at,
                    "label": {"name": name, "color": label["color"]},
                    "performed_via_github_app": null,
                })
            }
            "closed" | "reopened" => {
                let kind = if event == "closed" {
                    "ClosedEvent"
                } else {
                    "ReopenedEvent"
                };
                json!({
                    "id": id,
                    "node_id": node_id(kind, id),
                    "url": event_url,
                    "actor": actor,
                    "event": event,
                    "commit_id": item.sha,
                    "commit_url": commit_url,
                    "created_at": at,
                    "state_reason": item.state,
                    "performed_via_github_app": null,
                })
            }
            "merged" => json!({
                "id": id,
                "node_id": node_id("MergedEvent", id),
                "url": event_url,
                "actor": actor,
                "event": event,
                "commit_id": item.sha,
                "commit_url": commit_url,
                "created_at": at,
                "performed_via_github_app": null,
            }),
            "committed" => {
                let sha = item.sha.clone().unwrap_or_default();
                let parent = issue
                    .timeline
                    .iter()
                    .take_while(|other| !std::ptr::eq(*other, item))
                    .filter(|other| other.event == "committed")
                    .last()
                    .and_then(|other| other.sha.clone());
                let parents: Vec<Value> = parent
                    .into_iter()
                    .map(|sha| self.commit_parent(issue.repo, &sha))
                    .collect();
                let tree = derived_sha(&format!("tree:{sha}"));
                let person = self.git_person(item.actor, item.created_at);
                json!({
                    "sha": sha,
                    "node_id": base64(format!("06:Commit{sha}").as_bytes()),
                    "url": format!("{api}/git/commits/{sha}"),
                    "html_url": format!("https://github.com/{full}/commit/{sha}"),
                    "author": person,
                    "committer": person,
                    "tree": {"sha": tree, "url": format!("{api}/git/trees/{tree}")},
                    "message": item.body,
                    "parents": parents,
                    "verification": Render::verification(),
                    "event": event,
                })
            }
            "reviewed" => {
                let html = format!("https://github.com/{full}/pull/{n}#pullrequestreview-{id}");
                let pull_url = format!("{api}/pulls/{n}");
                let association = item
                    .actor
                    .map_or("NONE", |user| self.author_association(issue.repo, user));
                json!({
                    "id": id,
                    "node_id": node_id("PullRequestReview", id),
                    "user": actor,
                    "body": item.body,
                    "commit_id": item.sha,
                    "submitted_at": at,
                    "state": item.state,
                    "html_url": html,
                    "pull_request_url": pull_url,
                    "author_association": association,
                    "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
                    "event": event,
                })
            }
            "cross-referenced" => {
                let source = item
                    .source
                    .filter(|source| self.graph.activity.issues.contains_key(source))
                    .map(|source| {
                        let mut value = self.issue(source, false);
                        let repo = self.repo(self.graph.issue(source).repo);
                        extend(&mut value, json!({ "repository": repo }));
                        value
                    });
                json!({
                    "actor": actor,
                    "created_at": at,
                    "updated_at": rfc3339(item.updated_at),
                    "source": {"type": "issue", "issue": source},
                    "event": event,
                })
            }
            _ => json!({
                "id": item.id,
                "node_id": node_id("Event", id),
                "url": event_url,
                "actor": actor,
                "event": event,
                "created_at": at,
            }),
        }
    }

    fn commit_parent(&self, repo: i64, sha: &str) -> Value {
        json!({
            "sha": sha,
            "url": format!("{}/commits/{sha}", self.repo_api(repo)),
            "html_url": format!("https://github.com/{}/commit/{sha}", self.graph.full_name(repo)),
        })
    }

    /// A commit as `/repos/{o}/{r}/commits` lists it.
    fn commit(&self, commit: &FakeCommit) -> Value {
        let full = self.graph.full_name(commit.repo);
        let api = self.repo_api(commit.repo);
        let sha = &commit.sha;
        let tree = derived_sha(&format!("tree:{sha}"));
        let person = |date: i64| json!({"name": commit.author_name, "email": commit.author_email, "date": rfc3339(date)});
        let user = commit
            .author
            .filter(|user| self.graph.users.contains_key(user))
            .map(|user| self.person(user));
        let parents: Vec<Value> = commit
            .parents
            .iter()
            .map(|parent| self.commit_parent(commit.repo, parent))
            .collect();
        json!({
            "sha": sha,
            "node_id": base64(format!("06:Commit{sha}").as_bytes()),
            "commit": {
                "author": person(commit.authored_at),
                "committer": person(commit.committed_at),
                "message": commit.message,
                "tree": {"sha": tree, "url": format!("{api}/git/trees/{tree}")},
                "url": format!("{api}/git/commits/{sha}"),
                "comment_count": 0,
                "verification": Render::verification(),
            },
            "url": format!("{api}/commits/{sha}"),
            "html_url": format!("https://github.com/{full}/commit/{sha}"),
            "comments_url": format!("{api}/commits/{sha}/comments"),
            "author": user,
            "committer": user,
            "parents": parents,
        })
    }

    fn release(&self, id: i64) -> Value {
        let release = &self.graph.activity.releases[&id];
        let full = self.graph.full_name(release.repo);
        let api = self.repo_api(release.repo);
        let tag = &release.tag_name;
        json!({
            "url": format!("{api}/releases/{id}"),
            "assets_url": format!("{api}/releases/{id}/assets"),
            "upload_url": format!("https://uploads.github.com/repos/{full}/releases/{id}/assets{{?name,label}}"),
            "html_url": format!("https://github.com/{full}/releases/tag/{tag}"),
            "id": id,
            "author": self.person(release.author),
            "node_id": node_id("Release", id),
            "tag_name": tag,
            "target_commitish": self.graph.repo(release.repo).default_branch,
            "name": release.name,
            "draft": release.draft,
            "prerelease": release.prerelease,
            "created_at": rfc3339(release.created_at),
            "published_at": release.published_at.map(rfc3339),
            "assets": [],
            "tarball_url": format!("{api}/tarball/{tag}"),
            "zipball_url": format!("{api}/zipball/{tag}"),
            "body": release.body,
        })
    }

    /// `stats/contributors`: per linked author (fewest commits first) the total and every week
    /// from the repository's first commit to its last, by author date.
    fn contributors(&self, repo: i64) -> Value {
        let commits = self.graph.commits_of(repo);
        let (Some(first), Some(last)) = (
            commits.iter().map(|c| c.authored_at).min(),
            commits.iter().map(|c| c.authored_at).max(),
        ) else {
            return json!([]);
        };
        let weeks: Vec<i64> = (week_start(first)..=week_start(last))
            .step_by(usize::try_from(7 * DAY_SECS).unwrap_or(1))
            .collect();
        let mut by_author: BTreeMap<i64, BTreeMap<i64, (i64, i64, i64)>> = BTreeMap::new();
        for commit in &commits {
            let Some(author) = commit.author.filter(|a| self.graph.users.contains_key(a)) else {
                continue;
            };
            let week = by_author
                .entry(author)
                .or_default()
                .entry(week_start(commit.authored_at))
                .or_default();
            week.0 += commit.additions;
            week.1 += commit.deletions;
            week.2 += 1;
        }
        let mut rows: Vec<(i64, i64, Value)> = by_author
            .into_iter()
            .map(|(author, counts)| {
                let total: i64 = counts.values().map(|&(_, _, c)| c).sum();
                let weeks: Vec<Value> = weeks
                    .iter()
                    .map(|w| {
                        let (a, d, c) = counts.get(w).copied().unwrap_or_default();
                        json!({"w": w, "a": a, "d": d, "c": c})
                    })
                    .collect();
                let row = json!({"author": self.person(author), "total": total, "weeks": weeks});
                (total, author, row)
            })
            .collect();
        rows.sort_by_key(|&(total, author, _)| (total, author));
        Value::Array(rows.into_iter().map(|(_, _, row)| row).collect())
    }
}

// Event payloads.
impl Render<'_> {
    /// An event as GitHub's feeds list it: `id` a numeric string, the actor and repository
    /// abbreviated, `org` when an organization owns the repository.
    fn event(&self, event: &FakeEvent) -> Value {
        let base = self.base;
        let (actor_login, actor_id) = match self.graph.users.get(&event.actor) {
            Some(user) => (user.login.clone(), user.id),
            None => ("ghost".to_string(), GHOST_ID),
        };
        let repo = self.graph.repo(event.repo);
        let owner = self.graph.user(repo.owner_id);
        let full_name = self.graph.full_name(event.repo);
        let account = |id: i64, login: &str| {
            json!({
                "id": id,
                "login": login,
                "gravatar_id": "",
                "url": format!("{base}/users/{}", login_in_url(login)),
                "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?"),
            })
        };
        let mut actor = account(actor_id, &actor_login);
        // GitHub shows a bot by its app's name: `dependabot` for `dependabot[bot]`.
        let display_login = actor_login.strip_suffix("[bot]").unwrap_or(&actor_login);
        extend(&mut actor, json!({"display_login": display_login}));
        let mut payload = json!({});
        if let Some(action) = &event.action {
            extend(&mut payload, json!({"action": action}));
        }
        extend(&mut payload, self.event_payload(event));
        let mut value = json!({
            "id": event.id.to_string(),
            "type": event.kind,
            "actor": actor,
            "repo": {
                "id": repo.id,
                "name": full_name,
                "url": format!("{base}/repos/{full_name}"),
            },
            "payload": payload,
            "public": true,
            "created_at": rfc3339(event.created_at),
        });
        if owner.kind == "Organization" {
            extend(&mut value, json!({"org": account(owner.id, &owner.login)}));
        }
        value
    }
}

// What event payloads carry.
impl Render<'_> {
    /// The fields of an event's `payload` besides `action`, in the shape the description
    /// gives its type (`issues-event`, `push-event`...).
    fn event_payload(&self, event: &FakeEvent) -> Value {
        let scene = self.event_scene(event);
        let render = Render {
            base: self.base,
            graph: &scene,
        };
        let id = event.id;
        let repo = self.graph.repo(event.repo);
        let full = self.graph.full_name(event.repo);
        let api = self.repo_api(event.repo);
        let at = rfc3339(event.created_at);
        let actor = self.person(event.actor);
        let association = self.author_association(event.repo, event.actor);
        let issue = scene.issue(id);
        let n = issue.number;
        let head = scene.head_sha(id);
        let branch = format!("branch-{id}");
        match event.kind.as_str() {
            "PushEvent" => json!({
                "repository_id": repo.id,
                "push_id": id - FIRST_EVENT_ID + 1,
                "ref": format!("refs/heads/{}", repo.default_branch),
                "head": derived_sha(&format!("event:{id}")),
                "before": derived_sha(&format!("before:{id}")),
            }),
            "CreateEvent" => {
                let mut payload = json!({
                    "ref": branch,
                    "ref_type": "branch",
                    "full_ref": format!("refs/heads/{branch}"),
                    "master_branch": repo.default_branch,
                    "pusher_type": "user",
                });
                if let Some(description) = &repo.description {
                    extend(&mut payload, json!({ "description": description }));
                }
                payload
            }
            "DeleteEvent" => json!({
                "ref": branch,
                "ref_type": "branch",
                "full_ref": format!("refs/heads/{branch}"),
                "pusher_type": "user",
            }),
            "ForkEvent" => json!({ "forkee": render.repo(id) }),
            "GollumEvent" => json!({"pages": [{
                "page_name": "Home",
                "title": "Home",
                "summary": null,
                "action": "edited",
                "sha": derived_sha(&format!("wiki:{id}")),
                "html_url": format!("https://github.com/{full}/wiki/Home"),
            }]}),
            "IssuesEvent" => json!({ "issue": render.issue(id, false) }),
            "IssueCommentEvent" => json!({
                "issue": render.issue(id, false),
                "comment": render.comment(issue, &issue.timeline[0]),
            }),
            "MemberEvent" => json!({ "member": actor }),
            "PullRequestEvent" => json!({ "number": n, "pull_request": render.pull_minimal(id) }),
            "PullRequestReviewEvent" => {
                let mut review = render.timeline_item(issue, &issue.timeline[1]);
                if let Value::Object(fields) = &mut review {
                    fields.remove("event");
                }
                json!({ "review": review, "pull_request": render.pull_minimal(id) })
            }
            "PullRequestReviewCommentEvent" => {
                let url = format!("{api}/pulls/comments/{id}");
                let html = format!("https://github.com/{full}/pull/{n}#discussion_r{id}");
                let pull_url = format!("{api}/pulls/{n}");
                let comment = json!({
                    "url": url,
                    "pull_request_review_id": id,
                    "id": id,
                    "node_id": node_id("PullRequestReviewComment", id),
                    "diff_hunk": "@@ -1,3 +1,4 @@\n fn main() {",
                    "path": "src/main.rs",
                    "position": 1,
                    "original_position": 1,
                    "subject_type": "line",
                    "commit_id": head,
                    "original_commit_id": head,
                    "user": actor,
                    "body": "Could this be a constant?",
                    "created_at": at,
                    "updated_at": at,
                    "html_url": html,
                    "pull_request_url": pull_url,
                    "author_association": association,
                    "_links": {
                        "self": {"href": url},
                        "html": {"href": html},
                        "pull_request": {"href": pull_url},
                    },
                    "reactions": reactions(&url),
                    "line": 1,
                    "original_line": 1,
                    "side": "RIGHT",
                });
                json!({ "comment": comment, "pull_request": render.pull_minimal(id) })
            }
            "CommitCommentEvent" => {
                let sha = derived_sha(&format!("event:{id}"));
                let url = format!("{api}/comments/{id}");
                json!({"comment": {
                    "html_url": format!("https://github.com/{full}/commit/{sha}#commitcomment-{id}"),
                    "url": url,
                    "id": id,
                    "node_id": node_id("CommitComment", id),
                    "body": "Nice catch.",
                    "path": null,
                    "position": null,
                    "line": null,
                    "commit_id": sha,
                    "user": actor,
                    "created_at": at,
                    "updated_at": at,
                    "author_association": association,
                    "reactions": reactions(&url),
                }})
            }
            "ReleaseEvent" => json!({ "release": render.release(id) }),
            "DiscussionEvent" => json!({ "discussion": self.discussion(event) }),
            _ => json!({}),
        }
    }

    /// What an event's payload is about, made up from the event itself since the feeds are
    /// generated apart from the activity: its repository and owner, its actor, a fork of the
    /// repository by the actor, and an issue (a pull request for `PullRequest*Event`) with one
    /// comment and one review, and a release, all by the actor when the event happened. Their
    /// ids are the event's id, so they are never mistaken for the graph's own.
    fn event_scene(&self, event: &FakeEvent) -> Graph {
        let (id, at) = (event.id, event.created_at);
        let actor = self
            .graph
            .users
            .get(&event.actor)
            .cloned()
            .unwrap_or_else(|| {
                let mut ghost = FakeUser::new(GHOST_ID, "ghost");
                ghost.name = Some("Deleted user".to_string());
                ghost
            });
        let repo = self.graph.repo(event.repo).clone();
        let owner = self.graph.user(repo.owner_id).clone();
        let number = (id - FIRST_EVENT_ID).rem_euclid(1000) + 1;
        let pull = event.kind.starts_with("PullRequest");
        let closed = event.action.as_deref() == Some("closed");
        let mut comment = FakeTimelineItem::new(Some(id), "commented", Some(actor.id), at);
        comment.body = Some("I can reproduce this.".to_string());
        let mut review = FakeTimelineItem::new(Some(id), "reviewed", Some(actor.id), at);
        review.state = Some("commented".to_string());
        review.sha = Some(derived_sha(&format!("head:{id}")));
        review.body = Some("One question inline.".to_string());
        let title = if pull {
            format!("Change number {number}")
        } else {
            format!("Problem number {number}")
        };
        let issue = FakeIssue {
            id,
            repo: repo.id,
            number,
            body: Some(format!("{title}.\n\nMore details in the description.")),
            title,
            author: actor.id,
            state: if closed { "closed" } else { "open" }.to_string(),
            state_reason: (closed && !pull).then(|| "completed".to_string()),
            labels: Vec::new(),
            assignees: Vec::new(),
            locked: false,
            created_at: at,
            updated_at: at,
            closed_at: closed.then_some(at),
            closed_by: closed.then_some(actor.id),
            pull: pull.then(|| FakePull::opened(id, number)),
            timeline: vec![comment, review],
        };
        let release = FakeRelease {
            id,
            repo: repo.id,
            tag_name: format!("v1.{number}.0"),
            name: Some(format!("Version 1.{number}.0")),
            body: Some(format!("Release 1.{number}.0.")),
            author: actor.id,
            created_at: at,
            published_at: Some(at),
            prerelease: false,
            draft: false,
        };
        let mut fork = repo.clone();
        fork.id = id;
        fork.owner_id = actor.id;
        fork.fork = true;
        (fork.created_at, fork.updated_at, fork.pushed_at) =
            (rfc3339(at), rfc3339(at), rfc3339(at));
        let mut scene = Graph::default();
        scene.activity.members = (self.graph.activity.members.iter())
            .filter(|&&(org, _)| org == owner.id)
            .copied()
            .collect();
        scene.users.insert(owner.id, owner);
        scene.users.insert(actor.id, actor);
        scene.repos.insert(repo.id, repo);
        scene.repos.insert(id, fork);
        scene.activity.issues.insert(id, issue);
        scene.activity.releases.insert(id, release);
        scene
    }

    /// A pull request as event payloads abbreviate it (`pull-request-minimal`).
    fn pull_minimal(&self, id: i64) -> Value {
        let issue = self.graph.issue(id);
        let repo = self.graph.repo(issue.repo);
        let api = self.repo_api(issue.repo);
        let head_ref = issue
            .pull
            .as_ref()
            .map_or("main", |pull| pull.head_ref.as_str());
        let base_sha = self
            .graph
            .commits_of(issue.repo)
            .last()
            .map_or_else(|| derived_sha(&format!("base:{id}")), |c| c.sha.clone());
        let side = |name: &str, sha: String| json!({"ref": name, "sha": sha, "repo": {"id": repo.id, "url": api, "name": repo.name}});
        json!({
            "id": issue.pull.as_ref().map_or(id, |pull| pull.id),
            "number": issue.number,
            "url": format!("{api}/pulls/{}", issue.number),
            "head": side(head_ref, self.graph.head_sha(id)),
            "base": side(&repo.default_branch, base_sha),
        })
    }

    /// The discussion of a `DiscussionEvent`: a question in `Q&A`, answered by the actor when
    /// the action is `answered`.
    fn discussion(&self, event: &FakeEvent) -> Value {
        let (id, at) = (event.id, rfc3339(event.created_at));
        let repo = self.graph.repo(event.repo);
        let full = self.graph.full_name(event.repo);
        let api = self.repo_api(event.repo);
        let number = (id - FIRST_EVENT_ID).rem_euclid(1000) + 1;
        let html = format!("https://github.com/{full}/discussions/{number}");
        let answered = event.action.as_deref() == Some("answered");
        let actor = self.person(event.actor);
        json!({
            "repository_url": api,
            "category": {
                "id": repo.id,
                "node_id": node_id("DiscussionCategory", repo.id),
                "repository_id": repo.id,
                "emoji": ":pray:",
                "name": "Q&A",
                "description": "Ask the community for help",
                "created_at": repo.created_at,
                "updated_at": repo.created_at,
                "slug": "q-a",
                "is_answerable": true,
            },
            "answer_html_url": answered.then(|| format!("{html}#discussioncomment-{id}")),
            "answer_chosen_at": answered.then(|| at.clone()),
            "answer_chosen_by": answered.then(|| actor.clone()),
            "html_url": html,
            "id": id,
            "node_id": node_id("Discussion", id),
            "number": number,
            "title": format!("How do I configure number {number}?"),
            "user": actor,
            "state": "open",
            "state_reason": null,
            "locked": false,
            "comments": u8::from(answered),
            "created_at": at,
            "updated_at": at,
            "author_association": self.author_association(event.repo, event.actor),
            "active_lock_reason": null,
            "body": "What is the recommended setup?",
            "reactions": reactions(&format!("{api}/discussions/{number}")),
            "timeline_url": format!("{api}/discussions/{number}/timeline"),
        })
    }
}

/// A reaction rollup with no reactions.
fn reactions(url: &str) -> Value {
    json!({
        "url": format!("{url}/reactions"),
        "total_count": 0,
        "+1": 0,
        "-1": 0,
        "laugh": 0,
        "hooray": 0,
        "confused": 0,
        "heart": 0,
        "rocket": 0,
        "eyes": 0,
    })
}

fn extend(value: &mut Value, more: Value) {
    if let (Value::Object(target), Value::Object(source)) = (value, more) {
        target.extend(source);
    }
}

/// A login as GitHub writes it in API URLs: `dependabot%5Bbot%5D` for `dependabot[bot]`.
fn login_in_url(login: &str) -> String {
    login.replace('[', "%5B").replace(']', "%5D")
}

/// A profile's page: `https://github.com/{login}`, or the app's page for a bot
/// (`https://github.com/apps/dependabot`).
fn profile_html_url(user: &FakeUser) -> String {
    match user.login.strip_suffix("[bot]") {
        Some(app) if user.kind == "Bot" => format!("https://github.com/apps/{app}"),
        _ => format!("https://github.com/{}", user.login),
    }
}

/// The URL templates of a repository object (`api`: its API URL), as GitHub lists them.
fn repo_url_templates(api: &str) -> Value {
    json!({
        "archive_url": format!("{api}/{{archive_format}}{{/ref}}"),
        "assignees_url": format!("{api}/assignees{{/user}}"),
        "blobs_url": format!("{api}/git/blobs{{/sha}}"),
        "branches_url": format!("{api}/branches{{/branch}}"),
        "collaborators_url": format!("{api}/collaborators{{/collaborator}}"),
        "comments_url": format!("{api}/comments{{/number}}"),
        "commits_url": format!("{api}/commits{{/sha}}"),
        "compare_url": format!("{api}/compare/{{base}}...{{head}}"),
        "contents_url": format!("{api}/contents/{{+path}}"),
        "deployments_url": format!("{api}/deployments"),
        "downloads_url": format!("{api}/downloads"),
        "events_url": format!("{api}/events"),
        "git_commits_url": format!("{api}/git/commits{{/sha}}"),
        "git_refs_url": format!("{api}/git/refs{{/sha}}"),
        "git_tags_url": format!("{api}/git/tags{{/sha}}"),
        "hooks_url": format!("{api}/hooks"),
        "issue_comment_url": format!("{api}/issues/comments{{/number}}"),
        "issue_events_url": format!("{api}/issues/events{{/number}}"),
        "issues_url": format!("{api}/issues{{/number}}"),
        "keys_url": format!("{api}/keys{{/key_id}}"),
        "labels_url": format!("{api}/labels{{/name}}"),
        "merges_url": format!("{api}/merges"),
        "milestones_url": format!("{api}/milestones{{/number}}"),
        "notifications_url": format!("{api}/notifications{{?since,all,participating}}"),
        "pulls_url": format!("{api}/pulls{{/number}}"),
        "releases_url": format!("{api}/releases{{/id}}"),
        "statuses_url": format!("{api}/statuses/{{sha}}"),
        "subscription_url": format!("{api}/subscription"),
        "tags_url": format!("{api}/tags"),
        "teams_url": format!("{api}/teams"),
        "trees_url": format!("{api}/git/trees{{/sha}}"),
    })
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
    fn fresh(limit: u32, window_secs: i64) -> Quota {
        Quota {
            limit,
            remaining: limit,
            used: 0,
            reset_epoch: now() + window_secs,
        }
    }

    /// A fresh window of `window_secs` once the reset time has passed.
    fn renew_if_expired(&mut self, window_secs: i64) {
        if now() >= self.reset_epoch {
            *self = Quota::fresh(self.limit, window_secs);
        }
    }

    fn spend(&mut self, units: u32) {
        self.remaining = self.remaining.saturating_sub(units);
        self.used += units;
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

/// The quota windows of one identity (a token, or anonymous).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub core: Quota,
    pub graphql: Quota,
}

impl Quotas {
    fn renew_if_expired(&mut self, window_secs: i64) {
        self.core.renew_if_expired(window_secs);
        self.graphql.renew_if_expired(window_secs);
    }

    fn of(&mut self, resource: &str) -> &mut Quota {
        if resource == "graphql" {
            &mut self.graphql
        } else {
            &mut self.core
        }
    }
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
    /// Points a `POST /graphql` cost (GitHub's rule); 0 for REST.
    pub graphql_points: u32,
    /// When the fake answered it.
    pub at: std::time::Instant,
}

impl LoggedRequest {
    /// The token that sent it, `""` for anonymous.
    pub fn token(&self) -> &str {
        token_of(self.authorization.as_deref())
    }
}

/// The token of an `Authorization` header (`Bearer x` or `token x`), `""` for none.
pub fn token_of(authorization: Option<&str>) -> &str {
    let value = authorization.unwrap_or_default().trim();
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .or_else(|| value.strip_prefix("token "))
        .unwrap_or(value)
        .trim()
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
    /// `core`, or `graphql` for `POST /graphql`.
    resource: &'static str,
    /// Units spent when it costs quota: 1 request, or a GraphQL query's points.
    units: u32,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            body: Some(value.to_string()),
            headers: Vec::new(),
            costs_quota: true,
            resource: "core",
            units: 1,
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
            resource: "core",
            units: 1,
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

    fn validation_failed(field: &str) -> Reply {
        let body = json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Search", "field": field, "code": "invalid"}],
            "documentation_url": NOT_FOUND_DOCS,
            "status": "422",
        });
        Reply::json(422, &body)
    }

    fn not_found() -> Reply {
        Reply::error(404, "Not Found", NOT_FOUND_DOCS)
    }

    /// GitHub's answer for a blocked repository: 451 with the DMCA notice, or 403 for a
    /// terms-of-service block (whose `block` names no notice).
    fn blocked(block: RepoBlock) -> Reply {
        match block {
            RepoBlock::Dmca => Reply::json(
                451,
                &json!({
                    "message": BLOCKED_MESSAGE,
                    "block": {"reason": "dmca", "created_at": DEFAULT_DATE, "html_url": DMCA_NOTICE},
                }),
            ),
            RepoBlock::Tos => Reply::json(
                403,
                &json!({
                    "message": BLOCKED_MESSAGE,
                    "block": {"reason": "tos", "created_at": DEFAULT_DATE},
                }),
            ),
        }
    }

    /// 410 for a deleted issue (`docs`: the endpoint's documentation).
    fn issue_deleted(docs: &str) -> Reply {
        let body = json!({
            "message": "This issue was deleted",
            "documentation_url": docs,
            "status": "410",
        });
        Reply::json(410, &body)
    }

    /// 204 with no body (GitHub's `stats/contributors` of an empty repository).
    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
            costs_quota: true,
            resource: "core",
            units: 1,
        }
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

    /// GitHub's secondary rate limit (abuse protection), with or without `Retry-After`.
    fn secondary_limit(status: u16, retry_after_secs: Option<u64>) -> Reply {
        let mut reply = Reply::error(status, SECONDARY_LIMIT_MESSAGE, SECONDARY_LIMIT_DOCS);
        if let Some(seconds) = retry_after_secs {
            reply.headers.push(("retry-after", seconds.to_string()));
        }
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
            } => Reply::secondary_limit(status, Some(retry_after_secs)),
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
            self.headers
                .retain(|(name, _)| matches!(*name, "etag" | "x-poll-interval"));
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
            .insert_header(("x-ratelimit-resource", self.resource))
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
    /// The request body (GraphQL queries).
    body: String,
}

impl Incoming {
    fn from_request(req: &HttpRequest, body: &[u8]) -> Incoming {
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
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// The token that sent it, `""` for anonymous.
    fn token(&self) -> &str {
        token_of(self.authorization.as_deref())
    }

    fn is_graphql(&self) -> bool {
        self.method == "POST" && self.path.trim_end_matches('/') == "/graphql"
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

    /// The first value of a query parameter.
    fn param(&self, key: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.into_owned())
    }

    /// A time parameter (`since`, `until`): `Err` with a 422 when it is not ISO 8601.
    fn time_param(&self, key: &str) -> Result<Option<i64>, Reply> {
        match self.param(key) {
            None => Ok(None),
            Some(text) => parse_time(&text)
                .map(Some)
                .ok_or_else(|| Reply::validation_failed(key)),
        }
    }

    /// `?` and the query string, or nothing.
    fn query_suffix(&self) -> String {
        if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        }
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
    /// Quota windows by token (`""`: anonymous), created from `template` on first use.
    quotas: BTreeMap<String, Quotas>,
    template: Quotas,
    log: Vec<LoggedRequest>,
    injected: VecDeque<Injected>,
    /// Failures for requests whose `path?query` contains the needle: (needle, status, times left).
    injected_matching: Vec<(String, u16, usize)>,
    latency: Duration,
    /// Bodies served instead of the graph's, by path (hostile or malformed payloads).
    overrides: BTreeMap<String, String>,
    /// `POST /graphql` answers 404, as from a REST-only GitHub stand-in.
    graphql_disabled: bool,
    /// GraphQL answers injected, and the queries received.
    graphql_side: graphql::Side,
    /// `X-Poll-Interval` of the event feeds, in seconds.
    poll_interval: u64,
    /// Events a feed holds (GitHub: 300).
    feed_depth: usize,
    /// Tokens under a secondary rate limit: every request they send (`/rate_limit`
    /// included) is refused until then.
    limited_tokens: BTreeMap<String, TokenLimit>,
    /// Length of the quota windows that begin when one resets (GitHub: an hour).
    window_secs: i64,
}

/// A secondary rate limit on one token.
#[derive(Clone, Copy, Debug)]
struct TokenLimit {
    until: std::time::Instant,
    /// Whether the refusal names the wait (`Retry-After`: the seconds left).
    retry_after: bool,
    status: u16,
}

impl State {
    /// The quota windows of a token, renewed if their reset time has passed.
    fn quotas_of(&mut self, token: &str) -> &mut Quotas {
        let (template, window_secs) = (self.template, self.window_secs);
        let quotas = self.quotas.entry(token.to_owned()).or_insert(template);
        quotas.renew_if_expired(window_secs);
        quotas
    }

    /// The status of a failure injected for this request's `path?query`, if one is left.
    fn matching_failure(&mut self, req: &Incoming) -> Option<u16> {
        let target = format!("{}?{}", req.path, req.query);
        let (_, status, left) = self
            .injected_matching
            .iter_mut()
            .find(|(needle, _, left)| *left > 0 && target.contains(needle.as_str()))?;
        *left -= 1;
        Some(*status)
    }

    /// Answers one request: injected failures, quota, routing, ETags, then bookkeeping.
    fn answer(&mut self, req: &Incoming) -> HttpResponse {
        let token = req.token().to_owned();
        let core_left = self.quotas_of(&token).core.remaining;
        let now = std::time::Instant::now();
        let limit = self
            .limited_tokens
            .get(&token)
            .copied()
            .filter(|limit| limit.until > now);
        let reply = if let Some(limit) = limit {
            let left = limit.until.duration_since(now).as_secs_f64().ceil() as u64;
            Reply::secondary_limit(limit.status, limit.retry_after.then_some(left))
        } else if req.is_rate_limit() {
            let mut reply = self.rate_limit(&token);
            reply.costs_quota = false;
            reply
        } else if let Some(injected) = self.injected.pop_front() {
            Reply::injected(injected)
        } else if let Some(status) = self.matching_failure(req) {
            Reply::injected(Injected::Error(status))
        } else if req.is_graphql() && self.graphql_disabled {
            Reply::not_found()
        } else if req.is_graphql() {
            let graphql_left = self.quotas_of(&token).graphql.remaining;
            self.graphql(req, graphql_left)
        } else if core_left == 0 {
            Reply::rate_limited(&req.ip)
        } else if let Some(body) = self.overrides.get(&req.path) {
            Reply::raw_ok(body.clone())
        } else {
            self.route(req)
        };
        let reply = reply.conditional(req.if_none_match.as_deref());
        let quota = self.quotas_of(&token).of(reply.resource);
        if reply.costs_quota {
            quota.spend(reply.units);
        }
        let quota = *quota;
        self.log.push(LoggedRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            status: reply.status,
            if_none_match: req.if_none_match.clone(),
            authorization: req.authorization.clone(),
            costs_quota: reply.costs_quota,
            graphql_points: if reply.resource == "graphql" && reply.costs_quota {
                reply.units
            } else {
                0
            },
            at: now,
        });
        reply.into_response(&quota, self.log.len())
    }

    fn rate_limit(&mut self, token: &str) -> Reply {
        let quotas = *self.quotas_of(token);
        let core = quotas.core.json("core");
        let search = Quota {
            limit: 30,
            remaining: 30,
            used: 0,
            reset_epoch: quotas.core.reset_epoch,
        };
        Reply::ok(&json!({
            "resources": {
                "core": core,
                "search": search.json("search"),
                "graphql": quotas.graphql.json("graphql"),
            },
            "rate": core,
        }))
    }

    fn route(&mut self, req: &Incoming) -> Reply {
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
            ["orgs", login, list] => self.org_list(req, login, list),
            ["events"] => self.events_feed(req, None),
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
    fn repo_by_name(&mut self, req: &Incoming, owner: &str, name: &str, rest: &[&str]) -> Reply {
        if let Some(id) = self.graph.repo_id(owner, name) {
            return self.repo(req, Some(id), rest);
        }
        let Some(id) = self.graph.redirected_repo(owner, name) else {
            return Reply::not_found();
        };
        let suffix: String = rest.iter().map(|segment| format!("/{segment}")).collect();
        let query = req.query_suffix();
        Reply::moved(format!("{}/repositories/{id}{suffix}{query}", self.base))
    }

    fn repo(&mut self, req: &Incoming, repo: Option<i64>, rest: &[&str]) -> Reply {
        let Some(repo) = repo else {
            return Reply::not_found();
        };
        if let Some(&block) = self.graph.blocks.get(&repo) {
            return Reply::blocked(block);
        }
        if matches!(rest, ["stats", "contributors"]) {
            return self.contributors(repo);
        }
        let render = self.render();
        match rest {
            [] => Reply::ok(&render.full_repo(repo)),
            ["stargazers"] => self.page(req, self.graph.stargazers(repo), |id| {
                render.simple_user(id)
            }),
            ["events"] => self.events_feed(req, Some(repo)),
            ["issues"] => self.issues(req, repo),
            ["issues", number, tail @ ..] => self.issue(req, repo, number, tail),
            ["pulls", number] => number
                .parse()
                .ok()
                .and_then(|number| self.graph.issue_id(repo, number))
                .and_then(|id| render.pull(id))
                .map_or_else(Reply::not_found, |pull| Reply::ok(&pull)),
            ["commits"] => self.commits(req, repo),
            ["releases"] => {
                let mut releases = self.graph.releases_of(repo);
                releases.sort_by_key(|release| Reverse((release.created_at, release.id)));
                let ids = releases.iter().map(|release| release.id).collect();
                self.page(req, ids, |id| render.release(id))
            }
            _ => Reply::not_found(),
        }
    }

    /// `/repos/{o}/{r}/issues`: issues and pull requests, filtered, sorted and paged like GitHub.
    fn issues(&self, req: &Incoming, repo: i64) -> Reply {
        let param = |key: &str, default: &str, allowed: &[&str]| {
            let value = req.param(key).unwrap_or_else(|| default.to_string());
            if allowed.contains(&value.as_str()) {
                Ok(value)
            } else {
                Err(Reply::validation_failed(key))
            }
        };
        let checked = (
            param("state", "open", &["open", "closed", "all"]),
            param("sort", "created", &["created", "updated", "comments"]),
            param("direction", "desc", &["asc", "desc"]),
            req.time_param("since"),
        );
        let (state, sort, direction, since) = match checked {
            (Ok(state), Ok(sort), Ok(direction), Ok(since)) => (state, sort, direction, since),
            (Err(reply), ..) | (_, Err(reply), ..) | (_, _, Err(reply), _) | (.., Err(reply)) => {
                return reply;
            }
        };
        let labels: Vec<String> = req
            .param("labels")
            .map(|labels| {
                labels
                    .split(',')
                    .map(str::trim)
                    .filter(|label| !label.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut issues: Vec<&FakeIssue> = self
            .graph
            .issues_of(repo)
            .into_iter()
            .filter(|issue| state == "all" || issue.state == state)
            .filter(|issue| since.is_none_or(|since| issue.updated_at >= since))
            .filter(|issue| {
                labels.iter().all(|wanted| {
                    issue
                        .labels
                        .iter()
                        .any(|label| label.eq_ignore_ascii_case(wanted))
                })
            })
            .collect();
        issues.sort_by_key(|issue| {
            let key = match sort.as_str() {
                "updated" => issue.updated_at,
                "comments" => i64::try_from(issue.comments()).unwrap_or(i64::MAX),
                _ => issue.created_at,
            };
            (key, issue.number)
        });
        if direction == "desc" {
            issues.reverse();
        }
        let render = self.render();
        let ids = issues.iter().map(|issue| issue.id).collect();
        self.page(req, ids, |id| render.issue(id, false))
    }

    /// `/repos/{o}/{r}/issues/{n}...`: the issue, its timeline or comments; 301 to where a
    /// transferred issue is now.
    fn issue(&self, req: &Incoming, repo: i64, number: &str, tail: &[&str]) -> Reply {
        let Ok(number) = number.parse::<i64>() else {
            return Reply::not_found();
        };
        if self.graph.activity.deleted_issues.contains(&(repo, number)) {
            return Reply::issue_deleted(match tail {
                ["timeline"] => TIMELINE_DOCS,
                ["comments"] => COMMENTS_DOCS,
                _ => ISSUE_DOCS,
            });
        }
        let Some(id) = self.graph.issue_id(repo, number) else {
            let Some(&moved) = self.graph.activity.issue_redirects.get(&(repo, number)) else {
                return Reply::not_found();
            };
            let target = self.graph.issue(moved);
            let suffix: String = tail.iter().map(|segment| format!("/{segment}")).collect();
            return Reply::moved(format!(
                "{}/repositories/{}/issues/{}{suffix}{}",
                self.base,
                target.repo,
                target.number,
                req.query_suffix()
            ));
        };
        let render = self.render();
        let issue = self.graph.issue(id);
        match tail {
            [] => Reply::ok(&render.issue(id, true)),
            ["timeline"] => self.page(req, issue.timeline.iter().collect(), |item| {
                render.timeline_item(issue, item)
            }),
            ["comments"] => self.page(req, issue.items("commented").collect(), |item| {
                render.comment(issue, item)
            }),
            _ => Reply::not_found(),
        }
    }

    /// `/repos/{o}/{r}/commits`: newest first by committer date, `since`/`until` inclusive;
    /// 409 for a repository without commits, as on GitHub.
    fn commits(&self, req: &Incoming, repo: i64) -> Reply {
        if self.graph.commits_of(repo).is_empty() {
            let body = json!({
                "message": "Git Repository is empty.",
                "documentation_url": COMMITS_DOCS,
                "status": "409",
            });
            return Reply::json(409, &body);
        }
        let (since, until) = match (req.time_param("since"), req.time_param("until")) {
            (Ok(since), Ok(until)) => (since, until),
            (Err(reply), _) | (_, Err(reply)) => return reply,
        };
        let mut commits = self.graph.commits_of(repo);
        commits.reverse();
        commits.sort_by_key(|commit| Reverse(commit.committed_at));
        commits.retain(|commit| {
            since.is_none_or(|since| commit.committed_at >= since)
                && until.is_none_or(|until| commit.committed_at <= until)
        });
        let render = self.render();
        self.page(req, commits, |commit| render.commit(commit))
    }

    /// `stats/contributors`: 202 while GitHub "computes" (the first request for a repository
    /// with commits, the first after `stats_computing`), then 200; 204 without a body for a
    /// repository without commits.
    fn contributors(&mut self, repo: i64) -> Reply {
        if self.graph.take_stats_computing(repo) {
            return Reply::json(202, &json!({}));
        }
        if self.graph.commits_of(repo).is_empty() {
            return Reply::no_content();
        }
        Reply::ok(&self.render().contributors(repo))
    }

    /// `/orgs/{org}/members` and `/orgs/{org}/repos`; 404 when `org` is no organization.
    fn org_list(&self, req: &Incoming, login: &str, list: &str) -> Reply {
        let Some(org) = self
            .graph
            .user_id(login)
            .filter(|&id| self.graph.user(id).kind == "Organization")
        else {
            return Reply::not_found();
        };
        let render = self.render();
        match list {
            "members" => self.page(req, self.graph.members(org), |id| render.simple_user(id)),
            "repos" => self.page(req, self.graph.owned_repos(org), |id| render.repo(id)),
            _ => Reply::not_found(),
        }
    }

    /// `/events` or `/repos/{o}/{r}/events`: the newest 300 events, newest first, in pages
    /// with `Link`, 422 past the last page, `X-Poll-Interval` on every answer (304s too).
    fn events_feed(&self, req: &Incoming, repo: Option<i64>) -> Reply {
        let feed: Vec<&FakeEvent> = self
            .graph
            .events
            .iter()
            .rev()
            .filter(|event| repo.is_none_or(|repo| event.repo == repo))
            .take(self.feed_depth)
            .collect();
        let (per_page, page) = req.paging();
        let last = feed.len().div_ceil(per_page).max(1);
        let mut reply = if page > last {
            Reply::json(
                422,
                &json!({"message": FEED_PAGINATION_MESSAGE, "documentation_url": NOT_FOUND_DOCS, "status": "422"}),
            )
        } else {
            let render = self.render();
            self.page(req, feed, |event| render.event(event))
        };
        reply
            .headers
            .push(("x-poll-interval", self.poll_interval.to_string()));
        reply
    }

    /// One page of a list (in the order given) with GitHub's `Link` header when there are
    /// several pages.
    fn page<T>(&self, req: &Incoming, items: Vec<T>, render: impl Fn(T) -> Value) -> Reply {
        let (per_page, page) = req.paging();
        let last = items.len().div_ceil(per_page).max(1);
        let items: Vec<Value> = items
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
async fn serve_request(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Shared>,
) -> HttpResponse {
    let incoming = Incoming::from_request(&req, &body);
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
            quotas: BTreeMap::new(),
            template: Quotas {
                core: Quota::fresh(5000, WINDOW_SECS),
                graphql: Quota::fresh(5000, WINDOW_SECS),
            },
            log: Vec::new(),
            injected: VecDeque::new(),
            injected_matching: Vec::new(),
            latency: Duration::ZERO,
            overrides: BTreeMap::new(),
            graphql_disabled: false,
            graphql_side: graphql::Side::default(),
            poll_interval: DEFAULT_POLL_INTERVAL_SECS,
            feed_depth: FEED_DEPTH,
            limited_tokens: BTreeMap::new(),
            window_secs: WINDOW_SECS,
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

    /// How many logged requests cost quota (REST requests and GraphQL queries).
    pub fn quota_spent(&self) -> usize {
        self.state()
            .log
            .iter()
            .filter(|request| request.costs_quota)
            .count()
    }

    /// GraphQL points spent by every logged request.
    pub fn graphql_points(&self) -> u64 {
        self.state()
            .log
            .iter()
            .map(|request| u64::from(request.graphql_points))
            .sum()
    }

    /// Sets the core window of every identity (those seen so far and those to come); `used`
    /// becomes `limit - remaining`.
    pub fn set_quota(&self, limit: u32, remaining: u32, reset_epoch: i64) {
        let quota = Quota {
            limit,
            remaining,
            used: limit.saturating_sub(remaining),
            reset_epoch,
        };
        let mut state = self.state();
        state.template.core = quota;
        for quotas in state.quotas.values_mut() {
            quotas.core = quota;
        }
    }

    /// How long the quota windows that begin from now on last (GitHub: an hour): when a
    /// window's reset time passes, the next request starts a fresh one of this length.
    /// The current window keeps its reset time (`set_quota` sets it).
    pub fn set_window(&self, window: Duration) {
        self.state().window_secs = i64::try_from(window.as_secs().max(1)).unwrap_or(i64::MAX);
    }

    /// Sets one window (`core` or `graphql`) of one token (`""`: anonymous).
    pub fn set_token_quota(
        &self,
        token: &str,
        resource: &str,
        limit: u32,
        remaining: u32,
        reset_epoch: i64,
    ) {
        let mut state = self.state();
        let quota = state.quotas_of(token).of(resource);
        *quota = Quota {
            limit,
            remaining,
            used: limit.saturating_sub(remaining),
            reset_epoch,
        };
    }

    /// The core window as the next request sees it (renewed if its reset time has passed):
    /// of the one identity that sent requests, or of anonymous.
    pub fn quota(&self) -> Quota {
        let mut state = self.state();
        let token = match state.quotas.keys().collect::<Vec<_>>().as_slice() {
            [only] => (*only).clone(),
            _ => String::new(),
        };
        state.quotas_of(&token).core
    }

    /// One window (`core` or `graphql`) of one token, renewed if its reset time has passed.
    pub fn token_quota(&self, token: &str, resource: &str) -> Quota {
        *self.state().quotas_of(token).of(resource)
    }

    /// From now on `POST /graphql` answers 404, like a GitHub stand-in that serves REST only.
    pub fn disable_graphql(&self) {
        self.state().graphql_disabled = true;
    }

    /// The next `n` API requests (not `/rate_limit`) answer `status` with a JSON error, costing
    /// no quota.
    pub fn fail_next(&self, n: usize, status: u16) {
        let injected = std::iter::repeat_n(Injected::Error(status), n);
        self.state().injected.extend(injected);
    }

    /// The next `n` requests whose `path?query` contains `needle` answer `status` with a JSON
    /// error, costing no quota (a failure in the middle of a walk).
    pub fn fail_matching(&self, needle: &str, n: usize, status: u16) {
        self.state()
            .injected_matching
            .push((needle.to_owned(), status, n));
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

    /// Puts `token` (`""`: anonymous) under a secondary rate limit for `duration` from now:
    /// every request it sends, `/rate_limit` included, answers `status` (403 or 429) with
    /// GitHub's message, and `Retry-After` (the seconds left) when `retry_after` is set.
    pub fn secondary_limit_token(
        &self,
        token: &str,
        duration: Duration,
        retry_after: bool,
        status: u16,
    ) {
        let limit = TokenLimit {
            until: std::time::Instant::now() + duration,
            retry_after,
            status,
        };
        self.state().limited_tokens.insert(token.to_owned(), limit);
    }

    /// Serves `body` (any text, valid JSON or not) with 200 for GETs of `path` from now on.
    pub fn override_body(&self, path: &str, body: impl Into<String>) {
        self.state().overrides.insert(path.to_owned(), body.into());
    }

    /// How many events a feed holds from now on (GitHub: 300), e.g. a deeper one to see
    /// that the poller stops at 300 by itself.
    pub fn set_feed_depth(&self, events: usize) {
        self.state().feed_depth = events;
    }

    /// The `X-Poll-Interval` the event feeds send from now on (GitHub: 60).
    pub fn set_poll_interval(&self, seconds: u64) {
        self.state().poll_interval = seconds;
    }

    /// Requests for an event feed (`/events` or `/repos/{o}/{r}/events`) received so far.
    pub fn feed_requests(&self) -> Vec<LoggedRequest> {
        self.state()
            .log
            .iter()
            .filter(|request| request.path.trim_end_matches('/').ends_with("/events"))
            .cloned()
            .collect()
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
