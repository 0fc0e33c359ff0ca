//! `GithubClient`: every GitHub request goes through here — quota reservation, pacing,
//! conditional requests, retries, and the rate-limit ledger.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http::{HeaderMap, HeaderValue, StatusCode};
use octocrab::Octocrab;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::db::queries::rate_limit_pauses;
use crate::db::{DbError, Pool};
use crate::github::error::GithubError;
use crate::github::headers;
use crate::github::pool::Resource;
use crate::metrics::Metrics;

/// The quota resource every REST crawl request spends.
pub(crate) const CORE: &str = "core";

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

    /// Counts an answered GraphQL query priced at `points`.
    pub(crate) fn count_graphql(&self, status: StatusCode, points: u32) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if status.is_success() {
            self.graphql_points.fetch_add(points, Ordering::Relaxed);
        }
    }

    fn count(&self, status: StatusCode) {
        let counter = if status == StatusCode::NOT_MODIFIED {
            &self.not_modified
        } else {
            &self.requests
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The answer to a conditional GET.
#[derive(Debug)]
pub enum Fetched {
    /// New content with its ETag and `rel="next"` link.
    Modified {
        /// Response body.
        body: String,
        /// The `ETag` header.
        etag: Option<String>,
        /// The `Link: rel="next"` target.
        next: Option<String>,
    },
    /// 304: what is stored is current; `next` is its `Link: rel="next"` target when the
    /// 304 carries one (GitHub's may; a 304 need not).
    NotModified {
        /// The `Link: rel="next"` target, if the 304 had a `Link` header.
        next: Option<String>,
    },
    /// 202: GitHub is still computing the answer (statistics); ask again later.
    Accepted,
    /// 301/302/307: the resource moved (renamed or transferred) to this URL.
    Moved {
        /// The `Location` header.
        location: String,
    },
    /// 404.
    NotFound,
    /// 410: deleted for good (a deleted issue and its timeline).
    Gone,
    /// 409 "Git Repository is empty.": a repository without commits has no commit list.
    EmptyRepository,
}

/// One GitHub identity of the pool: a token (or anonymous) with its own HTTP client,
/// pacing and concurrency bound; its quota lives in the ledger under `label`.
pub(crate) struct Identity {
    /// `anonymous` or `token:<8 hex>`: never the token.
    pub(crate) label: String,
    octocrab: Octocrab,
    pacer: DefaultDirectRateLimiter,
    permits: Semaphore,
    /// The end of a secondary-limit pause this process knows of (the ledger has them all).
    pause: std::sync::Mutex<Option<DateTime<Utc>>>,
}

/// The GitHub client of a process: one [`Identity`] per configured token, each request
/// sent by the identity with the most quota left above its reserve.
pub struct GithubClient {
    pub(crate) identities: Vec<Identity>,
    /// The identities' labels, in configuration order (the ledger's `identity` values).
    pub(crate) labels: Vec<String>,
    base_url: String,
    /// Requests of each `core` window never spent (`GITHUB_QUOTA_RESERVE`).
    pub(crate) core_reserve: i32,
    /// Points of each `graphql` window never spent (`GITHUB_GRAPHQL_RESERVE`).
    pub(crate) graphql_reserve: i32,
    db: Pool,
    pub(crate) options: ClientOptions,
    total: RequestStats,
    pub(crate) metrics: Arc<Metrics>,
}

impl GithubClient {
    /// A client configured from GITHUB_API_URL, GITHUB_TOKENS / GITHUB_TOKEN,
    /// GITHUB_QUOTA_RESERVE, GITHUB_GRAPHQL_RESERVE and GITHUB_MAX_RPS.
    pub fn new(config: &Config, db: Pool, metrics: Arc<Metrics>) -> Result<Self, GithubError> {
        Self::with_options(config, db, metrics, ClientOptions::default())
    }

    /// A client with explicit tunables (tests shorten the backoff); it feeds `metrics`.
    pub fn with_options(
        config: &Config,
        db: Pool,
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
        let identities = tokens
            .into_iter()
            .map(|token| Identity::new(&base_url, token, config.github_max_rps, &options))
            .collect::<Result<Vec<_>, _>>()?;
        let labels = identities.iter().map(|id| id.label.clone()).collect();
        Ok(Self {
            identities,
            labels,
            base_url,
            core_reserve: i32::try_from(config.github_quota_reserve).unwrap_or(i32::MAX),
            graphql_reserve: i32::try_from(config.github_graphql_reserve).unwrap_or(i32::MAX),
            db,
            options,
            total: RequestStats::default(),
            metrics,
        })
    }

    /// The label of the pool's first identity (the only one with a single token):
    /// `anonymous` or `token:<8 hex>`.
    pub fn identity(&self) -> &str {
        &self.labels[0]
    }

    /// The labels of every identity of the pool, in configuration order.
    pub fn identities(&self) -> &[String] {
        &self.labels
    }

    /// Whether the pool has at least one token (GitHub answers GraphQL only to tokens).
    pub fn authenticated(&self) -> bool {
        self.labels.iter().all(|label| label != "anonymous")
    }

    /// The absolute URL of an API path (`/users/octocat`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Requests made by this client since it was built.
    pub fn total(&self) -> &RequestStats {
        &self.total
    }

    /// A conditional GET of a quota-costing resource, with retries; counts into `stats`.
    pub async fn get(
        &self,
        stats: &RequestStats,
        url: &str,
        etag: Option<&str>,
    ) -> Result<Fetched, GithubError> {
        Ok(self.fetch(stats, url, etag).await?.0)
    }

    /// A conditional GET of an event feed: what [`GithubClient::get`] answers, with the
    /// `X-Poll-Interval` GitHub asks the poller to wait before the next poll (on a 304 too).
    pub async fn poll(
        &self,
        stats: &RequestStats,
        url: &str,
        etag: Option<&str>,
    ) -> Result<(Fetched, Option<Duration>), GithubError> {
        let (fetched, headers) = self.fetch(stats, url, etag).await?;
        Ok((fetched, headers::poll_interval(&headers)))
    }

    /// The conditional GET behind `get` and `poll`, with the final response's headers.
    async fn fetch(
        &self,
        stats: &RequestStats,
        url: &str,
        etag: Option<&str>,
    ) -> Result<(Fetched, HeaderMap), GithubError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let identity = self.reserve(Resource::Core, 1).await?;
            let sent = self.send(identity, url, etag).await;
            let headers = sent.as_ref().ok().map(|(_, headers, _)| headers);
            self.settle(identity, Resource::Core, 1, headers).await?;
            let (status, headers, body) = match sent {
                Ok(response) => response,
                Err(GithubError::Unavailable { message, .. }) => {
                    self.backoff_or_fail(attempt, message).await?;
                    continue;
                }
                Err(paused @ GithubError::SecondaryLimit { .. }) => {
                    self.retry_elsewhere(attempt, paused)?;
                    continue;
                }
                Err(other) => return Err(other),
            };
            stats.count(status);
            self.total.count(status);
            match status {
                StatusCode::NOT_MODIFIED => {
                    let next = headers::next_link(&headers);
                    return Ok((Fetched::NotModified { next }, headers));
                }
                StatusCode::NOT_FOUND => return Ok((Fetched::NotFound, headers)),
                StatusCode::GONE => return Ok((Fetched::Gone, headers)),
                StatusCode::CONFLICT if says_empty_repository(&body) => {
                    return Ok((Fetched::EmptyRepository, headers));
                }
                StatusCode::ACCEPTED => return Ok((Fetched::Accepted, headers)),
                s if s.is_success() => {
                    let fetched = Fetched::Modified {
                        body,
                        etag: headers::etag(&headers),
                        next: headers::next_link(&headers),
                    };
                    return Ok((fetched, headers));
                }
                StatusCode::MOVED_PERMANENTLY
                | StatusCode::FOUND
                | StatusCode::TEMPORARY_REDIRECT
                | StatusCode::PERMANENT_REDIRECT => {
                    let location = headers
                        .get(http::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .ok_or_else(|| status_error(status, url, "redirect without Location"))?;
                    let fetched = Fetched::Moved {
                        location: location.to_owned(),
                    };
                    return Ok((fetched, headers));
                }
                StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS => {
                    return Err(blocked(status, url, &body));
                }
                StatusCode::FORBIDDEN if says_access_blocked(&body) => {
                    return Err(blocked(status, url, &body));
                }
                StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
                    self.wait_out_limit(identity, attempt, status, url, &headers, &body)
                        .await?;
                }
                s if s.is_server_error() => {
                    self.backoff_or_fail(attempt, format!("{status} from {url}"))
                        .await?;
                }
                _ => return Err(status_error(status, url, &body)),
            }
        }
    }

    /// Sends one GET as `identity` (paced, bounded concurrency); the caller records its
    /// rate-limit headers.
    pub(crate) async fn send(
        &self,
        identity: &Identity,
        url: &str,
        etag: Option<&str>,
    ) -> Result<(StatusCode, HeaderMap, String), GithubError> {
        let mut request_headers = HeaderMap::new();
        request_headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            request_headers.insert(http::header::IF_NONE_MATCH, etag);
        }
        let _permit = self.permit(identity).await?;
        let response = identity
            .octocrab
            ._get_with_headers(url, Some(request_headers))
            .await
            .map_err(|error| transport_error(&error.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.observe(identity, url, status, &headers);
        let body = identity
            .octocrab
            .body_to_string(response)
            .await
            .map_err(|error| transport_error(&error.to_string()))?;
        Ok((status, headers, body))
    }

    /// Sends one `POST` of a JSON body as `identity` (paced, bounded concurrency).
    pub(crate) async fn send_post(
        &self,
        identity: &Identity,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(StatusCode, HeaderMap, String), GithubError> {
        let _permit = self.permit(identity).await?;
        let response = identity
            .octocrab
            ._post(url, Some(body))
            .await
            .map_err(|error| transport_error(&error.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.observe(identity, url, status, &headers);
        let body = identity
            .octocrab
            .body_to_string(response)
            .await
            .map_err(|error| transport_error(&error.to_string()))?;
        Ok((status, headers, body))
    }

    /// Counts a response in the metrics and the debug log.
    fn observe(&self, identity: &Identity, url: &str, status: StatusCode, headers: &HeaderMap) {
        let quota = headers::rate_limit(headers);
        // A response without rate-limit headers is charged to core, as the ledger does.
        let resource = quota.as_ref().map_or(CORE, |q| q.resource.as_str());
        self.metrics.github_response(resource, status.as_u16());
        tracing::debug!(
            http.url = %url,
            http.status = status.as_u16(),
            github.identity = %identity.label,
            github.remaining = ?quota.as_ref().map(|o| o.remaining),
            "GitHub request"
        );
    }

    /// Handles a 403/429: the quota is exhausted (an error carrying the reset), or GitHub's
    /// secondary rate limit, which pauses `identity` for every worker process (see
    /// [`GithubClient::pause`]); the request is then sent again — by another identity, or by
    /// this one once the pause is over (see [`GithubClient::reserve`]) — unless the retries
    /// are spent. Any other 403 is an error with GitHub's message.
    pub(crate) async fn wait_out_limit(
        &self,
        identity: &Identity,
        attempt: u32,
        status: StatusCode,
        url: &str,
        headers: &HeaderMap,
        body: &str,
    ) -> Result<(), GithubError> {
        let observed = headers::rate_limit(headers);
        if let Some(observed) = observed.as_ref().filter(|o| o.remaining == 0) {
            return Err(GithubError::QuotaExhausted {
                reset: observed.reset,
            });
        }
        let Some(retry_after) = secondary_limit(headers, body) else {
            return Err(status_error(status, url, body));
        };
        let wait = self.pause(identity, retry_after).await?;
        tracing::warn!(
            http.url = %url,
            http.status = status.as_u16(),
            github.identity = %identity.label,
            pause_s = wait.as_secs(),
            "GitHub secondary rate limit: the identity is paused"
        );
        self.retry_elsewhere(attempt, GithubError::SecondaryLimit { retry_after: wait })
    }

    /// Pauses `identity` for every process after a secondary rate limit (GitHub's
    /// `Retry-After`, else a minute, doubling while it repeats); returns how long it waits.
    pub(crate) async fn pause(
        &self,
        identity: &Identity,
        retry_after: Option<Duration>,
    ) -> Result<Duration, GithubError> {
        let seconds = retry_after.map(|wait| i32::try_from(wait.as_secs()).unwrap_or(i32::MAX));
        let pause =
            rate_limit_pauses::pause(&mut *self.conn().await?, &identity.label, seconds).await?;
        identity.set_pause(Some(pause.paused_until));
        Ok(until(pause.paused_until))
    }

    /// After a request was refused by a pause: try again (the pool picks an identity that is
    /// not paused, or waits the pause out), unless the retries are spent.
    pub(crate) fn retry_elsewhere(
        &self,
        attempt: u32,
        paused: GithubError,
    ) -> Result<(), GithubError> {
        if attempt > self.options.max_retries {
            return Err(paused);
        }
        Ok(())
    }

    /// Waits for a free request slot and the pacer of `identity`, then makes sure the
    /// identity is not paused. The ledger decides: it is read when this process knows of a
    /// pause (which may since have been ended there), or when the wait for the slot was long
    /// enough for another process to have met one.
    async fn permit<'a>(
        &self,
        identity: &'a Identity,
    ) -> Result<tokio::sync::SemaphorePermit<'a>, GithubError> {
        let asked = std::time::Instant::now();
        let permit = identity.permit().await?;
        if identity.pause_end().is_some() || asked.elapsed() >= PAUSE_RECHECK {
            let stored =
                rate_limit_pauses::paused_until(&mut *self.conn().await?, &identity.label).await?;
            identity.set_pause(stored);
        }
        if let Some(end) = identity.pause_end() {
            return Err(GithubError::SecondaryLimit {
                retry_after: until(end),
            });
        }
        Ok(permit)
    }

    /// Sleeps before retrying a transient failure, or gives up after the last retry.
    pub(crate) async fn backoff_or_fail(
        &self,
        attempt: u32,
        message: String,
    ) -> Result<(), GithubError> {
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

    /// A pooled connection for the ledger and the page cache.
    pub(crate) async fn conn(&self) -> Result<crate::db::Conn, GithubError> {
        Ok(self.db.get().await.map_err(DbError::from)?)
    }
}

impl Identity {
    fn new(
        base_url: &str,
        token: Option<&SecretString>,
        max_rps: u32,
        options: &ClientOptions,
    ) -> Result<Self, GithubError> {
        let mut builder = Octocrab::builder()
            .base_uri(base_url)
            .map_err(|error| setup_error(base_url, error))?
            .set_connect_timeout(Some(options.connect_timeout))
            .set_read_timeout(Some(options.read_timeout));
        if let Some(token) = token {
            // octocrab keeps it a `SecretString` and exposes it only in the Authorization header.
            builder = builder.personal_token(token.clone());
        }
        let octocrab = builder
            .build()
            .map_err(|error| setup_error(base_url, error))?;
        let rps = NonZeroU32::new(max_rps).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            label: identity_label(token),
            octocrab,
            pacer: RateLimiter::direct(Quota::per_second(rps)),
            permits: Semaphore::new(options.max_concurrency.max(1)),
            pause: std::sync::Mutex::new(None),
        })
    }

    /// Remembers the identity's pause as the ledger has it (`None`: not paused).
    pub(crate) fn set_pause(&self, end: Option<DateTime<Utc>>) {
        *self.pause.lock().unwrap_or_else(PoisonError::into_inner) = end;
    }

    /// The end of the pause this process knows of, if it has not passed.
    pub(crate) fn pause_end(&self) -> Option<DateTime<Utc>> {
        let pause = self.pause.lock().unwrap_or_else(PoisonError::into_inner);
        pause.filter(|end| *end > Utc::now())
    }

    /// Waits for a free request slot and the pacer of this identity.
    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, GithubError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| transport_error("the request pool is closed"))?;
        self.pacer.until_ready().await;
        Ok(permit)
    }
}

