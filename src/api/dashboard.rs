//! `GET /github/dashboard/`: one page to watch gitomatic work — charts of the quota left
//! per identity and resource (24 hours), of developers synced and the frontier (7 days)
//! and of tasks finished per 10 minutes by outcome (24 hours); the global leaderboard's top
//! 20, tracked repositories and organizations and their last syncs, the quota per identity,
//! the latest webhook deliveries, and the latest tasks, kept current from
//! `/github/tasks/live/`. Server-rendered with maud
//! in the browsable API's layout; the charts are SVG ([`crate::api::charts`]) from the
//! samples the leading scheduler takes a minute (`samples`) and from the tasks themselves.
//! The page loads no script or style from anywhere else.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, route, web};
use chrono::{DateTime, Utc};
use maud::{Markup, PreEscaped, html};

use crate::api::charts::{self, Point, Series, TimeChart};
use crate::api::error::ApiError;
use crate::api::html::{self, Layout};
use crate::api::leaderboards::Board;
use crate::api::links::Links;
use crate::api::params;
use crate::api::views::ErrorView;
use crate::context::AppContext;
use crate::db::queries::leaderboards::{self, BoardRow};
use crate::db::queries::rate_limits::{self, RateLimitRow};
use crate::db::queries::samples::{self, Sample};
use crate::db::queries::tasks::{self, Finished, TaskRow};
use crate::db::queries::tracked::{self, TrackedOrganization, TrackedRepository};
use crate::db::queries::webhook_deliveries::{self, DeliveryRecord};

/// Contributors shown.
const TOP: u32 = 20;
/// Tasks shown (and kept by the live updates).
const LATEST_TASKS: i64 = 20;
/// Tracked repositories shown.
const REPOSITORIES: i64 = 100;
/// Tracked organizations shown.
const ORGANIZATIONS: i64 = 100;
/// Webhook deliveries shown.
const LATEST_DELIVERIES: i64 = 20;
/// The quota chart's and the task chart's span.
const DAY: chrono::Duration = chrono::Duration::hours(24);
/// The crawl chart's span.
const WEEK: chrono::Duration = chrono::Duration::days(7);
/// The task chart's period.
const TASK_PERIOD: Duration = Duration::from_secs(10 * 60);

/// The dashboard's own style, added to the layout's and the charts': a grid of boxes, as
/// many columns as fit (one on a phone).
const STYLE: &str = "\
.board{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,34em),1fr));gap:1em}\
.board>section{background:#fff;border:1px solid #ddd;padding:.6em 1em;min-width:0}\
.board>section.wide{grid-column:1/-1}.board h2{font-size:1.05em;margin:.3em 0 .6em}\
p.note{color:#555;font-size:.85em;margin:.2em 0 .5em}p.empty{color:#666}\
td.args,td.error{overflow-wrap:anywhere;min-width:10em}.status{font-weight:bold}.error{color:#b42318}\
tr[data-status=succeeded] .status{color:#1a7f37}tr[data-status=failed] .status{color:#b42318}\
tr[data-status=running] .status{color:#0969da}tr[data-status=deferred] .status{color:#9a6700}\
#live{font-size:.85em}#live::after{content:': connecting'}\
body[data-live=open] #live::after{content:': live'}body[data-live=reconnecting] #live::after{content:': reconnecting'}";

/// Keeps the task table current: each `task` event updates its row or adds one on top.
const LIVE_SCRIPT: &str = r#"
const table = document.getElementById('tasks');
const source = new EventSource(document.getElementById('live').dataset.stream);
source.onopen = () => { document.body.dataset.live = 'open'; };
source.onerror = () => { document.body.dataset.live = 'reconnecting'; };
source.addEventListener('task', (message) => {
  const task = JSON.parse(message.data);
  let row = table.querySelector('tr[data-task="' + task.id + '"]');
  if (!row) {
    row = document.createElement('tr');
    row.dataset.task = task.id;
    for (const cell of ['name', 'args', 'status', 'requests', 'error']) {
      const td = document.createElement('td');
      td.className = cell;
      row.appendChild(td);
    }
    const link = document.createElement('a');
    link.href = task.url;
    row.querySelector('.name').appendChild(link);
    table.prepend(row);
    while (table.rows.length > Number(table.dataset.keep)) table.deleteRow(-1);
  }
  row.dataset.status = task.status;
  row.querySelector('.name a').textContent = task.name;
  row.querySelector('.args').textContent = JSON.stringify(task.args);
  row.querySelector('.status').textContent = task.status;
  row.querySelector('.requests').textContent = task.github_requests;
  row.querySelector('.error').textContent = task.error || '';
});
"#;

