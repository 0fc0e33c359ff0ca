//! `/github/tracked_repositories/` and `/github/tracked_organizations/`: what repository
//! activity follows. `POST` tracks (and queues the first sync), `DELETE` stops tracking
//! and keeps the data.

use actix_web::{HttpRequest, HttpResponse, delete, post, route, web};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::api::auth::require_token;
use crate::api::collection::{detail, list, uuid_id};
use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::params::ListParams;
use crate::api::render::Rendered;
use crate::api::tasks::{body_fields, read_body};
use crate::api::views::{ErrorView, Page, TrackedOrganizationView, TrackedRepositoryView};
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::tasks::{self, NewTask, TaskRow};
use crate::db::queries::tracked;
use crate::domain::{FullName, GithubLogin};
use crate::jobs::{BackgroundJob, OrgMembersSync, RepositoryActivitySync, publish_created};

/// A tracking request's one field, after the token check: `field` of a JSON or form body.
async fn required_field(
    request: &HttpRequest,
    ctx: &AppContext,
    payload: web::Payload,
    field: &str,
    meaning: &str,
) -> Result<String, ApiError> {
    require_token(request, ctx).await?;
    let body = read_body(payload).await?;
    let fields = body_fields(request, &body)?;
    required_text(&fields, field, meaning)
}

/// The task of the first sync of something newly tracked.
fn first_sync(job: impl BackgroundJob) -> Result<NewTask, ApiError> {
    job.to_task().map_err(|error| {
        tracing::error!(%error, "the first sync's task could not be built");
        ApiError::Internal
    })
}

/// Queues `task` on the connection (in the transaction) of the write that asked for it,
/// when that write tracked something new: a tracked row is never left without its first
/// sync when the database fails between the two.
async fn queue_first_sync(
    conn: &mut AsyncPgConnection,
    newly_tracked: bool,
    task: &NewTask,
) -> Result<Option<(TaskRow, bool)>, DbError> {
    match newly_tracked {
        true => Ok(Some(tasks::insert_or_existing(conn, task).await?)),
        false => Ok(None),
    }
}

/// After the commit: publishes a task the transaction created; answers the queued task.
async fn publish_first_sync(ctx: &AppContext, queued: Option<(TaskRow, bool)>) -> Option<TaskRow> {
    let (task, created) = queued?;
    if created {
        publish_created(ctx, &[task.id]).await;
    }
    Some(task)
}

/// Default order of the tracked lists: oldest tracked first.
pub const DEFAULT_ORDERING: &str = "created_at";

/// A repository to track (JSON or form body).
#[derive(Debug, Deserialize, ToSchema)]
#[expect(
    dead_code,
    reason = "documents the body; it is read as a JSON object or form"
)]
pub struct TrackRepositoryRequest {
    /// `owner/name` by GitHub's syntax.
    #[schema(example = "octocat/hello-world")]
    pub full_name: String,
}

/// An organization to track (JSON or form body).
#[derive(Debug, Deserialize, ToSchema)]
#[expect(
    dead_code,
    reason = "documents the body; it is read as a JSON object or form"
)]
pub struct TrackOrganizationRequest {
    /// The organization's login (`[A-Za-z0-9-]{1,39}`).
    #[schema(example = "github")]
    pub login: String,
}

/// Lists tracked repositories, oldest tracked first.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<TrackedRepositoryView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/tracked_repositories/", method = "GET", method = "HEAD")]
pub async fn list_tracked_repositories(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        &request,
        &ctx,
        tracked::REPOSITORY_FIELDS,
        DEFAULT_ORDERING,
        |mut conn, query| async move { tracked::list_repositories(&mut conn, &query).await },
        TrackedRepositoryView::new,
    )
    .await?;
    Ok(rendered.respond(&request))
}

/// One tracked repository.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The tracked repository's id")),
    responses((status = 200, body = TrackedRepositoryView), (status = 404, body = ErrorView)))]
