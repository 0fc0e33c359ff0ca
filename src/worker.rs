//! `gitomatic worker`: consumes job messages and runs them, WORKER_CONCURRENCY at a time.

use tokio::sync::watch;

use crate::context::AppContext;
use crate::jobs::runner;
use crate::queue::{Topology, consume};

/// Runs the worker until `shutdown` turns true; in-flight jobs finish first.
pub async fn run(ctx: AppContext, shutdown: watch::Receiver<bool>) {
    let topology = Topology::new(&ctx.config.queue_prefix);
    let concurrency = ctx.config.worker_concurrency;
    let broker = ctx.broker.clone();
    consume::run(broker, topology, concurrency, shutdown, move |message| {
        let ctx = ctx.clone();
        async move { runner::handle(ctx, message).await }
    })
    .await;
    tracing::info!("worker: stopped");
}
