//! The job message: only the task id; the task row holds the truth.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What travels over RabbitMQ for one task run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    /// Id of the row in `tasks`.
    pub task_id: Uuid,
}
