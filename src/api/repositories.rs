//! `/github/repositories/`: repositories, and the repositories a developer starred or
//! owns as paginated sub-collections: every list of repositories.

use actix_web::{HttpRequest, HttpResponse, route, web};

use crate::api::collection::{detail, list, uuid_id};
use crate::api::developers::existing_developer;
use crate::api::error::ApiError;
use crate::api::params::ListParams;
use crate::api::views::{ErrorView, Page, RepositoryView};
use crate::context::AppContext;
use crate::db::queries::repositories::{self, RepositorySet};

/// Default order of repository lists.
pub const DEFAULT_ORDERING: &str = "-created_at";

/// Lists repositories.
#[utoipa::path(get, tag = "repositories", params(ListParams),
    responses((status = 200, body = Page<RepositoryView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/repositories/", method = "GET", method = "HEAD")]
pub async fn list_repositories(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    repository_list(&request, &ctx, RepositorySet::All).await
}

/// One repository.
#[utoipa::path(get, tag = "repositories",
    params(("id" = uuid::Uuid, Path, description = "The repository's id")),
    responses((status = 200, body = RepositoryView), (status = 404, body = ErrorView)))]
#[route("/repositories/{id}/", method = "GET", method = "HEAD")]
pub async fn get_repository(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "repository")?;
    let record = repositories::get(&mut *ctx.conn().await?, id).await?;
    Ok(detail(
        &request,
        &ctx,
        record,
        || format!("No repository with id {id}."),
        RepositoryView::new,
    )?
    .respond(&request))
}

/// Repositories a developer starred.
#[utoipa::path(get, tag = "developers",
    params(("id" = uuid::Uuid, Path, description = "The developer's id"), ListParams),
    responses((status = 200, body = Page<RepositoryView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route(
    "/developers/{id}/starred_repositories/",
    method = "GET",
    method = "HEAD"
)]
pub async fn list_developer_starred_repositories(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_developer(&mut *ctx.conn().await?, &id).await?;
    repository_list(&request, &ctx, RepositorySet::StarredBy(id)).await
}

/// Repositories a developer owns.
#[utoipa::path(get, tag = "developers",
    params(("id" = uuid::Uuid, Path, description = "The developer's id"), ListParams),
    responses((status = 200, body = Page<RepositoryView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/developers/{id}/repositories/", method = "GET", method = "HEAD")]
pub async fn list_developer_repositories(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = existing_developer(&mut *ctx.conn().await?, &id).await?;
    repository_list(&request, &ctx, RepositorySet::OwnedBy(id)).await
}

/// A list of repositories (all, or a sub-collection).
async fn repository_list(
    request: &HttpRequest,
    ctx: &AppContext,
    set: RepositorySet,
) -> Result<HttpResponse, ApiError> {
    let rendered = list(
        request,
        ctx,
        repositories::FIELDS,
        DEFAULT_ORDERING,
        |mut conn, query| async move { repositories::list(&mut conn, set, &query).await },
        RepositoryView::new,
    )
    .await?;
    Ok(rendered.respond(request))
}
