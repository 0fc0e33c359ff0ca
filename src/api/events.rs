//! Event metrics: `/github/events/`, the three metrics under
//! `/github/metrics/` and the two chart pages under `/github/visualization/` (SPEC-2 C).
//!
//! Every metric is one SQL aggregate over the indexed columns of `events`; nothing loads
//! the events into memory. The metric and chart paths have no trailing slash, as SPEC-2
//! names them.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, route, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use diesel_async::AsyncPgConnection;

use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::params::{self, Rendering};
use crate::api::render::Rendered;
use crate::api::resource::{Declaration, Operation, Resource};
use crate::api::values::Positive;
use crate::api::views::ErrorView;
use crate::api::{charts, html};
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::events::{self, EventRecord, Selection};
use crate::github::types::EVENT_TYPES;

/// The farthest back an `offset` reaches: a century of minutes (GitHub has no older
/// events; a larger offset counts the same events, and the time stays representable).
const MAX_OFFSET_MINUTES: i64 = 100 * 366 * 24 * 60;

// ---------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------

/// An event of GitHub's public feeds, stored once.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub url: String,
    pub id: Uuid,
    /// GitHub's event id.
    pub github_id: i64,
    /// GitHub's event type, e.g. `PushEvent`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `payload.action`, null when absent.
    pub action: Option<String>,
    pub actor_login: String,
    /// `owner/name`.
    pub repository_name: String,
    pub org_login: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the poller stored it.
    pub fetched_at: DateTime<Utc>,
    /// The event's payload as GitHub gave it.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl EventView {
    fn new(record: EventRecord, links: &Links) -> Self {
        Self {
            url: links.url(&format!("/github/events/{}/", record.id)),
            id: record.id,
            github_id: record.github_id,
            event_type: record.event_type,
            action: record.action,
            actor_login: record.actor_login,
            repository_name: record.repository_name,
            org_login: record.org_login,
            created_at: record.created_at,
            fetched_at: record.fetched_at,
            payload: record.payload,
        }
    }
}

/// The mean time between consecutive matching events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventAvgTimeView {
    pub event_type: String,
    pub action: Option<String>,
    pub repository_name: Option<String>,
    /// Matching events stored.
    pub count: i64,
    /// (last − first) / (count − 1) in seconds; null with fewer than 2 events.
    pub average_seconds: Option<f64>,
}

/// Events created in the last `offset` minutes, by type.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsTotalCountView {
    /// Minutes.
    pub offset: i64,
    /// now − offset: events created at or after it are counted.
    pub since: DateTime<Utc>,
    /// The sum of `counts`.
    pub total: i64,
    /// Every GitHub event type (0 when none) and any other type stored.
    pub counts: BTreeMap<String, i64>,
}

/// Repositories with at least `minimal_events_count` events of a type.
#[derive(Debug, Serialize, ToSchema)]
pub struct MultipleEventsReposView {
    pub event_type: String,
    pub minimal_events_count: i64,
    /// By count descending, then name.
    pub repositories: Vec<RepositoryEventsView>,
}

/// A repository and its number of events of the type asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryEventsView {
    pub repository_name: String,
    pub count: i64,
}

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

/// GitHub's event types.
// In the order of `EVENT_TYPES`, which `name` reads (a test keeps the two equal).
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[expect(
    clippy::enum_variant_names,
    reason = "GitHub's names, which all end in Event"
)]
pub enum EventTypeName {
    CommitCommentEvent,
    CreateEvent,
    DeleteEvent,
    DiscussionEvent,
    ForkEvent,
    GollumEvent,
    IssueCommentEvent,
    IssuesEvent,
    MemberEvent,
    PublicEvent,
    PullRequestEvent,
    PullRequestReviewEvent,
    PullRequestReviewCommentEvent,
    PullRequestReviewThreadEvent,
    PushEvent,
    ReleaseEvent,
    SponsorshipEvent,
    WatchEvent,
}

impl EventTypeName {
    /// GitHub's name of the type, as stored.
    pub fn name(self) -> &'static str {
        EVENT_TYPES[self as usize]
    }
}

/// Parameters of `/github/metrics/event-avg-time`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AvgTimeParams {
    /// GitHub's event type, such as `PushEvent`.
    #[param(inline)]
    pub event_type: EventTypeName,
    /// Only events whose `payload.action` is this.
    pub action: Option<String>,
    /// Only events of this repository, `owner/name`.
    pub repository_name: Option<String>,
}

