//! `Metrics`: the Prometheus families, their typed feeders and the text rendering.
//!
//! Work that workers do — GitHub responses, task runs — must show in a scrape of any web
//! process, so those families are shared through PostgreSQL: each process keeps its
//! increments in memory and adds them to `metric_counters` ([`Metrics::flush`], called
//! with a finished task's status update and every few seconds by the worker). The quota
//! gauge is read from the rate-limit ledger, the truth every process writes. What belongs
//! to one process — its HTTP answers, and the queue depths it reads from RabbitMQ at scrape
//! time — stays in a prometheus registry of its own (never the global one, so several apps
//! in one test process each read their own values).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use prometheus::proto::{self, MetricFamily, MetricType};
use prometheus::{Histogram, HistogramOpts, IntCounterVec, IntGaugeVec, Opts, Registry};
use serde_json::{Map, Value};

use crate::db::DbError;
use crate::db::queries::{metric_counters, rate_limits};

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const GITHUB_REQUESTS: &str = "gitomatic_github_requests_total";
const GITHUB_NOT_MODIFIED: &str = "gitomatic_github_not_modified_total";
const QUOTA_REMAINING: &str = "gitomatic_github_quota_remaining";
const TASKS: &str = "gitomatic_tasks_total";
const TASK_DURATION: &str = "gitomatic_task_duration_seconds";
/// The stored sum of a histogram's observations (its buckets are stored under its name).
const TASK_DURATION_SUM: &str = "gitomatic_task_duration_seconds_sum";
const QUEUE_MESSAGES: &str = "gitomatic_queue_messages";
const HTTP_REQUESTS: &str = "gitomatic_http_requests_total";
const HTTP_DURATION: &str = "gitomatic_http_request_duration_seconds";
const GRAPHQL_FALLBACKS: &str = "gitomatic_graphql_fallbacks_total";

/// Name, help and type of every family, in the order they are rendered.
const FAMILIES: [(&str, &str, MetricType); 9] = [
    (
        GITHUB_REQUESTS,
        "GitHub responses by quota resource and HTTP status (304s included), all processes.",
        MetricType::COUNTER,
    ),
    (
        GITHUB_NOT_MODIFIED,
        "GitHub 304 Not Modified responses (conditional requests that cost no quota).",
        MetricType::COUNTER,
    ),
    (
        QUOTA_REMAINING,
        "GitHub quota left in the current window, per identity and resource (the ledger).",
        MetricType::GAUGE,
    ),
    (
        TASKS,
        "Task runs finished, by job name and outcome (succeeded, failed, deferred).",
        MetricType::COUNTER,
    ),
    (
        TASK_DURATION,
        "Wall-clock time of one task run, by job name.",
        MetricType::HISTOGRAM,
    ),
    (
        QUEUE_MESSAGES,
        "Messages waiting in each RabbitMQ queue, read at scrape time.",
        MetricType::GAUGE,
    ),
    (
        HTTP_REQUESTS,
        "HTTP requests answered by this web process, by method and status code.",
        MetricType::COUNTER,
    ),
    (
        HTTP_DURATION,
        "Time from receiving an HTTP request to its response head, in this web process.",
        MetricType::HISTOGRAM,
    ),
    (
        GRAPHQL_FALLBACKS,
        "Developers of GraphQL batches handed to REST (full_profile_sync), by reason \
         (invalid_query, unavailable, timeout, error).",
        MetricType::COUNTER,
    ),
];

/// The help text of a family.
fn help(name: &str) -> &'static str {
    FAMILIES
        .iter()
        .find(|(family, _, _)| *family == name)
        .map_or("", |(_, help, _)| *help)
}

/// A family type as the text format writes it.
fn type_name(kind: MetricType) -> &'static str {
    match kind {
        MetricType::COUNTER => "counter",
        MetricType::GAUGE => "gauge",
        _ => "histogram",
    }
}

/// Buckets of task durations: crawls take from milliseconds (all 304s) to many minutes.
const TASK_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];

/// HTTP methods kept as label values; anything else counts as `OTHER` (bounded labels).
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// Increments not yet added to `metric_counters`: (family, labels as JSON) to amount.
type Pending = BTreeMap<(&'static str, String), f64>;

/// The Prometheus families of gitomatic.
pub struct Metrics {
    /// This process's own families.
    registry: Registry,
    queue_messages: IntGaugeVec,
    http_requests: IntCounterVec,
    http_duration: Histogram,
    /// Increments of the shared families, waiting for a flush.
    pending: Mutex<Pending>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Labels as the JSON object they are stored as (keys sorted: one text per label set).
fn labels(pairs: &[(&str, &str)]) -> String {
    let map: Map<String, Value> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), Value::String((*value).to_owned())))
        .collect();
    Value::Object(map).to_string()
}

