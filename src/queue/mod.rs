//! RabbitMQ: one shared connection per process, the topology, publishing and consuming.

mod connection;
pub mod consume;
pub mod message;
pub mod publish;
pub mod topology;

pub use connection::{Broker, QueueError};
pub use message::JobMessage;
pub use publish::Publisher;
pub use topology::Topology;
