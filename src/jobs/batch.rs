//! `graphql_profile_batch(usernames)`: first syncs of never-synced developers through
//! GitHub's GraphQL API, many developers per query.
//!
//! One aliased query ([`batch_query`]) asks, for every login, the profile and the first
//! page (100) of followers, following, starred and owned repositories, and the gist count:
//! 5 connections per developer, so 29 developers (145 requests, rounded) cost one point
//! where REST spends at least 145 requests. Relations longer than a page continue over
//! GraphQL cursors ([`continuation_query`]), up to 100 continuations per query (one point).
//! What is stored equals what `full_profile_sync` stores (the payloads become the REST
//! types), except the three repository fields GraphQL does not have (see `github::graphql`).
//! Organizations (`user` would be null for them) are synced over REST; a login that no
//! longer exists is marked gone; neither costs the rest of the batch.
//!
//! GitHub's failure answers (SPEC-3 section 0): `RATE_LIMITED` defers the task until the
//! identity's `graphql` quota resets. A query too heavy to run (502, 504, a timeout) is
//! split in halves and each half asked again, down to single developers (or single
//! continuations); a developer whose query still fails alone goes to REST. Whatever sends
//! developers to REST instead — the whole batch when GitHub refuses the document
//! (`invalid_query`) or has no usable `/graphql` (`unavailable`, a 404 or 401), one
//! developer after splits (`timeout`), anything else (`error`: another status, an answer
//! that does not parse, an error other than `NOT_FOUND` for one developer) — enqueues a
//! `full_profile_sync` for each, counts them in `gitomatic_graphql_fallbacks_total{reason}`
//! and leaves the succeeded task a note in its `error` saying why.

use async_trait::async_trait;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::developers;
use crate::db::queries::relations::{self, Relation};
use crate::domain::GithubLogin;
use crate::github::error::GraphqlRefusal;
use crate::github::graphql::{
    self, ACCOUNT_FIELDS, Answer, Connection, GqlAccount, GqlRepository, GqlUser, GraphqlError,
    PAGE, PAGE_INFO, PROFILE_FIELDS, REPOSITORY_FIELDS, literal,
};
use crate::github::types::{Repository, SimpleUser};
use crate::github::{GithubError, RequestStats, Resource};
use crate::jobs::crawl::{Listed, store_repositories};
use crate::jobs::{
    ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError, profile, store,
};
use crate::metrics::GRAPHQL_FALLBACKS;

/// Connections asked per developer in a batch query: four relations and the gist count.
const CONNECTIONS_PER_DEVELOPER: u64 = 5;
/// Continuations (one connection page each) per query: 100 requests make one point.
const CONTINUATIONS_PER_QUERY: usize = 100;

/// `graphql_profile_batch(usernames)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphqlProfileBatch {
    /// The developers' logins (1-100).
    pub usernames: Vec<GithubLogin>,
}

const USERNAMES: ArgSpec = ArgSpec {
    name: "usernames",
    description: "GitHub logins separated by commas (1-100)",
    example: "octocat,monalisa",
    required: true,
};

#[async_trait]
impl BackgroundJob for GraphqlProfileBatch {
    const NAME: &'static str = "graphql_profile_batch";
    const DESCRIPTION: &'static str = "First syncs of several developers over GitHub's GraphQL API: profiles and every page of followers, following, starred and owned repositories, many developers per query.";
    const ARGS: &'static [ArgSpec] = &[USERNAMES];
    const CLAIMS_LOGINS: Option<fn(&Self) -> &[GithubLogin]> = Some(|batch| &batch.usernames);

    fn parse(args: &mut Args) -> Result<Self, TaskRequestError> {
        let text = args.required_text(
            "usernames",
            "Missing usernames. Provide GitHub logins separated by commas",
        )?;
        let usernames = text
            .split(',')
            .map(str::trim)
            .filter(|login| !login.is_empty())
            .map(|login| GithubLogin::parse(login).map_err(TaskRequestError::Invalid))
            .collect::<Result<Vec<_>, _>>()?;
        if usernames.is_empty() || usernames.len() > 100 {
            return Err(TaskRequestError::Invalid(
                "usernames must list 1 to 100 GitHub logins".into(),
            ));
        }
        Ok(Self { usernames })
    }

