//! `events_poll`: GitHub's public event feed (`/events`) and each tracked repository's feed
//! (`/repos/o/r/events`), polled the way GitHub asks.
//!
//! - A feed is not asked before the time its last response's `X-Poll-Interval` allows
//!   (`event_feeds.next_poll_at`): such a feed costs nothing, not even a 304.
//! - The first page is asked with the stored ETag: an unchanged feed answers 304, which
//!   costs no quota.
//! - Pages are followed along `Link` until an event the feed delivered before (its
//!   `newest_github_id`), the last page, or 300 events (what GitHub's feeds hold).
//! - Events are stored once by GitHub id (`ON CONFLICT DO NOTHING`), page by page.
//! - A poll that never reached an event the feed delivered before, on a feed polled before,
//!   records a gap: events between the newest one stored before and the oldest one fetched
//!   may be missing.
//!
//! Each cron tick enqueues one task (deduplicated: a tick while one is active adds none);
//! it polls the feeds that are due and succeeds. A poller that never ends would count every
//! run as an attempt and fail after the runner's limit during an outage; a task per tick
//! keeps each attempt count to one tick's work.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};

use crate::config::Schedule;
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::events::{self, Feed, NewEvent, NewGap};
use crate::db::queries::tracked;
use crate::domain::FullName;
use crate::github::client::{Fetched, parse};
use crate::github::types::Event;
use crate::github::{GithubError, RequestStats};
use crate::jobs::activity::record_block;
use crate::jobs::{Args, BackgroundJob, JobError, JobRun, Outcome, TaskRequestError};

/// The most events GitHub's feeds hold (and the most a poll reads).
pub const FEED_DEPTH: usize = 300;
/// Events per page asked for: GitHub's maximum.
const PER_PAGE: usize = 100;
/// The wait when a response carries no `X-Poll-Interval` (GitHub's usual value).
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(60);
/// The feed key of GitHub's global public feed.
pub const GLOBAL_FEED: &str = "events";

/// `events_poll`: no arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPoll {}

#[async_trait]
impl BackgroundJob for EventsPoll {
    const NAME: &'static str = "events_poll";
    const DESCRIPTION: &'static str = "Poll GitHub's public event feed and each tracked repository's feed that X-Poll-Interval allows: ETag on the first page, pages until an event already delivered, the last page or 300 events; each event stored once, gaps recorded.";
    const SCHEDULE: Option<Schedule> = Some(Schedule {
        variable: "EVENTS_CRON",
        default: "0 * * * * *",
        description: "polls of GitHub's event feeds",
    });

    fn parse(_args: &mut Args) -> Result<Self, TaskRequestError> {
        Ok(Self {})
    }

    async fn scheduled(_ctx: &AppContext) -> Result<Vec<Self>, JobError> {
        Ok(vec![Self {}])
    }

    async fn estimate(&self, ctx: &AppContext) -> Result<u32, JobError> {
        let due = due_feeds(ctx).await?;
        Ok(u32::try_from(due.len()).unwrap_or(u32::MAX))
    }

    async fn run(&self, run: &JobRun<'_>) -> Result<Outcome, JobError> {
        let ctx = run.ctx;
        let mut stored = 0;
        let due = due_feeds(ctx).await?;
        let polled = due.len();
        for feed in due {
            match poll_feed(ctx, run.stats, feed.clone()).await {
                Ok(events) => stored += events,
                Err(JobError::Github(error @ GithubError::Blocked { .. })) => {
                    blocked(ctx, feed, error).await?;
                }
                Err(error) => return Err(error),
            }
        }
        tracing::debug!(
            feeds = polled,
            events_stored = stored,
            "events: feeds polled"
        );
        Ok(Outcome::Succeeded)
    }
}

/// The feed key of a repository's feed.
pub fn repository_feed(full_name: &str) -> String {
    format!("repos/{full_name}/events")
}

