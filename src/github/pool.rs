//! The token pool: which identity sends the next request, quota reservations in the
//! ledger, and the throttle check over every identity.
//!
//! Each request reserves its cost atomically on the identity with the most quota left above
//! its reserve (`rate_limits::try_reserve`); only when every identity is at its reserve is
//! the job deferred, to the earliest reset among them.

use chrono::Utc;
use http::HeaderMap;

use crate::db::queries::rate_limits::{self, Observed};
use crate::github::client::{GithubClient, Identity, parse, status_error};
use crate::github::error::GithubError;
use crate::github::headers::{self, clamp};
use crate::github::throttle::{self, Decision};
use crate::github::types::RateLimitResponse;

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
    /// identity.
    pub async fn ensure_quota(&self, needed: u32) -> Result<(), GithubError> {
        self.ensure_quota_of(Resource::Core, needed).await
    }

    /// [`GithubClient::ensure_quota`] for any resource (GraphQL points for batch jobs).
    pub async fn ensure_quota_of(
        &self,
        resource: Resource,
        needed: u32,
    ) -> Result<(), GithubError> {
        let reserve = u32::try_from(self.reserve_of(resource)).unwrap_or(0);
        let mut refreshed = false;
        loop {
            let rows =
                rate_limits::find_all(&mut *self.conn().await?, &self.labels, resource.name())
                    .await?;
            let now = Utc::now();
            let stale: Vec<&Identity> = self
                .identities
                .iter()
                .filter(|identity| {
                    rows.iter()
                        .find(|row| row.identity == identity.label)
                        .is_none_or(|row| row.rate_reset <= now)
                })
                .collect();
            if !stale.is_empty() && !refreshed {
                for identity in stale {
                    self.refresh_identity(identity).await?;
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
                        self.labels.join(", ")
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

    /// Reads `GET /rate_limit` (costs no quota) of every identity into the ledger.
    pub async fn refresh_rate_limit(&self) -> Result<(), GithubError> {
        for identity in &self.identities {
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
    /// its reserve, refreshing stale readings first; `QuotaReserve` when every identity is at
    /// its reserve.
    pub(crate) async fn reserve(
        &self,
        resource: Resource,
        cost: u32,
    ) -> Result<&Identity, GithubError> {
        let cost_i32 = i32::try_from(cost).unwrap_or(i32::MAX);
        for _ in 0..3 {
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
            // Nobody has room: find out whether a reading is stale or every reserve is reached.
            self.ensure_quota_of(resource, cost).await?;
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