    /// The logins, lower-cased and sorted: the same batch in another order is identical.
    fn dedupe_key(&self) -> String {
        let mut logins: Vec<String> = self
            .usernames
            .iter()
            .map(|login| login.as_str().to_lowercase())
            .collect();
        logins.sort();
        logins.dedup();
        logins.join(",")
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let points = first_query_points(self.usernames.len());
        run.ctx
            .github
            .ensure_quota_of(Resource::Graphql, points)
            .await?;
        let handed = match sync_batch(run.ctx, run.stats, &self.usernames).await {
            Ok(handed) => handed,
            // GraphQL is no use for this batch (a refused document, a GitHub or stand-in
            // without `/graphql`): its developers go to REST instead of failing with it.
            Err(JobError::Github(error)) => match Fallback::of(&error) {
                Some(reason) => {
                    tracing::warn!(%error, developers = self.usernames.len(),
                        reason = reason.label(),
                        "GraphQL unusable: the batch's developers are handed to full_profile_sync");
                    let detail = error.to_string();
                    self.usernames
                        .iter()
                        .map(|login| Handed {
                            login: login.clone(),
                            reason,
                            detail: detail.clone(),
                        })
                        .collect()
                }
                None => return Err(JobError::Github(error)),
            },
            Err(other) => return Err(other),
        };
        hand_to_rest(run.ctx, &handed, self.usernames.len()).await
    }
}

/// Why developers of a batch went to REST: the `reason` of
/// `gitomatic_graphql_fallbacks_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// GitHub refused the document (a 200 with errors and no data).
    InvalidQuery,
    /// No usable `/graphql` (404 or 401).
    Unavailable,
    /// The query of this one developer still failed after the batch was split.
    Timeout,
    /// Anything else (another status, an answer that does not parse, an error for the
    /// developer's part of the answer).
    Error,
}

impl Fallback {
    /// Every reason, in the order a task's note lists them.
    pub const ALL: [Fallback; 4] = [
        Fallback::InvalidQuery,
        Fallback::Unavailable,
        Fallback::Timeout,
        Fallback::Error,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Fallback::InvalidQuery => "invalid_query",
            Fallback::Unavailable => "unavailable",
            Fallback::Timeout => "timeout",
            Fallback::Error => "error",
        }
    }

    /// The reason to hand a whole batch to REST after `error`, or `None` when waiting is
    /// the cure (quota, outages: the task is deferred as any other).
    fn of(error: &GithubError) -> Option<Self> {
        match error {
            GithubError::GraphqlRefused {
                refusal: GraphqlRefusal::Invalid,
                ..
            } => Some(Fallback::InvalidQuery),
            GithubError::GraphqlRefused {
                refusal: GraphqlRefusal::TooHeavy,
                ..
            } => Some(Fallback::Timeout),
            GithubError::NotFound { .. }
            | GithubError::Status {
                status: 401 | 404, ..
            } => Some(Fallback::Unavailable),
            GithubError::Status { .. } | GithubError::Payload { .. } => Some(Fallback::Error),
            _ => None,
        }
    }
}

/// A developer of the batch handed to `full_profile_sync`, and why.
#[derive(Clone, Debug)]
struct Handed {
    login: GithubLogin,
    reason: Fallback,
    /// GitHub's words (or the error) behind the reason.
    detail: String,
}

