//! The rest of repository activity: `/github/transfers/`, `/github/members/`,
//! `/github/commits/` and `/github/releases/` (the last two per repository too).

use actix_web::{HttpRequest, HttpResponse, route, web};
use uuid::Uuid;

use crate::api::collection::{detail, list, uuid_id};
use crate::api::error::ApiError;
use crate::api::issues::existing_repository;
use crate::api::params::ListParams;
use crate::api::views::{CommitView, ErrorView, MemberView, Page, ReleaseView, TransferView};
use crate::context::AppContext;
use crate::db::queries::{commits, members, releases, transfers};

/// Default order of transfers: the latest detected first.
pub const TRANSFER_ORDERING: &str = "-detected_at";
/// Default order of members: by login.
pub const MEMBER_ORDERING: &str = "login";
/// Default order of commits: the latest authored first.
pub const COMMIT_ORDERING: &str = "-authored_at";
/// Default order of releases: the latest published first.
pub const RELEASE_ORDERING: &str = "-published_at";

/// Lists transfers of issues to other repositories, the latest detected first.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<TransferView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/transfers/", method = "GET", method = "HEAD")]
pub async fn list_transfers(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        &request,
        &ctx,
        transfers::FIELDS,
        TRANSFER_ORDERING,
        |mut conn, query| async move { transfers::list(&mut conn, &query).await },
        TransferView::new,
    )
    .await?;
    Ok(rendered.respond(&request))
}

/// One transfer.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The transfer's id")),
    responses((status = 200, body = TransferView), (status = 404, body = ErrorView)))]
#[route("/transfers/{id}/", method = "GET", method = "HEAD")]
pub async fn get_transfer(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "transfer")?;
    let record = transfers::get(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No transfer with id {id}."),
        TransferView::new,
    )?
    .respond(&request))
}

/// Lists members of tracked organizations, present and past, by login.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<MemberView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/members/", method = "GET", method = "HEAD")]
pub async fn list_members(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        &request,
        &ctx,
        members::FIELDS,
        MEMBER_ORDERING,
        |mut conn, query| async move { members::list(&mut conn, &query).await },
        MemberView::new,
    )
    .await?;
    Ok(rendered.respond(&request))
}

/// One member.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The member's id")),
    responses((status = 200, body = MemberView), (status = 404, body = ErrorView)))]
#[route("/members/{id}/", method = "GET", method = "HEAD")]
pub async fn get_member(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "member")?;
    let record = members::get(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No member with id {id}."),
        MemberView::new,
    )?
    .respond(&request))
}

/// Lists commits of tracked repositories, the latest authored first.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<CommitView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/commits/", method = "GET", method = "HEAD")]
pub async fn list_commits(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    commit_list(&request, &ctx, None).await
}

/// One commit.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The commit's id")),
    responses((status = 200, body = CommitView), (status = 404, body = ErrorView)))]
#[route("/commits/{id}/", method = "GET", method = "HEAD")]
pub async fn get_commit(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "commit")?;
    let record = commits::get(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No commit with id {id}."),
        CommitView::new,
    )?
    .respond(&request))
}

/// The commits of a repository.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The repository's id"), ListParams),
    responses((status = 200, body = Page<CommitView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/repositories/{id}/commits/", method = "GET", method = "HEAD")]
pub async fn list_repository_commits(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_repository(&ctx, &id).await?;
    commit_list(&request, &ctx, Some(id)).await
}

/// Lists releases of tracked repositories, the latest published first.
#[utoipa::path(get, tag = "activity", params(ListParams),
    responses((status = 200, body = Page<ReleaseView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/releases/", method = "GET", method = "HEAD")]
pub async fn list_releases(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    release_list(&request, &ctx, None).await
}

/// One release.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The release's id")),
    responses((status = 200, body = ReleaseView), (status = 404, body = ErrorView)))]
#[route("/releases/{id}/", method = "GET", method = "HEAD")]
pub async fn get_release(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "release")?;
    let record = releases::get(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No release with id {id}."),
        ReleaseView::new,
    )?
    .respond(&request))
}

/// The releases of a repository.
#[utoipa::path(get, tag = "activity",
    params(("id" = uuid::Uuid, Path, description = "The repository's id"), ListParams),
    responses((status = 200, body = Page<ReleaseView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/repositories/{id}/releases/", method = "GET", method = "HEAD")]
pub async fn list_repository_releases(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_repository(&ctx, &id).await?;
    release_list(&request, &ctx, Some(id)).await
}

async fn commit_list(
    request: &HttpRequest,
    ctx: &AppContext,
    repository_id: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        request,
        ctx,
        commits::FIELDS,
        COMMIT_ORDERING,
        |mut conn, query| async move { commits::list(&mut conn, repository_id, &query).await },
        CommitView::new,
    )
    .await?;
    Ok(rendered.respond(request))
}

async fn release_list(
    request: &HttpRequest,
    ctx: &AppContext,
    repository_id: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        request,
        ctx,
        releases::FIELDS,
        RELEASE_ORDERING,
        |mut conn, query| async move { releases::list(&mut conn, repository_id, &query).await },
        ReleaseView::new,
    )
    .await?;
    Ok(rendered.respond(request))
}
