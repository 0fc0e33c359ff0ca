//! The HTTP API: actix-web server, routes and error rendering.

pub mod error;
mod fallback;
mod health;
pub mod links;
mod root;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::context::AppContext;

/// Largest request body accepted (task triggers are tiny).
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Registers every route of the API on an actix app.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::get_health).service(root::get_root);
}

/// Starts serving the API on an already bound listener.
pub fn serve(ctx: AppContext, listener: TcpListener) -> std::io::Result<Server> {
    let data = web::Data::new(ctx);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(MAX_BODY_BYTES))
            .app_data(web::FormConfig::default().limit(MAX_BODY_BYTES))
            .configure(configure)
            .default_service(web::to(fallback::not_found))
    })
    .listen(listener)?
    .disable_signals()
    .run();
    Ok(server)
}
