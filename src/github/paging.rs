//! Typed fetches on top of the client: users, repositories, and list pages remembered
//! by ETag so that an unchanged page costs no quota.

use serde::de::DeserializeOwned;
use url::Url;

use crate::db::queries::pages::{self, CachedPage};
use crate::domain::{GithubLogin, RepoName};
use crate::github::client::{Fetched, GithubClient, RequestStats, parse};
use crate::github::error::GithubError;
use crate::github::types::{GithubId, Repository, User};

/// Items per list page: GitHub's maximum.
pub const PER_PAGE: usize = 100;

/// A conditionally fetched resource.
#[derive(Debug)]
pub enum Conditional<T> {
    /// New content and its ETag.
    Modified {
        /// The resource.
        value: T,
        /// Its ETag, to send next time.
        etag: Option<String>,
    },
    /// What is stored is current (304, no quota spent).
    NotModified,
}

/// One page of a list.
#[derive(Debug)]
pub struct ListPage<T> {
    /// The items, fresh or (on a 304) the GitHub ids remembered for this page.
    pub items: PageItems<T>,
    /// The next page to fetch, if any.
    pub next: Option<String>,
    /// The cache entry to store in the transaction that stores the items (fresh pages).
    pub cache: Option<CachedPage>,
}

/// A page's content.
#[derive(Debug)]
pub enum PageItems<T> {
    /// Fetched now: store these.
    Fresh(Vec<T>),
    /// Unchanged since last time: these GitHub ids, already stored.
    Unchanged(Vec<i64>),
}

impl<T: GithubId> ListPage<T> {
    /// GitHub ids of the page's items, in order.
    pub fn ids(&self) -> Vec<i64> {
        match &self.items {
            PageItems::Fresh(items) => items.iter().map(GithubId::github_id).collect(),
            PageItems::Unchanged(ids) => ids.clone(),
        }
    }
}

impl GithubClient {
    /// `GET /users/{login}`, conditional on the stored ETag.
    pub async fn fetch_user(
        &self,
        stats: &RequestStats,
        login: &GithubLogin,
        etag: Option<&str>,
    ) -> Result<Conditional<User>, GithubError> {
        let url = self.url(&format!("/users/{login}"));
        let what = || format!("GitHub user {login}");
        self.fetch_one(stats, &url, etag, what).await
    }

    /// `GET /repos/{owner}/{name}`, conditional on the stored ETag; follows a rename or transfer.
    pub async fn fetch_repository(
        &self,
        stats: &RequestStats,
        owner: &GithubLogin,
        name: &RepoName,
        etag: Option<&str>,
    ) -> Result<Conditional<Repository>, GithubError> {
        let url = self.url(&format!("/repos/{owner}/{name}"));
        let what = || format!("GitHub repository {owner}/{name}");
        self.fetch_one(stats, &url, etag, what).await
    }

    /// The URL of a list's first page, e.g. `/users/octocat/followers`.
    pub fn first_page_url(&self, path: &str) -> String {
        self.url(&format!("{path}?per_page={PER_PAGE}"))
    }

    /// Fetches one list page, sending the remembered ETag.
    pub async fn list_page<T: DeserializeOwned + GithubId>(
        &self,
        stats: &RequestStats,
        url: &str,
        what: &str,
    ) -> Result<ListPage<T>, GithubError> {
        let cached = pages::find(&mut *self.conn().await?, url).await?;
        let etag = cached.as_ref().map(|page| page.etag.as_str());
        match self.get(stats, url, etag).await? {
            Fetched::Modified { body, etag, next } => {
                let items: Vec<T> = parse(url, &body)?;
                let cache = etag.map(|etag| CachedPage {
                    url: url.to_owned(),
                    etag,
                    next_url: next.clone(),
                    item_ids: items.iter().map(GithubId::github_id).collect(),
                });
                Ok(ListPage {
                    items: PageItems::Fresh(items),
                    next,
                    cache,
                })
            }
            Fetched::NotModified => {
                let cached = cached.ok_or_else(|| GithubError::Status {
                    status: 304,
                    url: url.to_owned(),
                    message: "304 Not Modified for a page that was never stored".into(),
                })?;
                // A full last page may have grown a successor that its unchanged body
                // cannot announce (a 304 has no Link): look one page further.
                let next = cached.next_url.clone().or_else(|| {
                    (cached.item_ids.len() >= PER_PAGE)
                        .then(|| following_page(url))
                        .flatten()
                });
                Ok(ListPage {
                    items: PageItems::Unchanged(cached.item_ids),
                    next,
                    cache: None,
                })
            }
            Fetched::NotFound => Err(GithubError::NotFound {
                what: what.to_owned(),
            }),
            Fetched::Moved { location } => Err(GithubError::Moved {
                url: url.to_owned(),
                location,
            }),
            Fetched::Accepted => Err(still_computing(url)),
        }
    }

    async fn fetch_one<T: DeserializeOwned>(
        &self,
        stats: &RequestStats,
        url: &str,
        etag: Option<&str>,
        what: impl Fn() -> String,
    ) -> Result<Conditional<T>, GithubError> {
        let mut fetched = self.get(stats, url, etag).await?;
        let mut url = url.to_owned();
        if let Fetched::Moved { location } = fetched {
            // Renamed or transferred: the stored ETag belongs to the old name.
            url = location;
            fetched = self.get(stats, &url, None).await?;
        }
        match fetched {
            Fetched::Modified { body, etag, .. } => Ok(Conditional::Modified {
                value: parse(&url, &body)?,
                etag,
            }),
            Fetched::NotModified => Ok(Conditional::NotModified),
            Fetched::NotFound => Err(GithubError::NotFound { what: what() }),
            Fetched::Moved { location } => Err(GithubError::Moved { url, location }),
            Fetched::Accepted => Err(still_computing(&url)),
        }
    }
}

/// A 202 where content was expected.
fn still_computing(url: &str) -> GithubError {
    GithubError::Status {
        status: 202,
        url: url.to_owned(),
        message: "GitHub is still computing this answer".into(),
    }
}

/// The same list URL with `page` one higher.
fn following_page(url: &str) -> Option<String> {
    let mut parsed = Url::parse(url).ok()?;
    let page: u32 = parsed
        .query_pairs()
        .find(|(key, _)| key == "page")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(1);
    let others: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| key != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(others)
        .append_pair("page", &(page + 1).to_string());
    Some(parsed.into())
}

#[cfg(test)]
mod tests {
    use super::following_page;

    #[test]
    fn the_following_page_increments_page() {
        assert_eq!(
            following_page("http://gh/users/a/followers?per_page=100").as_deref(),
            Some("http://gh/users/a/followers?per_page=100&page=2")
        );
        assert_eq!(
            following_page("http://gh/users/a/followers?per_page=100&page=2").as_deref(),
            Some("http://gh/users/a/followers?per_page=100&page=3")
        );
    }
}
