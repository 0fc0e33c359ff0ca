//! `GET /github/`: the API root, linking every collection and the docs.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, route, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::Resources;
use crate::api::links::Links;
use crate::api::render::Rendered;
use crate::context::AppContext;

/// Links to every collection and the documentation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RootView {
    /// Every resource collection by name (the document lists them as properties).
    #[serde(flatten)]
    #[schema(ignore)]
    pub collections: BTreeMap<&'static str, String>,
    /// Contributors of every tracked repository, ranked.
    pub leaderboards: String,
    /// The weights of the leaderboards (`PUT` to change them).
    pub leaderboard_weights: String,
    /// Task changes as Server-Sent Events.
    pub tasks_live: String,
    /// The dashboard (HTML).
    pub dashboard: String,
    /// The follow graph in numbers, and its export.
    pub graph: String,
    pub metrics: EventMetricsView,
    pub visualization: EventChartsView,
    pub docs: DocsView,
}

/// The name and path (below `/github`) of every collection the API mounts.
#[derive(Clone, Debug)]
pub struct Collections(pub Vec<(&'static str, &'static str)>);

impl Collections {
    /// The links of these resources, in their order.
    pub fn of(resources: Resources) -> Self {
        Self(
            resources()
                .iter()
                .flat_map(|collection| collection.links().to_vec())
                .collect(),
        )
    }
}

/// The event metrics, each linked with an example query (their parameters are required).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventMetricsView {
    pub event_avg_time: String,
    pub events_total_count: String,
    pub multiple_events_repos: String,
}

/// The chart pages of the event metrics (HTML).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventChartsView {
    pub event_avg_time: String,
    pub events_total_count: String,
}

/// Where the API is documented.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocsView {
    /// Swagger UI.
    pub swagger: String,
    /// The OpenAPI 3 document.
    pub openapi: String,
    /// Redoc.
    pub redoc: String,
}

/// Links to every resource collection and to the API documentation.
#[utoipa::path(get, tag = "meta", responses((status = 200, body = RootView)))]
#[route("/", method = "GET", method = "HEAD")]
pub async fn get_root(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    collections: web::Data<Collections>,
) -> HttpResponse {
    let links = Links::new(&request, &ctx.config);
    Rendered::ok(RootView {
        collections: collections
            .0
            .iter()
            .map(|(name, path)| (*name, links.url(&format!("/github{path}"))))
            .collect(),
        leaderboards: links.url("/github/leaderboards/"),
        leaderboard_weights: links.url("/github/leaderboards/weights/"),
        tasks_live: links.url("/github/tasks/live/"),
        dashboard: links.url("/github/dashboard/"),
        graph: links.url("/github/graph/"),
        metrics: EventMetricsView {
            event_avg_time: links.url("/github/metrics/event-avg-time?event_type=PushEvent"),
            events_total_count: links.url("/github/metrics/events-total-count?offset=60"),
            multiple_events_repos: links
                .url("/github/metrics/multiple-events-repos?event_type=PushEvent"),
        },
        visualization: EventChartsView {
            event_avg_time: links.url("/github/visualization/event-avg-time"),
            events_total_count: links.url("/github/visualization/events-total-count?offset=60"),
        },
        docs: DocsView {
            swagger: links.url("/github/swagger/"),
            openapi: links.url("/github/swagger.json"),
            redoc: links.url("/github/redoc/"),
        },
    })
    .respond(&request)
}
