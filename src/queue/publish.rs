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
        let mut guard = self.channel.lock().await;
        let channel = match guard.as_ref().filter(|c| c.status().connected()) {
            Some(channel) => channel.clone(),
            None => {
                let channel = self.broker.channel().await?;
                self.topology.declare(&channel).await?;
                channel
                    .confirm_select(ConfirmSelectOptions::default())
                    .await?;
                *guard = Some(channel.clone());
                channel
            }
        };
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
        match confirm {
            Ok(confirmation) => {
                let acked = confirmation.is_ack();
                if acked && confirmation.take_message().is_none() {
                    Ok(())
                } else {
                    *guard = None;
                    Err(QueueError::NotConfirmed)
                }
            }
            Err(error) => {
                // Drop the channel so the next publish reconnects.
                *guard = None;
                Err(QueueError::Channel(error))
            }
        }
    }
}
