//! `Metrics`: this process's Prometheus families, their typed feeders and the text rendering.
//!
//! Each `AppContext` owns one `Metrics` with its own registry (never the global one), so
//! several apps in one process (the tests) each read their own values. Feeders:
//! the GitHub client (responses, 304s, quota), the job runner (task outcomes and
//! durations), the HTTP middleware (requests) and `GET /metrics` itself (queue depths,
//! read from RabbitMQ at scrape time).

use std::collections::BTreeSet;
use std::time::Duration;

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Name, help and type of every family, in the order they are rendered when empty.
const FAMILIES: [(&str, &str, &str); 8] = [
    (
        "gitomatic_github_requests_total",
        "GitHub responses by quota resource and HTTP status (304s included).",
        "counter",
    ),
    (
        "gitomatic_github_not_modified_total",
        "GitHub 304 Not Modified responses (conditional requests that cost no quota).",
        "counter",
    ),
    (
        "gitomatic_github_quota_remaining",
        "GitHub quota left in the current window, as last reported by GitHub.",
        "gauge",
    ),
    (
        "gitomatic_tasks_total",
        "Task runs finished, by job name and outcome (succeeded, failed, deferred).",
        "counter",
    ),
    (
        "gitomatic_task_duration_seconds",
        "Wall-clock time of one task run, by job name.",
        "histogram",
    ),
    (
        "gitomatic_queue_messages",
        "Messages waiting in each RabbitMQ queue, read at scrape time.",
        "gauge",
    ),
    (
        "gitomatic_http_requests_total",
        "HTTP requests answered by the API, by method and status code.",
        "counter",
    ),
    (
        "gitomatic_http_request_duration_seconds",
        "Time from receiving an HTTP request to its response head.",
        "histogram",
    ),
];

/// Buckets of task durations: crawls take from milliseconds (all 304s) to many minutes.
const TASK_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];

