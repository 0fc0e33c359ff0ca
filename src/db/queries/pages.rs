//! Queries on `github_pages`: the conditional-request cache of GitHub list pages.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
use crate::db::schema::github_pages;

/// What is remembered of one list page.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = github_pages)]
pub struct CachedPage {
    /// The page's request URL.
    pub url: String,
    /// GitHub's ETag of the page.
    pub etag: String,
    /// The page's `rel="next"` link (a 304 carries none).
    pub next_url: Option<String>,
    /// GitHub ids of the items the page listed, in order.
    pub item_ids: Vec<i64>,
}

/// The cached page for a URL, if any.
pub async fn find(conn: &mut AsyncPgConnection, url: &str) -> Result<Option<CachedPage>, DbError> {
    let page = github_pages::table
        .find(url)
        .select(CachedPage::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(page)
}

/// Remembers a page; call it in the transaction that stored the page's items.
pub async fn store(conn: &mut AsyncPgConnection, page: &CachedPage) -> Result<(), DbError> {
    diesel::insert_into(github_pages::table)
        .values((
            github_pages::url.eq(&page.url),
            github_pages::etag.eq(&page.etag),
            github_pages::next_url.eq(&page.next_url),
            github_pages::item_ids.eq(&page.item_ids),
        ))
        .on_conflict(github_pages::url)
        .do_update()
        .set((
            github_pages::etag.eq(&page.etag),
            github_pages::next_url.eq(&page.next_url),
            github_pages::item_ids.eq(&page.item_ids),
            github_pages::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
