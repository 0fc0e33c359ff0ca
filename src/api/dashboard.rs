//! `GET /github/dashboard/`: one page to watch gitomatic work — the global leaderboard's
//! top 20, tracked repositories and their last syncs, the quota per identity, the latest
//! webhook deliveries, and the latest tasks, kept current from `/github/tasks/live/`. Server-rendered with maud; the
//! page loads no script or style from anywhere else.

use actix_web::{HttpRequest, HttpResponse, route, web};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::api::error::ApiError;
use crate::api::leaderboards::Board;
use crate::api::links::Links;
use crate::api::params;
use crate::api::views::ErrorView;
use crate::context::AppContext;
use crate::db::queries::leaderboards::{self, BoardRow};
use crate::db::queries::rate_limits::{self, RateLimitRow};
use crate::db::queries::tasks::{self, TaskRow};
use crate::db::queries::tracked::{self, TrackedRepository};
use crate::db::queries::webhook_deliveries::{self, DeliveryRecord};

/// Contributors shown.
const TOP: u32 = 20;
/// Tasks shown (and kept by the live updates).
const LATEST_TASKS: i64 = 20;
/// Tracked repositories shown.
const REPOSITORIES: i64 = 100;
/// Webhook deliveries shown.
const LATEST_DELIVERIES: i64 = 20;

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}\
header{background:#24292f;color:#fff;padding:.7em 1.2em;display:flex;justify-content:space-between}\
header a{color:#fff}main{display:grid;grid-template-columns:1fr 1fr;gap:1em;padding:1em}\
section{background:#fff;border:1px solid #ddd;padding:.6em 1em;overflow:auto}\
h2{font-size:1.05em;margin:.3em 0 .6em}table{border-collapse:collapse;width:100%;font-size:.9em}\
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #eee}td.n{text-align:right}\
a{color:#0969da}.status{font-weight:bold}.error{color:#b42318}\
tr[data-status=succeeded] .status{color:#1a7f37}tr[data-status=failed] .status{color:#b42318}\
tr[data-status=running] .status{color:#0969da}tr[data-status=deferred] .status{color:#9a6700}\
#live{font-size:.85em}body[data-live=open] #live::after{content:' live'}";

/// Keeps the task table current: each `task` event updates its row or adds one on top.
const LIVE_SCRIPT: &str = r#"
const table = document.getElementById('tasks');
const source = new EventSource(document.body.dataset.stream);
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
         description = "The leaderboard's top 20, tracked repositories, quota per identity, the latest webhook deliveries and the latest tasks, updated live"),
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
    let deliveries = webhook_deliveries::latest(&mut conn, LATEST_DELIVERIES).await?;
    drop(conn);
    let links = Links::new(&request, &ctx.config);
    let page = render(&links, &board, &repositories, &quota, &latest, &deliveries);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.into_string()))
}

fn render(
    links: &Links,
    board: &[BoardRow],
    repositories: &[TrackedRepository],
    quota: &[RateLimitRow],
    latest: &[TaskRow],
    deliveries: &[DeliveryRecord],
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "gitomatic dashboard" }
                style { (PreEscaped(STYLE)) }
            }
            body data-stream=(links.url("/github/tasks/live/")) {
                header {
                    a href=(links.url("/github/")) { "gitomatic" }
                    span #live { "tasks" }
                }
                main {
                    section #leaderboard {
                        h2 { a href=(links.url("/github/leaderboards/")) { "Leaderboard, top 20" } }
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
                        @if board.is_empty() { p { "No contributions counted yet." } }
                    }
                    section #tasks-section {
                        h2 { a href=(links.url("/github/tasks/")) { "Latest tasks" } }
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
                    section #repositories {
                        h2 { a href=(links.url("/github/tracked_repositories/")) { "Tracked repositories" } }
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
                    section #deliveries {
                        h2 { a href=(links.url("/github/webhooks/deliveries/")) { "Latest webhook deliveries" } }
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
                        @if deliveries.is_empty() { p { "No webhook delivery received yet." } }
                    }
                    section #quota {
                        h2 { a href=(links.url("/github/rate_limit/")) { "GitHub quota" } }
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
                script { (PreEscaped(LIVE_SCRIPT)) }
            }
        }
    }
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
