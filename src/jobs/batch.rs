//! `graphql_profile_batch(usernames)`: first syncs of never-synced developers through
//! GitHub's GraphQL API, many developers per query.
//!
//! One aliased query asks, for every login, the profile and the first page (100) of
//! followers, following, starred and owned repositories, and the gist count: 5 connections
//! per developer, so 29 developers (145 requests, rounded) cost one point where REST spends
//! at least 145 requests. Relations longer than a
//! page continue over GraphQL cursors, up to 100 continuations per query (one point). What
//! is stored equals what `full_profile_sync` stores (the payloads become the REST types),
//! except the three repository fields GraphQL does not have (see `github::graphql`).
//! Organizations (`user` would be null for them) are synced over REST; a login that no
//! longer exists is marked gone; neither costs the rest of the batch.

use async_trait::async_trait;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::developers;
use crate::db::queries::relations::{self, Relation};
use crate::domain::GithubLogin;
use crate::github::graphql::{
    self, ACCOUNT_FIELDS, Answer, Connection, GqlAccount, GqlRepository, GqlUser, PAGE, PAGE_INFO,
    PROFILE_FIELDS, REPOSITORY_FIELDS, literal,
};
use crate::github::types::{Repository, SimpleUser};
use crate::github::{GithubError, RequestStats, Resource};
use crate::jobs::crawl::{Listed, store_repositories};
use crate::jobs::{
    ArgSpec, Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError, profile, store,
};

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
        match sync_batch(run.ctx, run.stats, &self.usernames).await {
            Ok(()) => Ok(Outcome::Succeeded),
            // A GitHub (or a stand-in) without a usable GraphQL endpoint: the developers
            // go to REST instead of failing with the batch, every time.
            Err(JobError::Github(
                error @ (GithubError::NotFound { .. }
                | GithubError::Status { .. }
                | GithubError::Payload { .. }),
            )) => {
                tracing::warn!(%error, developers = self.usernames.len(),
                    "GraphQL unusable: the batch's developers are handed to full_profile_sync");
                for username in &self.usernames {
                    let task = crate::jobs::FullProfileSync {
                        username: username.clone(),
                    }
                    .to_task()?;
                    crate::jobs::enqueue::enqueue(run.ctx, &task).await?;
                }
                Ok(Outcome::Succeeded)
            }
            Err(other) => Err(other),
        }
    }
}

/// Points of the first query of a batch of `developers`.
pub fn first_query_points(developers: usize) -> u32 {
    let developers = u64::try_from(developers).unwrap_or(u64::MAX);
    graphql::points(developers.saturating_mul(CONNECTIONS_PER_DEVELOPER))
}

/// The relation a continuation follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum List {
    Followers,
    Following,
    Starred,
    Owned,
}

impl List {
    const ALL: [List; 4] = [List::Followers, List::Following, List::Starred, List::Owned];

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
    user: GqlUser,
    followers: Vec<SimpleUser>,
    following: Vec<SimpleUser>,
    starred: Vec<Repository>,
    owned: Vec<Repository>,
    /// Lists with more pages: the cursor to continue after.
    pending: Vec<(List, String)>,
}

impl Gathered {
    fn new(user: GqlUser) -> Self {
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

/// The first query of a batch: each login under its alias `u<i>`.
fn batch_query(logins: &[GithubLogin]) -> String {
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

/// Syncs every developer of the batch; see the module documentation.
async fn sync_batch(
    ctx: &AppContext,
    stats: &RequestStats,
    logins: &[GithubLogin],
) -> Result<(), JobError> {
    let url = ctx.github.url("/graphql");
    let answer = ctx
        .github
        .graphql(
            stats,
            &batch_query(logins),
            first_query_points(logins.len()),
        )
        .await?;
    tracing::debug!(developers = logins.len(), cost = ?answer.cost, "GraphQL batch answered");
    let mut gathered = Vec::new();
    let mut organizations = Vec::new();
    for (index, login) in logins.iter().enumerate() {
        let alias = format!("u{index}");
        match answer.data.get(&alias) {
            None | Some(Value::Null) => gone(ctx, &answer, &alias, login).await?,
            Some(owner) if owner.get("__typename").and_then(Value::as_str) == Some("User") => {
                gathered.push(Gathered::new(decode(&url, Some(owner))?));
            }
            Some(_) => organizations.push(login.clone()),
        }
    }
    continue_pages(ctx, stats, &url, &mut gathered).await?;
    for developer in &gathered {
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
    Ok(())
}

/// A login GraphQL did not resolve: marked gone, the rest of the batch goes on.
async fn gone(
    ctx: &AppContext,
    answer: &Answer,
    alias: &str,
    login: &GithubLogin,
) -> Result<(), JobError> {
    let reason = answer
        .error_at(alias)
        .map_or("no answer", |error| error.message.as_str());
    tracing::info!(developer.login = %login, %reason, "GraphQL batch: developer not found; marked gone");
    developers::mark_gone(&mut *ctx.conn().await?, login.as_str()).await?;
    Ok(())
}

/// Follows every pending cursor, up to 100 continuations per query, until all lists are read.
async fn continue_pages(
    ctx: &AppContext,
    stats: &RequestStats,
    url: &str,
    gathered: &mut [Gathered],
) -> Result<(), JobError> {
    loop {
        let mut wanted: Vec<(usize, List, String)> = Vec::new();
        for (index, developer) in gathered.iter_mut().enumerate() {
            for (list, cursor) in developer.pending.drain(..) {
                wanted.push((index, list, cursor));
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        for chunk in wanted.chunks(CONTINUATIONS_PER_QUERY) {
            let mut query = String::from("query {\n");
            for (n, (index, list, cursor)) in chunk.iter().enumerate() {
                query.push_str(&format!(
                    "  c{n}: user(login: {}) {{ {} }}\n",
                    literal(&gathered[*index].user.login),
                    list.connection(Some(cursor)),
                ));
            }
            query.push('}');
            let points = graphql::points(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
            let answer = ctx.github.graphql(stats, &query, points).await?;
            for (n, (index, list, _)) in chunk.iter().enumerate() {
                let page = answer
                    .data
                    .get(format!("c{n}"))
                    .and_then(|user| user.get(list.field()))
                    .ok_or_else(|| GithubError::Payload {
                        url: url.to_owned(),
                        message: format!(
                            "no {} page for {} in the GraphQL answer",
                            list.field(),
                            gathered[*index].user.login
                        ),
                    })?;
                gathered[*index].extend(*list, page, url)?;
            }
        }
    }
}

/// Stores one developer as `full_profile_sync` would: profile, listed accounts and
/// repositories, the four relations, then `last_synced_at` — in one transaction.
async fn store_developer(ctx: &AppContext, developer: &Gathered) -> Result<(), JobError> {
    let profile = developer.user.profile();
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, DbError, _>(async |conn| {
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