/// Enqueues a `full_profile_sync` for every handed developer, counts them by reason, and
/// says so in the task's note.
async fn hand_to_rest(
    ctx: &AppContext,
    handed: &[Handed],
    developers: usize,
) -> Result<Outcome, JobError> {
    if handed.is_empty() {
        return Ok(Outcome::Succeeded);
    }
    for developer in handed {
        let task = crate::jobs::FullProfileSync {
            username: developer.login.clone(),
        }
        .to_task()?;
        crate::jobs::enqueue::enqueue(ctx, &task).await?;
    }
    let mut groups = Vec::new();
    for reason in Fallback::ALL {
        let group: Vec<&Handed> = handed.iter().filter(|h| h.reason == reason).collect();
        let Some(first) = group.first() else {
            continue;
        };
        ctx.metrics
            .count(&GRAPHQL_FALLBACKS, [reason.label()], group.len() as f64);
        let logins: Vec<&str> = group.iter().map(|h| h.login.as_str()).collect();
        groups.push(format!(
            "{} ({}): {}",
            reason.label(),
            logins.join(", "),
            first.detail
        ));
    }
    Ok(Outcome::SucceededWithNote(format!(
        "{} of {developers} developers handed to full_profile_sync (REST) instead of GraphQL; {}",
        handed.len(),
        groups.join("; ")
    )))
}

/// Points of the first query of a batch of `developers`.
pub fn first_query_points(developers: usize) -> u32 {
    let developers = u64::try_from(developers).unwrap_or(u64::MAX);
    graphql::points(developers.saturating_mul(CONNECTIONS_PER_DEVELOPER))
}

/// The relation a continuation follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    /// `followers`.
    Followers,
    /// `following`.
    Following,
    /// `starredRepositories`.
    Starred,
    /// `repositories` the developer owns.
    Owned,
}

impl List {
    /// Every relation, in the order the first query asks them.
    pub const ALL: [List; 4] = [List::Followers, List::Following, List::Starred, List::Owned];

    /// The connection as asked in a query, `after` a cursor or from the start.
    fn connection(self, after: Option<&str>) -> String {
        let after = after.map_or_else(String::new, |cursor| {
            format!(", after: {}", literal(cursor))
        });
        match self {
            List::Followers => {
                format!(
                    "followers(first: {PAGE}{after}) {{ {PAGE_INFO} nodes {{ {ACCOUNT_FIELDS} }} }}"
                )
            }
            List::Following => {
                format!(
                    "following(first: {PAGE}{after}) {{ {PAGE_INFO} nodes {{ {ACCOUNT_FIELDS} }} }}"
                )
            }
            List::Starred => format!(
                "starredRepositories(first: {PAGE}{after}) {{ {PAGE_INFO} nodes {{ {REPOSITORY_FIELDS} }} }}"
            ),
            List::Owned => format!(
                "repositories(first: {PAGE}{after}, ownerAffiliations: OWNER, privacy: PUBLIC) \
                 {{ {PAGE_INFO} nodes {{ {REPOSITORY_FIELDS} }} }}"
            ),
        }
    }

    fn field(self) -> &'static str {
        match self {
            List::Followers => "followers",
            List::Following => "following",
            List::Starred => "starredRepositories",
            List::Owned => "repositories",
        }
    }
}

/// One developer's relations as they are read, page after page.
struct Gathered {
    /// The login as the batch names it.
    login: GithubLogin,
    user: GqlUser,
    followers: Vec<SimpleUser>,
    following: Vec<SimpleUser>,
    starred: Vec<Repository>,
    owned: Vec<Repository>,
    /// Lists with more pages: the cursor to continue after.
    pending: Vec<(List, String)>,
    /// Handed to REST (a continuation failed): not stored from GraphQL.
    handed: bool,
}

impl Gathered {
    fn new(login: GithubLogin, user: GqlUser) -> Self {
        let accounts = |c: &Connection<GqlAccount>| -> Vec<SimpleUser> {
            c.nodes
                .iter()
                .cloned()
                .map(GqlAccount::into_simple)
                .collect()
        };
        let repositories = |c: &Connection<GqlRepository>| -> Vec<Repository> {
            c.nodes
                .iter()
                .cloned()
                .map(GqlRepository::into_rest)
                .collect()
        };
        let mut gathered = Self {
            followers: accounts(&user.followers),
            following: accounts(&user.following),
            starred: repositories(&user.starred_repositories),
            owned: repositories(&user.repositories),
            pending: Vec::new(),
            handed: false,
            login,
            user,
        };
        for (list, info) in [
            (List::Followers, &gathered.user.followers.page_info),
            (List::Following, &gathered.user.following.page_info),
            (List::Starred, &gathered.user.starred_repositories.page_info),
            (List::Owned, &gathered.user.repositories.page_info),
        ] {
            if let (true, Some(cursor)) = (info.has_next_page, info.end_cursor.clone()) {
                gathered.pending.push((list, cursor));
            }
        }
        gathered
    }

