//! The HTTP API: routes, content negotiation, errors and documentation.

mod auth;
mod collection;
mod developers;
pub mod error;
mod fallback;
mod health;
mod html;
pub mod links;
mod metrics;
pub mod openapi;
mod params;
mod rate_limits;
mod render;
mod repositories;
mod root;
mod tasks;
pub mod views;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::context::AppContext;

/// Registers every route of the API on an actix app (docs first: see STACK-NOTES).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi::swagger_ui())
        .service(openapi::get_redoc)
        .service(openapi::get_redoc_script)
        .service(health::get_health)
        .service(metrics::get_metrics)
        .service(root::get_root)
        .service(developers::list_developers)
        .service(developers::get_developer)
        .service(developers::list_developer_followers)
        .service(developers::list_developer_following)
        .service(developers::list_developer_starred_repositories)
        .service(developers::list_developer_repositories)
        .service(repositories::list_repositories)
        .service(repositories::get_repository)
        .service(repositories::list_repository_stargazers)
        .service(rate_limits::list_rate_limits)
        .service(rate_limits::get_rate_limit)
        .service(tasks::list_tasks)
        .service(tasks::get_task)
        .service(tasks::create_task);
}

/// Starts serving the API on an already bound listener.
pub fn serve(ctx: AppContext, listener: TcpListener) -> std::io::Result<Server> {
    let data = web::Data::new(ctx);
    let redoc = web::Data::new(openapi::RedocPage::new());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(redoc.clone())
            .app_data(web::PathConfig::default().error_handler(|error, _| {
                error::ApiError::NotFound(format!("Not found: {error}")).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|error, _| {
                error::ApiError::BadRequest(format!("Malformed query: {error}")).into()
            }))
            .wrap(from_fn(auth::read_auth))
            // Outermost, so that answers of the other middleware are counted too.
            .wrap(from_fn(metrics::record_http))
            .configure(configure)
            .default_service(web::to(fallback::not_found))
    })
    .listen(listener)?
    .disable_signals()
    .run();
    Ok(server)
}