/// A slot wait after which the ledger is asked whether another process paused the identity.
const PAUSE_RECHECK: Duration = Duration::from_secs(1);

/// Whether a 403/429 is GitHub's secondary rate limit: `Some` with its `Retry-After` (if
/// any) when it is. GitHub names it in the message ("You have exceeded a secondary rate
/// limit...") and may or may not send `Retry-After`.
pub(crate) fn secondary_limit(headers: &HeaderMap, body: &str) -> Option<Option<Duration>> {
    let retry_after = headers::retry_after(headers);
    let named = body.to_ascii_lowercase().contains("secondary rate limit");
    (retry_after.is_some() || named).then_some(retry_after)
}

/// How long until `end`, rounded up to whole seconds (zero when it has passed).
pub(crate) fn until(end: DateTime<Utc>) -> Duration {
    let millis = (end - Utc::now()).num_milliseconds().max(0);
    Duration::from_secs(u64::try_from(millis).unwrap_or(0).div_ceil(1000))
}

/// Parses a JSON payload, naming the URL when it does not fit.
pub fn parse<T: DeserializeOwned>(url: &str, body: &str) -> Result<T, GithubError> {
    serde_json::from_str(body).map_err(|error| GithubError::Payload {
        url: url.to_owned(),
        message: error.to_string(),
    })
}

