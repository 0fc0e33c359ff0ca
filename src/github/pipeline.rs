//! The GitHub request pipeline: every request — a REST page, a GraphQL query, a
//! `GET /rate_limit` reading — goes through [`Pipeline::exchange`], the one request loop:
//!
//! 1. pick the identity: reserve the request's cost on the identity with the most quota left
//!    (waiting out a short pause of every identity), or the given identity for a request
//!    that costs no quota;
//! 2. send it, paced and bounded per identity, unless a secondary-limit pause holds it;
//! 3. settle: record the answer's rate-limit headers and release the reservation;
//! 4. count it ([`RequestStats`], metrics);
//! 5. handle what every caller handles alike: a transport failure or a 5xx is sent again
//!    after a backoff, a secondary rate limit pauses the identity and the request goes
//!    again (by another identity, or by this one once the pause is over), a spent quota is
//!    `QuotaExhausted`.
//!
//! Every other answer goes back to the caller — the REST and GraphQL interpreters and the
//! ledger's readings — which makes of it what its API means.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use http::{HeaderMap, StatusCode};
use rand::Rng;

use crate::github::error::GithubError;
use crate::github::headers;
use crate::github::identity::{Identity, Request};
use crate::github::ledger::{Ledger, Resource};
use crate::github::types::parse;
use crate::metrics::Metrics;

/// Slack after a pause's end before sending again, so the first request is not early.
const PAUSE_MARGIN: Duration = Duration::from_millis(50);

/// Tunables of the client; the defaults suit api.github.com.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Retries of a transient failure (5xx, timeout, connection error).
    pub max_retries: u32,
    /// First backoff delay; doubled on each retry, plus up to 50 % jitter.
    pub retry_base: Duration,
    /// Longest secondary-limit pause waited out in place (when every identity is paused);
    /// longer ones defer the job.
    pub max_retry_after: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Read timeout of a response.
    pub read_timeout: Duration,
    /// Requests in flight at once per identity.
    pub max_concurrency: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            max_retries: 4,
            retry_base: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_concurrency: 8,
        }
    }
}

/// Requests counted for one task (or for the whole client).
#[derive(Debug, Default)]
pub struct RequestStats {
    requests: AtomicU32,
    not_modified: AtomicU32,
    graphql_points: AtomicU32,
}

impl RequestStats {
    /// Responses that cost quota (everything but 304 Not Modified).
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// 304 Not Modified answers, which cost no quota.
    pub fn not_modified(&self) -> u32 {
        self.not_modified.load(Ordering::Relaxed)
    }

    /// GraphQL points reserved by the queries sent (each query also counts as a request).
    pub fn graphql_points(&self) -> u32 {
        self.graphql_points.load(Ordering::Relaxed)
    }

