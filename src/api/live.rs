//! `GET /github/tasks/live/`: Server-Sent Events, one `task` event with the task resource
//! each time a task is created or changes status, for as long as the client listens.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, route, web};
use futures_util::stream;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::params;
use crate::api::tasks::TaskView;
use crate::api::views::ErrorView;
use crate::context::AppContext;
use crate::db::queries::tasks::TaskRow;

/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Streams task changes as Server-Sent Events (`event: task`, `data:` the task resource).
#[utoipa::path(get, tag = "tasks",
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
         description = "An endless stream: `event: task` with `data:` a task resource (JSON) each time a task is created or changes status; a `: keep-alive` comment every 15 s"),
        (status = 400, body = ErrorView),
    ))]
#[route("/tasks/live/", method = "GET", method = "HEAD")]
pub async fn task_stream(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    params::detail_query(&request)?;
    if request.method() == actix_web::http::Method::HEAD {
        // The stream's headers; a HEAD never waits for events.
        return Ok(HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header(("cache-control", "no-cache"))
            .finish());
    }
    let links = Links::new(&request, &ctx.config);
    let receiver = ctx.live.subscribe().await;
    let state = Stream {
        receiver,
        links,
        started: false,
    };
    let events = stream::unfold(state, |mut state| async move {
        let chunk = state.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(chunk), state))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events))
}

/// One client's position in the feed.
struct Stream {
    receiver: broadcast::Receiver<TaskRow>,
    links: Links,
    started: bool,
}

impl Stream {
    /// The next bytes to send; `None` ends the stream.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if !self.started {
            self.started = true;
            // Sent at once, so the client knows it is connected (and listening).
            return Some(Bytes::from_static(b": connected\n\n"));
        }
        loop {
            match tokio::time::timeout(KEEP_ALIVE, self.receiver.recv()).await {
                Err(_) => return Some(Bytes::from_static(b": keep-alive\n\n")),
                Ok(Ok(row)) => return Some(event(&TaskView::new(row, &self.links))),
                // Fell behind: what was missed is skipped; the client reads the list to catch up.
                Ok(Err(RecvError::Lagged(missed))) => {
                    tracing::debug!(missed, "live task stream: a slow client skipped changes");
                }
                Ok(Err(RecvError::Closed)) => return None,
            }
        }
    }
}

/// `event: task` with the resource as one `data:` line (JSON has no raw newlines).
fn event(task: &TaskView) -> Bytes {
    let json = serde_json::to_string(task).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!("event: task\ndata: {json}\n\n"))
}