/// `anonymous`, or `token:` and the first 8 hex digits of the token's SHA-256.
pub fn identity_label(token: Option<&SecretString>) -> String {
    match token {
        None => "anonymous".into(),
        Some(token) => format!(
            "token:{}",
            &hex::encode(Sha256::digest(token.expose_secret().as_bytes()))[..8]
        ),
    }
}

pub(crate) fn transport_error(message: &str) -> GithubError {
    GithubError::Unavailable {
        attempts: 1,
        message: message.to_owned(),
    }
}

fn setup_error(base_url: &str, error: impl std::fmt::Display) -> GithubError {
    GithubError::Status {
        status: 0,
        url: base_url.to_owned(),
        message: format!("cannot build the GitHub client: {error}"),
    }
}

pub(crate) fn status_error(status: StatusCode, url: &str, body: &str) -> GithubError {
    GithubError::Status {
        status: status.as_u16(),
        url: url.to_owned(),
        message: message_of(body),
    }
}

/// GitHub's error body: `message`, and the `block` of a blocked repository.
#[derive(serde::Deserialize)]
struct ErrorBody {
    message: String,
    #[serde(default)]
    block: Option<Block>,
}

/// Why GitHub blocks a repository: `{"reason": "dmca"|"tos"|..., "html_url": notice}`.
#[derive(serde::Deserialize)]
struct Block {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
}

