//! The quota ledger of the identity pool: which identity may send the next request, the
//! reservations of requests in flight, the readings of every identity's quota, and
//! secondary-limit pauses. It lives in PostgreSQL (`rate_limits`, `rate_limit_pauses`), so
//! every worker process shares it.
//!
//! Each request reserves its cost atomically on the identity with the most quota left above
//! its reserve (`rate_limits::try_reserve`); only when every identity is at its reserve is
//! the job deferred, to the earliest reset among them. The ledger never sends a request:
//! reading `GET /rate_limit` is the request pipeline's (`pipeline`), which uses the ledger.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;

use crate::db::queries::rate_limit_pauses;
use crate::db::queries::rate_limits::{self, Observed, RateLimitRow};
use crate::db::{Conn, DbError, Pool};
use crate::github::error::GithubError;
use crate::github::headers::{self, clamp};
use crate::github::identity::Identity;
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

/// A slot wait after which the ledger is asked whether another process paused the identity.
const PAUSE_RECHECK: Duration = Duration::from_secs(1);

/// The identities of the pool and their quota bookkeeping.
pub(crate) struct Ledger {
    identities: Vec<Identity>,
    /// The identities' labels, in configuration order (the ledger's `identity` values).
    labels: Vec<String>,
    /// Requests of each `core` window never spent (`GITHUB_QUOTA_RESERVE`).
    core_reserve: i32,
    /// Points of each `graphql` window never spent (`GITHUB_GRAPHQL_RESERVE`).
    graphql_reserve: i32,
    db: Pool,
}

/// Where the pool stands on one resource: the readings of the identities no pause holds,
/// and which of those have no reading or one whose window has passed.
pub(crate) struct Standing<'a> {
    labels: Vec<String>,
    rows: Vec<RateLimitRow>,
    /// Identities to read `GET /rate_limit` of before judging.
    pub(crate) stale: Vec<&'a Identity>,
}

impl Ledger {
    /// The ledger of `identities`, keeping `core_reserve` requests and `graphql_reserve`
    /// points of every window unspent.
    pub(crate) fn new(
        identities: Vec<Identity>,
        core_reserve: u32,
        graphql_reserve: u32,
        db: Pool,
    ) -> Self {
        let labels = identities
            .iter()
            .map(|identity| identity.label().to_owned())
            .collect();
        Self {
            identities,
            labels,
            core_reserve: i32::try_from(core_reserve).unwrap_or(i32::MAX),
            graphql_reserve: i32::try_from(graphql_reserve).unwrap_or(i32::MAX),
            db,
        }
    }

    /// The identities' labels, in configuration order.
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    /// A pooled connection for the ledger and the page cache.
    pub(crate) async fn conn(&self) -> Result<Conn, GithubError> {
        Ok(self.db.get().await.map_err(DbError::from)?)
    }

    /// The reserve of `resource` (`GITHUB_QUOTA_RESERVE` or `GITHUB_GRAPHQL_RESERVE`).
    fn reserve_of(&self, resource: Resource) -> i32 {
        match resource {
            Resource::Core => self.core_reserve,
            Resource::Graphql => self.graphql_reserve,
        }
    }

    fn identity_named(&self, label: &str) -> Option<&Identity> {
        self.identities
            .iter()
            .find(|identity| identity.label() == label)
    }

    /// Reserves `cost` units of `resource` on the identity with the most left above its
    /// reserve; `None` when none has room (or no reading).
    pub(crate) async fn try_reserve(
        &self,
        resource: Resource,
        cost: u32,
    ) -> Result<Option<&Identity>, GithubError> {
        let reserved = rate_limits::try_reserve(
            &mut *self.conn().await?,
            &self.labels,
            resource.name(),
            self.reserve_of(resource),
            i32::try_from(cost).unwrap_or(i32::MAX),
        )
        .await?;
        Ok(reserved.and_then(|row| self.identity_named(&row.identity)))
    }

    /// The earliest reset of `resource` among the identities' current readings (now when
    /// none has one): when a request no identity has room for may go.
    pub(crate) async fn earliest_reset(
        &self,
        resource: Resource,
    ) -> Result<DateTime<Utc>, GithubError> {
        let rows =
            rate_limits::find_all(&mut *self.conn().await?, &self.labels, resource.name()).await?;
        let now = Utc::now();
        Ok(throttle::earliest_reset(&rows, now).unwrap_or(now))
    }

