//! Typed REST fetches: single resources (users, repositories), and list pages remembered
//! by ETag so that an unchanged page costs no quota.

use serde::de::DeserializeOwned;
use url::Url;

use crate::db::queries::pages::{self, CachedPage};
use crate::github::error::GithubError;
use crate::github::pipeline::{Pipeline, RequestStats};
use crate::github::rest::{self, Fetched};
use crate::github::types::{GithubId, parse};

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

/// What to do when a 304 answers for a full page that announced no next page when it was
/// stored: items may have been added after it, on a page its unchanged body cannot
/// announce (and the 304 carried no `Link`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeyondFullPage {
    /// Ask for `page + 1` (an empty page is cached and costs nothing on later walks): the
    /// network crawl's lists, which GitHub pages by number.
    NextPageNumber,
    /// Read the page again without its ETag (one request) to learn its `Link`: never a
    /// page number built by hand (repository activity, where GitHub refuses deep pages).
    ReadAgain,
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

/// Fetches one list page through `pipeline`, sending the remembered ETag (see
/// `GithubClient::list_page`).
pub(crate) async fn list_page<T: DeserializeOwned + GithubId>(
    pipeline: &Pipeline,
    stats: &RequestStats,
    url: &str,
    what: &str,
    beyond: BeyondFullPage,
) -> Result<ListPage<T>, GithubError> {
    let cached = pages::find(&mut *pipeline.ledger().conn().await?, url).await?;
    let etag = cached.as_ref().map(|page| page.etag.as_str());
    let mut fetched = rest::fetch(pipeline, stats, url, etag).await?.0;
    if let (Fetched::NotModified { next: None }, Some(page)) = (&fetched, &cached)
        && beyond == BeyondFullPage::ReadAgain
        && might_have_a_successor(page)
    {
        fetched = rest::fetch(pipeline, stats, url, None).await?.0;
    }
    match fetched {
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
        Fetched::NotModified { next } => {
            let cached = cached.ok_or_else(|| GithubError::Status {
                status: 304,
                url: url.to_owned(),
                message: "304 Not Modified for a page that was never stored".into(),
            })?;
            let next = next.or_else(|| cached.next_url.clone()).or_else(|| {
                (beyond == BeyondFullPage::NextPageNumber && might_have_a_successor(&cached))
                    .then(|| following_page(url))
                    .flatten()
            });
            Ok(ListPage {
                items: PageItems::Unchanged(cached.item_ids),
                next,
                cache: None,
            })
        }
        // No commits: the list is empty (nothing to cache; the next walk asks again).
        Fetched::EmptyRepository => Ok(ListPage {
            items: PageItems::Fresh(Vec::new()),
            next: None,
            cache: None,
        }),
        Fetched::NotFound => Err(GithubError::NotFound {
            what: what.to_owned(),
        }),
        Fetched::Gone => Err(GithubError::Gone {
            what: what.to_owned(),
        }),
        Fetched::Moved { location } => Err(GithubError::Moved {
            url: url.to_owned(),
            location,
        }),
        Fetched::Accepted => Err(still_computing(url)),
    }
}

/// A conditional GET of one resource (a user, a repository) through `pipeline`; follows a
/// rename or transfer; `what` names it in a `NotFound` or `Gone`.
pub(crate) async fn fetch_one<T: DeserializeOwned>(
    pipeline: &Pipeline,
    stats: &RequestStats,
    url: &str,
    etag: Option<&str>,
    what: impl Fn() -> String,
) -> Result<Conditional<T>, GithubError> {
    let mut fetched = rest::fetch(pipeline, stats, url, etag).await?.0;
    let mut url = url.to_owned();
    if let Fetched::Moved { location } = fetched {
        // Renamed or transferred: the stored ETag belongs to the old name.
        url = location;
        fetched = rest::fetch(pipeline, stats, &url, None).await?.0;
    }
    match fetched {
        Fetched::Modified { body, etag, .. } => Ok(Conditional::Modified {
            value: parse(&url, &body)?,
            etag,
        }),
        Fetched::NotModified { .. } => Ok(Conditional::NotModified),
        Fetched::NotFound => Err(GithubError::NotFound { what: what() }),
        Fetched::Gone => Err(GithubError::Gone { what: what() }),
        Fetched::Moved { location } => Err(GithubError::Moved { url, location }),
        Fetched::Accepted => Err(still_computing(&url)),
        Fetched::EmptyRepository => Err(GithubError::Status {
            status: 409,
            url,
            message: "Git Repository is empty.".into(),
        }),
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

/// A stored full page that announced no next page: a successor may have appeared since.
fn might_have_a_successor(page: &CachedPage) -> bool {
    page.next_url.is_none() && page.item_ids.len() >= PER_PAGE
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
