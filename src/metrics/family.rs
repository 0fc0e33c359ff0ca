//! What a family is: its name, help, kind, label names and where its samples are kept —
//! everything registration, storage in `metric_counters` and the exposition need.
//!
//! A family is declared once, as a `static` inside [`families!`](crate::families); the
//! typed wrappers ([`Counter`], [`Histogram`], [`Gauge`]) carry its number of labels, so a
//! call site that passes the wrong number of label values, or counts into a histogram, does
//! not compile.

/// What a family measures, as the text format names it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down; set, not added to.
    Gauge,
    /// Observations counted into buckets, with their count and sum.
    Histogram {
        /// Upper bounds of the buckets, ascending (`+Inf` is implied).
        buckets: &'static [f64],
    },
}

impl Kind {
    /// The kind as the `# TYPE` line writes it.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram { .. } => "histogram",
        }
    }
}

/// Where a family's samples are kept, so what a scrape of one web process shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// In this process's own registry: what only this process sees (its HTTP answers, the
    /// queue depths it read for this scrape).
    Process,
    /// Increments every process adds to `metric_counters` (each keeps its own in memory
    /// until [`Metrics::flush`](super::Metrics::flush)): a scrape of any web process shows
    /// the work of every worker. Counters and histograms only (gauges cannot be summed).
    Shared,
    /// The rate-limit ledger (`rate_limits`), read at scrape time: a gauge of each
    /// identity's and resource's `rate_remaining`, labelled `identity` and `resource`.
    RateLimitLedger,
}

/// One Prometheus family as declared.
#[derive(Debug)]
pub struct Family {
    /// The family's name (`gitomatic_..._total` for counters).
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// Counter, gauge or histogram (with its buckets).
    pub kind: Kind,
    /// Label names, in the order call sites pass their values (`le` is the histograms').
    pub labels: &'static [&'static str],
    /// Where its samples are kept.
    pub source: Source,
}

impl Family {
    /// Itself: what [`families!`](crate::families) lists for a family declared untyped
    /// (one nothing in the code feeds, such as a [`Source::RateLimitLedger`] gauge).
    pub const fn family(&'static self) -> &'static Self {
        self
    }
}

/// A counter with `N` labels, fed by [`Metrics::count`](super::Metrics::count).
#[derive(Debug)]
pub struct Counter<const N: usize>(Family);

impl<const N: usize> Counter<N> {
    /// A counter of this process alone.
    pub const fn process(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str; N],
    ) -> Self {
        Self(family(name, help, Kind::Counter, labels, Source::Process))
    }

    /// A counter summed over every process through `metric_counters`.
    pub const fn shared(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str; N],
    ) -> Self {
        Self(family(name, help, Kind::Counter, labels, Source::Shared))
    }

    /// The declaration.
    pub const fn family(&'static self) -> &'static Family {
        &self.0
    }
}

/// A histogram with `N` labels, fed by [`Metrics::observe`](super::Metrics::observe).
#[derive(Debug)]
pub struct Histogram<const N: usize>(Family);

impl<const N: usize> Histogram<N> {
    /// A histogram of this process alone.
    pub const fn process(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str; N],
        buckets: &'static [f64],
    ) -> Self {
        Self(family(
            name,
            help,
            Kind::Histogram { buckets },
            labels,
            Source::Process,
        ))
    }

    /// A histogram summed over every process through `metric_counters` (each bucket, the
    /// count and the sum are stored as counters).
    pub const fn shared(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str; N],
        buckets: &'static [f64],
    ) -> Self {
        Self(family(
            name,
            help,
            Kind::Histogram { buckets },
            labels,
            Source::Shared,
        ))
    }

    /// The declaration.
    pub const fn family(&'static self) -> &'static Family {
        &self.0
    }
}

/// A gauge of this process with `N` labels, set by [`Metrics::set`](super::Metrics::set)
/// and [`Metrics::replace`](super::Metrics::replace).
#[derive(Debug)]
pub struct Gauge<const N: usize>(Family);

impl<const N: usize> Gauge<N> {
    /// A gauge of this process alone (gauges are not shared: they cannot be summed).
    pub const fn process(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str; N],
    ) -> Self {
        Self(family(name, help, Kind::Gauge, labels, Source::Process))
    }

    /// The declaration.
    pub const fn family(&'static self) -> &'static Family {
        &self.0
    }
}

const fn family(
    name: &'static str,
    help: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    source: Source,
) -> Family {
    Family {
        name,
        help,
        kind,
        labels,
        source,
    }
}

/// Declares families as `static`s and lists them, in order, in
/// `pub static FAMILIES: &[&Family]`: the order `/metrics` shows them in, and every family
/// [`Metrics::new`](super::Metrics::new) registers and reads.
///
/// ```ignore
/// families! {
///     /// Doc of the static.
///     pub static REQUESTS: Counter<1> = Counter::shared("x_requests_total", "Help.", &["kind"]);
/// }
/// ```
#[macro_export]
macro_rules! families {
    ($($(#[$attr:meta])* $vis:vis static $name:ident: $ty:ty = $init:expr;)+) => {
        $($(#[$attr])* $vis static $name: $ty = $init;)+

        /// Every family declared here, in the order `/metrics` shows them.
        pub static FAMILIES: &[&$crate::metrics::family::Family] = &[$($name.family()),+];
    };
}
