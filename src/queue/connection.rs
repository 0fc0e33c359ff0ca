//! The process's AMQP connection, opened lazily and re-opened after a broker restart.

use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::Mutex;

/// A failure talking to RabbitMQ.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The broker could not be reached or refused the connection.
    #[error("cannot connect to RabbitMQ: {0}")]
    Connect(lapin::Error),
    /// The broker did not answer in time.
    #[error("RabbitMQ did not answer within {0:?}")]
    Timeout(Duration),
    /// A channel operation failed.
    #[error("RabbitMQ operation failed: {0}")]
    Channel(#[from] lapin::Error),
    /// The broker closed the consumer.
    #[error("RabbitMQ closed the consumer")]
    Closed,
    /// The broker did not confirm a published message (nacked or unroutable).
    #[error("RabbitMQ did not confirm the message")]
    NotConfirmed,
    /// A message could not be encoded.
    #[error("cannot encode the job message: {0}")]
    Encode(serde_json::Error),
}

/// Connection to RabbitMQ shared by every part of a process.
pub struct Broker {
    url: String,
    connection: Mutex<Option<Connection>>,
}

/// How long connecting may take before the broker counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Broker {
    /// A broker handle for this URL; nothing is connected until first use.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            connection: Mutex::new(None),
        }
    }

    /// Opens a channel, (re)connecting first when there is no live connection.
    pub async fn channel(&self) -> Result<Channel, QueueError> {
        let mut guard = self.connection.lock().await;
        if let Some(connection) = guard.as_ref().filter(|c| c.status().connected()) {
            match connection.create_channel().await {
                Ok(channel) => return Ok(channel),
                Err(error) => tracing::warn!(%error, "AMQP channel failed; reconnecting"),
            }
        }
        let connection = tokio::time::timeout(
            CONNECT_TIMEOUT,
            Connection::connect(&self.url, ConnectionProperties::default()),
        )
        .await
        .map_err(|_| QueueError::Timeout(CONNECT_TIMEOUT))?
        .map_err(QueueError::Connect)?;
        let channel = connection.create_channel().await?;
        *guard = Some(connection);
        Ok(channel)
    }

    /// Messages waiting in each of these queues, read with a passive declare (which creates
    /// nothing); a queue that does not exist is left out.
    pub async fn message_counts(
        &self,
        queues: &[String],
    ) -> Result<Vec<(String, u32)>, QueueError> {
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let mut channel = self.channel().await?;
        let mut counts = Vec::with_capacity(queues.len());
        for queue in queues {
            match channel
                .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                .await
            {
                Ok(declared) => counts.push((queue.clone(), declared.message_count())),
                Err(error) => {
                    // A missing queue (404) closes the channel: go on with a new one.
                    tracing::debug!(queue.name = %queue, %error, "queue depth not available");
                    channel = self.channel().await?;
                }
            }
        }
        channel.close(200, "queue depths read".into()).await?;
        Ok(counts)
    }

    /// Checks that the broker answers: opens and closes a channel.
    pub async fn ping(&self) -> Result<(), QueueError> {
        let channel = tokio::time::timeout(CONNECT_TIMEOUT, self.channel())
            .await
            .map_err(|_| QueueError::Timeout(CONNECT_TIMEOUT))??;
        channel.close(200, "ping".into()).await?;
        Ok(())
    }
}
