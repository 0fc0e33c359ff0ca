//! Task status changes as they happen. A trigger on `tasks` notifies the PostgreSQL
//! channel `gitomatic_task_status` with the row as it was at the change (a row too large
//! for a notification sends its id and status, and the rest is read) on every insert and
//! status change, whichever process made it; each web process keeps one listening
//! connection (opened by its first subscriber) and fans the changed rows out to its
//! subscribers over a bounded broadcast channel. A subscriber that falls behind skips what
//! it missed; nobody waits for it.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use tokio::sync::{Mutex, broadcast, watch};

use crate::db::Pool;
use crate::db::queries::tasks::{self, TaskRow, TaskStatus};

/// The notification channel the `tasks` triggers notify.
pub const CHANNEL: &str = "gitomatic_task_status";

/// Changes a subscriber may fall behind by before it skips some.
const BUFFER: usize = 256;

/// How long to wait before listening again after the connection was lost.
const RECONNECT: Duration = Duration::from_secs(1);

/// What a notification says of the task that changed.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Notice {
    /// The whole row as it was at the change.
    Row(Box<TaskRow>),
    /// A row too large for a notification: its id and the status it changed to.
    Status { id: uuid::Uuid, status: TaskStatus },
}

/// One process's feed of task changes.
pub struct LiveTasks {
    sender: broadcast::Sender<TaskRow>,
    /// Whether the listener is listening, once it was started.
    listening: Mutex<Option<watch::Receiver<bool>>>,
    database_url: String,
    pool: Pool,
}

impl LiveTasks {
    /// A feed that listens on `database_url` and loads changed rows from `pool`.
    pub fn new(database_url: &str, pool: Pool) -> Arc<Self> {
        Arc::new(Self {
            sender: broadcast::channel(BUFFER).0,
            listening: Mutex::new(None),
            database_url: database_url.to_owned(),
            pool,
        })
    }

    /// Subscribes to task changes; returns once the listener is listening, so no change
    /// made after this returns is missed.
    pub async fn subscribe(self: &Arc<Self>) -> broadcast::Receiver<TaskRow> {
        let receiver = self.sender.subscribe();
        let mut listening = {
            let mut slot = self.listening.lock().await;
            slot.get_or_insert_with(|| {
                let (ready, listening) = watch::channel(false);
                tokio::spawn(listen(Arc::clone(self), ready));
                listening
            })
            .clone()
        };
        // Wait (briefly) for LISTEN; if the database is down the stream just starts empty.
        let _ = tokio::time::timeout(Duration::from_secs(5), listening.wait_for(|up| *up)).await;
        receiver
    }
}

/// Listens for as long as the process lives, reconnecting after a lost connection.
async fn listen(feed: Arc<LiveTasks>, ready: watch::Sender<bool>) {
    loop {
        if let Err(error) = listen_once(&feed, &ready).await {
            tracing::warn!(%error, "live task feed: listening failed; reconnecting");
        }
        ready.send_replace(false);
        tokio::time::sleep(RECONNECT).await;
    }
}

async fn listen_once(
    feed: &LiveTasks,
    ready: &watch::Sender<bool>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut conn = AsyncPgConnection::establish(&feed.database_url).await?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    ready.send_replace(true);
    let mut notifications = std::pin::pin!(conn.notifications_stream());
    while let Some(notification) = notifications.next().await {
        let notification = notification?;
        if feed.sender.receiver_count() == 0 {
            continue;
        }
        let row = match serde_json::from_str::<Notice>(&notification.payload) {
            Ok(Notice::Row(row)) => *row,
            Ok(Notice::Status { id, status }) => {
                let mut pooled = feed.pool.get().await?;
                let Some(mut row) = tasks::find(&mut pooled, id).await? else {
                    continue;
                };
                row.status = status;
                row
            }
            Err(error) => {
                tracing::warn!(%error, "live task feed: a notification that is not a task");
                continue;
            }
        };
        // No subscriber left is fine: the change is simply not shown to anyone.
        let _ = feed.sender.send(row);
    }
    Err("the notification stream ended".into())
}
