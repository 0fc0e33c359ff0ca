//! `GithubClient`: the one client every GitHub request goes through. It owns the request
//! pipeline (quota reservation, pacing, retries, secondary-limit pauses — see
//! the `pipeline` module) over the identity pool and its ledger, and offers the typed
//! requests the jobs make: conditional REST GETs, list pages, GraphQL queries and the
//! throttle check.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::db::Pool;
use crate::domain::{GithubLogin, RepoName};
use crate::github::error::GithubError;
use crate::github::graphql::{self, Answer};
use crate::github::headers;
use crate::github::identity::{Identity, Settings};
use crate::github::ledger::{Ledger, Resource};
use crate::github::paging::{self, BeyondFullPage, Conditional, ListPage, PER_PAGE};
use crate::github::pipeline::Pipeline;
use crate::github::rest;
use crate::github::types::{GithubId, Repository, User};
use crate::metrics::Metrics;

pub use crate::github::identity::identity_label;
pub use crate::github::pipeline::{ClientOptions, RequestStats};
pub use crate::github::rest::Fetched;
pub use crate::github::types::parse;

/// The GitHub client of a process: one identity per configured token, each request sent
/// by the identity with the most quota left above its reserve.
pub struct GithubClient {
    pipeline: Pipeline,
}

impl GithubClient {
    /// A client configured from GITHUB_API_URL, GITHUB_TOKENS / GITHUB_TOKEN,
    /// GITHUB_QUOTA_RESERVE, GITHUB_GRAPHQL_RESERVE and GITHUB_MAX_RPS; `ledger_db` is the
    /// pool of its quota ledger (the application's builds it with
    /// [`crate::db::with_asynchronous_commit`]).
    pub fn new(
        config: &Config,
        ledger_db: Pool,
        metrics: Arc<Metrics>,
    ) -> Result<Self, GithubError> {
        Self::with_options(config, ledger_db, metrics, ClientOptions::default())
    }

    /// A client with explicit tunables (tests shorten the backoff); it feeds `metrics`.
    pub fn with_options(
        config: &Config,
        ledger_db: Pool,
        metrics: Arc<Metrics>,
        options: ClientOptions,
    ) -> Result<Self, GithubError> {
        let base_url = config
            .github_api_url
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let tokens: Vec<Option<&SecretString>> = if config.github_tokens.is_empty() {
            vec![None]
        } else {
            config.github_tokens.iter().map(Some).collect()
        };
        let settings = Settings {
            connect_timeout: options.connect_timeout,
            read_timeout: options.read_timeout,
            max_concurrency: options.max_concurrency,
            max_rps: config.github_max_rps,
        };
        let identities = tokens
            .into_iter()
            .map(|token| Identity::new(&base_url, token, &settings))
            .collect::<Result<Vec<_>, _>>()?;
        let ledger = Ledger::new(
            identities,
            config.github_quota_reserve,
            config.github_graphql_reserve,
            ledger_db,
        );
        Ok(Self {
            pipeline: Pipeline::new(base_url, ledger, options, metrics),
        })
    }

    /// The label of the pool's first identity (the only one with a single token):
    /// `anonymous` or `token:<8 hex>`.
    pub fn identity(&self) -> &str {
        &self.identities()[0]
    }

    /// The labels of every identity of the pool, in configuration order.
    pub fn identities(&self) -> &[String] {
        self.pipeline.ledger().labels()
    }

    /// Whether the pool has at least one token (GitHub answers GraphQL only to tokens).
    pub fn authenticated(&self) -> bool {
        self.identities().iter().all(|label| label != "anonymous")
    }

    /// The absolute URL of an API path (`/users/octocat`).
    pub fn url(&self, path: &str) -> String {
        self.pipeline.url(path)
    }

    /// The URL of a list's first page, e.g. `/users/octocat/followers`.
    pub fn first_page_url(&self, path: &str) -> String {
        self.url(&format!("{path}?per_page={PER_PAGE}"))
    }

    /// Requests made by this client since it was built.
    pub fn total(&self) -> &RequestStats {
        self.pipeline.total()
    }

