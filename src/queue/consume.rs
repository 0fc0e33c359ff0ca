//! The consuming side: bounded prefetch, manual ack after the handler, reconnect with backoff.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
};
use lapin::types::FieldTable;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::queue::message::JobMessage;
use crate::queue::topology::Topology;
use crate::queue::{Broker, QueueError};

/// What to do with a delivered message once the handler returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settle {
    /// Done (the database commit happened): remove the message.
    Ack,
    /// Could not be handled now (database down): put it back for another try.
    Requeue,
    /// Never handleable: dead-letter it to `{prefix}.jobs.dead`.
    Reject,
}

/// Consumes job messages until `shutdown` turns true, running up to `concurrency` handlers
/// at once; reconnects with backoff whenever the broker goes away.
pub async fn run<H, F>(
    broker: Arc<Broker>,
    topology: Topology,
    concurrency: u16,
    mut shutdown: watch::Receiver<bool>,
    handler: H,
) where
    H: Fn(JobMessage) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Settle> + Send + 'static,
{
    let mut backoff = Duration::from_millis(500);
    loop {
        if *shutdown.borrow() {
            return;
        }
        match consume_until_lost(&broker, &topology, concurrency, &mut shutdown, &handler).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "worker: broker connection lost; reconnecting");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(15));
    }
}

/// One connection's worth of consuming; `Ok` on shutdown, `Err` when the channel died.
async fn consume_until_lost<H, F>(
    broker: &Broker,
    topology: &Topology,
    concurrency: u16,
    shutdown: &mut watch::Receiver<bool>,
    handler: &H,
) -> Result<(), QueueError>
where
    H: Fn(JobMessage) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Settle> + Send + 'static,
{
    let channel = broker.channel().await?;
    topology.declare(&channel).await?;
    channel
        .basic_qos(concurrency.max(1), BasicQosOptions::default())
        .await?;
    let mut consumer = channel
        .basic_consume(
            topology.jobs().as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let tag = consumer.tag();
    tracing::info!(queue = %topology.jobs(), concurrency, "worker: consuming");
    let mut running = JoinSet::new();
    let result = loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    let _ = channel.basic_cancel(tag.clone(), BasicCancelOptions::default()).await;
                    break Ok(());
                }
            }
            Some(_) = running.join_next(), if !running.is_empty() => {}
            delivery = consumer.next() => match delivery {
                Some(Ok(delivery)) => {
                    let handler = handler.clone();
                    running.spawn(handle(delivery, handler));
                }
                Some(Err(error)) => break Err(QueueError::Channel(error)),
                None => break Err(QueueError::Closed),
            },
        }
    };
    // Let in-flight jobs finish and settle their messages before returning.
    while running.join_next().await.is_some() {}
    result
}

async fn handle<H, F>(delivery: Delivery, handler: H)
where
    H: Fn(JobMessage) -> F,
    F: Future<Output = Settle>,
{
    let settle = match serde_json::from_slice::<JobMessage>(&delivery.data) {
        Ok(message) => handler(message).await,
        Err(error) => {
            tracing::error!(%error, "worker: malformed job message dead-lettered");
            Settle::Reject
        }
    };
    let settled = match settle {
        Settle::Ack => delivery.ack(BasicAckOptions::default()).await,
        Settle::Requeue => {
            delivery
                .nack(BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                })
                .await
        }
        Settle::Reject => delivery.nack(BasicNackOptions::default()).await,
    };
    if let Err(error) = settled {
        // The broker will redeliver; the task row makes that harmless.
        tracing::warn!(%error, "worker: could not settle a message");
    }
}
