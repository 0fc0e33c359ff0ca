//! The HTTP API: routes, content negotiation, errors and documentation.

mod auth;
mod charts;
mod collection;
mod commits;
mod dashboard;
mod developers;
pub mod error;
mod event_gaps;
mod events;
mod fallback;
mod filter_form;
mod graph;
mod health;
mod html;
mod issues;
mod leaderboards;
pub mod links;
mod live;
mod members;
mod metrics;
pub mod openapi;
mod params;
mod post_form;
mod rate_limits;
mod releases;
mod render;
mod repositories;
pub mod resource;
mod root;
mod tasks;
mod timeline_items;
mod tracked;
mod transfers;
mod values;
pub mod views;
mod webhooks;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};

use crate::api::resource::Collection;
use crate::context::AppContext;
use crate::jobs::Registry;

/// The read-only resources an API serves: [`resources`], or more (an embedding program,
/// or a test, may add its own).
pub type Resources = fn() -> Vec<Collection>;

/// Registers every route of the API, in the app and in the OpenAPI document at once.
///
/// This is the one list of routes: [`serve`] mounts it and [`openapi::document`] reads the
/// document from it, so a route cannot be served without being documented. A read-only
/// resource is one line in [`resources`] (see [`resource`]). Any other route is a handler
/// carrying both `#[utoipa::path(...)]` and an actix route macro (`#[route("/path/", method
/// = "GET", method = "HEAD")]`), whose path is written once, relative to its scope, and one
/// `.service(..)` line — in [`github_routes`] for a `/github/` route, beside `/health/`
/// below for a public one outside `/github` (such as `/metrics`). Undocumented routes (the
/// docs pages themselves) are mounted by [`serve`] outside this function.
pub fn routes(cfg: &mut ServiceConfig, resources: Resources) {
    cfg.service(health::get_health)
        .service(metrics::get_metrics)
        .service(
            // Every `/github/` resource; reads need a token when `API_READ_AUTH=required`.
            scope::scope("/github")
                .configure(|cfg| github_routes(cfg, resources))
                .wrap(from_fn(auth::read_auth)),
        );
}

/// Every read-only resource, each declared once in its own file (see [`resource`]): its
/// list, detail and sub-collections, in the order they are matched.
pub fn resources() -> Vec<Collection> {
    vec![
        Collection::of::<developers::Developers>(),
        Collection::of::<repositories::Repositories>(),
        Collection::of::<rate_limits::RateLimits>(),
        Collection::of::<tasks::Tasks>(),
        Collection::of::<tracked::TrackedRepositories>(),
        Collection::of::<tracked::TrackedOrganizations>(),
        Collection::of::<issues::Issues>(),
        Collection::of::<issues::PullRequests>(),
        Collection::of::<timeline_items::TimelineItems>(),
        Collection::of::<transfers::Transfers>(),
        Collection::of::<members::Members>(),
        Collection::of::<commits::Commits>(),
        Collection::of::<releases::Releases>(),
        // Before events, whose `/events/{id}/` would take `gaps` for an id.
        Collection::of::<event_gaps::EventGaps>(),
        Collection::of::<events::Events>(),
        Collection::of::<webhooks::WebhookDeliveries>(),
    ]
}

/// The resources under `/github/`, with paths relative to that scope.
fn github_routes(cfg: &mut ServiceConfig, resources: Resources) {
    cfg.service(root::get_root)
        // Before the tasks, whose `/tasks/{id}/` would take `live` for an id.
        .service(live::task_stream);
    for collection in resources() {
        cfg.service(collection);
    }
    cfg.service(graph::developer_suggestions)
        .service(graph::developer_path)
        .service(graph::get_graph)
        .service(graph::export_graph)
        .service(tasks::create_task)
        .service(webhooks::receive_delivery)
        .service(tracked::track_repository)
        .service(tracked::untrack_repository)
        .service(tracked::track_organization)
        .service(tracked::untrack_organization)
        .service(leaderboards::repository_leaderboard)
        .service(leaderboards::global_leaderboard)
        .service(leaderboards::get_weights)
        .service(leaderboards::put_weights)
        .service(dashboard::dashboard)
        .service(events::event_avg_time)
        .service(events::events_total_count)
        .service(events::multiple_events_repos)
        .service(events::event_avg_time_chart)
        .service(events::events_total_count_chart);
}

/// Starts serving the API on an already bound listener; `registry` holds the job kinds that
/// tasks may be triggered for.
pub fn serve(
    ctx: AppContext,
    registry: Arc<Registry>,
    listener: TcpListener,
) -> std::io::Result<Server> {
    serve_with(ctx, registry, listener, resources)
}

/// [`serve`], with these read-only resources instead of [`resources`].
pub fn serve_with(
    ctx: AppContext,
    registry: Arc<Registry>,
    listener: TcpListener,
    resources: Resources,
) -> std::io::Result<Server> {
    let ctx = ctx.for_web().map_err(std::io::Error::other)?;
    // Built once, not once per worker: the document walks every route.
    let document = openapi::document_with(&registry, resources);
    let collections = web::Data::new(root::Collections::of(resources));
    let data = web::Data::new(ctx);
    let registry = web::Data::from(registry);
    let redoc = web::Data::new(openapi::RedocPage::new(document.clone()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(registry.clone())
            .app_data(redoc.clone())
            .app_data(collections.clone())
            .app_data(web::PathConfig::default().error_handler(|error, _| {
                error::ApiError::NotFound(format!("Not found: {error}")).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|error, _| {
                error::ApiError::BadRequest(format!("Malformed query: {error}")).into()
            }))
            // Outermost, so that answers of the other middleware are counted too.
            .wrap(from_fn(metrics::record_http))
            // The docs are public: mounted before the `/github` scope, outside its auth.
            .configure(|cfg| openapi::docs(cfg, document.clone()))
            .into_utoipa_app()
            .configure(|cfg| routes(cfg, resources))
            .default_service(web::to(fallback::not_found))
            .into_app()
    })
    .listen(listener)?
    .disable_signals()
    .run();
    Ok(server)
}
