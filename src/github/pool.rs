//! The token pool: which identity sends the next request, quota reservations in the
//! ledger, and the throttle check over every identity.
//!
//! Each request reserves its cost atomically on the identity with the most quota left above
//! its reserve (`rate_limits::try_reserve`); only when every identity is at its reserve is
//! the job deferred, to the earliest reset among them.

use std::time::Duration;

use chrono::Utc;
use http::{HeaderMap, StatusCode};

use crate::db::queries::rate_limit_pauses;
use crate::db::queries::rate_limits::{self, Observed};
use crate::github::client::{GithubClient, Identity, parse, secondary_limit, status_error, until};
use crate::github::error::GithubError;
use crate::github::headers::{self, clamp};
use crate::github::throttle::{self, Decision};
use crate::github::types::RateLimitResponse;

/// Slack after a pause's end before sending again, so the first request is not early.
const PAUSE_MARGIN: Duration = Duration::from_millis(50);

/// A quota GitHub counts separately, with its own rows and reserve per identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// REST requests (5,000 an hour per token).
    Core,
    /// GraphQL points (5,000 an hour per token).
    Graphql,
}

impl Resource {
    /// GitHub's name of the resource, as in `x-ratelimit-resource` and the ledger.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Graphql => "graphql",
        }
    }
}

impl GithubClient {
    /// The reserve of `resource` (`GITHUB_QUOTA_RESERVE` or `GITHUB_GRAPHQL_RESERVE`).
    pub(crate) fn reserve_of(&self, resource: Resource) -> i32 {
        match resource {
            Resource::Core => self.core_reserve,
            Resource::Graphql => self.graphql_reserve,
        }
    }

    fn identity_named(&self, label: &str) -> Option<&Identity> {
        self.identities
            .iter()
            .find(|identity| identity.label == label)
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
        let reserve = u32::try_from(self.reserve_of(resource)).unwrap_or(0);
        let mut refreshed = false;
        loop {
            let live = self.unpaused().await?;
            let labels: Vec<String> = live.iter().map(|identity| identity.label.clone()).collect();
            let rows =
                rate_limits::find_all(&mut *self.conn().await?, &labels, resource.name()).await?;
            let now = Utc::now();
            let stale: Vec<&Identity> = live
                .iter()
                .copied()
                .filter(|identity| {
                    rows.iter()
                        .find(|row| row.identity == identity.label)
                        .is_none_or(|row| row.rate_reset <= now)
                })
                .collect();
            if !stale.is_empty() && !refreshed {
                for identity in stale {
                    match self.refresh_identity(identity).await {
                        // Paused by the reading itself: the others are asked again without it.
                        Ok(()) | Err(GithubError::SecondaryLimit { .. }) => {}
                        Err(other) => return Err(other),
                    }
                }
                refreshed = true;
                continue;
            }
            if rows.is_empty() {
                return Err(GithubError::Status {
                    status: 0,
                    url: self.url("/rate_limit"),
                    message: format!(
                        "GitHub reports no `{}` quota for {}",
                        resource.name(),
                        labels.join(", ")
                    ),
                });
            }
            return match throttle::decide_pool(&rows, reserve, needed, now) {
                Decision::Run => Ok(()),
                Decision::Refresh | Decision::Defer { .. } => Err(GithubError::QuotaReserve {
                    reset: throttle::earliest_reset(&rows, now).unwrap_or(now),
                }),
            };
        }
    }

    /// The identities no secondary rate limit pauses now; `SecondaryLimit` (with the wait
    /// until the first pause ends) when every one is paused.
    async fn unpaused(&self) -> Result<Vec<&Identity>, GithubError> {
        let paused = rate_limit_pauses::active(&mut *self.conn().await?, &self.labels).await?;
        for identity in &self.identities {
            let pause = paused.iter().find(|p| p.identity == identity.label);
            identity.set_pause(pause.map(|p| p.paused_until));
        }
        let live: Vec<&Identity> = self
            .identities
            .iter()
            .filter(|identity| !paused.iter().any(|p| p.identity == identity.label))
            .collect();
        match paused.first() {
            Some(first) if live.is_empty() => Err(GithubError::SecondaryLimit {
                retry_after: until(first.paused_until),
            }),
            _ => Ok(live),
        }
    }

