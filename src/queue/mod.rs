//! RabbitMQ: one shared connection per process, re-opened when the broker went away.

mod connection;

pub use connection::{Broker, QueueError};
