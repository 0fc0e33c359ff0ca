//! `POST /github/webhooks/`: GitHub's webhook deliveries, checked, stored and handed to a
//! `webhook_delivery` task (SPEC-3 A); `/github/webhooks/deliveries/`: what was received
//! and what became of it.
//!
//! The checks, in order, over the raw body: webhooks off (503), a missing or wrong
//! signature (401, nothing stored), a missing header or a body that is not JSON (400), a
//! `ping` (200, not stored), a delivery id stored already (200 `duplicate`, not stored or
//! applied again); otherwise the delivery and its task are stored in one transaction and
//! the answer is 202, before anything is applied. Bodies are read up to GitHub's 25 MiB cap
//! (413 beyond).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::resource::{Declaration, Operation, Resource};
use crate::api::views::ErrorView;
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::tasks;
use crate::db::queries::webhook_deliveries::{self, DeliveryRecord, NewDelivery};
use crate::github::webhook::{
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, event_label, signature_matches,
};
use crate::jobs::{BackgroundJob, WebhookDelivery};
use crate::metrics::WEBHOOK_DELIVERIES;

/// The largest delivery GitHub sends (its cap on payloads): 25 MiB.
pub const MAX_DELIVERY_BYTES: usize = 25 * 1024 * 1024;

/// The answer when `GITHUB_WEBHOOK_SECRET` is not set.
const OFF: &str = "webhooks are not configured: set GITHUB_WEBHOOK_SECRET";

/// Longest event name or delivery id taken (GitHub's are far shorter).
const MAX_HEADER_CHARS: usize = 100;

/// What a delivery is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAnswer {
    /// `accepted` (stored, to be applied), `duplicate` (its delivery id was stored already:
    /// nothing is stored or applied again) or `pong` (a ping).
    #[schema(example = "accepted")]
    pub status: String,
    /// The stored delivery (`accepted` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
}

/// Takes a GitHub webhook delivery: checks its signature, stores it once per delivery id
/// and queues its application (a `webhook_delivery` task); answers before it is applied.
#[utoipa::path(post, tag = "webhooks",
    request_body(
        content = Object,
        content_type = "application/json",
        description = "The event's payload, as GitHub sends it (content type application/json)",
    ),
    params(
        ("X-Hub-Signature-256" = String, Header,
         description = "`sha256=` and the hex HMAC-SHA256 of the raw body under GITHUB_WEBHOOK_SECRET"),
        ("X-GitHub-Event" = String, Header, description = "The event: `issues`, `push`, `ping`..."),
        ("X-GitHub-Delivery" = String, Header, description = "The delivery's GUID"),
    ),
    responses(
        (status = 202, body = DeliveryAnswer, description = "Stored; a worker applies it. `delivery` names it"),
        (status = 200, body = DeliveryAnswer, description = "`pong` for a ping (not stored); `duplicate` for a delivery id stored already"),
        (status = 400, body = ErrorView, description = "A missing header (named), or a body that is not JSON"),
        (status = 401, body = ErrorView, description = "A missing or wrong signature: nothing is stored"),
        (status = 413, body = ErrorView, description = "Body over 25 MiB"),
        (status = 503, body = ErrorView, description = "Webhooks are off (GITHUB_WEBHOOK_SECRET unset), or the database is not answering"),
    ))]
#[post("/webhooks/")]
pub async fn receive_delivery(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = ctx.config.github_webhook_secret.as_ref() else {
        return Ok(error(StatusCode::SERVICE_UNAVAILABLE, OFF));
    };
    let body = read_body(&request, payload).await?;
    let event = header_value(&request, EVENT_HEADER);
    let signature = header_value(&request, SIGNATURE_HEADER);
    if !signature_matches(secret.expose_secret().as_bytes(), &body, signature) {
        count(&ctx, event, "rejected");
        return Ok(error(StatusCode::UNAUTHORIZED, "invalid signature"));
    }
    let checked = check(&request, &body);
    let (event, delivery_id, payload) = match checked {
        Ok(checked) => checked,
        Err(message) => {
            count(&ctx, event, "rejected");
            return Err(ApiError::BadRequest(message));
        }
    };
    if event == "ping" {
        return Ok(answer(StatusCode::OK, "pong", None));
    }
    let new = NewDelivery {
        delivery_id,
        event,
        action: text(&payload, "/action"),
        repository_name: text(&payload, "/repository/full_name"),
        payload: &payload,
    };
    let task = WebhookDelivery {
        delivery_id: delivery_id.to_owned(),
    }
    .to_task()
    .map_err(|error| {
        tracing::error!(%error, "webhook: the delivery's task cannot be built");
        ApiError::Internal
    })?;
    let mut conn = ctx.conn().await?;
    let stored = conn
        .transaction::<_, DbError, _>(async |conn| {
            let Some(id) = webhook_deliveries::insert(conn, &new).await? else {
                return Ok(None);
            };
            let (task, created) = tasks::insert_or_existing(conn, &task).await?;
            Ok(Some((id, created.then_some(task.id))))
        })
        .await?;
    let status = if stored.is_some() {
        "accepted"
    } else {
        "duplicate"
    };
    drop(conn);
    count(&ctx, Some(event), status);
    let Some((id, task_id)) = stored else {
        tracing::info!(delivery = %delivery_id, event, "webhook: duplicate delivery");
        return Ok(answer(StatusCode::OK, "duplicate", None));
    };
    if let Some(task_id) = task_id {
        crate::jobs::publish_created(&ctx, &[task_id]).await;
    }
    tracing::info!(delivery = %delivery_id, event, action = new.action.unwrap_or(""), "webhook: delivery accepted");
    let url = Links::new(&request, &ctx.config).webhook_delivery(id);
    Ok(answer(StatusCode::ACCEPTED, "accepted", Some(url)))
}