    /// Adds a continuation page of `list`.
    fn extend(&mut self, list: List, page: &Value, url: &str) -> Result<(), GithubError> {
        let info: graphql::PageInfo = decode(url, page.get("pageInfo"))?;
        match list {
            List::Followers | List::Following => {
                let nodes: Vec<GqlAccount> = decode(url, page.get("nodes"))?;
                let target = if list == List::Followers {
                    &mut self.followers
                } else {
                    &mut self.following
                };
                target.extend(nodes.into_iter().map(GqlAccount::into_simple));
            }
            List::Starred | List::Owned => {
                let nodes: Vec<GqlRepository> = decode(url, page.get("nodes"))?;
                let target = if list == List::Starred {
                    &mut self.starred
                } else {
                    &mut self.owned
                };
                target.extend(nodes.into_iter().map(GqlRepository::into_rest));
            }
        }
        if let (true, Some(cursor)) = (info.has_next_page, info.end_cursor) {
            self.pending.push((list, cursor));
        }
        Ok(())
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    url: &str,
    value: Option<&Value>,
) -> Result<T, GithubError> {
    serde_json::from_value(value.cloned().unwrap_or(Value::Null)).map_err(|error| {
        GithubError::Payload {
            url: url.to_owned(),
            message: format!("unexpected GraphQL answer: {error}"),
        }
    })
}

/// The first query of a batch: each login under its alias `u<i>`, as a `RepositoryOwner`
/// (an organization answers its `__typename` only, a missing login `null`).
pub fn batch_query(logins: &[GithubLogin]) -> String {
    let mut query = String::from("query {\n  rateLimit { cost remaining resetAt }\n");
    let relations: Vec<String> = List::ALL.iter().map(|list| list.connection(None)).collect();
    for (index, login) in logins.iter().enumerate() {
        query.push_str(&format!(
            "  u{index}: repositoryOwner(login: {}) {{ __typename ... on User {{ {PROFILE_FIELDS} {} gists(privacy: PUBLIC) {{ totalCount }} }} }}\n",
            literal(login.as_str()),
            relations.join(" "),
        ));
    }
    query.push('}');
    query
}

/// One page to continue: `list` of the user `login`, after the cursor `after`.
#[derive(Clone, Copy, Debug)]
pub struct Continuation<'a> {
    /// The user's login.
    pub login: &'a str,
    /// The relation.
    pub list: List,
    /// The `endCursor` of the page before.
    pub after: &'a str,
}

