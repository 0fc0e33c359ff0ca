//! `Metrics`: gitomatic's Prometheus families, declared once below, and the text rendering.
//!
//! Each family is one declaration in [`families!`](crate::families) (name, help, kind,
//! label names, where its samples are kept); registration, storage and `/metrics` all
//! follow from it, and call sites feed it through [`Metrics::count`],
//! [`Metrics::observe`] or [`Metrics::set`].
//!
//! Work that workers do — GitHub responses, task runs — must show in a scrape of any web
//! process, so those families are [`Source::Shared`] through PostgreSQL: each process keeps
//! its increments in memory and adds them to `metric_counters` ([`Metrics::flush`], called
//! with a finished task's status update and every few seconds by the worker), as the rows
//! `stored` describes. The quota gauge is read from the rate-limit ledger, the truth
//! every process writes. What belongs to one process — its HTTP answers, and the queue
//! depths it reads from RabbitMQ at scrape time — stays in a prometheus registry of its own
//! (never the global one, so several apps in one test process each read their own values).

pub mod family;
mod stored;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use prometheus::core::{MetricVec, MetricVecBuilder};
use prometheus::proto::MetricFamily;
use prometheus::{CounterVec, GaugeVec, HistogramOpts, HistogramVec, Opts, Registry};
use serde_json::json;

pub use self::family::{Counter, Family, Gauge, Histogram, Kind, Source};
use self::stored::Increment;
use crate::db::DbError;
use crate::db::queries::metric_counters::{self, CounterRow};
use crate::db::queries::rate_limits;

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Buckets of task durations: crawls take from milliseconds (all 304s) to many minutes.
const TASK_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];

crate::families! {
    /// Every GitHub response (see [`Metrics::github_response`]).
    pub static GITHUB_REQUESTS: Counter<2> = Counter::shared(
        "gitomatic_github_requests_total",
        "GitHub responses by quota resource and HTTP status (304s included), all processes.",
        &["resource", "status"],
    );
    /// GitHub's 304s (see [`Metrics::github_response`]).
    pub static GITHUB_NOT_MODIFIED: Counter<0> = Counter::shared(
        "gitomatic_github_not_modified_total",
        "GitHub 304 Not Modified responses (conditional requests that cost no quota).",
        &[],
    );
    /// The rate-limit ledger's quota left.
    pub static QUOTA_REMAINING: Family = Family {
        name: "gitomatic_github_quota_remaining",
        help: "GitHub quota left in the current window, per identity and resource (the ledger).",
        kind: Kind::Gauge,
        labels: &["identity", "resource"],
        source: Source::RateLimitLedger,
    };
    /// Finished task runs: `[name, outcome]`, the outcome `succeeded`, `failed` or `deferred`.
    pub static TASKS: Counter<2> = Counter::shared(
        "gitomatic_tasks_total",
        "Task runs finished, by job name and outcome (succeeded, failed, deferred).",
        &["name", "outcome"],
    );
    /// Seconds of one task run: `[name]`.
    pub static TASK_DURATION: Histogram<1> = Histogram::shared(
        "gitomatic_task_duration_seconds",
        "Wall-clock time of one task run, by job name.",
        &["name"],
        &TASK_BUCKETS,
    );
    /// Messages in each queue: `[queue]`, replaced at each scrape.
    pub static QUEUE_MESSAGES: Gauge<1> = Gauge::process(
        "gitomatic_queue_messages",
        "Messages waiting in each RabbitMQ queue, read at scrape time.",
        &["queue"],
    );
    /// HTTP answers of this process: `[method, status]` (methods bounded by the caller).
    pub static HTTP_REQUESTS: Counter<2> = Counter::process(
        "gitomatic_http_requests_total",
        "HTTP requests answered by this web process, by method and status code.",
        &["method", "status"],
    );
    /// Seconds to an HTTP response head in this process.
    pub static HTTP_DURATION: Histogram<0> = Histogram::process(
        "gitomatic_http_request_duration_seconds",
        "Time from receiving an HTTP request to its response head, in this web process.",
        &[],
        prometheus::DEFAULT_BUCKETS,
    );
    /// Developers of GraphQL batches handed to REST: `[reason]`, one of
    /// `jobs::batch::Fallback`'s labels.
    pub static GRAPHQL_FALLBACKS: Counter<1> = Counter::shared(
        "gitomatic_graphql_fallbacks_total",
        "Developers of GraphQL batches handed to REST (full_profile_sync), by reason \
         (invalid_query, unavailable, timeout, error).",
        &["reason"],
    );
    /// Webhook deliveries: `[event, status]`, counted on receipt (`accepted`, `duplicate`,
    /// `rejected` for a 400 or 401) and when processed (`applied`, `ignored`, `failed`).
    pub static WEBHOOK_DELIVERIES: Counter<2> = Counter::shared(
        "gitomatic_webhook_deliveries_total",
        "GitHub webhook deliveries by event and status: on receipt (accepted, duplicate, \
         rejected for a 400 or 401) and when processed (applied, ignored, failed).",
        &["event", "status"],
    );
}