/// The dashboard.
#[utoipa::path(get, tag = "dashboard",
    responses(
        (status = 200, content_type = "text/html", body = String,
         description = "Charts of the quota left (24 h), developers synced and the frontier (7 days) and tasks finished per 10 minutes (24 h); the leaderboard's top 20, tracked repositories and organizations, quota per identity, the latest webhook deliveries and the latest tasks, updated live"),
        (status = 400, body = ErrorView),
    ))]
#[route("/dashboard/", method = "GET", method = "HEAD")]
pub async fn dashboard(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    params::detail_query(&request)?;
    let mut conn = ctx.conn().await?;
    let board = leaderboards::board(&mut conn, &Board::defaults(TOP).query(None)).await?;
    let repositories = tracked::some_repositories(&mut conn, REPOSITORIES).await?;
    let quota = rate_limits::all(&mut conn).await?;
    let latest = tasks::latest(&mut conn, LATEST_TASKS).await?;
    let organizations = tracked::some_organizations(&mut conn, ORGANIZATIONS).await?;
    let deliveries = webhook_deliveries::latest(&mut conn, LATEST_DELIVERIES).await?;
    let now = Utc::now();
    let day = samples::since(&mut conn, now - DAY).await?;
    let week = samples::latest_per(&mut conn, "hour", now - WEEK).await?;
    let first_period = period_after(now - DAY);
    let finished = tasks::finished_per_period(&mut conn, first_period, TASK_PERIOD).await?;
    drop(conn);
    let links = Links::new(&request, &ctx.config);
    let charts = html! {
        section #quota-history.wide {
            h2 { "GitHub quota left, last 24 hours" }
            p.note {
                "Requests (GraphQL: points) left in each identity's window, one line per identity "
                "and resource, sampled once a minute; a window whose reset has passed counts as full."
            }
            (quota_chart(&day, now))
        }
        section #crawl-history.wide {
            h2 { "Developers synced and frontier, last 7 days" }
            p.note {
                "Developers synced at least once, and the frontier: those discovery would pick "
                "(never synced, or last synced over 24 hours ago). The last sample of each hour."
            }
            (crawl_chart(&week, now))
        }
        section #task-history.wide {
            h2 { "Tasks finished per 10 minutes, last 24 hours" }
            p.note {
                "Tasks that succeeded or failed in each 10 minutes (by when they finished), "
                "and tasks deferred now (by when the run that deferred them started). "
                "Each point is the 10 minutes from its time; the 10 minutes under way are not shown yet."
            }
            (task_chart(&finished, first_period, now))
        }
    };
    let page = render(
        &links,
        charts,
        &board,
        &repositories,
        &organizations,
        &quota,
        &latest,
        &deliveries,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page))
}

/// The start of the first task period wholly after `time` (periods start at multiples of
/// [`TASK_PERIOD`] since the Unix epoch).
fn period_after(time: DateTime<Utc>) -> DateTime<Utc> {
    let period = i64::try_from(TASK_PERIOD.as_secs()).unwrap_or(600);
    let start = time.timestamp().div_euclid(period) * period + period;
    DateTime::from_timestamp(start, 0).unwrap_or(time)
}

/// Said where a chart has nothing to show yet.
fn no_samples() -> Markup {
    html! {
        p.empty { "No samples yet: the leading scheduler (gitomatic scheduler, or dev) takes one a minute." }
    }
}