    /// Reads `GET /rate_limit` (costs no quota) of every identity into the ledger.
    /// Paused identities are skipped: they send nothing until their pause ends.
    pub async fn refresh_rate_limit(&self) -> Result<(), GithubError> {
        let live = match self.unpaused().await {
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
        let mut attempt = 0;
        let (status, headers, body) = loop {
            attempt += 1;
            match self.send(identity, &url, None).await {
                Err(GithubError::Unavailable { message, .. }) => {
                    self.backoff_or_fail(attempt, message).await?;
                }
                Ok((status, _, _)) if status.is_server_error() => {
                    self.backoff_or_fail(attempt, format!("{status} from {url}"))
                        .await?;
                }
                other => break other?,
            }
        };
        if !status.is_success() {
            if let Some(observed) = headers::rate_limit(&headers) {
                rate_limits::record(&mut *self.conn().await?, &identity.label, &observed, 0)
                    .await?;
            }
            let limited = matches!(
                status,
                StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
            );
            if let Some(retry_after) = secondary_limit(&headers, &body).filter(|_| limited) {
                let wait = self.pause(identity, retry_after).await?;
                return Err(GithubError::SecondaryLimit { retry_after: wait });
            }
            return Err(status_error(status, &url, &body));
        }
        let reading: RateLimitResponse = parse(&url, &body)?;
        for (resource, figures) in reading.resources {
            let Some(reset) = chrono::DateTime::from_timestamp(figures.reset, 0) else {
                continue;
            };
            let observed = Observed {
                resource,
                limit: clamp(figures.limit),
                remaining: clamp(figures.remaining),
                used: clamp(figures.used.unwrap_or(figures.limit - figures.remaining)),
                reset,
            };
            rate_limits::record(&mut *self.conn().await?, &identity.label, &observed, 0).await?;
        }
        tracing::debug!(
            github.identity = %identity.label,
            github.remaining = ?headers::rate_limit(&headers).map(|o| o.remaining),
            "refreshed the GitHub rate limit"
        );
        Ok(())
    }

    /// Reserves `cost` units of `resource` on the identity with the most quota left above
    /// its reserve and no secondary-limit pause, refreshing stale readings first;
    /// `QuotaReserve` when every identity is at its reserve. When every identity is paused,
    /// a pause ending within `max_retry_after` is waited out here; a longer one is
    /// `SecondaryLimit` (the job defers).
    pub(crate) async fn reserve(
        &self,
        resource: Resource,
        cost: u32,
    ) -> Result<&Identity, GithubError> {
        let cost_i32 = i32::try_from(cost).unwrap_or(i32::MAX);
        let mut checks = 0;
        loop {
            let reserved = rate_limits::try_reserve(
                &mut *self.conn().await?,
                &self.labels,
                resource.name(),
                self.reserve_of(resource),
                cost_i32,
            )
            .await?;
            if let Some(identity) = reserved.and_then(|row| self.identity_named(&row.identity)) {
                return Ok(identity);
            }
            if checks == 3 {
                break;
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
        let rows =
            rate_limits::find_all(&mut *self.conn().await?, &self.labels, resource.name()).await?;
        let now = Utc::now();
        Err(GithubError::QuotaReserve {
            reset: throttle::earliest_reset(&rows, now).unwrap_or(now),
        })
    }

    /// Records a reserved request's rate-limit headers on the identity that sent it and
    /// releases its reservation of `cost` units of `resource`.
    pub(crate) async fn settle(
        &self,
        identity: &Identity,
        resource: Resource,
        cost: u32,
        headers: Option<&HeaderMap>,
    ) -> Result<(), GithubError> {
        let cost = i32::try_from(cost).unwrap_or(i32::MAX);
        let mut conn = self.conn().await?;
        let label = identity.label.as_str();
        match headers.and_then(headers::rate_limit) {
            Some(observed) if observed.resource == resource.name() => {
                rate_limits::record(&mut conn, label, &observed, cost).await?;
            }
            Some(observed) => {
                rate_limits::record(&mut conn, label, &observed, 0).await?;
                rate_limits::release(&mut conn, label, resource.name(), cost).await?;
            }
            None => rate_limits::release(&mut conn, label, resource.name(), cost).await?,
        }
        Ok(())
    }
}