/// Increments not yet added to `metric_counters`: (row family, labels as JSON) to amount.
type Pending = BTreeMap<(String, String), f64>;

/// A family of this process, in its registry.
enum Local {
    Counter(CounterVec),
    Gauge(GaugeVec),
    Histogram(HistogramVec),
}

impl Local {
    /// The collector `family` declares, registered in `registry`.
    fn register(family: &Family, registry: &Registry) -> Result<Self, prometheus::Error> {
        let opts = || Opts::new(family.name, family.help);
        let labels = family.labels;
        Ok(match family.kind {
            Kind::Counter => Self::Counter(registered(
                CounterVec::new(opts(), labels)?,
                family,
                registry,
            )?),
            Kind::Gauge => Self::Gauge(registered(
                GaugeVec::new(opts(), labels)?,
                family,
                registry,
            )?),
            Kind::Histogram { buckets } => {
                let opts = HistogramOpts::from(opts()).buckets(buckets.to_vec());
                Self::Histogram(registered(
                    HistogramVec::new(opts, labels)?,
                    family,
                    registry,
                )?)
            }
        })
    }
}

/// `vec`, the collector of `family`, registered in `registry`; a family without labels
/// has its one series from the start, at 0.
fn registered<B: MetricVecBuilder + 'static>(
    vec: MetricVec<B>,
    family: &Family,
    registry: &Registry,
) -> Result<MetricVec<B>, prometheus::Error> {
    registry.register(Box::new(vec.clone()))?;
    if family.labels.is_empty() {
        vec.get_metric_with_label_values::<&str>(&[])?;
    }
    Ok(vec)
}

