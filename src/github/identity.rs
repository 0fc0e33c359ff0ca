//! One GitHub identity of the pool: a token (or anonymous) with its own HTTP client, pacing
//! and concurrency bound, and the wire exchange of one request.

use std::num::NonZeroU32;
use std::sync::PoisonError;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http::{HeaderMap, HeaderValue, StatusCode};
use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::github::error::GithubError;

/// What is sent to GitHub.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Request<'a> {
    /// A `GET`, conditional on `etag` when given (`If-None-Match`).
    Get {
        /// Absolute URL.
        url: &'a str,
        /// The ETag remembered for it.
        etag: Option<&'a str>,
    },
    /// A `POST` of a JSON body.
    Post {
        /// Absolute URL.
        url: &'a str,
        /// The JSON body.
        body: &'a serde_json::Value,
    },
}

impl Request<'_> {
    /// The request's URL.
    pub(crate) fn url(&self) -> &str {
        match self {
            Request::Get { url, .. } | Request::Post { url, .. } => url,
        }
    }
}

/// How an identity's HTTP client is built.
pub(crate) struct Settings {
    /// Connect timeout.
    pub(crate) connect_timeout: Duration,
    /// Read timeout of a response.
    pub(crate) read_timeout: Duration,
    /// Requests in flight at once.
    pub(crate) max_concurrency: usize,
    /// Requests per second (`GITHUB_MAX_RPS`).
    pub(crate) max_rps: u32,
}

/// A token (or anonymous) with its own HTTP client, pacing and concurrency bound; its
/// quota lives in the ledger under its label.
pub(crate) struct Identity {
    /// `anonymous` or `token:<8 hex>`: never the token.
    label: String,
    octocrab: Octocrab,
    pacer: DefaultDirectRateLimiter,
    permits: Semaphore,
    /// The end of a secondary-limit pause this process knows of (the ledger has them all).
    pause: std::sync::Mutex<Option<DateTime<Utc>>>,
}

impl Identity {
    /// The identity of `token` (anonymous without one) against `base_url`.
    pub(crate) fn new(
        base_url: &str,
        token: Option<&SecretString>,
        settings: &Settings,
    ) -> Result<Self, GithubError> {
        let mut builder = Octocrab::builder()
            .base_uri(base_url)
            .map_err(|error| setup_error(base_url, error))?
            .set_connect_timeout(Some(settings.connect_timeout))
            .set_read_timeout(Some(settings.read_timeout));
        if let Some(token) = token {
            // octocrab keeps it a `SecretString` and exposes it only in the Authorization header.
            builder = builder.personal_token(token.clone());
        }
        let octocrab = builder
            .build()
            .map_err(|error| setup_error(base_url, error))?;
        let rps = NonZeroU32::new(settings.max_rps).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            label: identity_label(token),
            octocrab,
            pacer: RateLimiter::direct(Quota::per_second(rps)),
            permits: Semaphore::new(settings.max_concurrency.max(1)),
            pause: std::sync::Mutex::new(None),
        })
    }

    /// `anonymous` or `token:<8 hex>`, the identity's name in the ledger.
    pub(crate) fn label(&self) -> &str {
        &self.label
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
    pub(crate) async fn slot(&self) -> Result<SemaphorePermit<'_>, GithubError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| transport_error("the request pool is closed"))?;
        self.pacer.until_ready().await;
        Ok(permit)
    }

    /// Sends `request` and reads the answer; `head` sees the status and headers as soon as
    /// they arrive, before the body. A failure to send or to read is `Unavailable`.
    pub(crate) async fn send(
        &self,
        request: Request<'_>,
        head: impl FnOnce(StatusCode, &HeaderMap),
    ) -> Result<(StatusCode, HeaderMap, String), GithubError> {
        let response = match request {
            Request::Get { url, etag } => {
                let mut request_headers = HeaderMap::new();
                request_headers.insert(
                    http::header::ACCEPT,
                    HeaderValue::from_static("application/vnd.github+json"),
                );
                if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
                    request_headers.insert(http::header::IF_NONE_MATCH, etag);
                }
                self.octocrab
                    ._get_with_headers(url, Some(request_headers))
                    .await
            }
            Request::Post { url, body } => self.octocrab._post(url, Some(body)).await,
        }
        .map_err(|error| transport_error(&error.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        head(status, &headers);
        let body = self
            .octocrab
            .body_to_string(response)
            .await
            .map_err(|error| transport_error(&error.to_string()))?;
        Ok((status, headers, body))
    }
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

/// A request that could not be sent or read: transient, retried.
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

#[cfg(test)]
mod tests {
    use super::identity_label;

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