impl Metrics {
    /// Creates this process's families in a new registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let queue_messages =
            IntGaugeVec::new(Opts::new(QUEUE_MESSAGES, help(QUEUE_MESSAGES)), &["queue"])?;
        let http_requests = IntCounterVec::new(
            Opts::new(HTTP_REQUESTS, help(HTTP_REQUESTS)),
            &["method", "status"],
        )?;
        let http_duration =
            Histogram::with_opts(HistogramOpts::new(HTTP_DURATION, help(HTTP_DURATION)))?;
        registry.register(Box::new(queue_messages.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        Ok(Self {
            registry,
            queue_messages,
            http_requests,
            http_duration,
            pending: Mutex::new(Pending::new()),
        })
    }

    fn add(&self, increments: impl IntoIterator<Item = (&'static str, String, f64)>) {
        // A poisoned lock only means another thread panicked mid-insert: the map is fine.
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (family, labels, amount) in increments {
            *pending.entry((family, labels)).or_insert(0.0) += amount;
        }
    }

    /// Counts one GitHub response of a quota `resource` (`core`, `search`, ...); a 304 also
    /// counts in `gitomatic_github_not_modified_total`.
    pub fn github_response(&self, resource: &str, status: u16) {
        let status_text = status.to_string();
        let mut increments = vec![(
            GITHUB_REQUESTS,
            labels(&[("resource", resource), ("status", &status_text)]),
            1.0,
        )];
        if status == 304 {
            increments.push((GITHUB_NOT_MODIFIED, labels(&[]), 1.0));
        }
        self.add(increments);
    }

    /// Counts a finished task run (`outcome`: `succeeded`, `failed` or `deferred`) and
    /// its duration.
    pub fn task_finished(&self, name: &str, outcome: &str, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let mut increments = vec![
            (TASKS, labels(&[("name", name), ("outcome", outcome)]), 1.0),
            (TASK_DURATION_SUM, labels(&[("name", name)]), seconds),
            (
                TASK_DURATION,
                labels(&[("le", "+Inf"), ("name", name)]),
                1.0,
            ),
        ];
        // Buckets are cumulative: an observation counts in every bucket it fits under.
        for bound in TASK_BUCKETS.iter().filter(|bound| seconds <= **bound) {
            let le = bound.to_string();
            increments.push((TASK_DURATION, labels(&[("le", &le), ("name", name)]), 1.0));
        }
        self.add(increments);
    }

    /// Counts `developers` of a GraphQL batch handed to REST for `reason`.
    pub fn graphql_fallbacks(&self, reason: &str, developers: u64) {
        let amount = developers as f64;
        self.add([(GRAPHQL_FALLBACKS, labels(&[("reason", reason)]), amount)]);
    }

    /// Adds this process's pending increments to the shared counters, in the caller's
    /// transaction if it has one; on failure they stay pending for the next flush.
    pub async fn flush(&self, conn: &mut AsyncPgConnection) -> Result<(), DbError> {
        let taken = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let increments: Vec<(String, String, f64)> = taken
            .iter()
            .map(|((family, labels), amount)| ((*family).to_owned(), labels.clone(), *amount))
            .collect();
        let added = metric_counters::add(conn, &increments).await;
        if added.is_err() {
            self.add(
                taken
                    .into_iter()
                    .map(|((family, labels), amount)| (family, labels, amount)),
            );
        }
        added
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

    /// Every family in the Prometheus text format (0.0.4): the shared ones read through
    /// `conn` (left without samples when it is `None`: the database is down), this
    /// process's own from its registry. A family without samples still shows its
    /// `# HELP` and `# TYPE` lines.
    pub async fn render(
        &self,
        conn: Option<&mut AsyncPgConnection>,
    ) -> Result<String, prometheus::Error> {
        let mut families: BTreeMap<&str, MetricFamily> = FAMILIES
            .iter()
            .map(|(name, help, kind)| (*name, family(name, help, *kind)))
            .collect();
        if let Some(conn) = conn {
            match shared(conn).await {
                Ok(shared) => {
                    for (name, family) in shared {
                        families.insert(name, family);
                    }
                }
                Err(error) => tracing::warn!(%error, "metrics: shared counters not available"),
            }
        }
        for gathered in self.registry.gather() {
            if let Some(name) = FAMILIES.iter().map(|f| f.0).find(|n| *n == gathered.name()) {
                families.insert(name, gathered);
            }
        }
        // The encoder refuses a family without samples: those are named below.
        let ordered: Vec<MetricFamily> = FAMILIES
            .iter()
            .filter_map(|(name, _, _)| families.remove(name))
            .filter(|family| !family.get_metric().is_empty())
            .collect();
        let mut text = String::new();
        prometheus::TextEncoder::new().encode_utf8(&ordered, &mut text)?;
        let present: BTreeSet<&str> = ordered.iter().map(MetricFamily::name).collect();
        for (name, help, kind) in FAMILIES {
            if !present.contains(name) {
                let kind = type_name(kind);
                text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            }
        }
        Ok(text)
    }
}

fn family(name: &str, help: &str, kind: MetricType) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(help.to_owned());
    family.set_field_type(kind);
    family
}

fn label_pairs(labels: &Value, skip: &str) -> Vec<proto::LabelPair> {
    labels
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.as_str() != skip)
        .map(|(name, value)| {
            let mut pair = proto::LabelPair::default();
            pair.set_name(name.clone());
            pair.set_value(value.as_str().unwrap_or_default().to_owned());
            pair
        })
        .collect()
}

/// A histogram as stored: (upper bound, cumulative count) per bucket, the count, the sum.
#[derive(Default)]
struct StoredHistogram {
    buckets: Vec<(f64, u64)>,
    count: u64,
    sum: f64,
}

/// The shared families as they stand in the database.
async fn shared(
    conn: &mut AsyncPgConnection,
) -> Result<BTreeMap<&'static str, MetricFamily>, DbError> {
    let counters = metric_counters::all(conn).await?;
    let quotas = rate_limits::all(conn).await?;
    let mut families = BTreeMap::new();