/// The feeds whose interval has passed (or that were never polled): the global feed and
/// one per tracked repository.
async fn due_feeds(ctx: &AppContext) -> Result<Vec<Feed>, JobError> {
    let mut conn = ctx.conn().await?;
    let mut names = vec![GLOBAL_FEED.to_owned()];
    names.extend(
        tracked::scheduled_repository_names(&mut conn)
            .await?
            .iter()
            .filter(|name| FullName::parse(name).is_ok())
            .map(|name| repository_feed(name)),
    );
    let stored = events::feeds(&mut conn, &names).await?;
    let now = Utc::now();
    Ok(names
        .iter()
        .filter_map(|name| match stored.iter().find(|feed| &feed.feed == name) {
            None => Some(Feed::new(name)),
            Some(feed) if feed.next_poll_at <= now => Some(feed.clone()),
            Some(_) => None,
        })
        .collect())
}

/// A repository feed GitHub blocks (451, or 403 "Repository access blocked"): the feed
/// keeps the error, and the tracked repository records the block, so that no scheduled job
/// (this poll included) asks for it for a while; the other feeds go on.
async fn blocked(ctx: &AppContext, mut feed: Feed, error: GithubError) -> Result<(), JobError> {
    let now = Utc::now();
    feed.last_polled_at = Some(now);
    feed.next_poll_at = now + chrono::Duration::from_std(DEFAULT_POLL_INTERVAL).unwrap_or_default();
    feed.last_error = Some(error.to_string());
    events::save_feed(&mut *ctx.conn().await?, &feed).await?;
    let full_name = feed
        .feed
        .strip_prefix("repos/")
        .and_then(|rest| rest.strip_suffix("/events"));
    let tracked = match full_name {
        Some(full_name) => {
            tracked::find::<tracked::TrackedRepository>(&mut *ctx.conn().await?, full_name).await?
        }
        None => None,
    };
    match tracked {
        Some(tracked) => record_block(ctx, &tracked, &JobError::Github(error)).await,
        None => {
            tracing::warn!(feed = %feed.feed, %error, "events: GitHub blocks this feed");
            Ok(())
        }
    }
}

/// What one walk of a feed found.
#[derive(Default)]
struct Walk {
    /// Events read (newer than the feed's newest delivered one).
    fetched: usize,
    /// Events stored now (not stored before by any feed).
    stored: usize,
    /// Whether the walk reached an event the feed had delivered before.
    reached: bool,
    /// The newest event read: (GitHub id, created_at).
    newest: Option<(i64, DateTime<Utc>)>,
    /// The oldest `created_at` read.
    oldest: Option<DateTime<Utc>>,
}

