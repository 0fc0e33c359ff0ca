//! Reading GitHub's response headers: `x-ratelimit-*`, `ETag`, `Link`, `Retry-After` and
//! `X-Poll-Interval`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;

use crate::db::queries::rate_limits::Observed;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn number(headers: &HeaderMap, name: &str) -> Option<i64> {
    header(headers, name).and_then(|value| value.trim().parse().ok())
}

/// The quota reported by `x-ratelimit-limit/-remaining/-used/-reset/-resource`, when present.
pub fn rate_limit(headers: &HeaderMap) -> Option<Observed> {
    let limit = number(headers, "x-ratelimit-limit")?;
    let remaining = number(headers, "x-ratelimit-remaining")?;
    let reset = DateTime::<Utc>::from_timestamp(number(headers, "x-ratelimit-reset")?, 0)?;
    let used = number(headers, "x-ratelimit-used").unwrap_or((limit - remaining).max(0));
    Some(Observed {
        resource: header(headers, "x-ratelimit-resource")
            .unwrap_or("core")
            .to_owned(),
        limit: clamp(limit),
        remaining: clamp(remaining),
        used: clamp(used),
        reset,
    })
}

/// A GitHub count as a database integer: negatives become 0, huge values saturate.
pub(crate) fn clamp(n: i64) -> i32 {
    i32::try_from(n.max(0)).unwrap_or(i32::MAX)
}

/// The response's `ETag`.
pub fn etag(headers: &HeaderMap) -> Option<String> {
    header(headers, "etag").map(str::to_owned)
}

/// How long `Retry-After` asks to wait (seconds form; an HTTP date is read as well).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header(headers, "retry-after")?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&Utc) - Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// How long `X-Poll-Interval` asks a poller of an event feed to wait before the next poll.
pub fn poll_interval(headers: &HeaderMap) -> Option<Duration> {
    let seconds = number(headers, "x-poll-interval")?;
    Some(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    header(headers, "link")?.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|param| matches!(param.trim(), "rel=\"next\"" | "rel=next"));
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    #[test]
    fn reads_the_rate_limit_headers() {
        let observed = rate_limit(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4990"),
            ("x-ratelimit-used", "10"),
            ("x-ratelimit-reset", "1700000000"),
            ("x-ratelimit-resource", "core"),
        ]))
        .expect("complete headers");
        assert_eq!(observed.limit, 5000);
        assert_eq!(observed.remaining, 4990);
        assert_eq!(observed.used, 10);
        assert_eq!(observed.reset.timestamp(), 1_700_000_000);
        assert_eq!(observed.resource, "core");
        assert!(rate_limit(&headers(&[("x-ratelimit-limit", "60")])).is_none());
    }

    #[test]
    fn finds_the_next_link_among_others() {
        let link = "<https://api.github.com/user/1/followers?per_page=100&page=2>; rel=\"next\", \
                    <https://api.github.com/user/1/followers?per_page=100&page=3>; rel=\"last\"";
        assert_eq!(
            next_link(&headers(&[("link", link)])).as_deref(),
            Some("https://api.github.com/user/1/followers?per_page=100&page=2")
        );
        let last_page = "<https://x/?page=1>; rel=\"prev\", <https://x/?page=1>; rel=\"first\"";
        assert_eq!(next_link(&headers(&[("link", last_page)])), None);
    }

    #[test]
    fn reads_the_poll_interval() {
        assert_eq!(
            poll_interval(&headers(&[("x-poll-interval", "60")])),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            poll_interval(&headers(&[("x-poll-interval", "-5")])),
            Some(Duration::ZERO)
        );
        assert_eq!(
            poll_interval(&headers(&[("x-poll-interval", "soon")])),
            None
        );
        assert_eq!(poll_interval(&headers(&[])), None);
    }

    #[test]
    fn reads_retry_after_seconds() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after(&headers(&[])), None);
    }
}