    for name in [
        GITHUB_REQUESTS,
        GITHUB_NOT_MODIFIED,
        TASKS,
        GRAPHQL_FALLBACKS,
    ] {
        let mut counter_family = family(name, help(name), MetricType::COUNTER);
        let mut metrics = Vec::new();
        for row in counters.iter().filter(|row| row.family == name) {
            let mut counter = proto::Counter::default();
            counter.set_value(row.value);
            let mut metric = proto::Metric::from_label(label_pairs(&row.labels, ""));
            metric.set_counter(counter);
            metrics.push(metric);
        }
        if name == GITHUB_NOT_MODIFIED && metrics.is_empty() {
            // An unlabelled counter exists from the start, at 0.
            let mut metric = proto::Metric::default();
            metric.set_counter(proto::Counter::default());
            metrics.push(metric);
        }
        counter_family.set_metric(metrics);
        families.insert(name, counter_family);
    }

    let mut quota_family = family(QUOTA_REMAINING, help(QUOTA_REMAINING), MetricType::GAUGE);
    quota_family.set_metric(
        quotas
            .iter()
            .map(|row| {
                let mut pairs = Vec::new();
                for (name, value) in [("identity", &row.identity), ("resource", &row.resource)] {
                    let mut pair = proto::LabelPair::default();
                    pair.set_name(name.to_owned());
                    pair.set_value(value.clone());
                    pairs.push(pair);
                }
                let mut gauge = proto::Gauge::default();
                gauge.set_value(f64::from(row.rate_remaining));
                let mut metric = proto::Metric::from_label(pairs);
                metric.set_gauge(gauge);
                metric
            })
            .collect(),
    );
    families.insert(QUOTA_REMAINING, quota_family);