/// HTTP methods kept as label values; anything else counts as `OTHER` (bounded labels).
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// The Prometheus families of one process, in a registry of their own.
pub struct Metrics {
    registry: Registry,
    github_requests: IntCounterVec,
    github_not_modified: IntCounter,
    github_quota_remaining: IntGaugeVec,
    tasks: IntCounterVec,
    task_duration: HistogramVec,
    queue_messages: IntGaugeVec,
    http_requests: IntCounterVec,
    http_duration: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Creates every family in a new registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let opts = |index: usize| Opts::new(FAMILIES[index].0, FAMILIES[index].1);
        let histogram = |index: usize| HistogramOpts::new(FAMILIES[index].0, FAMILIES[index].1);
        let metrics = Self {
            github_requests: IntCounterVec::new(opts(0), &["resource", "status"])?,
            github_not_modified: IntCounter::with_opts(opts(1))?,
            github_quota_remaining: IntGaugeVec::new(opts(2), &["identity", "resource"])?,
            tasks: IntCounterVec::new(opts(3), &["name", "outcome"])?,
            task_duration: HistogramVec::new(
                histogram(4).buckets(TASK_BUCKETS.to_vec()),
                &["name"],
            )?,
            queue_messages: IntGaugeVec::new(opts(5), &["queue"])?,
            http_requests: IntCounterVec::new(opts(6), &["method", "status"])?,
            http_duration: Histogram::with_opts(histogram(7))?,
            registry,
        };
        metrics
            .registry
            .register(Box::new(metrics.github_requests.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.github_not_modified.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.github_quota_remaining.clone()))?;
        metrics.registry.register(Box::new(metrics.tasks.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.task_duration.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.queue_messages.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.http_requests.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.http_duration.clone()))?;
        Ok(metrics)
    }

    /// Counts one GitHub response of a quota `resource` (`core`, `search`, ...); a 304 also
    /// counts in `gitomatic_github_not_modified_total`.
    pub fn github_response(&self, resource: &str, status: u16) {
        self.github_requests
            .with_label_values(&[resource, &status.to_string()])
            .inc();
        if status == 304 {
            self.github_not_modified.inc();
        }
    }

    /// Records the quota GitHub reported as left for an identity label and resource.
    pub fn quota_remaining(&self, identity: &str, resource: &str, remaining: i64) {
        self.github_quota_remaining
            .with_label_values(&[identity, resource])
            .set(remaining);
    }

    /// Records a finished task run: `outcome` is `succeeded`, `failed` or `deferred`.
    pub fn task_finished(&self, name: &str, outcome: &str, duration: Duration) {
        self.tasks.with_label_values(&[name, outcome]).inc();
        self.task_duration
            .with_label_values(&[name])
            .observe(duration.as_secs_f64());
    }

    /// Replaces every queue depth with these `(queue, messages)` readings; an empty slice
    /// (the broker did not answer) leaves the family without values rather than stale ones.
    pub fn set_queue_depths(&self, depths: &[(String, u32)]) {
        self.queue_messages.reset();
        for (queue, messages) in depths {
            self.queue_messages
                .with_label_values(&[queue.as_str()])
                .set(i64::from(*messages));
        }
    }

    /// Counts one answered HTTP request by method and numeric status, and its duration.
    pub fn http_request(&self, method: &str, status: u16, duration: Duration) {
        let method = KNOWN_METHODS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(method))
            .copied()
            .unwrap_or("OTHER");
        self.http_requests
            .with_label_values(&[method, &status.to_string()])
            .inc();
        self.http_duration.observe(duration.as_secs_f64());
    }

    /// Every family in the Prometheus text format (0.0.4); a family without samples yet
    /// still shows its `# HELP` and `# TYPE` lines.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let gathered = self.registry.gather();
        let mut text = String::new();
        TextEncoder::new().encode_utf8(&gathered, &mut text)?;
        let present: BTreeSet<&str> = gathered.iter().map(|family| family.name()).collect();
        for (name, help, kind) in FAMILIES {
            if !present.contains(name) {
                text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            }
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Metrics {
        Metrics::new().expect("the families register")
    }

    #[test]
    fn every_family_is_rendered_even_before_it_has_samples() {
        let text = metrics().render().expect("renders");
        for (name, _, kind) in FAMILIES {
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{text}");
        }
        assert!(text.contains("gitomatic_github_not_modified_total 0\n"));
    }

    #[test]
    fn feeders_show_up_with_their_labels() {
        let metrics = metrics();
        metrics.github_response("core", 200);
        metrics.github_response("core", 304);
        metrics.github_response("core", 304);
        metrics.quota_remaining("anonymous", "core", 57);
        metrics.task_finished("full_profile_sync", "succeeded", Duration::from_millis(300));
        metrics.set_queue_depths(&[("p.jobs".into(), 3)]);
        metrics.http_request("get", 200, Duration::from_millis(2));
        metrics.http_request("BREW", 405, Duration::from_millis(2));
        let text = metrics.render().expect("renders");
        for line in [
            r#"gitomatic_github_requests_total{resource="core",status="200"} 1"#,
            r#"gitomatic_github_requests_total{resource="core",status="304"} 2"#,
            "gitomatic_github_not_modified_total 2",
            r#"gitomatic_github_quota_remaining{identity="anonymous",resource="core"} 57"#,
            r#"gitomatic_tasks_total{name="full_profile_sync",outcome="succeeded"} 1"#,
            r#"gitomatic_task_duration_seconds_bucket{name="full_profile_sync",le="0.5"} 1"#,
            r#"gitomatic_task_duration_seconds_count{name="full_profile_sync"} 1"#,
            r#"gitomatic_queue_messages{queue="p.jobs"} 3"#,
            r#"gitomatic_http_requests_total{method="GET",status="200"} 1"#,
            r#"gitomatic_http_requests_total{method="OTHER",status="405"} 1"#,
            "gitomatic_http_request_duration_seconds_count 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }

    #[test]
    fn queue_depths_are_replaced_not_kept_when_the_broker_is_down() {
        let metrics = metrics();
        metrics.set_queue_depths(&[("p.jobs".into(), 3)]);
        metrics.set_queue_depths(&[]);
        let text = metrics.render().expect("renders");
        assert!(!text.contains("p.jobs"), "{text}");
        assert!(text.contains("# TYPE gitomatic_queue_messages gauge\n"));
    }

    #[test]
    fn each_value_has_its_own_registry() {
        let (a, b) = (metrics(), metrics());
        a.github_response("core", 200);
        assert!(!b.render().expect("renders").contains("status=\"200\""));
    }
}