    /// Counts an answered request that reserved `cost` units of `resource`.
    fn count(&self, resource: Resource, cost: u32, status: StatusCode) {
        match resource {
            Resource::Graphql => {
                self.requests.fetch_add(1, Ordering::Relaxed);
                if status.is_success() {
                    self.graphql_points.fetch_add(cost, Ordering::Relaxed);
                }
            }
            Resource::Core if status == StatusCode::NOT_MODIFIED => {
                self.not_modified.fetch_add(1, Ordering::Relaxed);
            }
            Resource::Core => {
                self.requests.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Who sends a request and what it costs.
#[derive(Clone, Copy)]
pub(crate) enum Payer<'a> {
    /// Reserve `cost` units of `resource` on the identity with the most left; the answer is
    /// counted into `stats`.
    Reserve {
        /// The quota spent.
        resource: Resource,
        /// Units reserved (1 for REST, the query's points for GraphQL).
        cost: u32,
        /// The task's counters.
        stats: &'a RequestStats,
    },
    /// This identity, for a request that costs no quota (`GET /rate_limit`): nothing is
    /// reserved or counted, and a refusal is never for quota.
    Free(&'a Identity),
}

impl Payer<'_> {
    fn reserved(self) -> Option<(Resource, u32)> {
        match self {
            Payer::Reserve { resource, cost, .. } => Some((resource, cost)),
            Payer::Free(_) => None,
        }
    }
}

/// One request through the pipeline.
pub(crate) struct Call<'a> {
    /// Who sends it.
    pub(crate) payer: Payer<'a>,
    /// What is sent.
    pub(crate) request: Request<'a>,
    /// Answers the caller interprets itself that the pipeline would otherwise handle
    /// (GraphQL's 502/504 mean "too heavy", a 403 may be a blocked repository).
    pub(crate) keeps: fn(StatusCode, &str) -> bool,
}

/// The final answer to a call, for the caller to interpret.
pub(crate) struct Exchange<'a> {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
    /// The identity that sent it.
    pub(crate) identity: &'a Identity,
}

/// The request loop over the identity pool and its ledger.
pub(crate) struct Pipeline {
    base_url: String,
    ledger: Ledger,
    options: ClientOptions,
    metrics: Arc<Metrics>,
    total: RequestStats,
}

impl Pipeline {
    /// The pipeline of `ledger`'s identities against `base_url` (no trailing slash).
    pub(crate) fn new(
        base_url: String,
        ledger: Ledger,
        options: ClientOptions,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            base_url,
            ledger,
            options,
            metrics,
            total: RequestStats::default(),
        }
    }

    /// The absolute URL of an API path (`/users/octocat`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// The ledger of the pool's identities.
    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Requests sent since the pipeline was built.
    pub(crate) fn total(&self) -> &RequestStats {
        &self.total
    }