/// Polls one feed and saves its state; returns the events stored.
async fn poll_feed(
    ctx: &AppContext,
    stats: &RequestStats,
    mut feed: Feed,
) -> Result<usize, JobError> {
    let first = ctx
        .github
        .url(&format!("/{}?per_page={PER_PAGE}", feed.feed));
    let (fetched, interval) = ctx.github.poll(stats, &first, feed.etag.as_deref()).await?;
    let now = Utc::now();
    let interval = interval.unwrap_or(DEFAULT_POLL_INTERVAL);
    feed.last_polled_at = Some(now);
    feed.next_poll_at = now + chrono::Duration::from_std(interval).unwrap_or_default();
    feed.last_error = None;
    let (body, etag, next) = match fetched {
        Fetched::Modified { body, etag, next } => (body, etag, next),
        Fetched::NotModified { .. } | Fetched::Accepted => {
            events::save_feed(&mut *ctx.conn().await?, &feed).await?;
            return Ok(0);
        }
        Fetched::NotFound => {
            feed.last_error = Some(format!("{first} answered 404 Not Found"));
            events::save_feed(&mut *ctx.conn().await?, &feed).await?;
            return Ok(0);
        }
        other @ (Fetched::Gone | Fetched::EmptyRepository) => {
            feed.last_error = Some(format!("{first} answered {other:?}"));
            events::save_feed(&mut *ctx.conn().await?, &feed).await?;
            return Ok(0);
        }
        Fetched::Moved { location } => {
            // A renamed repository: its activity sync follows the rename and updates the
            // tracked row, after which the feed is polled under the new name.
            feed.last_error = Some(format!("{first} moved to {location}"));
            events::save_feed(&mut *ctx.conn().await?, &feed).await?;
            return Ok(0);
        }
    };
    let walk = walk(ctx, stats, &feed, &first, body, next).await?;
    let gap = match (walk.reached, feed.newest_created_at, walk.oldest) {
        (false, Some(newest_stored_before), Some(oldest_fetched)) => Some((
            newest_stored_before,
            oldest_fetched,
            i32::try_from(walk.fetched).unwrap_or(i32::MAX),
        )),
        _ => None,
    };
    feed.etag = etag;
    if let Some((id, created_at)) = walk.newest
        && feed.newest_github_id.is_none_or(|newest| id > newest)
    {
        feed.newest_github_id = Some(id);
        feed.newest_created_at = Some(created_at);
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, DbError, _>(async |conn| {
        if let Some((newest_stored_before, oldest_fetched, events_fetched)) = gap {
            tracing::warn!(
                feed = %feed.feed,
                %newest_stored_before,
                %oldest_fetched,
                events_fetched,
                "events: the feed moved on by more than it holds; a gap is recorded"
            );
            events::record_gap(
                conn,
                &NewGap {
                    feed: &feed.feed,
                    newest_stored_before,
                    oldest_fetched,
                    events_fetched,
                },
            )
            .await?;
        }
        events::save_feed(conn, &feed).await
    })
    .await?;
    Ok(walk.stored)
}

/// Reads the pages of a feed, newest first, storing each page's new events, until an event
/// the feed delivered before, the last page, or [`FEED_DEPTH`] events.
async fn walk(
    ctx: &AppContext,
    stats: &RequestStats,
    feed: &Feed,
    first: &str,
    body: String,
    next: Option<String>,
) -> Result<Walk, JobError> {
    let mut walk = Walk::default();
    let (mut url, mut body, mut next) = (first.to_owned(), body, next);
    loop {
        let page: Vec<serde_json::Value> = parse(&url, &body)?;
        let mut rows = Vec::with_capacity(page.len());
        for event in page {
            // GitHub's description lets an event's `type` and `created_at` be null: such an
            // event cannot be counted and is passed over; the rest of the page stands.
            let event = match serde_json::from_value::<Event>(event) {
                Ok(event) => event,
                Err(error) => {
                    tracing::debug!(http.url = %url, %error, "event feed: an event passed over");
                    continue;
                }
            };
            if walk.fetched >= FEED_DEPTH {
                break;
            }
            let id: i64 = event.id.parse().map_err(|_| GithubError::Payload {
                url: url.clone(),
                message: format!("event id {:?} is not a number", event.id),
            })?;
            if feed.newest_github_id.is_some_and(|newest| id <= newest) {
                walk.reached = true;
                break;
            }
            walk.fetched += 1;
            if walk.newest.is_none_or(|(newest, _)| id > newest) {
                walk.newest = Some((id, event.created_at));
            }
            if walk.oldest.is_none_or(|oldest| event.created_at < oldest) {
                walk.oldest = Some(event.created_at);
            }
            rows.push(NewEvent {
                github_id: id,
                action: event
                    .payload
                    .get("action")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
                kind: event.kind,
                actor_login: event.actor.login,
                repository_name: event.repo.name,
                org_login: event.org.map(|org| org.login),
                created_at: event.created_at,
                payload: event.payload,
            });
        }
        walk.stored += events::insert(&mut *ctx.conn().await?, &rows).await?;
        if walk.reached || walk.fetched >= FEED_DEPTH {
            return Ok(walk);
        }
        let Some(following) = next.take() else {
            return Ok(walk);
        };
        match ctx.github.poll(stats, &following, None).await {
            Ok((
                Fetched::Modified {
                    body: b, next: n, ..
                },
                _,
            )) => {
                (url, body, next) = (following, b, n);
            }
            // Past the feed's last page GitHub answers 422: the walk is over.
            Ok(_) | Err(GithubError::Status { status: 422, .. }) => return Ok(walk),
            Err(error) => return Err(error.into()),
        }
    }
}
