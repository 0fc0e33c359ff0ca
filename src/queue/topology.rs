//! Exchange and queue names under QUEUE_PREFIX, declared idempotently by every process.
//!
//! | name | kind | role |
//! |---|---|---|
//! | `{prefix}.jobs` | direct exchange + durable queue | workers consume; rejects dead-letter to `{prefix}.jobs.dlx` |
//! | `{prefix}.jobs.delay.{n}s` | durable queues, no consumer | queue-level TTL of n seconds, dead-letter back to `{prefix}.jobs` |
//! | `{prefix}.jobs.dlx` → `{prefix}.jobs.dead` | fanout exchange + queue | poison messages kept for inspection |
//!
//! Delays use fixed-TTL buckets (powers of two seconds) rather than per-message TTLs on one
//! queue: RabbitMQ only expires the head of a queue, so a long delay would hold back a
//! short one. A message waits in the largest bucket not longer than its delay; when it
//! comes back early, the worker sends it to the next smaller bucket.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use crate::queue::QueueError;

/// Routing key of job messages on the jobs exchange.
pub const JOB_ROUTING_KEY: &str = "job";

/// Delay buckets in seconds: 1 s up to about 2.3 hours (one GitHub quota window and more).
pub const DELAY_BUCKETS: [u64; 14] = [
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
];

/// The names of one instance's exchanges and queues.
#[derive(Clone, Debug)]
pub struct Topology {
    prefix: String,
}

impl Topology {
    /// Names under a QUEUE_PREFIX.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// The jobs exchange and the work queue (same name).
    pub fn jobs(&self) -> String {
        format!("{}.jobs", self.prefix)
    }

    /// The dead-letter exchange.
    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.jobs.dlx", self.prefix)
    }

    /// The queue keeping poison messages.
    pub fn dead_queue(&self) -> String {
        format!("{}.jobs.dead", self.prefix)
    }

    /// The delay queue of a bucket.
    pub fn delay_queue(&self, bucket_secs: u64) -> String {
        format!("{}.jobs.delay.{bucket_secs}s", self.prefix)
    }

    /// Every queue: the work queue, the dead-letter queue and each delay bucket's queue.
    pub fn queues(&self) -> Vec<String> {
        [self.jobs(), self.dead_queue()]
            .into_iter()
            .chain(DELAY_BUCKETS.iter().map(|bucket| self.delay_queue(*bucket)))
            .collect()
    }

    /// The bucket a message waiting `delay` goes to: the largest not longer than the delay.
    /// `None` when the delay is under a second (publish to the work queue directly).
    pub fn bucket_for(delay: Duration) -> Option<u64> {
        DELAY_BUCKETS
            .iter()
            .rev()
            .copied()
            .find(|bucket| Duration::from_secs(*bucket) <= delay)
    }

    /// Declares every exchange, queue and binding (idempotent).
    pub async fn declare(&self, channel: &Channel) -> Result<(), QueueError> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let durable_queue = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .exchange_declare(
                self.jobs().as_str().into(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                self.dead_letter_exchange().as_str().into(),
                ExchangeKind::Fanout,
                durable,
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_declare(
                self.dead_queue().as_str().into(),
                durable_queue,
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                self.dead_queue().as_str().into(),
                self.dead_letter_exchange().as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let mut jobs_args = FieldTable::default();
        jobs_args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(self.dead_letter_exchange().as_str().into()),
        );
        channel
            .queue_declare(self.jobs().as_str().into(), durable_queue, jobs_args)
            .await?;
        channel
            .queue_bind(
                self.jobs().as_str().into(),
                self.jobs().as_str().into(),
                JOB_ROUTING_KEY.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        for bucket in DELAY_BUCKETS {
            let mut args = FieldTable::default();
            args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(i64::try_from(bucket * 1000).unwrap_or(i64::MAX)),
            );
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(self.jobs().as_str().into()),
            );
            args.insert(
                "x-dead-letter-routing-key".into(),
                AMQPValue::LongString(JOB_ROUTING_KEY.into()),
            );
            channel
                .queue_declare(
                    self.delay_queue(bucket).as_str().into(),
                    durable_queue,
                    args,
                )
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_waits_in_the_largest_bucket_not_longer_than_it() {
        assert_eq!(Topology::bucket_for(Duration::from_millis(500)), None);
        assert_eq!(Topology::bucket_for(Duration::from_secs(1)), Some(1));
        assert_eq!(Topology::bucket_for(Duration::from_secs(3)), Some(2));
        assert_eq!(Topology::bucket_for(Duration::from_secs(3700)), Some(2048));
        assert_eq!(
            Topology::bucket_for(Duration::from_secs(100_000)),
            Some(8192)
        );
    }
}
