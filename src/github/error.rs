//! `GithubError`: every way a GitHub request can fail, typed so jobs can defer or fail cleanly.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::StatusCode;

use crate::db::DbError;

/// A GitHub request that did not produce a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// Sending would spend the operator's reserve; nothing was sent.
    #[error("GitHub quota reserve reached; the quota resets at {reset}")]
    QuotaReserve {
        /// When the quota window resets.
        reset: DateTime<Utc>,
    },
    /// GitHub refused the request: the quota is used up (403/429 with remaining 0).
    #[error("GitHub quota exhausted; the quota resets at {reset}")]
    QuotaExhausted {
        /// When the quota window resets.
        reset: DateTime<Utc>,
    },
    /// GitHub's secondary rate limit asks to wait longer than a request may.
    #[error("GitHub secondary rate limit: retry after {}s", retry_after.as_secs())]
    SecondaryLimit {
        /// How long GitHub asks to wait.
        retry_after: Duration,
    },
    /// The user or repository does not exist (any more).
    #[error("{what} not found on GitHub")]
    NotFound {
        /// What was looked for, e.g. `GitHub user octocat`.
        what: String,
    },
    /// GitHub deleted it for good (410 Gone): a deleted issue and its timeline.
    #[error("{what} was deleted on GitHub (410 Gone)")]
    Gone {
        /// What was looked for, e.g. `timeline of octocat/hello-world#7`.
        what: String,
    },
    /// The resource moved (a renamed or transferred repository, a transferred issue).
    #[error("{url} moved to {location}")]
    Moved {
        /// Request URL.
        url: String,
        /// Where GitHub says it is now.
        location: String,
    },
    /// GitHub blocks access to the repository (451, or 403 "Repository access blocked"): a
    /// DMCA takedown or a terms-of-service block. Asking again soon will not help.
    #[error("GitHub answered {status} for {url}: {message}")]
    Blocked {
        /// 451 or 403.
        status: u16,
        /// Request URL.
        url: String,
        /// GitHub's message, with the block's reason and notice when it gives them.
        message: String,
    },
    /// GitHub kept failing (5xx, timeouts, connection errors) after every retry.
    #[error("GitHub unavailable after {attempts} attempts: {message}")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        message: String,
    },
    /// GitHub answered with a status gitomatic does not handle.
    #[error("GitHub answered {status} for {url}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Request URL.
        url: String,
        /// GitHub's message.
        message: String,
    },
    /// The payload does not have the expected shape.
    #[error("unexpected GitHub payload from {url}: {message}")]
    Payload {
        /// Request URL.
        url: String,
        /// What did not parse.
        message: String,
    },
    /// GitHub answered a GraphQL query without data: it refused the document, or the query
    /// was too heavy to run (see [`GraphqlRefusal`]).
    #[error("GitHub refused the GraphQL query ({refusal}) at {url}: {message}")]
    GraphqlRefused {
        /// Why.
        refusal: GraphqlRefusal,
        /// Request URL.
        url: String,
        /// GitHub's messages (or the HTTP status).
        message: String,
    },
    /// The quota ledger or page cache could not be read or written.
    #[error(transparent)]
    Database(#[from] DbError),
}

impl GithubError {
    /// A status gitomatic does not handle, with GitHub's message from `body`.
    pub(crate) fn status(status: StatusCode, url: &str, body: &str) -> Self {
        GithubError::Status {
            status: status.as_u16(),
            url: url.to_owned(),
            message: message_of(body),
        }
    }

    /// A blocked repository: GitHub's message, with the block's reason and notice.
    pub(crate) fn blocked(status: StatusCode, url: &str, body: &str) -> Self {
        let parsed = serde_json::from_str::<ErrorBody>(body).ok();
        let mut message = parsed
            .as_ref()
            .map_or_else(|| message_of(body), |error| error.message.clone());
        if let Some(block) = parsed.and_then(|error| error.block) {
            let details: Vec<String> = [block.reason, block.html_url]
                .into_iter()
                .flatten()
                .collect();
            if !details.is_empty() {
                message = format!("{message} ({})", details.join(": "));
            }
        }
        GithubError::Blocked {
            status: status.as_u16(),
            url: url.to_owned(),
            message,
        }
    }

    /// When a job hit by this error should run again, if waiting is the cure.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            GithubError::QuotaReserve { reset } | GithubError::QuotaExhausted { reset } => {
                Some(*reset)
            }
            GithubError::SecondaryLimit { retry_after } => {
                Some(Utc::now() + chrono::Duration::from_std(*retry_after).unwrap_or_default())
            }
            _ => None,
        }
    }
}

/// GitHub's error body: `message`, and the `block` of a blocked repository.
#[derive(serde::Deserialize)]
struct ErrorBody {
    message: String,
    #[serde(default)]
    block: Option<Block>,
}

/// Why GitHub blocks a repository: `{"reason": "dmca"|"tos"|..., "html_url": notice}`.
#[derive(serde::Deserialize)]
struct Block {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
}

/// The `message` of an error body, or the start of a body that has none.
pub(crate) fn message_of(body: &str) -> String {
    serde_json::from_str::<ErrorBody>(body)
        .map(|error| error.message)
        .unwrap_or_else(|_| body.chars().take(200).collect())
}

/// Why GitHub answered a GraphQL query without data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphqlRefusal {
    /// A 200 with `errors` and no `data`: the document does not validate against GitHub's
    /// schema (a bug in the query gitomatic built); sending it again changes nothing.
    Invalid,
    /// A 502/504, or a 200 whose only errors say the query timed out or "Something went
    /// wrong while executing your query": the query is too heavy; a smaller one may pass.
    TooHeavy,
}

impl std::fmt::Display for GraphqlRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GraphqlRefusal::Invalid => "invalid query",
            GraphqlRefusal::TooHeavy => "too heavy",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{GithubError, StatusCode};

    #[test]
    fn a_block_keeps_githubs_message_reason_and_notice() {
        let dmca = r#"{"message":"Repository access blocked","block":{"reason":"dmca",
            "created_at":"2020-10-23T19:57:33Z","html_url":"https://github.com/github/dmca/blob/master/x.md"}}"#;
        let GithubError::Blocked {
            status, message, ..
        } = GithubError::blocked(
            StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
            "http://gh/repos/a/b",
            dmca,
        )
        else {
            panic!("a block");
        };
        assert_eq!(status, 451);
        assert_eq!(
            message,
            "Repository access blocked (dmca: https://github.com/github/dmca/blob/master/x.md)"
        );
        let tos = r#"{"message":"Repository access blocked","block":{"reason":"tos","created_at":"2026-06-25T15:04:22Z"}}"#;
        let error = GithubError::blocked(StatusCode::FORBIDDEN, "http://gh/repos/a/b", tos);
        assert_eq!(
            error.to_string(),
            "GitHub answered 403 for http://gh/repos/a/b: Repository access blocked (tos)"
        );
    }
}