/// The quota left of every identity and resource, one line each, from the day's samples.
fn quota_chart(day: &[Sample], now: DateTime<Utc>) -> Markup {
    if day.is_empty() {
        return no_samples();
    }
    let mut lines: BTreeMap<(&str, &str), Vec<Point>> = BTreeMap::new();
    for sample in day {
        for quota in &sample.quota {
            lines
                .entry((&quota.identity, &quota.resource))
                .or_default()
                .push((sample.taken_at, quota.remaining as f64));
        }
    }
    let series = lines
        .into_iter()
        .enumerate()
        .map(|(colour, ((identity, resource), points))| Series {
            key: format!("{identity} {resource}"),
            label: format!(
                "{identity} · {resource}: {} left",
                charts::thousands(points.last().map_or(0.0, |(_, left)| *left))
            ),
            colour,
            points,
        })
        .collect();
    charts::time_series(&TimeChart {
        id: "quota-chart",
        description: "GitHub quota left per identity and resource over the last 24 hours",
        from: now - DAY,
        to: now,
        unit: "requests left",
        series,
        max_gap: chrono::Duration::minutes(10),
    })
}

/// Developers synced and the frontier, the last sample of each hour of the week.
fn crawl_chart(week: &[Sample], now: DateTime<Utc>) -> Markup {
    if week.is_empty() {
        return no_samples();
    }
    let line = |key: &str, colour: usize, value: fn(&Sample) -> i64| Series {
        key: key.to_owned(),
        label: format!(
            "{key}: {}",
            week.last().map_or_else(
                String::new,
                |sample| charts::thousands(value(sample) as f64)
            )
        ),
        colour,
        points: week
            .iter()
            .map(|sample| (sample.taken_at, value(sample) as f64))
            .collect(),
    };
    charts::time_series(&TimeChart {
        id: "crawl-chart",
        description: "Developers synced and the frontier over the last 7 days",
        from: now - WEEK,
        to: now,
        unit: "developers",
        series: vec![
            line("synced", 2, |sample| sample.synced),
            line("frontier", 0, |sample| sample.frontier),
        ],
        max_gap: chrono::Duration::hours(2),
    })
}

/// Tasks ended per period since `first`, one line per outcome, 0 where none ended. Only
/// whole periods: the one under way would show a fall that is only the clock.
fn task_chart(finished: &[Finished], first: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    let period = chrono::Duration::seconds(i64::try_from(TASK_PERIOD.as_secs()).unwrap_or(600));
    let periods: Vec<DateTime<Utc>> = std::iter::successors(Some(first), |at| Some(*at + period))
        .take_while(|at| *at + period <= now)
        .collect();
    let line = |outcome: &str, colour: usize| {
        let points: Vec<Point> = periods
            .iter()
            .map(|at| {
                let tasks = finished
                    .iter()
                    .find(|row| row.period == *at && row.outcome == outcome)
                    .map_or(0, |row| row.tasks);
                (*at, tasks as f64)
            })
            .collect();
        let total = points.iter().map(|(_, tasks)| tasks).sum();
        Series {
            key: outcome.to_owned(),
            label: format!("{outcome}: {} in 24 h", charts::thousands(total)),
            colour,
            points,
        }
    };
    charts::time_series(&TimeChart {
        id: "task-chart",
        description: "Tasks finished per 10 minutes by outcome over the last 24 hours",
        from: now - DAY,
        to: now,
        unit: "tasks per 10 minutes",
        series: vec![line("succeeded", 2), line("failed", 1), line("deferred", 3)],
        max_gap: period,
    })
}

