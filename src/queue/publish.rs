//! Publishing job messages: persistent, confirmed by the broker, optionally delayed.

use std::time::Duration;

use lapin::BasicProperties;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::queue::message::JobMessage;
use crate::queue::topology::{JOB_ROUTING_KEY, Topology};
use crate::queue::{Broker, QueueError};

/// AMQP delivery mode of messages that survive a broker restart.
const PERSISTENT: u8 = 2;

/// Publishes task ids to the work queue or, when delayed, to a delay bucket.
pub struct Publisher {
    broker: std::sync::Arc<Broker>,
    topology: Topology,
    channel: Mutex<Option<lapin::Channel>>,
}

impl Publisher {
    /// A publisher on the shared broker connection.
    pub fn new(broker: std::sync::Arc<Broker>, topology: Topology) -> Self {
        Self {
            broker,
            topology,
            channel: Mutex::new(None),
        }
    }

    /// Publishes a task id for a worker to run now.
    pub async fn publish(&self, task_id: Uuid) -> Result<(), QueueError> {
        self.publish_after(task_id, Duration::ZERO).await
    }

    /// Publishes a task id to reach the work queue after `delay` (roughly: the worker
    /// re-delays a message that comes back early).
    pub async fn publish_after(&self, task_id: Uuid, delay: Duration) -> Result<(), QueueError> {
        let body = serde_json::to_vec(&JobMessage { task_id }).map_err(QueueError::Encode)?;
        let (exchange, routing_key) = match Topology::bucket_for(delay) {
            None => (self.topology.jobs(), JOB_ROUTING_KEY.to_owned()),
            Some(bucket) => (String::new(), self.topology.delay_queue(bucket)),
        };
        let channel = self.channel().await?;
        // The lock is not held while the broker confirms: publishes pipeline on the channel.
        let confirm = channel
            .basic_publish(
                exchange.as_str().into(),
                routing_key.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &body,
                BasicProperties::default()
                    .with_delivery_mode(PERSISTENT)
                    .with_content_type("application/json".into()),
            )
            .await;
        let confirm = match confirm {
            Ok(pending) => pending.await,
            Err(error) => Err(error),
        };
        let result = match confirm {
            Ok(confirmation) => {
                let acked = confirmation.is_ack();
                if acked && confirmation.take_message().is_none() {
                    return Ok(());
                }
                Err(QueueError::NotConfirmed)
            }
            Err(error) => Err(QueueError::Channel(error)),
        };
        // Drop the channel so the next publish opens a fresh one.
        let mut guard = self.channel.lock().await;
        if guard.as_ref().is_some_and(|c| c.id() == channel.id()) {
            *guard = None;
        }
        result
    }

    /// The publishing channel (declared topology, confirms on), opened when missing.
    async fn channel(&self) -> Result<lapin::Channel, QueueError> {
        let mut guard = self.channel.lock().await;
        if let Some(channel) = guard.as_ref().filter(|c| c.status().connected()) {
            return Ok(channel.clone());
        }
        let channel = self.broker.channel().await?;
        self.topology.declare(&channel).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        *guard = Some(channel.clone());
        Ok(channel)
    }
}