/// The request body, up to [`MAX_DELIVERY_BYTES`] (413 beyond, known from
/// `Content-Length` before reading when it is given).
async fn read_body(
    request: &HttpRequest,
    mut payload: web::Payload,
) -> Result<web::BytesMut, ApiError> {
    let announced = header_value(request, header::CONTENT_LENGTH.as_str())
        .and_then(|length| length.parse::<usize>().ok());
    if announced.is_some_and(|length| length > MAX_DELIVERY_BYTES) {
        return Err(ApiError::PayloadTooLarge(MAX_DELIVERY_BYTES));
    }
    let mut body = web::BytesMut::with_capacity(announced.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::BadRequest(format!("Unreadable body: {error}")))?;
        if body.len() + chunk.len() > MAX_DELIVERY_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_DELIVERY_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The event, the delivery id and the payload of a signed delivery, or what is wrong.
fn check<'r>(request: &'r HttpRequest, body: &[u8]) -> Result<(&'r str, &'r str, Value), String> {
    let event = required_header(request, EVENT_HEADER)?;
    let delivery_id = required_header(request, DELIVERY_HEADER)?;
    let payload: Value =
        serde_json::from_slice(body).map_err(|error| format!("The body is not JSON: {error}"))?;
    if !payload.is_object() {
        return Err("The body is not a JSON object".into());
    }
    Ok((event, delivery_id, payload))
}

/// A header GitHub always sends: present, and a short token of visible ASCII.
fn required_header<'r>(request: &'r HttpRequest, name: &str) -> Result<&'r str, String> {
    let Some(raw) = request.headers().get(name) else {
        return Err(format!("Missing {name} header"));
    };
    raw.to_str()
        .ok()
        .map(str::trim)
        .filter(|value| {
            !value.is_empty()
                && value.len() <= MAX_HEADER_CHARS
                && value.chars().all(|c| c.is_ascii_graphic())
        })
        .ok_or_else(|| format!("Invalid {name} header: expected a short ASCII token"))
}

fn header_value<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request.headers().get(name)?.to_str().ok()
}

/// A string of the payload (at a JSON pointer), if it is one and not absurdly long.
fn text<'a>(payload: &'a Value, pointer: &str) -> Option<&'a str> {
    payload
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|text| text.len() <= 1000)
}

fn answer(status: StatusCode, word: &str, delivery: Option<String>) -> HttpResponse {
    HttpResponse::build(status).json(DeliveryAnswer {
        status: word.to_owned(),
        delivery,
    })
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

/// Counts a delivery on receipt (`rejected` for a 400 or 401) and adds it to the shared
/// counters right after the answer, off the request's path: a web process has no periodic
/// flush, and a scrape of any process must see it (a scrape of this one flushes first).
fn count(ctx: &AppContext, event: Option<&str>, status: &str) {
    ctx.metrics
        .count(&WEBHOOK_DELIVERIES, [event_label(event), status], 1.0);
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let flushed = async { ctx.metrics.flush(&mut *ctx.conn().await?).await };
        if let Err(error) = flushed.await {
            tracing::warn!(%error, "webhook: metrics not flushed; kept for the next flush");
        }
    });
}

// ---------------------------------------------------------------------------
// The deliveries resource
// ---------------------------------------------------------------------------

/// Webhook deliveries as received, and what became of them.
pub struct WebhookDeliveries;

impl Resource for WebhookDeliveries {
    type Record = DeliveryRecord;
    type View = WebhookDeliveryView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "webhook_deliveries",
        path: "/webhooks/deliveries/",
        singular: "delivery",
        tag: "webhooks",
        fields: webhook_deliveries::FIELDS,
        ordering: "-received_at",
        list: Operation {
            id: "list_webhook_deliveries",
            summary: "Lists GitHub webhook deliveries, the latest received first.",
        },
        detail: Operation {
            id: "get_webhook_delivery",
            summary: "One webhook delivery (without its payload).",
        },
    };
    const ALL: () = ();

    fn view(record: DeliveryRecord, links: &Links) -> WebhookDeliveryView {
        WebhookDeliveryView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<DeliveryRecord>, DbError> {
        webhook_deliveries::list(conn, query).await
    }

    async fn get(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> Result<Option<DeliveryRecord>, DbError> {
        webhook_deliveries::get(conn, id).await
    }
}

/// A webhook delivery: what GitHub sent (not its payload) and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryView {
    pub url: String,
    pub id: Uuid,
    /// GitHub's `X-GitHub-Delivery`.
    pub delivery_id: String,
    /// GitHub's `X-GitHub-Event`.
    pub event: String,
    /// The payload's `action`, if it has one.
    pub action: Option<String>,
    /// The payload's repository (`owner/name`); null for organization events.
    pub repository_name: Option<String>,
    pub received_at: DateTime<Utc>,
    /// When a worker applied it; null until then, and for an ignored one.
    pub applied_at: Option<DateTime<Utc>>,
    /// `accepted` (stored, not yet applied), `applied`, `ignored` (not about anything
    /// tracked, or an event or action gitomatic does not apply) or `failed`.
    #[schema(example = "applied")]
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
}

impl WebhookDeliveryView {
    /// The view of a record.
    pub fn new(record: DeliveryRecord, links: &Links) -> Self {
        Self {
            url: links.webhook_delivery(record.id),
            id: record.id,
            delivery_id: record.delivery_id,
            event: record.event,
            action: record.action,
            repository_name: record.repository_name,
            received_at: record.received_at,
            applied_at: record.applied_at,
            status: record.status,
            error: record.error,
        }
    }
}