    /// Sends `call` until it has an answer for the caller (see the module's steps).
    pub(crate) async fn exchange<'a>(
        &'a self,
        call: Call<'a>,
    ) -> Result<Exchange<'a>, GithubError> {
        let url = call.request.url();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let identity = match call.payer {
                Payer::Reserve { resource, cost, .. } => self.reserve(resource, cost).await?,
                Payer::Free(identity) => identity,
            };
            let sent = self.send(identity, call.request).await;
            let headers = sent.as_ref().ok().map(|(_, headers, _)| headers);
            self.ledger
                .settle(identity, call.payer.reserved(), headers)
                .await?;
            let (status, headers, body) = match sent {
                Ok(answer) => answer,
                Err(GithubError::Unavailable { message, .. }) => {
                    self.backoff_or_fail(attempt, message).await?;
                    continue;
                }
                Err(paused @ GithubError::SecondaryLimit { .. }) => {
                    self.retry_elsewhere(call.payer, attempt, paused)?;
                    continue;
                }
                Err(other) => return Err(other),
            };
            if let Payer::Reserve {
                resource,
                cost,
                stats,
            } = call.payer
            {
                stats.count(resource, cost, status);
                self.total.count(resource, cost, status);
            }
            if !(call.keeps)(status, &body) {
                match status {
                    StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
                        let refusal = (status, url, &headers, body.as_str());
                        self.wait_out_limit(call.payer, identity, attempt, refusal)
                            .await?;
                        continue;
                    }
                    s if s.is_server_error() => {
                        self.backoff_or_fail(attempt, format!("{status} from {url}"))
                            .await?;
                        continue;
                    }
                    _ => {}
                }
            }
            return Ok(Exchange {
                status,
                headers,
                body,
                identity,
            });
        }
    }

    /// Sends one request as `identity` once it has a slot and its pacer allows, unless a
    /// secondary-limit pause holds the identity.
    async fn send(
        &self,
        identity: &Identity,
        request: Request<'_>,
    ) -> Result<(StatusCode, HeaderMap, String), GithubError> {
        let asked = Instant::now();
        let _slot = identity.slot().await?;
        self.ledger.admit(identity, asked.elapsed()).await?;
        let url = request.url();
        identity
            .send(request, |status, headers| {
                self.observe(identity, url, status, headers);
            })
            .await
    }

    /// Counts a response in the metrics and the debug log.
    fn observe(&self, identity: &Identity, url: &str, status: StatusCode, headers: &HeaderMap) {
        let quota = headers::rate_limit(headers);
        // A response without rate-limit headers is charged to core, as the ledger does.
        let resource = quota
            .as_ref()
            .map_or(Resource::Core.name(), |q| q.resource.as_str());
        self.metrics.github_response(resource, status.as_u16());
        tracing::debug!(
            http.url = %url,
            http.status = status.as_u16(),
            github.identity = %identity.label(),
            github.remaining = ?quota.as_ref().map(|o| o.remaining),
            "GitHub request"
        );
    }

    /// Handles a 403/429: the quota is exhausted (an error carrying the reset), or GitHub's
    /// secondary rate limit, which pauses `identity` for every worker process (see
    /// [`Ledger::pause`]); the request is then sent again — by another identity, or by this
    /// one once the pause is over — unless the retries are spent or the identity was given
    /// (`Payer::Free`). Any other 403 is an error with GitHub's message.
    async fn wait_out_limit(
        &self,
        payer: Payer<'_>,
        identity: &Identity,
        attempt: u32,
        (status, url, headers, body): (StatusCode, &str, &HeaderMap, &str),
    ) -> Result<(), GithubError> {
        let exhausted = headers::rate_limit(headers).filter(|o| o.remaining == 0);
        if let (Payer::Reserve { .. }, Some(observed)) = (payer, exhausted) {
            return Err(GithubError::QuotaExhausted {
                reset: observed.reset,
            });
        }
        let Some(retry_after) = secondary_limit(headers, body) else {
            return Err(GithubError::status(status, url, body));
        };
        let wait = self.ledger.pause(identity, retry_after).await?;
        tracing::warn!(
            http.url = %url,
            http.status = status.as_u16(),
            github.identity = %identity.label(),
            pause_s = wait.as_secs(),
            "GitHub secondary rate limit: the identity is paused"
        );
        self.retry_elsewhere(
            payer,
            attempt,
            GithubError::SecondaryLimit { retry_after: wait },
        )
    }

    /// After a request was refused by a pause: try again (the pool picks an identity that is
    /// not paused, or waits the pause out), unless the retries are spent or the request
    /// must go from the paused identity.
    fn retry_elsewhere(
        &self,
        payer: Payer<'_>,
        attempt: u32,
        paused: GithubError,
    ) -> Result<(), GithubError> {
        match payer {
            Payer::Reserve { .. } if attempt <= self.options.max_retries => Ok(()),
            _ => Err(paused),
        }
    }

    /// Sleeps before retrying a transient failure, or gives up after the last retry.
    async fn backoff_or_fail(&self, attempt: u32, message: String) -> Result<(), GithubError> {
        if attempt > self.options.max_retries {
            return Err(GithubError::Unavailable {
                attempts: attempt,
                message,
            });
        }
        let base = self.options.retry_base * 2u32.saturating_pow(attempt - 1);
        let jitter = base.mul_f64(rand::thread_rng().gen_range(0.0..0.5));
        tracing::warn!(%message, attempt, delay_ms = (base + jitter).as_millis() as u64, "GitHub request failed; retrying");
        tokio::time::sleep(base + jitter).await;
        Ok(())
    }

    /// Reserves `cost` units of `resource` on the identity with the most quota left above
    /// its reserve and no secondary-limit pause, refreshing stale readings first;
    /// `QuotaReserve` when every identity is at its reserve. When every identity is paused,
    /// a pause ending within `max_retry_after` is waited out here; a longer one is
    /// `SecondaryLimit` (the job defers).
    async fn reserve(&self, resource: Resource, cost: u32) -> Result<&Identity, GithubError> {
        let mut checks = 0;
        loop {
            if let Some(identity) = self.ledger.try_reserve(resource, cost).await? {
                return Ok(identity);
            }
            if checks == 3 {
                let reset = self.ledger.earliest_reset(resource).await?;
                return Err(GithubError::QuotaReserve { reset });
            }
            checks += 1;
            // Nobody has room: every identity paused, a stale reading, or every reserve reached.
            match self.ensure_quota_of(resource, cost).await {
                Err(GithubError::SecondaryLimit { retry_after })
                    if retry_after <= self.options.max_retry_after =>
                {
                    tracing::info!(
                        wait_s = retry_after.as_secs(),
                        "every GitHub identity is paused by a secondary rate limit: waiting"
                    );
                    tokio::time::sleep(retry_after + PAUSE_MARGIN).await;
                    checks = 0;
                }
                other => other?,
            }
        }
    }

    /// The throttle check before a job: refreshes missing or expired readings (free), then
    /// fails with `QuotaReserve` if `needed` units of `resource` would touch the reserve of
    /// every identity, or with `SecondaryLimit` while every identity is paused. Identities
    /// paused by a secondary rate limit are left out: they are neither read (`/rate_limit`
    /// is a request too) nor counted.
    pub(crate) async fn ensure_quota_of(
        &self,
        resource: Resource,
        needed: u32,
    ) -> Result<(), GithubError> {
        let mut standing = self.ledger.standing(resource).await?;
        if !standing.stale.is_empty() {
            for identity in std::mem::take(&mut standing.stale) {
                // Boxed: a reading goes through the pipeline, which may come back here.
                match Box::pin(self.refresh_identity(identity)).await {
                    // Paused by the reading itself: the others are asked again without it.
                    Ok(()) | Err(GithubError::SecondaryLimit { .. }) => {}
                    Err(other) => return Err(other),
                }
            }
            standing = self.ledger.standing(resource).await?;
        }
        self.ledger
            .judge(&standing, resource, needed, &self.url("/rate_limit"))
    }

    /// Reads `GET /rate_limit` (costs no quota) of every identity into the ledger.
    /// Paused identities are skipped: they send nothing until their pause ends.
    pub(crate) async fn refresh_rate_limit(&self) -> Result<(), GithubError> {
        let live = match self.ledger.unpaused().await {
            Ok(live) => live,
            Err(GithubError::SecondaryLimit { .. }) => return Ok(()),
            Err(other) => return Err(other),
        };
        for identity in live {
            self.refresh_identity(identity).await?;
        }
        Ok(())
    }

    /// Reads `GET /rate_limit` of one identity into the ledger.
    async fn refresh_identity(&self, identity: &Identity) -> Result<(), GithubError> {
        let url = self.url("/rate_limit");
        let call = Call {
            payer: Payer::Free(identity),
            request: Request::Get {
                url: &url,
                etag: None,
            },
            keeps: |_, _| false,
        };
        let Exchange {
            status,
            headers,
            body,
            ..
        } = self.exchange(call).await?;
        if !status.is_success() {
            return Err(GithubError::status(status, &url, &body));
        }
        self.ledger
            .record_reading(identity, parse(&url, &body)?)
            .await?;
        tracing::debug!(
            github.identity = %identity.label(),
            github.remaining = ?headers::rate_limit(&headers).map(|o| o.remaining),
            "refreshed the GitHub rate limit"
        );
        Ok(())
    }
}

/// Whether a 403/429 is GitHub's secondary rate limit: `Some` with its `Retry-After` (if
/// any) when it is. GitHub names it in the message ("You have exceeded a secondary rate
/// limit...") and may or may not send `Retry-After`.
fn secondary_limit(headers: &HeaderMap, body: &str) -> Option<Option<Duration>> {
    let retry_after = headers::retry_after(headers);
    let named = body.to_ascii_lowercase().contains("secondary rate limit");
    (retry_after.is_some() || named).then_some(retry_after)
}
