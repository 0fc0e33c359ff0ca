//! `/github/tracked_repositories/` and `/github/tracked_organizations/`: what repository
//! activity follows. `POST` tracks (and queues the first sync), `DELETE` stops tracking
//! and keeps the data; both kinds share one [`Trackable`] path through the two.

use actix_web::{HttpRequest, HttpResponse, delete, post, web};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::require_token;
use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::params;
use crate::api::post_form::PostForm;
use crate::api::render::{READ_AND_DELETE, READ_AND_POST, Rendered};
use crate::api::resource::{self, Declaration, Operation, Resource};
use crate::api::tasks::{body_fields, read_body};
use crate::api::views::ErrorView;
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::tasks::{self, NewTask, TaskRow};
use crate::db::queries::tracked::{self, Tracked, TrackedOrganization, TrackedRepository};
use crate::domain::{FullName, GithubLogin};
use crate::jobs::{BackgroundJob, OrgMembersSync, RepositoryActivitySync, publish_created};

/// Tracked repositories: their issues, pull requests, commits and releases are synced.
pub struct TrackedRepositories;

/// Tracked organizations: their members are synced and their repositories tracked.
pub struct TrackedOrganizations;

impl Resource for TrackedRepositories {
    type Record = TrackedRepository;
    type View = TrackedRepositoryView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "tracked_repositories",
        path: "/tracked_repositories/",
        singular: "tracked repository",
        tag: "activity",
        fields: tracked::REPOSITORY_FIELDS,
        ordering: "created_at",
        list: Operation {
            id: "list_tracked_repositories",
            summary: "Lists tracked repositories, oldest tracked first.",
        },
        detail: Operation {
            id: "get_tracked_repository",
            summary: "One tracked repository.",
        },
    };
    const ALL: () = ();

    fn view(record: TrackedRepository, links: &Links) -> TrackedRepositoryView {
        TrackedRepositoryView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<TrackedRepository>, DbError> {
        tracked::list(conn, query).await
    }

    async fn get(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> Result<Option<TrackedRepository>, DbError> {
        tracked::get(conn, id).await
    }

    /// The list also takes `POST` ([`track_repository`]).
    const LIST_ALLOW: &'static str = READ_AND_POST;
    const DETAIL_ALLOW: &'static str = READ_AND_DELETE;

    fn post_form(_request: &HttpRequest) -> Option<PostForm> {
        Some(PostForm::of::<TrackRepositoryRequest>("Track a repository"))
    }
}

impl Resource for TrackedOrganizations {
    type Record = TrackedOrganization;
    type View = TrackedOrganizationView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "tracked_organizations",
        path: "/tracked_organizations/",
        singular: "tracked organization",
        tag: "activity",
        fields: tracked::ORGANIZATION_FIELDS,
        ordering: "created_at",
        list: Operation {
            id: "list_tracked_organizations",
            summary: "Lists tracked organizations, oldest tracked first.",
        },
        detail: Operation {
            id: "get_tracked_organization",
            summary: "One tracked organization.",
        },
    };
    const ALL: () = ();

    fn view(record: TrackedOrganization, links: &Links) -> TrackedOrganizationView {
        TrackedOrganizationView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<TrackedOrganization>, DbError> {
        tracked::list(conn, query).await
    }

    async fn get(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> Result<Option<TrackedOrganization>, DbError> {
        tracked::get(conn, id).await
    }

    /// The list also takes `POST` ([`track_organization`]).
    const LIST_ALLOW: &'static str = READ_AND_POST;
    const DETAIL_ALLOW: &'static str = READ_AND_DELETE;

    fn post_form(_request: &HttpRequest) -> Option<PostForm> {
        Some(PostForm::of::<TrackOrganizationRequest>(
            "Track an organization",
        ))
    }
}

/// What a tracking request names and how it is tracked: the one difference between
/// tracking a repository and an organization.
trait Trackable: Resource<Id = Uuid, Record: Tracked> {
    /// The body naming it, which also documents it.
    type Request: DeserializeOwned + ToSchema;

    /// Its name on GitHub, and the task of its first sync.
    fn parse(request: Self::Request) -> Result<(String, NewTask), ApiError>;

    /// Tracks it unless it is tracked already: the row, and whether it is new.
    fn track(
        conn: &mut AsyncPgConnection,
        key: &str,
    ) -> impl Future<Output = Result<(Self::Record, bool), DbError>> + Send;

    /// The row's id.
    fn id(row: &Self::Record) -> Uuid;
}

impl Trackable for TrackedRepositories {
    type Request = TrackRepositoryRequest;

    fn parse(request: TrackRepositoryRequest) -> Result<(String, NewTask), ApiError> {
        let full_name = request.full_name;
        let task = first_sync(RepositoryActivitySync::of(full_name.clone()))?;
        Ok((full_name.as_str().to_owned(), task))
    }

    async fn track(
        conn: &mut AsyncPgConnection,
        full_name: &str,
    ) -> Result<(TrackedRepository, bool), DbError> {
        tracked::track_repository(conn, full_name, None).await
    }

    fn id(row: &TrackedRepository) -> Uuid {
        row.id
    }
}

impl Trackable for TrackedOrganizations {
    type Request = TrackOrganizationRequest;

    fn parse(request: TrackOrganizationRequest) -> Result<(String, NewTask), ApiError> {
        let login = request.login;
        let task = first_sync(OrgMembersSync { org: login.clone() })?;
        Ok((login.as_str().to_owned(), task))
    }

    async fn track(
        conn: &mut AsyncPgConnection,
        login: &str,
    ) -> Result<(TrackedOrganization, bool), DbError> {
        tracked::track_organization(conn, login).await
    }

    fn id(row: &TrackedOrganization) -> Uuid {
        row.id
    }
}

/// Tracks what the body names: 201 with its first sync queued, or 200 when it was
/// tracked already.
async fn track<T: Trackable>(
    request: &HttpRequest,
    ctx: &AppContext,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_token(request, ctx).await?;
    let body = read_body(payload).await?;
    let fields = body_fields(request, &body)?;
    let (key, task) = T::parse(params::from_fields(fields)?)?;
    let links = Links::new(request, &ctx.config);
    let (row, queued) = ctx
        .conn()
        .await?
        .transaction::<_, DbError, _>(async |conn| {
            let (row, created) = T::track(conn, &key).await?;
            Ok((row, queue_first_sync(conn, created, &task).await?))
        })
        .await?;
    let id = T::id(&row);
    let view = T::view(row, &links);
    let Some(task) = publish_first_sync(ctx, queued).await else {
        return Ok(Rendered::ok(view).respond(request));
    };
    let singular = T::DECLARATION.singular;
    tracing::info!(tracked.id = %id, task.id = %task.id, %key, "{singular} tracked");
    let location = links.url(&format!("/github{}{id}/", T::DECLARATION.path));
    Ok(Rendered::created(view, location).respond(request))
}

/// Stops tracking: 204, or 404 when it is not tracked.
async fn untrack<T: Trackable>(
    request: &HttpRequest,
    ctx: &AppContext,
    raw: &str,
) -> Result<HttpResponse, ApiError> {
    require_token(request, ctx).await?;
    let id = resource::item_id::<Uuid>(raw, T::DECLARATION.singular)?;
    let singular = T::DECLARATION.singular;
    if tracked::untrack::<T::Record>(&mut *ctx.conn().await?, id).await? {
        tracing::info!(tracked.id = %id, "{singular} no longer tracked");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(format!("No {singular} with id {id}.")))
    }
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

/// A repository to track (JSON or form body).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TrackRepositoryRequest {
    /// The repository as `owner/name`, by GitHub's syntax.
    #[schema(value_type = String, example = "octocat/hello-world")]
    pub full_name: FullName,
}

/// An organization to track (JSON or form body).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TrackOrganizationRequest {
    /// The organization's login (`[A-Za-z0-9-]{1,39}`).
    #[schema(value_type = String, example = "github")]
    pub login: GithubLogin,
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
    track::<TrackedRepositories>(&request, &ctx, payload).await
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
    untrack::<TrackedRepositories>(&request, &ctx, &id).await
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
    track::<TrackedOrganizations>(&request, &ctx, payload).await
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
    untrack::<TrackedOrganizations>(&request, &ctx, &id).await
}

