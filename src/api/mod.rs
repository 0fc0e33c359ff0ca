//! The HTTP API: routes, content negotiation, errors and documentation.

mod activity;
mod auth;
mod charts;
mod collection;
mod dashboard;
mod developers;
pub mod error;
mod events;
mod fallback;
mod graph;
mod health;
mod html;
mod issues;
mod leaderboards;
pub mod links;
mod live;
mod metrics;
pub mod openapi;
mod params;
mod rate_limits;
mod render;
mod repositories;
mod root;
mod tasks;
mod tracked;
pub mod views;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};

use crate::context::AppContext;
use crate::jobs::Registry;

/// Registers every route of the API, in the app and in the OpenAPI document at once.
///
/// This is the one list of routes: [`serve`] mounts it and [`openapi::document`] reads the
/// document from it, so a route cannot be served without being documented. `service`
/// here only takes handlers carrying both `#[utoipa::path(...)]` and an actix route macro
/// (`#[route("/path/", method = "GET", method = "HEAD")]`), whose path is written once,
/// relative to its scope: to add a route, write such a handler and add one `.service(..)`
/// line — in [`github_routes`] for a `/github/` resource, beside `/health/` below for a
/// public one outside `/github` (such as `/metrics`). Undocumented routes (the docs pages
/// themselves) are mounted by [`serve`] outside this function.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::get_health)
        .service(metrics::get_metrics)
        .service(
            // Every `/github/` resource; reads need a token when `API_READ_AUTH=required`.
            scope::scope("/github")
                .configure(github_routes)
                .wrap(from_fn(auth::read_auth)),
        );
}

/// The resources under `/github/`, with paths relative to that scope.
fn github_routes(cfg: &mut ServiceConfig) {
    cfg.service(root::get_root)
        .service(developers::list_developers)
        .service(developers::get_developer)
        .service(developers::list_developer_followers)
        .service(developers::list_developer_following)
        .service(repositories::list_developer_starred_repositories)
        .service(repositories::list_developer_repositories)
        .service(developers::list_developer_mutuals)
        .service(graph::developer_suggestions)
        .service(graph::developer_path)
        .service(graph::get_graph)
        .service(graph::export_graph)
        .service(repositories::list_repositories)
        .service(repositories::get_repository)
        .service(developers::list_repository_stargazers)
        .service(rate_limits::list_rate_limits)
        .service(rate_limits::get_rate_limit)
        .service(tasks::list_tasks)
        // Before `tasks/{id}/`, which would take `live` for an id.
        .service(live::task_stream)
        .service(tasks::get_task)
        .service(tasks::create_task)
        .service(tracked::list_tracked_repositories)
        .service(tracked::get_tracked_repository)
        .service(tracked::track_repository)
        .service(tracked::untrack_repository)
        .service(tracked::list_tracked_organizations)
        .service(tracked::get_tracked_organization)
        .service(tracked::track_organization)
        .service(tracked::untrack_organization)
        .service(issues::list_issues)
        .service(issues::get_issue)
        .service(issues::list_issue_timeline)
        .service(issues::list_pull_requests)
        .service(issues::get_pull_request)
        .service(issues::list_pull_request_timeline)
        .service(issues::list_repository_issues)
        .service(issues::list_repository_pull_requests)
        .service(issues::list_timeline_items)
        .service(issues::get_timeline_item)
        .service(activity::list_transfers)
        .service(activity::get_transfer)
        .service(activity::list_members)
        .service(activity::get_member)
        .service(activity::list_commits)
        .service(activity::get_commit)
        .service(activity::list_repository_commits)
        .service(activity::list_releases)
        .service(activity::get_release)
        .service(activity::list_repository_releases)
        .service(leaderboards::repository_leaderboard)
        .service(leaderboards::global_leaderboard)
        .service(leaderboards::get_weights)
        .service(leaderboards::put_weights)
        .service(dashboard::dashboard)
        // `/events/gaps/` before `/events/{id}/`, which would take `gaps` for an id.
        .service(events::list_event_gaps)
        .service(events::get_event_gap)
        .service(events::list_events)
        .service(events::get_event)
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
    let ctx = ctx.for_web().map_err(std::io::Error::other)?;
    // Built once, not once per worker: the document walks every route.
    let document = openapi::document(&registry);
    let data = web::Data::new(ctx);
    let registry = web::Data::from(registry);
    let redoc = web::Data::new(openapi::RedocPage::new(document.clone()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(registry.clone())
            .app_data(redoc.clone())
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
            .configure(routes)
            .default_service(web::to(fallback::not_found))
            .into_app()
    })
    .listen(listener)?
    .disable_signals()
    .run();
    Ok(server)
}
