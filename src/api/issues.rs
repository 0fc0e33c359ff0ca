//! `/github/issues/` and `/github/pull_requests/` (GitHub lists them together; here they
//! are two resources), per repository too, with their timelines and `/github/timeline_items/`.

use actix_web::{HttpRequest, HttpResponse, route, web};
use uuid::Uuid;

use crate::api::collection::{detail, list, uuid_id};
use crate::api::error::ApiError;
use crate::api::params::ListParams;
use crate::api::views::{ErrorView, IssueView, Page, PullRequestView, TimelineItemView};
use crate::context::AppContext;
use crate::db::queries::issues::{self, IssueKind};
use crate::db::queries::{repositories, timeline};

/// Default order of issue and pull-request lists: most recently updated first.
pub const DEFAULT_ORDERING: &str = "-updated_at";

/// Default order of timelines: GitHub's.
pub const TIMELINE_ORDERING: &str = "position";

/// Lists issues (not pull requests), most recently updated first.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<IssueView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/issues/", method = "GET", method = "HEAD")]
pub async fn list_issues(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    issue_list(&request, &ctx, IssueKind::Issue, None).await
}

/// One issue (a pull request's id is 404 here).
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The issue's id")),
    responses((status = 200, body = IssueView), (status = 404, body = ErrorView)))]
#[route("/issues/{id}/", method = "GET", method = "HEAD")]
pub async fn get_issue(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    issue_detail(&request, &ctx, IssueKind::Issue, &id).await
}

/// Lists pull requests, most recently updated first.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<PullRequestView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/pull_requests/", method = "GET", method = "HEAD")]
pub async fn list_pull_requests(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    issue_list(&request, &ctx, IssueKind::PullRequest, None).await
}

/// One pull request (an issue's id is 404 here).
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The pull request's id")),
    responses((status = 200, body = PullRequestView), (status = 404, body = ErrorView)))]
#[route("/pull_requests/{id}/", method = "GET", method = "HEAD")]
pub async fn get_pull_request(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    issue_detail(&request, &ctx, IssueKind::PullRequest, &id).await
}

/// The issues of a repository.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The repository's id"), ListParams),
    responses((status = 200, body = Page<IssueView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/repositories/{id}/issues/", method = "GET", method = "HEAD")]
pub async fn list_repository_issues(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_repository(&ctx, &id).await?;
    issue_list(&request, &ctx, IssueKind::Issue, Some(id)).await
}

/// The pull requests of a repository.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The repository's id"), ListParams),
    responses((status = 200, body = Page<PullRequestView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/repositories/{id}/pull_requests/", method = "GET", method = "HEAD")]
pub async fn list_repository_pull_requests(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_repository(&ctx, &id).await?;
    issue_list(&request, &ctx, IssueKind::PullRequest, Some(id)).await
}

/// An issue's timeline, in GitHub's order.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The issue's id"), ListParams),
    responses((status = 200, body = Page<TimelineItemView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/issues/{id}/timeline/", method = "GET", method = "HEAD")]
pub async fn list_issue_timeline(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_issue(&ctx, IssueKind::Issue, &id).await?;
    timeline_list(&request, &ctx, Some(id)).await
}

/// A pull request's timeline, in GitHub's order (`?event=reviewed`: its reviews).
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The pull request's id"), ListParams),
    responses((status = 200, body = Page<TimelineItemView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/pull_requests/{id}/timeline/", method = "GET", method = "HEAD")]
pub async fn list_pull_request_timeline(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_issue(&ctx, IssueKind::PullRequest, &id).await?;
    timeline_list(&request, &ctx, Some(id)).await
}

/// Lists the timeline items of every issue and pull request.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<TimelineItemView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/timeline_items/", method = "GET", method = "HEAD")]
pub async fn list_timeline_items(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    timeline_list(&request, &ctx, None).await
}

/// One timeline item.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The timeline item's id")),
    responses((status = 200, body = TimelineItemView), (status = 404, body = ErrorView)))]
#[route("/timeline_items/{id}/", method = "GET", method = "HEAD")]
pub async fn get_timeline_item(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "timeline item")?;
    let record = timeline::get(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No timeline item with id {id}."),
        TimelineItemView::new,
    )?
    .respond(&request))
}

/// A list of issues or of pull requests (all, or a repository's).
async fn issue_list(
    request: &HttpRequest,
    ctx: &AppContext,
    kind: IssueKind,
    repository_id: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let load = |mut conn: crate::db::Conn, query: crate::db::filter::ListQuery| async move {
        issues::list(&mut conn, kind, repository_id, &query).await
    };
    let rendered = match kind {
        IssueKind::Issue => {
            list(
                request,
                ctx,
                kind.fields(),
                DEFAULT_ORDERING,
                load,
                IssueView::new,
            )
            .await?
        }
        IssueKind::PullRequest => {
            list(
                request,
                ctx,
                kind.fields(),
                DEFAULT_ORDERING,
                load,
                PullRequestView::new,
            )
            .await?
        }
    };
    Ok(rendered.respond(request))
}

async fn issue_detail(
    request: &HttpRequest,
    ctx: &AppContext,
    kind: IssueKind,
    raw: &str,
) -> Result<HttpResponse, ApiError> {
    let what = what(kind);
    let id = uuid_id(raw, what)?;
    let record = issues::get(&mut *ctx.conn().await?, kind, id).await?;
    let missing = || format!("No {what} with id {id}.");
    let rendered = match kind {
        IssueKind::Issue => detail(request, ctx, record, missing, IssueView::new)?,
        IssueKind::PullRequest => detail(request, ctx, record, missing, PullRequestView::new)?,
    };
    Ok(rendered.respond(request))
}

/// A timeline (an issue's, or every item).
async fn timeline_list(
    request: &HttpRequest,
    ctx: &AppContext,
    issue_id: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        request,
        ctx,
        timeline::FIELDS,
        TIMELINE_ORDERING,
        |mut conn, query| async move { timeline::list(&mut conn, issue_id, &query).await },
        TimelineItemView::new,
    )
    .await?;
    Ok(rendered.respond(request))
}

fn what(kind: IssueKind) -> &'static str {
    match kind {
        IssueKind::Issue => "issue",
        IssueKind::PullRequest => "pull request",
    }
}

/// The id of an issue (or pull request) of this kind, or 404.
async fn existing_issue(ctx: &AppContext, kind: IssueKind, raw: &str) -> Result<Uuid, ApiError> {
    let what = what(kind);
    let id = uuid_id(raw, what)?;
    match issues::get(&mut *ctx.conn().await?, kind, id).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::NotFound(format!("No {what} with id {id}."))),
    }
}

/// The id of a stored repository, or 404.
pub async fn existing_repository(ctx: &AppContext, raw: &str) -> Result<Uuid, ApiError> {
    let id = uuid_id(raw, "repository")?;
    match repositories::get(&mut *ctx.conn().await?, id).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::NotFound(format!("No repository with id {id}."))),
    }
}
