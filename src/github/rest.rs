//! GitHub's REST API over the pipeline: a conditional `GET` of a quota-costing resource and
//! what its answer means ([`Fetched`]).

use http::{HeaderMap, StatusCode};

use crate::github::error::{GithubError, message_of};
use crate::github::headers;
use crate::github::identity::Request;
use crate::github::ledger::Resource;
use crate::github::pipeline::{Call, Exchange, Payer, Pipeline, RequestStats};

/// The answer to a conditional GET.
#[derive(Debug)]
pub enum Fetched {
    /// New content with its ETag and `rel="next"` link.
    Modified {
        /// Response body.
        body: String,
        /// The `ETag` header.
        etag: Option<String>,
        /// The `Link: rel="next"` target.
        next: Option<String>,
    },
    /// 304: what is stored is current; `next` is its `Link: rel="next"` target when the
    /// 304 carries one (GitHub's may; a 304 need not).
    NotModified {
        /// The `Link: rel="next"` target, if the 304 had a `Link` header.
        next: Option<String>,
    },
    /// 202: GitHub is still computing the answer (statistics); ask again later.
    Accepted,
    /// 301/302/307: the resource moved (renamed or transferred) to this URL.
    Moved {
        /// The `Location` header.
        location: String,
    },
    /// 404.
    NotFound,
    /// 410: deleted for good (a deleted issue and its timeline).
    Gone,
    /// 409 "Git Repository is empty.": a repository without commits has no commit list.
    EmptyRepository,
}

/// A conditional GET of `url` costing one `core` request, counted into `stats`: what it
/// answered, with the answer's headers.
pub(crate) async fn fetch(
    pipeline: &Pipeline,
    stats: &RequestStats,
    url: &str,
    etag: Option<&str>,
) -> Result<(Fetched, HeaderMap), GithubError> {
    let call = Call {
        payer: Payer::Reserve {
            resource: Resource::Core,
            cost: 1,
            stats,
        },
        request: Request::Get { url, etag },
        // A blocked repository's 403 is no rate limit.
        keeps: |status, body| status == StatusCode::FORBIDDEN && says_access_blocked(body),
    };
    let Exchange {
        status,
        headers,
        body,
        ..
    } = pipeline.exchange(call).await?;
    let fetched = match status {
        StatusCode::NOT_MODIFIED => Fetched::NotModified {
            next: headers::next_link(&headers),
        },
        StatusCode::NOT_FOUND => Fetched::NotFound,
        StatusCode::GONE => Fetched::Gone,
        StatusCode::CONFLICT if says_empty_repository(&body) => Fetched::EmptyRepository,
        StatusCode::ACCEPTED => Fetched::Accepted,
        s if s.is_success() => Fetched::Modified {
            etag: headers::etag(&headers),
            next: headers::next_link(&headers),
            body,
        },
        StatusCode::MOVED_PERMANENTLY
        | StatusCode::FOUND
        | StatusCode::TEMPORARY_REDIRECT
        | StatusCode::PERMANENT_REDIRECT => {
            let location = headers
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| GithubError::status(status, url, "redirect without Location"))?;
            Fetched::Moved {
                location: location.to_owned(),
            }
        }
        StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS => {
            return Err(GithubError::blocked(status, url, &body));
        }
        StatusCode::FORBIDDEN if says_access_blocked(&body) => {
            return Err(GithubError::blocked(status, url, &body));
        }
        _ => return Err(GithubError::status(status, url, &body)),
    };
    Ok((fetched, headers))
}

/// A 403 that is GitHub's DMCA or terms-of-service block, not a rate limit.
fn says_access_blocked(body: &str) -> bool {
    message_of(body)
        .to_ascii_lowercase()
        .contains("repository access blocked")
}

/// A 409 that says the repository has no commits (GitHub: "Git Repository is empty.").
fn says_empty_repository(body: &str) -> bool {
    message_of(body)
        .to_ascii_lowercase()
        .contains("repository is empty")
}

#[cfg(test)]
mod tests {
    use super::{says_access_blocked, says_empty_repository};

    #[test]
    fn blocks_and_empty_repositories_are_read_from_githubs_message() {
        let tos = r#"{"message":"Repository access blocked","block":{"reason":"tos","created_at":"2026-06-25T15:04:22Z"}}"#;
        assert!(says_access_blocked(tos));
        // Other 403s are not blocks (rate limits, permissions).
        assert!(!says_access_blocked(
            r#"{"message":"API rate limit exceeded for 1.2.3.4."}"#
        ));
        assert!(!says_access_blocked("not json"));
        assert!(says_empty_repository(
            r#"{"message":"Git Repository is empty.","status":"409"}"#
        ));
        assert!(!says_empty_repository(r#"{"message":"Conflict"}"#));
    }
}
