//! `gitomatic worker`: consumes job messages and runs them, WORKER_CONCURRENCY at a time.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::context::AppContext;
use crate::jobs::{Registry, runner};
use crate::queue::{Topology, consume};

/// How often a worker adds its metrics to the shared counters between finished tasks (a
/// long task's GitHub requests show while it runs).
const METRICS_FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Runs the worker, with the job kinds of `registry`, until `shutdown` turns true; in-flight
/// jobs finish first.
pub async fn run(ctx: AppContext, registry: Arc<Registry>, shutdown: watch::Receiver<bool>) {
    let topology = Topology::new(&ctx.config.queue_prefix);
    let concurrency = ctx.config.worker_concurrency;
    let broker = ctx.broker.clone();
    let flusher = tokio::spawn(flush_metrics_periodically(ctx.clone()));
    let handler_ctx = ctx.clone();
    consume::run(broker, topology, concurrency, shutdown, move |message| {
        let (ctx, registry) = (handler_ctx.clone(), registry.clone());
        async move { runner::handle(ctx, &registry, message).await }
    })
    .await;
    flusher.abort();
    flush_metrics(&ctx).await;
    tracing::info!("worker: stopped");
}

async fn flush_metrics_periodically(ctx: AppContext) {
    let mut interval = tokio::time::interval(METRICS_FLUSH_EVERY);
    loop {
        interval.tick().await;
        flush_metrics(&ctx).await;
    }
}

async fn flush_metrics(ctx: &AppContext) {
    let flushed = async { ctx.metrics.flush(&mut *ctx.conn().await?).await };
    if let Err(error) = flushed.await {
        tracing::warn!(%error, "worker: metrics not flushed; kept for the next flush");
    }
}