/// The `message` of an error body, or the start of a body that has none.
fn message_of(body: &str) -> String {
    serde_json::from_str::<ErrorBody>(body)
        .map(|error| error.message)
        .unwrap_or_else(|_| body.chars().take(200).collect())
}

/// A 403 that is GitHub's DMCA or terms-of-service block, not a rate limit.
fn says_access_blocked(body: &str) -> bool {
    message_of(body)
        .to_ascii_lowercase()
        .contains("repository access blocked")
}

/// A 409 that says the repository has no commits (GitHub: "Git Repository is empty.").
fn says_empty_repository(body: &str) -> bool {
    message_of(body)
        .to_ascii_lowercase()
        .contains("repository is empty")
}

/// The error of a blocked repository: GitHub's message, with the block's reason and notice.
fn blocked(status: StatusCode, url: &str, body: &str) -> GithubError {
    let parsed = serde_json::from_str::<ErrorBody>(body).ok();
    let mut message = parsed
        .as_ref()
        .map_or_else(|| message_of(body), |error| error.message.clone());
    if let Some(block) = parsed.and_then(|error| error.block) {
        let details: Vec<String> = [block.reason, block.html_url]
            .into_iter()
            .flatten()
            .collect();
        if !details.is_empty() {
            message = format!("{message} ({})", details.join(": "));
        }
    }
    GithubError::Blocked {
        status: status.as_u16(),
        url: url.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::says_empty_repository;
    use super::{GithubError, StatusCode, blocked, identity_label, says_access_blocked};

    #[test]
    fn a_block_keeps_githubs_message_reason_and_notice() {
        let dmca = r#"{"message":"Repository access blocked","block":{"reason":"dmca",
            "created_at":"2020-10-23T19:57:33Z","html_url":"https://github.com/github/dmca/blob/master/x.md"}}"#;
        let GithubError::Blocked {
            status, message, ..
        } = blocked(
            StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
            "http://gh/repos/a/b",
            dmca,
        )
        else {
            panic!("a block");
        };
        assert_eq!(status, 451);
        assert_eq!(
            message,
            "Repository access blocked (dmca: https://github.com/github/dmca/blob/master/x.md)"
        );
        let tos = r#"{"message":"Repository access blocked","block":{"reason":"tos","created_at":"2026-06-25T15:04:22Z"}}"#;
        assert!(says_access_blocked(tos));
        let error = blocked(StatusCode::FORBIDDEN, "http://gh/repos/a/b", tos);
        assert_eq!(
            error.to_string(),
            "GitHub answered 403 for http://gh/repos/a/b: Repository access blocked (tos)"
        );
        // Other 403s are not blocks (rate limits, permissions).
        assert!(!says_access_blocked(
            r#"{"message":"API rate limit exceeded for 1.2.3.4."}"#
        ));
        assert!(!says_access_blocked("not json"));
        assert!(says_empty_repository(
            r#"{"message":"Git Repository is empty.","status":"409"}"#
        ));
        assert!(!says_empty_repository(r#"{"message":"Conflict"}"#));
    }

    #[test]
    fn the_identity_label_never_contains_the_token() {
        assert_eq!(identity_label(None), "anonymous");
        let label = identity_label(Some(&"ghp_secret".into()));
        // sha256("ghp_secret") starts with 4c281411.
        assert_eq!(label, "token:4c281411");
        assert!(label.starts_with("token:"));
        assert_eq!(label.len(), "token:".len() + 8);
        assert!(!label.contains("secret"));
    }
}