/// A repository whose activity gitomatic follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedRepositoryView {
    pub url: String,
    pub id: Uuid,
    /// `owner/name` as tracked; follows GitHub when the repository is renamed or transferred.
    pub full_name: String,
    /// The repository (null until the first sync found it).
    pub repository: Option<String>,
    /// The tracked organization that brought it in, if any.
    pub organization: Option<String>,
    /// Its contributors, ranked (null until the first sync found the repository).
    pub leaderboard: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When issues, pull requests, commits and releases were last synced completely.
    pub activity_synced_at: Option<DateTime<Utc>>,
    /// When the timelines were last synced completely.
    pub timeline_synced_at: Option<DateTime<Utc>>,
    /// Why the last sync failed (cleared by a successful one).
    pub last_error: Option<String>,
    /// When GitHub last answered that access to it is blocked (451, or 403 "Repository
    /// access blocked"): the scheduled jobs leave it alone for 24 hours from then. Cleared
    /// by a task posted by hand for it, or a successful sync.
    pub blocked_at: Option<DateTime<Utc>>,
}

impl TrackedRepositoryView {
    /// The view of a row.
    pub fn new(row: TrackedRepository, links: &Links) -> Self {
        Self {
            url: links.tracked_repository(row.id),
            id: row.id,
            full_name: row.full_name,
            repository: row.repository_id.map(|id| links.repository(id, "")),
            organization: row.organization_id.map(|id| links.tracked_organization(id)),
            leaderboard: row
                .repository_id
                .map(|id| links.repository(id, "leaderboard/")),
            created_at: row.created_at,
            activity_synced_at: row.activity_synced_at,
            timeline_synced_at: row.timeline_synced_at,
            last_error: row.last_error,
            blocked_at: row.blocked_at,
        }
    }
}

/// An organization whose members (and repositories) gitomatic follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedOrganizationView {
    pub url: String,
    pub id: Uuid,
    pub login: String,
    pub created_at: DateTime<Utc>,
    /// When the members were last synced completely.
    pub members_synced_at: Option<DateTime<Utc>>,
    /// Why the last members sync failed.
    pub last_error: Option<String>,
    /// Its members, present and past.
    pub members: String,
}

impl TrackedOrganizationView {
    /// The view of a row.
    pub fn new(row: TrackedOrganization, links: &Links) -> Self {
        Self {
            url: links.tracked_organization(row.id),
            id: row.id,
            members: links.members_of(&row.login),
            login: row.login,
            created_at: row.created_at,
            members_synced_at: row.members_synced_at,
            last_error: row.last_error,
        }
    }
}