    /// Records an answer's rate-limit headers on the identity that sent it and releases
    /// what was `reserved` for it (nothing for a request that costs no quota).
    pub(crate) async fn settle(
        &self,
        identity: &Identity,
        reserved: Option<(Resource, u32)>,
        headers: Option<&HeaderMap>,
    ) -> Result<(), GithubError> {
        let label = identity.label();
        let observed = headers.and_then(headers::rate_limit);
        let Some((resource, cost)) = reserved else {
            if let Some(observed) = observed {
                rate_limits::record(&mut *self.conn().await?, label, &observed, 0).await?;
            }
            return Ok(());
        };
        let cost = i32::try_from(cost).unwrap_or(i32::MAX);
        let mut conn = self.conn().await?;
        match observed {
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

    /// The readings of `resource` of the identities no pause holds; `SecondaryLimit` when
    /// every identity is paused.
    pub(crate) async fn standing(&self, resource: Resource) -> Result<Standing<'_>, GithubError> {
        let live = self.unpaused().await?;
        let labels: Vec<String> = live
            .iter()
            .map(|identity| identity.label().to_owned())
            .collect();
        let rows =
            rate_limits::find_all(&mut *self.conn().await?, &labels, resource.name()).await?;
        let now = Utc::now();
        let stale = live
            .into_iter()
            .filter(|identity| {
                rows.iter()
                    .find(|row| row.identity == identity.label())
                    .is_none_or(|row| row.rate_reset <= now)
            })
            .collect();
        Ok(Standing {
            labels,
            rows,
            stale,
        })
    }

    /// Whether `needed` units of `resource` may be spent as the pool `standing` stands:
    /// `QuotaReserve` if they would touch the reserve of every identity (or a reading is
    /// still stale); an error naming `rate_limit_url` when GitHub reported no such quota.
    pub(crate) fn judge(
        &self,
        standing: &Standing<'_>,
        resource: Resource,
        needed: u32,
        rate_limit_url: &str,
    ) -> Result<(), GithubError> {
        let reserve = u32::try_from(self.reserve_of(resource)).unwrap_or(0);
        let rows = &standing.rows;
        if rows.is_empty() {
            return Err(GithubError::Status {
                status: 0,
                url: rate_limit_url.to_owned(),
                message: format!(
                    "GitHub reports no `{}` quota for {}",
                    resource.name(),
                    standing.labels.join(", ")
                ),
            });
        }
        let now = Utc::now();
        match throttle::decide_pool(rows, reserve, needed, now) {
            Decision::Run => Ok(()),
            Decision::Refresh | Decision::Defer { .. } => Err(GithubError::QuotaReserve {
                reset: throttle::earliest_reset(rows, now).unwrap_or(now),
            }),
        }
    }

    /// The identities no secondary rate limit pauses now; `SecondaryLimit` (with the wait
    /// until the first pause ends) when every one is paused.
    pub(crate) async fn unpaused(&self) -> Result<Vec<&Identity>, GithubError> {
        let paused = rate_limit_pauses::active(&mut *self.conn().await?, &self.labels).await?;
        for identity in &self.identities {
            let pause = paused.iter().find(|p| p.identity == identity.label());
            identity.set_pause(pause.map(|p| p.paused_until));
        }
        let live: Vec<&Identity> = self
            .identities
            .iter()
            .filter(|identity| !paused.iter().any(|p| p.identity == identity.label()))
            .collect();
        match paused.first() {
            Some(first) if live.is_empty() => Err(GithubError::SecondaryLimit {
                retry_after: until(first.paused_until),
            }),
            _ => Ok(live),
        }
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
            rate_limit_pauses::pause(&mut *self.conn().await?, identity.label(), seconds).await?;
        identity.set_pause(Some(pause.paused_until));
        Ok(until(pause.paused_until))
    }

    /// Makes sure `identity`, which waited `waited` for its request slot, is not paused.
    /// The ledger decides: it is read when this process knows of a pause (which may since
    /// have been ended there), or when the wait was long enough for another process to have
    /// met one.
    pub(crate) async fn admit(
        &self,
        identity: &Identity,
        waited: Duration,
    ) -> Result<(), GithubError> {
        if identity.pause_end().is_some() || waited >= PAUSE_RECHECK {
            let stored =
                rate_limit_pauses::paused_until(&mut *self.conn().await?, identity.label()).await?;
            identity.set_pause(stored);
        }
        match identity.pause_end() {
            Some(end) => Err(GithubError::SecondaryLimit {
                retry_after: until(end),
            }),
            None => Ok(()),
        }
    }

    /// Records a `GET /rate_limit` reading of `identity`: every resource it reports.
    pub(crate) async fn record_reading(
        &self,
        identity: &Identity,
        reading: RateLimitResponse,
    ) -> Result<(), GithubError> {
        for (resource, figures) in reading.resources {
            let Some(reset) = DateTime::from_timestamp(figures.reset, 0) else {
                continue;
            };
            let observed = Observed {
                resource,
                limit: clamp(figures.limit),
                remaining: clamp(figures.remaining),
                used: clamp(figures.used.unwrap_or(figures.limit - figures.remaining)),
                reset,
            };
            rate_limits::record(&mut *self.conn().await?, identity.label(), &observed, 0).await?;
        }
        Ok(())
    }

    /// Records that GitHub refused `identity` for its spent `resource` without saying so in
    /// its headers (GraphQL's `RATE_LIMITED`): the row shows 0 left until the window's reset
    /// (from `headers`, else the stored row, else a minute from now), which it returns.
    pub(crate) async fn spent_until_reset(
        &self,
        identity: &Identity,
        resource: Resource,
        headers: &HeaderMap,
    ) -> Result<DateTime<Utc>, GithubError> {
        let resource = resource.name();
        let label = identity.label();
        let mut conn = self.conn().await?;
        let observed = headers::rate_limit(headers).filter(|o| o.resource == resource);
        let stored = rate_limits::find(&mut conn, label, resource).await?;
        let now = Utc::now();
        let reset = observed
            .as_ref()
            .map(|o| o.reset)
            .or(stored.as_ref().map(|row| row.rate_reset))
            .filter(|reset| *reset > now)
            .unwrap_or_else(|| now + chrono::Duration::seconds(60));
        let limit = observed
            .as_ref()
            .map(|o| o.limit)
            .or(stored.as_ref().map(|row| row.rate_limit))
            .unwrap_or(0);
        let spent = Observed {
            resource: resource.to_owned(),
            limit,
            remaining: 0,
            used: limit,
            reset,
        };
        rate_limits::record(&mut conn, label, &spent, 0).await?;
        Ok(reset)
    }
}

/// How long until `end`, rounded up to whole seconds (zero when it has passed).
pub(crate) fn until(end: DateTime<Utc>) -> Duration {
    let millis = (end - Utc::now()).num_milliseconds().max(0);
    Duration::from_secs(u64::try_from(millis).unwrap_or(0).div_ceil(1000))
}