#[route("/tracked_repositories/{id}/", method = "GET", method = "HEAD")]
pub async fn get_tracked_repository(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "tracked repository")?;
    let record = tracked::get_repository(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No tracked repository with id {id}."),
        TrackedRepositoryView::new,
    )?
    .respond(&request))
}

/// Tracks a repository and queues `repository_activity_sync` for it; a repository tracked
/// already (names compare case-insensitively) is answered as it is, with 200.
#[utoipa::path(post, tag = "activity",
    request_body(content(
        (TrackRepositoryRequest = "application/json"),
        (TrackRepositoryRequest = "application/x-www-form-urlencoded"),
    )),
    security(("bearer" = [])),
    responses(
        (status = 201, body = TrackedRepositoryView, description = "Now tracked, its first sync queued; Location names it",
         headers(("Location" = String, description = "The tracked repository's URL"))),
        (status = 200, body = TrackedRepositoryView, description = "Tracked already: the existing one"),
        (status = 400, body = ErrorView, description = "Missing or invalid full_name, malformed body"),
        (status = 401, body = ErrorView, description = "No token"),
        (status = 403, body = ErrorView, description = "Unknown token"),
        (status = 413, body = ErrorView, description = "Body over 16 KiB"),
        (status = 415, body = ErrorView, description = "Neither JSON nor a form"),
    ))]
#[post("/tracked_repositories/")]
pub async fn track_repository(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let raw = required_field(
        &request,
        &ctx,
        payload,
        "full_name",
        "the repository as owner/name",
    )
    .await?;
    let full_name = FullName::parse(&raw)
        .map_err(|error| ApiError::BadRequest(format!("Invalid full_name: {error}")))?;
    let task = first_sync(RepositoryActivitySync::of(full_name.clone()))?;
    let links = Links::new(&request, &ctx.config);
    let (row, queued) = ctx
        .conn()
        .await?
        .transaction::<_, DbError, _>(async |conn| {
            let (row, created) = tracked::track_repository(conn, full_name.as_str(), None).await?;
            Ok((row, queue_first_sync(conn, created, &task).await?))
        })
        .await?;
    let Some(task) = publish_first_sync(&ctx, queued).await else {
        return Ok(Rendered::ok(TrackedRepositoryView::new(row, &links)).respond(&request));
    };
    tracing::info!(tracked.id = %row.id, task.id = %task.id, full_name = %row.full_name, "repository tracked");
    let location = links.tracked_repository(row.id);
    Ok(Rendered::created(TrackedRepositoryView::new(row, &links), location).respond(&request))
}

/// Stops tracking a repository; its issues, pull requests, commits and releases are kept.
#[utoipa::path(delete, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The tracked repository's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "No longer tracked; its activity is kept"),
        (status = 401, body = ErrorView, description = "No token"),
        (status = 403, body = ErrorView, description = "Unknown token"),
        (status = 404, body = ErrorView, description = "Not tracked"),
    ))]
#[delete("/tracked_repositories/{id}/")]
pub async fn untrack_repository(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_token(&request, &ctx).await?;
    let id = uuid_id(&id, "tracked repository")?;
    if tracked::untrack_repository(&mut *ctx.conn().await?, id).await? {
        tracing::info!(tracked.id = %id, "repository no longer tracked");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(format!(
            "No tracked repository with id {id}."
        )))
    }
}

/// Lists tracked organizations, oldest tracked first.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<TrackedOrganizationView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/tracked_organizations/", method = "GET", method = "HEAD")]
pub async fn list_tracked_organizations(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        &request,
        &ctx,
        tracked::ORGANIZATION_FIELDS,
        DEFAULT_ORDERING,
        |mut conn, query| async move { tracked::list_organizations(&mut conn, &query).await },
        TrackedOrganizationView::new,
    )
    .await?;
    Ok(rendered.respond(&request))
}

