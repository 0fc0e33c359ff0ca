//! Walking GitHub lists page by page: each fresh page is stored with its cache entry in
//! one transaction, so a job stopped mid-way keeps its work and resumes for free.

use async_trait::async_trait;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::relations::{self, Relation};
use crate::db::queries::{developers, pages, repositories};
use crate::github::types::{GithubId, Repository, SimpleUser};
use crate::github::{BeyondFullPage, PageItems, RequestStats};
use crate::jobs::{JobError, store};

/// Something a GitHub list holds and the database stores in batches.
#[async_trait]
pub trait Listed: DeserializeOwned + GithubId + Send + Sync {
    /// Upserts one page of items.
    async fn store_page(conn: &mut AsyncPgConnection, items: &[Self]) -> Result<(), DbError>;
}

#[async_trait]
impl Listed for SimpleUser {
    async fn store_page(conn: &mut AsyncPgConnection, items: &[Self]) -> Result<(), DbError> {
        let rows: Vec<_> = items.iter().map(store::listed_developer).collect();
        developers::upsert_listed(conn, &rows).await?;
        Ok(())
    }
}

#[async_trait]
impl Listed for Repository {
    async fn store_page(conn: &mut AsyncPgConnection, items: &[Self]) -> Result<(), DbError> {
        store_repositories(conn, items, None).await?;
        Ok(())
    }
}

/// Upserts repositories and their owners; `etag` is the single-repository ETag, if any.
pub async fn store_repositories(
    conn: &mut AsyncPgConnection,
    items: &[Repository],
    etag: Option<&str>,
) -> Result<std::collections::HashMap<i64, Uuid>, DbError> {
    let owners: Vec<_> = items
        .iter()
        .map(|repo| store::listed_developer(&repo.owner))
        .collect();
    let owner_ids = developers::upsert_listed(conn, &owners).await?;
    let rows: Vec<_> = items
        .iter()
        .filter_map(|repo| {
            let owner_id = owner_ids.get(&repo.owner.id)?;
            Some(store::repository(repo, *owner_id, etag))
        })
        .collect();
    repositories::upsert(conn, &rows).await
}

/// Fetches every page of a list from `path` on, storing each fresh page; returns the
/// GitHub ids of all items, in order.
pub async fn walk<T: Listed>(
    ctx: &AppContext,
    stats: &RequestStats,
    path: &str,
    what: &str,
) -> Result<Vec<i64>, JobError> {
    let mut ids = Vec::new();
    let mut next = Some(ctx.github.first_page_url(path));
    while let Some(url) = next {
        let page = ctx
            .github
            .list_page::<T>(stats, &url, what, BeyondFullPage::NextPageNumber)
            .await?;
        ids.extend(page.ids());
        if let PageItems::Fresh(items) = &page.items {
            let mut conn = ctx.conn().await?;
            let cache = page.cache.as_ref();
            conn.transaction::<_, DbError, _>(async |conn| {
                T::store_page(conn, items).await?;
                if let Some(cache) = cache {
                    pages::store(conn, cache).await?;
                }
                Ok(())
            })
            .await?;
        }
        next = page.next;
    }
    Ok(ids)
}

/// Walks a list completely, then makes it the relation of `owner`.
pub async fn sync_relation<T: Listed>(
    ctx: &AppContext,
    stats: &RequestStats,
    path: &str,
    what: &str,
    relation: Relation,
    owner: Uuid,
) -> Result<(), JobError> {
    let ids = walk::<T>(ctx, stats, path, what).await?;
    let mut conn = ctx.conn().await?;
    relations::replace(&mut conn, relation, owner, &ids).await?;
    Ok(())
}
