//! The throttle decision: run now, refresh a stale quota reading, or defer to the reset.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use crate::db::queries::rate_limits::RateLimitRow;

/// What to do with a job (or a request) given the stored quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Enough quota above the reserve.
    Run,
    /// No reading, or its window has passed: read `GET /rate_limit` (free) first.
    Refresh,
    /// Below the reserve until the reset: run again at `until` (reset + jitter).
    Defer {
        /// When to try again.
        until: DateTime<Utc>,
    },
}

/// Decides whether `needed` requests may be spent now without touching `reserve`.
///
/// A job that needs more than a whole window can hold is judged by what a window holds,
/// so it starts as soon as a fresh window begins and defers again mid-way if it must.
pub fn decide(
    row: Option<&RateLimitRow>,
    reserve: u32,
    needed: u32,
    now: DateTime<Utc>,
) -> Decision {
    let Some(row) = row else {
        return Decision::Refresh;
    };
    if row.rate_reset <= now {
        return Decision::Refresh;
    }
    let usable = i64::from(row.rate_limit) - i64::from(reserve);
    let needed = i64::from(needed).min(usable.max(1));
    let available =
        i64::from(row.rate_remaining) - i64::from(row.rate_reserved) - i64::from(reserve);
    if available >= needed {
        Decision::Run
    } else {
        Decision::Defer {
            until: defer_until(row.rate_reset),
        }
    }
}

/// [`decide`] over a pool of identities (the current rows of one resource): a job runs
/// when the identities together have `needed` units above their reserves — each request
/// then goes to whichever has the most left — and defers to the earliest reset otherwise.
/// A missing or passed reading asks for a refresh.
pub fn decide_pool(
    rows: &[RateLimitRow],
    reserve: u32,
    needed: u32,
    now: DateTime<Utc>,
) -> Decision {
    if rows.is_empty() || rows.iter().any(|row| row.rate_reset <= now) {
        return Decision::Refresh;
    }
    let usable = rows
        .iter()
        .map(|row| i64::from(row.rate_limit) - i64::from(reserve))
        .max()
        .unwrap_or(0);
    let needed = i64::from(needed).min(usable.max(1));
    let available: i64 = rows
        .iter()
        .map(|row| {
            (i64::from(row.rate_remaining) - i64::from(row.rate_reserved) - i64::from(reserve))
                .max(0)
        })
        .sum();
    if available >= needed {
        Decision::Run
    } else {
        let reset = earliest_reset(rows, now).unwrap_or(now);
        Decision::Defer {
            until: defer_until(reset),
        }
    }
}

/// The earliest reset among readings whose window has not passed.
pub fn earliest_reset(rows: &[RateLimitRow], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    rows.iter()
        .map(|row| row.rate_reset)
        .filter(|reset| *reset > now)
        .min()
}

/// The reset time plus 1-60 s of random jitter, so deferred jobs do not stampede.
pub fn defer_until(reset: DateTime<Utc>) -> DateTime<Utc> {
    reset + Duration::seconds(rand::thread_rng().gen_range(1..=60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(remaining: i32, reset_in_secs: i64) -> RateLimitRow {
        let now = Utc::now();
        RateLimitRow {
            id: 1,
            identity: "anonymous".into(),
            resource: "core".into(),
            rate_limit: 5000,
            rate_remaining: remaining,
            rate_used: 5000 - remaining,
            rate_reset: now + Duration::seconds(reset_in_secs),
            rate_reserved: 0,
            updated_at: now,
        }
    }

    #[test]
    fn runs_above_the_reserve() {
        assert_eq!(
            decide(Some(&row(101, 600)), 100, 1, Utc::now()),
            Decision::Run
        );
    }

    #[test]
    fn defers_at_or_below_the_reserve_until_reset_plus_jitter() {
        for remaining in [100, 50, 0] {
            let row = row(remaining, 600);
            match decide(Some(&row), 100, 1, Utc::now()) {
                Decision::Defer { until } => {
                    let delay = (until - row.rate_reset).num_seconds();
                    assert!((1..=60).contains(&delay), "jitter {delay}");
                }
                other => panic!("expected defer, got {other:?}"),
            }
        }
    }

    #[test]
    fn reservations_in_flight_count_as_spent() {
        let mut row = row(105, 600);
        row.rate_reserved = 5;
        assert!(matches!(
            decide(Some(&row), 100, 1, Utc::now()),
            Decision::Defer { .. }
        ));
    }

    #[test]
    fn a_missing_or_expired_reading_is_refreshed_first() {
        assert_eq!(decide(None, 100, 1, Utc::now()), Decision::Refresh);
        assert_eq!(
            decide(Some(&row(0, -5)), 100, 1, Utc::now()),
            Decision::Refresh
        );
    }

    #[test]
    fn a_pool_runs_while_any_identity_has_room_and_defers_to_the_earliest_reset() {
        let now = Utc::now();
        let mut low = row(100, 600);
        low.identity = "token:aaaaaaaa".into();
        let mut high = row(400, 300);
        high.identity = "token:bbbbbbbb".into();
        assert_eq!(
            decide_pool(&[low.clone(), high.clone()], 100, 5, now),
            Decision::Run
        );
        high.rate_remaining = 100;
        match decide_pool(&[low.clone(), high.clone()], 100, 1, now) {
            Decision::Defer { until } => {
                let delay = (until - high.rate_reset).num_seconds();
                assert!((1..=60).contains(&delay), "the earliest reset: {delay}");
            }
            other => panic!("expected defer, got {other:?}"),
        }
        assert_eq!(decide_pool(&[], 100, 1, now), Decision::Refresh);
        assert_eq!(
            decide_pool(&[low, row(0, -5)], 100, 1, now),
            Decision::Refresh
        );
    }

    #[test]
    fn an_estimate_larger_than_what_remains_defers() {
        assert!(matches!(
            decide(Some(&row(300, 600)), 100, 250, Utc::now()),
            Decision::Defer { .. }
        ));
        assert_eq!(
            decide(Some(&row(300, 600)), 100, 200, Utc::now()),
            Decision::Run
        );
        // More than a window holds: judged by a full window.
        assert_eq!(
            decide(Some(&row(5000, 600)), 100, 1_000_000, Utc::now()),
            Decision::Run
        );
    }
}
