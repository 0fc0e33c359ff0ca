//! Absolute hyperlinks: the API's base URL from PUBLIC_URL or the request's Host.

use actix_web::HttpRequest;
use uuid::Uuid;

use crate::api::params;
use crate::config::Config;
use crate::db::cursor::Cursor;

/// Builds absolute URLs for one request.
#[derive(Clone, Debug)]
pub struct Links {
    base: String,
}

impl Links {
    /// The base is PUBLIC_URL when set, else the scheme and Host the client used.
    /// Links outside any request (the command line): under `PUBLIC_URL`, else under the
    /// address the web role binds to (`0.0.0.0` read as `127.0.0.1`).
    pub fn without_request(config: &Config) -> Self {
        let base = match &config.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => {
                let mut bind = config.bind;
                if bind.ip().is_unspecified() {
                    bind.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{bind}")
            }
        };
        Self { base }
    }

    pub fn new(request: &HttpRequest, config: &Config) -> Self {
        let base = match &config.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => {
                let info = request.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            }
        };
        Self { base }
    }

    /// The absolute URL of an API path (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A developer, or one of its sub-collections (`followers/`...; empty for the developer).
    pub fn developer(&self, id: Uuid, sub: &str) -> String {
        self.url(&format!("/github/developers/{id}/{sub}"))
    }

    /// A repository, or one of its sub-collections.
    pub fn repository(&self, id: Uuid, sub: &str) -> String {
        self.url(&format!("/github/repositories/{id}/{sub}"))
    }

    /// A rate-limit row.
    pub fn rate_limit(&self, id: i64) -> String {
        self.url(&format!("/github/rate_limit/{id}/"))
    }

    /// A task.
    pub fn task(&self, id: Uuid) -> String {
        self.url(&format!("/github/tasks/{id}/"))
    }

    /// A tracked repository.
    pub fn tracked_repository(&self, id: Uuid) -> String {
        self.url(&format!("/github/tracked_repositories/{id}/"))
    }

    /// A tracked organization.
    pub fn tracked_organization(&self, id: Uuid) -> String {
        self.url(&format!("/github/tracked_organizations/{id}/"))
    }

    /// An issue (or, when `is_pull_request`, a pull request), or one of its
    /// sub-collections (`timeline/`; empty for the issue itself).
    pub fn issue(&self, is_pull_request: bool, id: Uuid, sub: &str) -> String {
        let collection = if is_pull_request {
            "pull_requests"
        } else {
            "issues"
        };
        self.url(&format!("/github/{collection}/{id}/{sub}"))
    }

    /// A timeline item.
    pub fn timeline_item(&self, id: Uuid) -> String {
        self.url(&format!("/github/timeline_items/{id}/"))
    }

    /// A transfer.
    pub fn transfer(&self, id: Uuid) -> String {
        self.url(&format!("/github/transfers/{id}/"))
    }

    /// An organization member.
    pub fn member(&self, id: Uuid) -> String {
        self.url(&format!("/github/members/{id}/"))
    }

    /// The members of an organization: the member list filtered by its login.
    pub fn members_of(&self, organization_login: &str) -> String {
        let query = serde_urlencoded::to_string([("organization_login", organization_login)])
            .unwrap_or_default();
        self.url(&format!("/github/members/?{query}"))
    }

    /// A commit.
    pub fn commit(&self, id: Uuid) -> String {
        self.url(&format!("/github/commits/{id}/"))
    }

    /// A release.
    pub fn release(&self, id: Uuid) -> String {
        self.url(&format!("/github/releases/{id}/"))
    }

    /// A webhook delivery.
    pub fn webhook_delivery(&self, id: Uuid) -> String {
        self.url(&format!("/github/webhooks/deliveries/{id}/"))
    }

    /// The current request's URL with `page` set (`None` for the first page drops it) and
    /// no `cursor`.
    pub fn page(&self, request: &HttpRequest, page: u32) -> String {
        let page = page.to_string();
        let query = params::query_with(request, "cursor", None);
        let query =
            params::query_string_with(&query, "page", (page != "1").then_some(page.as_str()));
        self.with_query(request, &query)
    }

    /// The current request's URL with `cursor` set and no `page`.
    pub fn cursor(&self, request: &HttpRequest, cursor: &Cursor) -> String {
        let query = params::query_with(request, "page", None);
        let query = params::query_string_with(&query, "cursor", Some(&cursor.encode()));
        self.with_query(request, &query)
    }

    fn with_query(&self, request: &HttpRequest, query: &str) -> String {
        let path = self.url(request.path());
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }
}