    // The duration histogram: per job name, its buckets, its count (+Inf) and its sum.
    let mut histograms: BTreeMap<String, StoredHistogram> = BTreeMap::new();
    for row in &counters {
        let Some(name) = row.labels.get("name").and_then(Value::as_str) else {
            continue;
        };
        let entry = histograms.entry(name.to_owned()).or_default();
        if row.family == TASK_DURATION_SUM {
            entry.sum = row.value;
        } else if row.family == TASK_DURATION {
            // Counts are whole numbers stored as doubles.
            let count = row.value.round().max(0.0) as u64;
            match row.labels.get("le").and_then(Value::as_str) {
                Some("+Inf") => entry.count = count,
                Some(bound) => {
                    if let Ok(bound) = bound.parse::<f64>() {
                        entry.buckets.push((bound, count));
                    }
                }
                None => {}
            }
        }
    }
    let mut duration_family = family(TASK_DURATION, help(TASK_DURATION), MetricType::HISTOGRAM);
    duration_family.set_metric(
        histograms
            .into_iter()
            .map(
                |(
                    name,
                    StoredHistogram {
                        buckets: stored,
                        count,
                        sum,
                    },
                )| {
                    // Every bound is shown: one an observation never reached has the count of
                    // the bound below it.
                    let mut buckets = Vec::new();
                    let mut cumulative = 0;
                    for bound in TASK_BUCKETS {
                        if let Some((_, stored)) = stored.iter().find(|(b, _)| *b == bound) {
                            cumulative = *stored;
                        }
                        let mut bucket = proto::Bucket::default();
                        bucket.set_upper_bound(bound);
                        bucket.set_cumulative_count(cumulative);
                        buckets.push(bucket);
                    }
                    let mut histogram = proto::Histogram::default();
                    histogram.set_bucket(buckets);
                    histogram.set_sample_count(count);
                    histogram.set_sample_sum(sum);
                    let mut pair = proto::LabelPair::default();
                    pair.set_name("name".to_owned());
                    pair.set_value(name);
                    let mut metric = proto::Metric::from_label(vec![pair]);
                    metric.set_histogram(histogram);
                    metric
                },
            )
            .collect(),
    );
    families.insert(TASK_DURATION, duration_family);
    Ok(families)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Metrics {
        Metrics::new().expect("the families register")
    }

    fn pending(metrics: &Metrics) -> Pending {
        metrics.pending.lock().expect("lock").clone()
    }

    #[tokio::test]
    async fn every_family_is_rendered_even_before_it_has_samples() {
        let text = metrics().render(None).await.expect("renders");
        for (name, _, kind) in FAMILIES {
            let kind = type_name(kind);
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{text}");
        }
    }

    #[test]
    fn shared_increments_wait_with_their_labels_and_buckets() {
        let metrics = metrics();
        metrics.github_response("core", 200);
        metrics.github_response("core", 304);
        metrics.github_response("core", 304);
        metrics.task_finished("full_profile_sync", "succeeded", Duration::from_millis(300));
        let pending = pending(&metrics);
        let get =
            |family: &'static str, labels: &str| pending.get(&(family, labels.to_owned())).copied();
        assert_eq!(
            get(GITHUB_REQUESTS, r#"{"resource":"core","status":"200"}"#),
            Some(1.0)
        );
        assert_eq!(
            get(GITHUB_REQUESTS, r#"{"resource":"core","status":"304"}"#),
            Some(2.0)
        );
        assert_eq!(get(GITHUB_NOT_MODIFIED, "{}"), Some(2.0));
        assert_eq!(
            get(
                TASKS,
                r#"{"name":"full_profile_sync","outcome":"succeeded"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            get(TASK_DURATION, r#"{"le":"0.25","name":"full_profile_sync"}"#),
            None
        );
        assert_eq!(
            get(TASK_DURATION, r#"{"le":"0.5","name":"full_profile_sync"}"#),
            Some(1.0)
        );
        assert_eq!(
            get(TASK_DURATION, r#"{"le":"+Inf","name":"full_profile_sync"}"#),
            Some(1.0)
        );
        assert_eq!(
            get(TASK_DURATION_SUM, r#"{"name":"full_profile_sync"}"#),
            Some(0.3)
        );
    }

    #[tokio::test]
    async fn local_families_show_up_with_their_labels() {
        let metrics = metrics();
        metrics.set_queue_depths(&[("p.jobs".into(), 3)]);
        metrics.http_request("get", 200, Duration::from_millis(2));
        metrics.http_request("BREW", 405, Duration::from_millis(2));
        let text = metrics.render(None).await.expect("renders");
        for line in [
            r#"gitomatic_queue_messages{queue="p.jobs"} 3"#,
            r#"gitomatic_http_requests_total{method="GET",status="200"} 1"#,
            r#"gitomatic_http_requests_total{method="OTHER",status="405"} 1"#,
            "gitomatic_http_request_duration_seconds_count 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }

    #[tokio::test]
    async fn queue_depths_are_replaced_not_kept_when_the_broker_is_down() {
        let metrics = metrics();
        metrics.set_queue_depths(&[("p.jobs".into(), 3)]);
        metrics.set_queue_depths(&[]);
        let text = metrics.render(None).await.expect("renders");
        assert!(!text.contains("p.jobs"), "{text}");
        assert!(text.contains("# TYPE gitomatic_queue_messages gauge\n"));
    }

    #[tokio::test]
    async fn each_value_has_its_own_registry() {
        let (a, b) = (metrics(), metrics());
        a.http_request("GET", 200, Duration::from_millis(1));
        assert!(
            !b.render(None)
                .await
                .expect("renders")
                .contains("status=\"200\"")
        );
    }
}