/// The Prometheus families of gitomatic.
pub struct Metrics {
    /// The declared families, in rendering order.
    families: &'static [&'static Family],
    /// This process's own families.
    registry: Registry,
    /// The collectors of the [`Source::Process`] families, by name.
    local: BTreeMap<&'static str, Local>,
    /// Increments of the shared families, waiting for a flush.
    pending: Mutex<Pending>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// gitomatic's [`FAMILIES`], this process's in a new registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        Self::with_families(FAMILIES)
    }

    /// These families (declared with [`families!`](crate::families)), this process's in a
    /// new registry.
    pub fn with_families(families: &'static [&'static Family]) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let mut local = BTreeMap::new();
        for family in families {
            if family.source == Source::Process {
                local.insert(family.name, Local::register(family, &registry)?);
            }
        }
        Ok(Self {
            families,
            registry,
            local,
            pending: Mutex::new(Pending::new()),
        })
    }

    /// Whether `family` is one of this value's (a family fed but not listed would be
    /// counted and never shown: a bug, logged).
    fn declared(&self, family: &Family) -> bool {
        let declared = self.families.iter().any(|f| std::ptr::eq(*f, family));
        if !declared {
            tracing::error!(
                family = family.name,
                "metrics: family not declared in this registry; sample dropped"
            );
        }
        declared
    }

    fn local(&self, family: &Family) -> Option<&Local> {
        let local = self.local.get(family.name);
        if local.is_none() {
            tracing::error!(
                family = family.name,
                "metrics: no collector for this family; sample dropped"
            );
        }
        local
    }

    fn add(&self, increments: impl IntoIterator<Item = Increment>) {
        // A poisoned lock only means another thread panicked mid-insert: the map is fine.
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (family, labels, amount) in increments {
            *pending.entry((family, labels)).or_insert(0.0) += amount;
        }
    }

    /// Adds `amount` (finite, not negative) to the series of `counter` with these label
    /// values (in its declared order).
    pub fn count<const N: usize>(
        &self,
        counter: &'static Counter<N>,
        labels: [&str; N],
        amount: f64,
    ) {
        let family = counter.family();
        if !amount.is_finite() || amount < 0.0 {
            tracing::error!(
                family = family.name,
                amount,
                "metrics: a counter only goes up; increment dropped"
            );
            return;
        }
        if !self.declared(family) {
            return;
        }
        match family.source {
            Source::Shared => self.add([stored::counter_increment(family, &labels, amount)]),
            _ => {
                if let Some(Local::Counter(vec)) = self.local(family) {
                    vec.with_label_values(&labels).inc_by(amount);
                }
            }
        }
    }

    /// Counts one observation (finite) in the series of `histogram` with these label
    /// values (in its declared order).
    pub fn observe<const N: usize>(
        &self,
        histogram: &'static Histogram<N>,
        labels: [&str; N],
        observed: f64,
    ) {
        let family = histogram.family();
        if !observed.is_finite() {
            tracing::error!(
                family = family.name,
                observed,
                "metrics: not a number; observation dropped"
            );
            return;
        }
        if !self.declared(family) {
            return;
        }
        match (family.source, family.kind) {
            (Source::Shared, Kind::Histogram { buckets }) => self.add(
                stored::histogram_increments(family, buckets, &labels, observed),
            ),
            _ => {
                if let Some(Local::Histogram(vec)) = self.local(family) {
                    vec.with_label_values(&labels).observe(observed);
                }
            }
        }
    }

    /// Sets the series of `gauge` with these label values (in its declared order).
    pub fn set<const N: usize>(&self, gauge: &'static Gauge<N>, labels: [&str; N], value: f64) {
        let family = gauge.family();
        if self.declared(family)
            && let Some(Local::Gauge(vec)) = self.local(family)
        {
            vec.with_label_values(&labels).set(value);
        }
    }

    /// Replaces every series of `gauge` with these readings: an empty reading (its source
    /// did not answer) leaves the family without values rather than stale ones.
    pub fn replace<'a, const N: usize>(
        &self,
        gauge: &'static Gauge<N>,
        readings: impl IntoIterator<Item = ([&'a str; N], f64)>,
    ) {
        let family = gauge.family();
        if self.declared(family)
            && let Some(Local::Gauge(vec)) = self.local(family)
        {
            vec.reset();
            for (labels, value) in readings {
                vec.with_label_values(&labels).set(value);
            }
        }
    }

    /// Counts one GitHub response of a quota `resource` (`core`, `search`, ...) in
    /// [`GITHUB_REQUESTS`]; a 304 also counts in [`GITHUB_NOT_MODIFIED`].
    pub fn github_response(&self, resource: &str, status: u16) {
        self.count(&GITHUB_REQUESTS, [resource, &status.to_string()], 1.0);
        if status == 304 {
            self.count(&GITHUB_NOT_MODIFIED, [], 1.0);
        }
    }

    /// Counts a finished task run in [`TASKS`] (`outcome`: `succeeded`, `failed` or
    /// `deferred`) and its duration in [`TASK_DURATION`].
    pub fn task_finished(&self, name: &str, outcome: &str, duration: Duration) {
        self.count(&TASKS, [name, outcome], 1.0);
        self.observe(&TASK_DURATION, [name], duration.as_secs_f64());
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
        let increments: Vec<Increment> = taken
            .iter()
            .map(|((family, labels), amount)| (family.clone(), labels.clone(), *amount))
            .collect();
        let added = metric_counters::add(conn, &increments).await;
        if added.is_err() {
            self.add(increments);
        }
        added
    }

    /// Every family in the Prometheus text format (0.0.4): the shared ones and the
    /// ledger's read through `conn` (left without samples when it is `None`: the database
    /// is down), this process's own from its registry. A family without samples still
    /// shows its `# HELP` and `# TYPE` lines.
    pub async fn render(
        &self,
        conn: Option<&mut AsyncPgConnection>,
    ) -> Result<String, prometheus::Error> {
        let mut families: BTreeMap<&str, MetricFamily> = BTreeMap::new();
        if let Some(conn) = conn {
            match self.stored(conn).await {
                Ok(stored) => families.extend(stored),
                Err(error) => tracing::warn!(%error, "metrics: shared counters not available"),
            }
        }
        for gathered in self.registry.gather() {
            if let Some(family) = self.families.iter().find(|f| f.name == gathered.name()) {
                families.insert(family.name, gathered);
            }
        }
        // The encoder refuses a family without samples: those are named below.
        let ordered: Vec<MetricFamily> = self
            .families
            .iter()
            .filter_map(|family| families.remove(family.name))
            .filter(|family| !family.get_metric().is_empty())
            .collect();
        let mut text = String::new();
        prometheus::TextEncoder::new().encode_utf8(&ordered, &mut text)?;
        let present: BTreeSet<&str> = ordered.iter().map(MetricFamily::name).collect();
        for family in self.families {
            if !present.contains(family.name) {
                let (name, help, kind) = (family.name, family.help, family.kind.type_name());
                text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            }
        }
        Ok(text)
    }

    /// The families kept in the database, as they stand there.
    async fn stored(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<BTreeMap<&'static str, MetricFamily>, DbError> {
        let reads = |source| self.families.iter().any(|f| f.source == source);
        let counters = if reads(Source::Shared) {
            metric_counters::all(conn).await?
        } else {
            Vec::new()
        };
        let ledger = if reads(Source::RateLimitLedger) {
            rate_limits::all(conn).await?
        } else {
            Vec::new()
        };
        let mut families = BTreeMap::new();
        for family in self.families {
            let decoded = match family.source {
                Source::Process => continue,
                Source::Shared => stored::decode(family, &counters),
                Source::RateLimitLedger => {
                    let rows: Vec<CounterRow> = ledger
                        .iter()
                        .map(|row| CounterRow {
                            family: family.name.to_owned(),
                            labels: json!({"identity": row.identity, "resource": row.resource}),
                            value: f64::from(row.rate_remaining),
                        })
                        .collect();
                    stored::decode(family, &rows)
                }
            };
            families.insert(family.name, decoded);
        }
        Ok(families)
    }
}

#[cfg(test)]
mod tests;
