//! `GET /health/`: whether the database and the broker answer.

use actix_web::{HttpResponse, route, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::context::AppContext;

/// Health of gitomatic and of what it depends on.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// `ok` when every part is.
    pub status: &'static str,
    /// `ok` or `down`.
    pub database: &'static str,
    /// `ok` or `down`.
    pub queue: &'static str,
    /// Which parts are down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Answers 200 when PostgreSQL and RabbitMQ both answer, 503 naming what is down.
#[utoipa::path(get, tag = "meta",
    responses((status = 200, body = HealthView), (status = 503, body = HealthView)))]
#[route("/health/", method = "GET", method = "HEAD")]
pub async fn get_health(ctx: web::Data<AppContext>) -> HttpResponse {
    let database = async { crate::db::queries::health::ping(&mut *ctx.conn().await?).await };
    let (database, queue) = tokio::join!(database, ctx.broker.ping());
    if let Err(error) = &database {
        tracing::warn!(%error, "health: database down");
    }
    if let Err(error) = &queue {
        tracing::warn!(%error, "health: queue down");
    }
    let parts = [("database", database.is_ok()), ("queue", queue.is_ok())];
    let label = |ok: bool| if ok { "ok" } else { "down" };
    let down: Vec<&str> = parts
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| *name)
        .collect();
    let view = HealthView {
        status: label(down.is_empty()),
        database: label(parts[0].1),
        queue: label(parts[1].1),
        error: (!down.is_empty()).then(|| format!("{} down", down.join(" and "))),
    };
    if down.is_empty() {
        HttpResponse::Ok().json(view)
    } else {
        HttpResponse::ServiceUnavailable().json(view)
    }
}