/// A query of continuation pages, each under its alias `c<n>`.
pub fn continuation_query(pages: &[Continuation<'_>]) -> String {
    let mut query = String::from("query {\n");
    for (n, page) in pages.iter().enumerate() {
        query.push_str(&format!(
            "  c{n}: user(login: {}) {{ {} }}\n",
            literal(page.login),
            page.list.connection(Some(page.after)),
        ));
    }
    query.push('}');
    query
}

/// Sends the query `build` makes of `items` (its text and points); a part GitHub finds too
/// heavy is halved and each half sent again. Returns every part that was answered, with
/// its answer, and the items that failed alone, with GitHub's words.
async fn ask_in_parts<T>(
    ctx: &AppContext,
    stats: &RequestStats,
    items: Vec<T>,
    build: impl Fn(&[T]) -> (String, u32),
) -> Result<(Vec<(Vec<T>, Answer)>, Vec<(T, String)>), JobError> {
    let mut parts = vec![items];
    let mut answered = Vec::new();
    let mut failed = Vec::new();
    while let Some(mut part) = parts.pop() {
        let (query, points) = build(&part);
        match ctx.github.graphql(stats, &query, points).await {
            Ok(answer) => answered.push((part, answer)),
            Err(GithubError::GraphqlRefused {
                refusal: GraphqlRefusal::TooHeavy,
                message,
                ..
            }) => {
                tracing::info!(items = part.len(), %message,
                    "GraphQL query too heavy for GitHub: asking again in halves");
                if part.len() <= 1 {
                    failed.extend(part.into_iter().map(|item| (item, message.clone())));
                } else {
                    let second = part.split_off(part.len() / 2);
                    // Last in, first out: the first half is asked first.
                    parts.push(second);
                    parts.push(part);
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok((answered, failed))
}

/// Syncs every developer of the batch (see the module documentation); returns those
/// handed to REST on the way.
async fn sync_batch(
    ctx: &AppContext,
    stats: &RequestStats,
    logins: &[GithubLogin],
) -> Result<Vec<Handed>, JobError> {
    let url = ctx.github.url("/graphql");
    let (answered, failed) = ask_in_parts(ctx, stats, logins.to_vec(), |part| {
        (batch_query(part), first_query_points(part.len()))
    })
    .await?;
    let mut handed: Vec<Handed> = failed
        .into_iter()
        .map(|(login, message)| Handed {
            detail: format!("GitHub could not answer the query for {login} alone: {message}"),
            login,
            reason: Fallback::Timeout,
        })
        .collect();
    let mut gathered = Vec::new();
    let mut organizations = Vec::new();
    for (part, answer) in &answered {
        tracing::debug!(developers = part.len(), cost = ?answer.cost, "GraphQL batch answered");
        for (index, login) in part.iter().enumerate() {
            let alias = format!("u{index}");
            match answer.data.get(&alias) {
                None | Some(Value::Null) => match answer.error_at(&alias) {
                    Some(error) if error.kind.as_deref() != Some("NOT_FOUND") => {
                        handed.push(Handed {
                            login: login.clone(),
                            reason: Fallback::Error,
                            detail: format!("GitHub's error for {login}: {}", error.message),
                        });
                    }
                    error => gone(ctx, error, login).await?,
                },
                Some(owner) if owner.get("__typename").and_then(Value::as_str) == Some("User") => {
                    gathered.push(Gathered::new(login.clone(), decode(&url, Some(owner))?));
                }
                Some(_) => organizations.push(login.clone()),
            }
        }
    }
    handed.extend(continue_pages(ctx, stats, &url, &mut gathered).await?);
    for developer in gathered.iter().filter(|developer| !developer.handed) {
        store_developer(ctx, developer).await?;
    }
    for login in organizations {
        // An organization has no followers or stars over GraphQL: REST syncs it as a user.
        let stored = developers::find_by_login(&mut *ctx.conn().await?, login.as_str()).await?;
        match profile::sync(ctx, stats, &login, stored).await {
            Ok(()) => {}
            Err(JobError::Github(GithubError::NotFound { .. })) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(handed)
}

/// A login GraphQL did not resolve: marked gone, the rest of the batch goes on.
async fn gone(
    ctx: &AppContext,
    error: Option<&GraphqlError>,
    login: &GithubLogin,
) -> Result<(), JobError> {
    let reason = error.map_or("no answer", |error| error.message.as_str());
    tracing::info!(developer.login = %login, %reason, "GraphQL batch: developer not found; marked gone");
    developers::mark_gone(&mut *ctx.conn().await?, login.as_str()).await?;
    Ok(())
}

/// Follows every pending cursor, up to 100 continuations per query, until all lists are
/// read; returns the developers handed to REST because a continuation of theirs failed
/// alone.
async fn continue_pages(
    ctx: &AppContext,
    stats: &RequestStats,
    url: &str,
    gathered: &mut [Gathered],
) -> Result<Vec<Handed>, JobError> {
    let logins: Vec<String> = gathered.iter().map(|d| d.user.login.clone()).collect();
    let mut handed = Vec::new();
    loop {
        let mut wanted: Vec<(usize, List, String)> = Vec::new();
        for (index, developer) in gathered.iter_mut().enumerate() {
            let pending = std::mem::take(&mut developer.pending);
            if !developer.handed {
                wanted.extend(
                    pending
                        .into_iter()
                        .map(|(list, cursor)| (index, list, cursor)),
                );
            }
        }
        if wanted.is_empty() {
            return Ok(handed);
        }
        for chunk in wanted.chunks(CONTINUATIONS_PER_QUERY) {
            let (answered, failed) = ask_in_parts(ctx, stats, chunk.to_vec(), |part| {
                let pages: Vec<Continuation<'_>> = part
                    .iter()
                    .map(|(index, list, cursor)| Continuation {
                        login: &logins[*index],
                        list: *list,
                        after: cursor,
                    })
                    .collect();
                let requests = u64::try_from(pages.len()).unwrap_or(u64::MAX);
                (continuation_query(&pages), graphql::points(requests))
            })
            .await?;
            for (part, answer) in answered {
                for (n, (index, list, _)) in part.into_iter().enumerate() {
                    let page = answer
                        .data
                        .get(format!("c{n}"))
                        .and_then(|user| user.get(list.field()))
                        .ok_or_else(|| GithubError::Payload {
                            url: url.to_owned(),
                            message: format!(
                                "no {} page for {} in the GraphQL answer",
                                list.field(),
                                logins[index]
                            ),
                        })?;
                    gathered[index].extend(list, page, url)?;
                }
            }
            for ((index, list, _), message) in failed {
                let developer = &mut gathered[index];
                if !developer.handed {
                    developer.handed = true;
                    handed.push(Handed {
                        login: developer.login.clone(),
                        reason: Fallback::Timeout,
                        detail: format!(
                            "GitHub could not answer the next page of {}'s {} alone: {message}",
                            developer.login,
                            list.field()
                        ),
                    });
                }
            }
        }
    }
}

/// Times a developer's store transaction is tried when PostgreSQL picks it as a deadlock's
/// victim (against a REST sync's statements; batches do not deadlock each other).
const STORE_TRIES: u32 = 3;

/// Stores one developer as `full_profile_sync` would: profile, listed accounts and
/// repositories, the four relations, then `last_synced_at` — in one transaction.
///
/// The transaction locks rows of many developers (the one stored, everyone it lists, the
/// owners of its repositories, the edge counts of both ends) statement after statement, so
/// it cannot lock them in one global order: two batches storing developers who list each
/// other would lock A then B and B then A. Such transactions therefore take one
/// transaction-scoped advisory lock first and run one at a time (the GitHub queries, the
/// slow part, still run in parallel); a deadlock's victim is rolled back whole and tried
/// again here, rather than the whole batch (and its GraphQL queries) running again.
async fn store_developer(ctx: &AppContext, developer: &Gathered) -> Result<(), JobError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match store_developer_once(ctx, developer).await {
            Err(JobError::Database(error)) if error.is_transient() && tries < STORE_TRIES => {
                tracing::warn!(%error, login = %developer.login, tries,
                    "batch: storing a developer failed; trying again");
            }
            other => return other,
        }
    }
}

async fn store_developer_once(ctx: &AppContext, developer: &Gathered) -> Result<(), JobError> {
    let profile = developer.user.profile();
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, DbError, _>(async |conn| {
        developers::lock_for_multi_statement_store(conn).await?;
        let id = developers::upsert_profile(conn, &store::profile(&profile, None)).await?;
        SimpleUser::store_page(conn, &developer.followers).await?;
        SimpleUser::store_page(conn, &developer.following).await?;
        store_repositories(conn, &developer.starred, None).await?;
        store_repositories(conn, &developer.owned, None).await?;
        let ids = |users: &[SimpleUser]| users.iter().map(|u| u.id).collect::<Vec<_>>();
        let repo_ids = |repos: &[Repository]| repos.iter().map(|r| r.id).collect::<Vec<_>>();
        relations::replace(conn, Relation::Followers, id, &ids(&developer.followers)).await?;
        relations::replace(conn, Relation::Following, id, &ids(&developer.following)).await?;
        relations::replace(conn, Relation::Starred, id, &repo_ids(&developer.starred)).await?;
        relations::retire_unlisted_repositories(conn, id, &repo_ids(&developer.owned)).await?;
        developers::mark_synced(conn, id).await
    })
    .await?;
    Ok(())
}
