//! `GET /metrics` (Prometheus text format, public) and the middleware counting HTTP requests.

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, route, web};

use crate::api::error::ApiError;
use crate::context::AppContext;
use crate::metrics::{CONTENT_TYPE, HTTP_DURATION, HTTP_REQUESTS, QUEUE_MESSAGES};
use crate::queue::Topology;

/// Longest wait for RabbitMQ's queue depths before the scrape answers without them.
const QUEUE_DEPTH_TIMEOUT: Duration = Duration::from_secs(2);

/// HTTP methods kept as label values; anything else counts as `OTHER` (bounded labels).
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// The label value of a request's method: its standard name, or `OTHER`.
fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(method))
        .copied()
        .unwrap_or("OTHER")
}

/// Answers every family in the Prometheus text format: the work of all processes from
/// PostgreSQL (left out when it does not answer), this process's HTTP answers, and queue
/// depths read from RabbitMQ now (left out when it does not answer in time).
#[utoipa::path(get, tag = "meta",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4",
        body = String, content_type = "text/plain")))]
#[route("/metrics", method = "GET", method = "HEAD")]
pub async fn get_metrics(ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let queues = Topology::new(&ctx.config.queue_prefix).queues();
    let depths =
        match tokio::time::timeout(QUEUE_DEPTH_TIMEOUT, ctx.broker.message_counts(&queues)).await {
            Ok(Ok(depths)) => depths,
            Ok(Err(error)) => {
                tracing::warn!(%error, "metrics: queue depths not available");
                Vec::new()
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = u64::try_from(QUEUE_DEPTH_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
                    "metrics: RabbitMQ did not answer; queue depths left out"
                );
                Vec::new()
            }
        };
    // Without an answer the family has no values rather than stale ones.
    ctx.metrics.replace(
        &QUEUE_MESSAGES,
        depths
            .iter()
            .map(|(queue, messages)| ([queue.as_str()], f64::from(*messages))),
    );
    // The shared families live in PostgreSQL; without it the scrape shows the rest.
    let mut conn = match ctx.conn().await {
        Ok(conn) => Some(conn),
        Err(error) => {
            tracing::warn!(%error, "metrics: database unavailable; shared families left out");
            None
        }
    };
    // This process's own increments of the shared families first (a web process counts
    // webhook deliveries): its scrape shows them.
    if let Some(conn) = conn.as_deref_mut()
        && let Err(error) = ctx.metrics.flush(conn).await
    {
        tracing::warn!(%error, "metrics: pending increments not flushed; kept for the next flush");
    }
    let text = ctx
        .metrics
        .render(conn.as_deref_mut())
        .await
        .map_err(|error| {
            // A bug (an invalid family), not bad input.
            tracing::error!(%error, "metrics: cannot encode");
            ApiError::Internal
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .body(text))
}

/// Counts every answered request by method and status, and times it (outermost middleware,
/// so authentication failures count too).
pub async fn record_http(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let ctx = request.app_data::<web::Data<AppContext>>().cloned();
    let result = next.call(request).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    if let Some(ctx) = ctx {
        let labels = [method_label(method.as_str()), status.as_str()];
        ctx.metrics.count(&HTTP_REQUESTS, labels, 1.0);
        ctx.metrics
            .observe(&HTTP_DURATION, [], started.elapsed().as_secs_f64());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::method_label;

    #[test]
    fn methods_are_bounded_label_values() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("get"), "GET");
        assert_eq!(method_label("BREW"), "OTHER");
    }
}