/// Parameters of `/github/metrics/events-total-count`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TotalCountParams {
    /// Minutes back from now, a positive integer.
    #[param(inline)]
    pub offset: Positive,
    /// Only events whose `payload.action` is this.
    pub action: Option<String>,
    /// Only events of this repository, `owner/name`.
    pub repository_name: Option<String>,
}

impl TotalCountParams {
    fn selection(&self) -> Selection<'_> {
        Selection {
            action: self.action.as_deref(),
            repository_name: self.repository_name.as_deref(),
        }
    }
}

/// Parameters of `/github/metrics/multiple-events-repos`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MultipleReposParams {
    /// GitHub's event type, such as `PushEvent`.
    #[param(inline)]
    pub event_type: EventTypeName,
    /// The fewest events a repository needs, a positive integer (default 2).
    #[param(inline)]
    pub minimal_events_count: Option<Positive>,
}

/// Parameters of `/github/visualization/event-avg-time`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AvgTimeChartParams {
    /// One event type; every type when absent.
    #[param(inline)]
    pub event_type: Option<EventTypeName>,
    /// Only events whose `payload.action` is this.
    pub action: Option<String>,
    /// Only events of this repository, `owner/name`.
    pub repository_name: Option<String>,
}

// ---------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------

/// GitHub's public events, as polled.
pub struct Events;

impl Resource for Events {
    type Record = EventRecord;
    type View = EventView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "events",
        path: "/events/",
        singular: "event",
        tag: "events",
        fields: events::FIELDS,
        ordering: "-created_at",
        list: Operation {
            id: "list_events",
            summary: "Lists stored events, the latest created first.",
        },
        detail: Operation {
            id: "get_event",
            summary: "One event.",
        },
    };
    const ALL: () = ();

    fn view(record: EventRecord, links: &Links) -> EventView {
        EventView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<EventRecord>, DbError> {
        events::list(conn, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<EventRecord>, DbError> {
        events::get(conn, id).await
    }
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

/// The mean time between consecutive events of a type: (last − first) / (count − 1),
/// null with fewer than 2 events.
#[utoipa::path(get, tag = "events", params(AvgTimeParams, Rendering),
    responses((status = 200, body = EventAvgTimeView), (status = 400, body = ErrorView)))]
#[route("/metrics/event-avg-time", method = "GET", method = "HEAD")]
pub async fn event_avg_time(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let query: AvgTimeParams = params::typed(&request)?;
    let event_type = query.event_type.name();
    let selection = Selection {
        action: query.action.as_deref(),
        repository_name: query.repository_name.as_deref(),
    };
    let span = events::span(&mut *ctx.conn().await?, event_type, &selection).await?;
    Ok(Rendered::ok(EventAvgTimeView {
        event_type: event_type.to_owned(),
        action: query.action.clone(),
        repository_name: query.repository_name.clone(),
        count: span.count,
        average_seconds: span.average_seconds(),
    })
    .respond(&request))
}

/// Events created in the last `offset` minutes, by type.
#[utoipa::path(get, tag = "events", params(TotalCountParams, Rendering),
    responses((status = 200, body = EventsTotalCountView), (status = 400, body = ErrorView)))]
#[route("/metrics/events-total-count", method = "GET", method = "HEAD")]
pub async fn events_total_count(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let query: TotalCountParams = params::typed(&request)?;
    let view = total_count(&ctx, &query).await?;
    Ok(Rendered::ok(view).respond(&request))
}

/// Events created in the last `offset` minutes, by type: the metric and its chart.
async fn total_count(
    ctx: &AppContext,
    query: &TotalCountParams,
) -> Result<EventsTotalCountView, ApiError> {
    let Positive(offset) = query.offset;
    let since = Utc::now() - chrono::Duration::minutes(offset.min(MAX_OFFSET_MINUTES));
    let found = events::counts_since(&mut *ctx.conn().await?, since, &query.selection()).await?;
    let mut counts: BTreeMap<String, i64> = EVENT_TYPES
        .iter()
        .map(|kind| ((*kind).to_owned(), 0))
        .collect();
    for row in found {
        counts.insert(row.event_type, row.count);
    }
    Ok(EventsTotalCountView {
        offset,
        since,
        total: counts.values().sum(),
        counts,
    })
}