    /// A conditional GET of a quota-costing resource, with retries; counts into `stats`.
    pub async fn get(
        &self,
        stats: &RequestStats,
        url: &str,
        etag: Option<&str>,
    ) -> Result<Fetched, GithubError> {
        Ok(rest::fetch(&self.pipeline, stats, url, etag).await?.0)
    }

    /// A conditional GET of an event feed: what [`GithubClient::get`] answers, with the
    /// `X-Poll-Interval` GitHub asks the poller to wait before the next poll (on a 304 too).
    pub async fn poll(
        &self,
        stats: &RequestStats,
        url: &str,
        etag: Option<&str>,
    ) -> Result<(Fetched, Option<Duration>), GithubError> {
        let (fetched, headers) = rest::fetch(&self.pipeline, stats, url, etag).await?;
        Ok((fetched, headers::poll_interval(&headers)))
    }

    /// `GET /users/{login}`, conditional on the stored ETag.
    pub async fn fetch_user(
        &self,
        stats: &RequestStats,
        login: &GithubLogin,
        etag: Option<&str>,
    ) -> Result<Conditional<User>, GithubError> {
        let url = self.url(&format!("/users/{login}"));
        let what = || format!("GitHub user {login}");
        paging::fetch_one(&self.pipeline, stats, &url, etag, what).await
    }

    /// `GET /repos/{owner}/{name}`, conditional on the stored ETag; follows a rename or transfer.
    pub async fn fetch_repository(
        &self,
        stats: &RequestStats,
        owner: &GithubLogin,
        name: &RepoName,
        etag: Option<&str>,
    ) -> Result<Conditional<Repository>, GithubError> {
        let url = self.url(&format!("/repos/{owner}/{name}"));
        let what = || format!("GitHub repository {owner}/{name}");
        paging::fetch_one(&self.pipeline, stats, &url, etag, what).await
    }

    /// Fetches one list page, sending the remembered ETag.
    pub async fn list_page<T: DeserializeOwned + GithubId>(
        &self,
        stats: &RequestStats,
        url: &str,
        what: &str,
        beyond: BeyondFullPage,
    ) -> Result<ListPage<T>, GithubError> {
        paging::list_page(&self.pipeline, stats, url, what, beyond).await
    }

    /// Sends a GraphQL query priced at `points`, with retries; counts it into `stats`.
    ///
    /// GitHub's failure answers come back typed: `RATE_LIMITED` marks the identity's
    /// `graphql` quota spent until its reset in the ledger (so no process sends from it
    /// before) and is `QuotaExhausted`; a refused document or a query too heavy to run
    /// (502, 504, a timeout) is [`GithubError::GraphqlRefused`], never retried as it is.
    pub async fn graphql(
        &self,
        stats: &RequestStats,
        query: &str,
        points: u32,
    ) -> Result<Answer, GithubError> {
        graphql::query(&self.pipeline, stats, query, points).await
    }

    /// The throttle check before a job: refreshes missing or expired readings (free), then
    /// fails with `QuotaReserve` if `needed` core requests would touch the reserve of every
    /// identity, or with `SecondaryLimit` while every identity is paused.
    pub async fn ensure_quota(&self, needed: u32) -> Result<(), GithubError> {
        self.ensure_quota_of(Resource::Core, needed).await
    }

    /// [`GithubClient::ensure_quota`] for any resource (GraphQL points for batch jobs).
    /// Identities paused by a secondary rate limit are left out: they are neither read
    /// (`/rate_limit` is a request too) nor counted.
    pub async fn ensure_quota_of(
        &self,
        resource: Resource,
        needed: u32,
    ) -> Result<(), GithubError> {
        self.pipeline.ensure_quota_of(resource, needed).await
    }

    /// Reads `GET /rate_limit` (costs no quota) of every identity into the ledger.
    /// Paused identities are skipped: they send nothing until their pause ends.
    pub async fn refresh_rate_limit(&self) -> Result<(), GithubError> {
        self.pipeline.refresh_rate_limit().await
    }
}
