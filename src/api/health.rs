//! `GET /health/`: whether the database and the broker answer.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::context::AppContext;

/// Answers 200 when PostgreSQL and RabbitMQ both answer, 503 naming what is down.
#[get("/health/")]
pub async fn get_health(ctx: web::Data<AppContext>) -> HttpResponse {
    let (database, queue) =
        tokio::join!(crate::db::queries::health::ping(&ctx.db), ctx.broker.ping());
    let database_ok = database.is_ok();
    let queue_ok = queue.is_ok();
    if let Err(error) = &database {
        tracing::warn!(%error, "health: database down");
    }
    if let Err(error) = &queue {
        tracing::warn!(%error, "health: queue down");
    }
    let label = |ok: bool| if ok { "ok" } else { "down" };
    let body = json!({
        "status": label(database_ok && queue_ok),
        "database": label(database_ok),
        "queue": label(queue_ok),
    });
    if database_ok && queue_ok {
        HttpResponse::Ok().json(body)
    } else {
        let down: Vec<&str> = [("database", database_ok), ("queue", queue_ok)]
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name)
            .collect();
        let mut body = body;
        body["error"] = json!(format!("{} down", down.join(" and ")));
        HttpResponse::ServiceUnavailable().json(body)
    }
}