/// Repositories with at least `minimal_events_count` events of a type, by count descending,
/// then name.
#[utoipa::path(get, tag = "events", params(MultipleReposParams, Rendering),
    responses((status = 200, body = MultipleEventsReposView), (status = 400, body = ErrorView)))]
#[route("/metrics/multiple-events-repos", method = "GET", method = "HEAD")]
pub async fn multiple_events_repos(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let query: MultipleReposParams = params::typed(&request)?;
    let event_type = query.event_type.name();
    let minimum = query.minimal_events_count.map_or(2, |Positive(n)| n);
    let rows = events::repositories_with(&mut *ctx.conn().await?, event_type, minimum).await?;
    Ok(Rendered::ok(MultipleEventsReposView {
        event_type: event_type.to_owned(),
        minimal_events_count: minimum,
        repositories: rows
            .into_iter()
            .map(|row| RepositoryEventsView {
                repository_name: row.repository_name,
                count: row.count,
            })
            .collect(),
    })
    .respond(&request))
}

// ---------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------

/// An HTML page with an SVG chart per event type: each gap between consecutive events (of
/// the latest 500) a dot, the average over all matching events a dotted line.
#[utoipa::path(get, tag = "events", params(AvgTimeChartParams),
    responses((status = 200, description = "An HTML page with server-rendered SVG charts", content_type = "text/html", body = String),
        (status = 400, body = ErrorView)))]
#[route("/visualization/event-avg-time", method = "GET", method = "HEAD")]
pub async fn event_avg_time_chart(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    // HTML only: no `format`.
    let query: AvgTimeChartParams = params::typed_unrendered(&request)?;
    let types: Vec<String> = match query.event_type {
        Some(one) => vec![one.name().to_owned()],
        None => EVENT_TYPES.iter().map(|kind| (*kind).to_owned()).collect(),
    };
    let selection = Selection {
        action: query.action.as_deref(),
        repository_name: query.repository_name.as_deref(),
    };
    let mut conn = ctx.conn().await?;
    let moments =
        events::latest_moments(&mut conn, &types, &selection, charts::CHART_EVENTS + 1).await?;
    let mut charts = Vec::with_capacity(types.len());
    for kind in &types {
        let span = events::span(&mut conn, kind, &selection).await?;
        let times: Vec<DateTime<Utc>> = moments
            .iter()
            .filter(|moment| &moment.event_type == kind)
            .map(|moment| moment.created_at)
            .collect();
        charts.push(charts::AvgTimeChart {
            event_type: kind.clone(),
            count: span.count,
            average_seconds: span.average_seconds(),
            times,
        });
    }
    drop(conn);
    // The types with the most events first; those without gaps last, in a line each.
    charts.sort_by(|a, b| b.count.cmp(&a.count).then(a.event_type.cmp(&b.event_type)));
    let page = html::chart_page(
        request.path(),
        "Average time between events",
        charts::avg_time(&charts, &selection),
    );
    Ok(html_response(page))
}

/// An HTML page with an SVG bar chart: events created in the last `offset` minutes, a bar
/// per type.
#[utoipa::path(get, tag = "events", params(TotalCountParams),
    responses((status = 200, description = "An HTML page with a server-rendered SVG bar chart", content_type = "text/html", body = String),
        (status = 400, body = ErrorView)))]
#[route("/visualization/events-total-count", method = "GET", method = "HEAD")]
pub async fn events_total_count_chart(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    // HTML only: no `format`.
    let query: TotalCountParams = params::typed_unrendered(&request)?;
    let view = total_count(&ctx, &query).await?;
    let page = html::chart_page(
        request.path(),
        "Events by type",
        charts::total_count(
            view.offset,
            view.since,
            &view.counts,
            view.total,
            &query.selection(),
        ),
    );
    Ok(html_response(page))
}

fn html_response(page: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_event_types_are_the_accepted_ones() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(EventTypeName::schema()).expect("JSON");
        let documented: Vec<&str> = schema["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        assert_eq!(documented, EVENT_TYPES);
        // So `name` answers what the parameter said.
        for name in EVENT_TYPES {
            let kind: EventTypeName = serde_json::from_value(name.into()).expect("a type");
            assert_eq!(kind.name(), name);
        }
    }
}
