//! `/github/developers/`: developers, each with followers, following and mutuals as
//! paginated sub-collections, and a repository's stargazers: every list of developers.

use actix_web::{HttpRequest, HttpResponse, route, web};
use diesel_async::AsyncPgConnection;

use crate::api::collection::{detail, list, uuid_id};
use crate::api::error::ApiError;
use crate::api::params::ListParams;
use crate::api::views::{DeveloperView, ErrorView, Page};
use crate::context::AppContext;
use crate::db::queries::developers::{self, DeveloperSet};
use crate::db::queries::repositories;

/// Default order of developer lists.
pub const DEFAULT_ORDERING: &str = "-created_at";

/// Lists developers.
#[utoipa::path(get, tag = "developers", params(ListParams),
    responses((status = 200, body = Page<DeveloperView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/developers/", method = "GET", method = "HEAD")]
pub async fn list_developers(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    developer_list(&request, &ctx, DeveloperSet::All).await
}

/// One developer.
#[utoipa::path(get, tag = "developers",
    params(("id" = uuid::Uuid, Path, description = "The developer's id")),
    responses((status = 200, body = DeveloperView), (status = 404, body = ErrorView)))]
#[route("/developers/{id}/", method = "GET", method = "HEAD")]
pub async fn get_developer(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "developer")?;
    let record = developers::get(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No developer with id {id}."),
        DeveloperView::new,
    )?
    .respond(&request))
}

/// Developers following a developer.
#[utoipa::path(get, tag = "developers",
    params(("id" = uuid::Uuid, Path, description = "The developer's id"), ListParams),
    responses((status = 200, body = Page<DeveloperView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/developers/{id}/followers/", method = "GET", method = "HEAD")]
pub async fn list_developer_followers(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_developer(&mut *ctx.conn().await?, &id).await?;
    developer_list(&request, &ctx, DeveloperSet::FollowersOf(id)).await
}

/// Developers a developer follows.
#[utoipa::path(get, tag = "developers",
    params(("id" = uuid::Uuid, Path, description = "The developer's id"), ListParams),
    responses((status = 200, body = Page<DeveloperView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/developers/{id}/following/", method = "GET", method = "HEAD")]
pub async fn list_developer_following(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_developer(&mut *ctx.conn().await?, &id).await?;
    developer_list(&request, &ctx, DeveloperSet::FollowedBy(id)).await
}

/// Developers a developer follows who follow it back.
#[utoipa::path(get, tag = "developers",
    params(("id" = uuid::Uuid, Path, description = "The developer's id"), ListParams),
    responses((status = 200, body = Page<DeveloperView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/developers/{id}/mutuals/", method = "GET", method = "HEAD")]
pub async fn list_developer_mutuals(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_developer(&mut *ctx.conn().await?, &id).await?;
    developer_list(&request, &ctx, DeveloperSet::MutualsOf(id)).await
}

/// Developers who starred a repository.
#[utoipa::path(get, tag = "repositories",
    params(("id" = uuid::Uuid, Path, description = "The repository's id"), ListParams),
    responses((status = 200, body = Page<DeveloperView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/repositories/{id}/stargazers/", method = "GET", method = "HEAD")]
pub async fn list_repository_stargazers(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "repository")?;
    if repositories::get(&mut *ctx.conn().await?, id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!("No repository with id {id}.")));
    }
    developer_list(&request, &ctx, DeveloperSet::StargazersOf(id)).await
}

/// A list of developers (all, or a sub-collection).
async fn developer_list(
    request: &HttpRequest,
    ctx: &AppContext,
    set: DeveloperSet,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        request,
        ctx,
        developers::FIELDS,
        DEFAULT_ORDERING,
        |mut conn, query| async move { developers::list(&mut conn, set, &query).await },
        DeveloperView::new,
    )
    .await?;
    Ok(rendered.respond(request))
}

/// The id of the stored developer a path segment names, or 404.
pub(crate) async fn existing_developer(
    conn: &mut AsyncPgConnection,
    raw: &str,
) -> Result<uuid::Uuid, ApiError> {
    let id = uuid_id(raw, "developer")?;
    match developers::get(conn, id).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::NotFound(format!("No developer with id {id}."))),
    }
}