#[allow(clippy::too_many_arguments)]
fn render(
    links: &Links,
    charts: Markup,
    board: &[BoardRow],
    repositories: &[TrackedRepository],
    organizations: &[TrackedOrganization],
    quota: &[RateLimitRow],
    latest: &[TaskRow],
    deliveries: &[DeliveryRecord],
) -> String {
    let content = html! {
        div.board {
            (charts)
            section #leaderboard {
                h2 { a href=(links.url("/github/leaderboards/")) { "Leaderboard, top 20" } }
                div.scroll {
                    table {
                        thead { tr { th { "#" } th { "login" } th { "score" } th { "repositories" } } }
                        tbody {
                            @for row in board {
                                tr data-login=(row.login) {
                                    td.n { (row.rank) }
                                    td {
                                        @match row.developer_id {
                                            Some(id) => a href=(links.developer(id, "")) { (row.login) },
                                            None => (row.login),
                                        }
                                    }
                                    td.n.score { (format_score(row.score)) }
                                    td.n { (row.repositories) }
                                }
                            }
                        }
                    }
                }
                @if board.is_empty() { p.empty { "No contributions counted yet." } }
            }
            section #tasks-section {
                h2 { a href=(links.url("/github/tasks/")) { "Latest tasks" } }
                div.scroll {
                    table {
                        thead { tr { th { "task" } th { "args" } th { "status" } th { "requests" } th { "error" } } }
                        tbody #tasks data-keep=(LATEST_TASKS) {
                            @for task in latest {
                                tr data-task=(task.id) data-status=(task.status) {
                                    td.name { a href=(links.task(task.id)) { (task.name) } }
                                    td.args { (task.args) }
                                    td.status { (task.status) }
                                    td.requests { (task.github_requests) }
                                    td.error { (task.error.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
            section #repositories {
                h2 { a href=(links.url("/github/tracked_repositories/")) { "Tracked repositories" } }
                div.scroll {
                    table {
                        thead { tr { th { "repository" } th { "activity synced" } th { "timelines synced" } th { "last error" } } }
                        tbody {
                            @for repo in repositories {
                                tr {
                                    td { a href=(links.tracked_repository(repo.id)) { (repo.full_name) } }
                                    td { (when(repo.activity_synced_at)) }
                                    td { (when(repo.timeline_synced_at)) }
                                    td.error { (repo.last_error.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
                @if repositories.is_empty() { p.empty { "No repository tracked." } }
            }
            section #organizations {
                h2 { a href=(links.url("/github/tracked_organizations/")) { "Tracked organizations" } }
                div.scroll {
                    table {
                        thead { tr { th { "organization" } th { "tracked since" } th { "members synced" } th { "last error" } } }
                        tbody {
                            @for org in organizations {
                                tr data-login=(org.login) {
                                    td { a href=(links.tracked_organization(org.id)) { (org.login) } }
                                    td { (when(Some(org.created_at))) }
                                    td.members-synced { (when(org.members_synced_at)) }
                                    td.error { (org.last_error.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
                @if organizations.is_empty() { p.empty { "No organization tracked." } }
            }
            section #deliveries {
                h2 { a href=(links.url("/github/webhooks/deliveries/")) { "Latest webhook deliveries" } }
                div.scroll {
                    table {
                        thead { tr { th { "event" } th { "repository" } th { "received" } th { "status" } th { "error" } } }
                        tbody {
                            @for delivery in deliveries {
                                tr data-delivery=(delivery.id) data-status=(delivery.status) {
                                    td {
                                        a href=(links.webhook_delivery(delivery.id)) {
                                            (delivery.event)
                                            @if let Some(action) = &delivery.action { "." (action) }
                                        }
                                    }
                                    td { (delivery.repository_name.as_deref().unwrap_or("")) }
                                    td { (when(Some(delivery.received_at))) }
                                    td.status { (delivery.status) }
                                    td.error { (delivery.error.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
                @if deliveries.is_empty() { p.empty { "No webhook delivery received yet." } }
            }
            section #quota {
                h2 { a href=(links.url("/github/rate_limit/")) { "GitHub quota" } }
                div.scroll {
                    table {
                        thead { tr { th { "identity" } th { "resource" } th { "remaining" } th { "limit" } th { "resets" } } }
                        tbody {
                            @for row in quota {
                                tr {
                                    td { (row.identity) }
                                    td { (row.resource) }
                                    td.n { (row.rate_remaining) }
                                    td.n { (row.rate_limit) }
                                    td { (when(Some(row.rate_reset))) }
                                }
                            }
                        }
                    }
                }
            }
        }
        script { (PreEscaped(LIVE_SCRIPT)) }
    };
    html::layout(&Layout {
        title: "dashboard",
        styles: &[html::CHART_STYLE, STYLE],
        crumbs: html! { a href=(links.url("/github/")) { "github" } " / dashboard" },
        aside: html! { span #live data-stream=(links.url("/github/tasks/live/")) { "task updates" } },
        content,
    })
}

fn when(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "never".to_owned(),
        |time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn format_score(score: f64) -> String {
    let text = format!("{score:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