/// One tracked organization.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The tracked organization's id")),
    responses((status = 200, body = TrackedOrganizationView), (status = 404, body = ErrorView)))]
#[route("/tracked_organizations/{id}/", method = "GET", method = "HEAD")]
pub async fn get_tracked_organization(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "tracked organization")?;
    let record = tracked::get_organization(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No tracked organization with id {id}."),
        TrackedOrganizationView::new,
    )?
    .respond(&request))
}

/// Tracks an organization and queues `org_members_sync` for it (which also tracks every
/// repository it owns); an organization tracked already is answered as it is, with 200.
#[utoipa::path(post, tag = "activity",
    request_body(content(
        (TrackOrganizationRequest = "application/json"),
        (TrackOrganizationRequest = "application/x-www-form-urlencoded"),
    )),
    security(("bearer" = [])),
    responses(
        (status = 201, body = TrackedOrganizationView, description = "Now tracked, its members sync queued; Location names it",
         headers(("Location" = String, description = "The tracked organization's URL"))),
        (status = 200, body = TrackedOrganizationView, description = "Tracked already: the existing one"),
        (status = 400, body = ErrorView, description = "Missing or invalid login, malformed body"),
        (status = 401, body = ErrorView, description = "No token"),
        (status = 403, body = ErrorView, description = "Unknown token"),
        (status = 413, body = ErrorView, description = "Body over 16 KiB"),
        (status = 415, body = ErrorView, description = "Neither JSON nor a form"),
    ))]
#[post("/tracked_organizations/")]
pub async fn track_organization(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let raw = required_field(&request, &ctx, payload, "login", "the organization's login").await?;
    let login = GithubLogin::parse(&raw)
        .map_err(|error| ApiError::BadRequest(format!("Invalid login: {error}")))?;
    let task = first_sync(OrgMembersSync { org: login.clone() })?;
    let links = Links::new(&request, &ctx.config);
    let (row, queued) = ctx
        .conn()
        .await?
        .transaction::<_, DbError, _>(async |conn| {
            let (row, created) = tracked::track_organization(conn, login.as_str()).await?;
            Ok((row, queue_first_sync(conn, created, &task).await?))
        })
        .await?;
    let Some(task) = publish_first_sync(&ctx, queued).await else {
        return Ok(Rendered::ok(TrackedOrganizationView::new(row, &links)).respond(&request));
    };
    tracing::info!(tracked.id = %row.id, task.id = %task.id, login = %row.login, "organization tracked");
    let location = links.tracked_organization(row.id);
    Ok(Rendered::created(TrackedOrganizationView::new(row, &links), location).respond(&request))
}

/// Stops tracking an organization; its members and repositories are kept.
#[utoipa::path(delete, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The tracked organization's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "No longer tracked; its members and repositories are kept"),
        (status = 401, body = ErrorView, description = "No token"),
        (status = 403, body = ErrorView, description = "Unknown token"),
        (status = 404, body = ErrorView, description = "Not tracked"),
    ))]
#[delete("/tracked_organizations/{id}/")]
pub async fn untrack_organization(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_token(&request, &ctx).await?;
    let id = uuid_id(&id, "tracked organization")?;
    if tracked::untrack_organization(&mut *ctx.conn().await?, id).await? {
        tracing::info!(tracked.id = %id, "organization no longer tracked");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(format!(
            "No tracked organization with id {id}."
        )))
    }
}

/// A required text field of a body; the error names it and says what it should be.
fn required_text(
    fields: &Map<String, Value>,
    name: &str,
    expected: &str,
) -> Result<String, ApiError> {
    match fields.get(name) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        None | Some(Value::Null) | Some(Value::String(_)) => Err(ApiError::BadRequest(format!(
            "Missing {name}: give {expected}"
        ))),
        Some(_) => Err(ApiError::BadRequest(format!(
            "Invalid {name}: expected a string, {expected}"
        ))),
    }
}
