//! The rows a family is stored as in `metric_counters`, and back: any label set, counters
//! and histograms alike.
//!
//! A counter sample is one row: `(name, labels, total)`. A histogram's labelled series is
//! one row per bucket under its name, with the bucket's bound as an extra `le` label
//! (`+Inf` for the count), and one row for its sum under `<name>_sum`. Every row is a total
//! of increments, so processes add to it independently. Labels are a JSON object with its
//! keys sorted: one text per label set.

use std::collections::BTreeMap;

use prometheus::proto::{self, MetricFamily, MetricType};
use serde_json::Value;

use super::family::{Family, Kind};
use crate::db::queries::metric_counters::CounterRow;

/// The label a histogram's bucket bound is stored under.
const LE: &str = "le";

/// The bound of the bucket that holds every observation: the histogram's count.
const INF: &str = "+Inf";

/// One increment of a stored row: `(row family, labels as JSON, amount)`.
pub(super) type Increment = (String, String, f64);

/// Label pairs, sorted by name: one stored series.
type Series = Vec<(String, String)>;

/// Labels as the JSON object they are stored as (keys sorted: one text per label set).
fn labels_json(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    let sorted: BTreeMap<String, String> = pairs.into_iter().collect();
    let map: serde_json::Map<String, Value> = sorted
        .into_iter()
        .map(|(name, value)| (name, Value::String(value)))
        .collect();
    Value::Object(map).to_string()
}

fn pairs(family: &Family, values: &[&str]) -> Vec<(String, String)> {
    family
        .labels
        .iter()
        .zip(values)
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// The row a counter's `amount` is added to.
pub(super) fn counter_increment(family: &Family, values: &[&str], amount: f64) -> Increment {
    (
        family.name.to_owned(),
        labels_json(pairs(family, values)),
        amount,
    )
}

/// The rows one observation of a histogram adds to: every bucket it fits under (buckets
/// are cumulative), `+Inf` (the count), and the sum.
pub(super) fn histogram_increments(
    family: &Family,
    buckets: &[f64],
    values: &[&str],
    observed: f64,
) -> Vec<Increment> {
    let labels = pairs(family, values);
    let bucket = |le: String| {
        let mut with_le = labels.clone();
        with_le.push((LE.to_owned(), le));
        (family.name.to_owned(), labels_json(with_le), 1.0)
    };
    let mut increments: Vec<Increment> = buckets
        .iter()
        .filter(|bound| observed <= **bound)
        .map(|bound| bucket(bound.to_string()))
        .collect();
    increments.push(bucket(INF.to_owned()));
    increments.push((sum_name(family), labels_json(labels), observed));
    increments
}

/// The row family a histogram's sum is stored under.
fn sum_name(family: &Family) -> String {
    format!("{}_sum", family.name)
}

/// The labels of a stored row as pairs sorted by name, if they are exactly the family's
/// (plus `le` for a histogram's buckets); `None` for a row of some other label set (left
/// by an earlier declaration of the family), which is not shown.
fn stored_series(family: &Family, row: &CounterRow, with_le: bool) -> Option<Series> {
    let object = row.labels.as_object()?;
    let expected = family.labels.len() + usize::from(with_le);
    let mut series = Series::with_capacity(expected);
    for (name, value) in object {
        let declared = family.labels.contains(&name.as_str()) || (with_le && name == LE);
        if !declared {
            return None;
        }
        series.push((name.clone(), value.as_str()?.to_owned()));
    }
    if series.len() != expected {
        return None;
    }
    series.sort();
    Some(series)
}

fn label_pairs(series: Series) -> Vec<proto::LabelPair> {
    series
        .into_iter()
        .map(|(name, value)| {
            let mut pair = proto::LabelPair::default();
            pair.set_name(name);
            pair.set_value(value);
            pair
        })
        .collect()
}

/// An empty family: its name, help and type.
pub(super) fn empty_family(family: &Family) -> MetricFamily {
    let mut empty = MetricFamily::default();
    empty.set_name(family.name.to_owned());
    empty.set_help(family.help.to_owned());
    empty.set_field_type(match family.kind {
        Kind::Counter => MetricType::COUNTER,
        Kind::Gauge => MetricType::GAUGE,
        Kind::Histogram { .. } => MetricType::HISTOGRAM,
    });
    empty
}

/// `family` as it stands in `rows` (the rows of every family: those of others are
/// skipped). Counters and gauges keep the rows' order; histograms are ordered by labels.
/// A family without labels has its one series from the start, at 0.
pub(super) fn decode(family: &Family, rows: &[CounterRow]) -> MetricFamily {
    let mut decoded = empty_family(family);
    let metrics = match family.kind {
        Kind::Counter | Kind::Gauge => values(family, rows),
        Kind::Histogram { buckets } => histograms(family, buckets, rows),
    };
    decoded.set_metric(metrics);
    decoded
}

fn values(family: &Family, rows: &[CounterRow]) -> Vec<proto::Metric> {
    let mut series: Vec<(Series, f64)> = rows
        .iter()
        .filter(|row| row.family == family.name)
        .filter_map(|row| Some((stored_series(family, row, false)?, row.value)))
        .collect();
    if family.labels.is_empty() && series.is_empty() {
        series.push((Series::new(), 0.0));
    }
    series
        .into_iter()
        .map(|(labels, value)| {
            let mut metric = proto::Metric::from_label(label_pairs(labels));
            if family.kind == Kind::Gauge {
                let mut gauge = proto::Gauge::default();
                gauge.set_value(value);
                metric.set_gauge(gauge);
            } else {
                let mut counter = proto::Counter::default();
                counter.set_value(value);
                metric.set_counter(counter);
            }
            metric
        })
        .collect()
}

/// A histogram's series as stored: (upper bound, cumulative count) per bucket, the count,
/// the sum.
#[derive(Default)]
struct StoredHistogram {
    buckets: Vec<(f64, u64)>,
    count: u64,
    sum: f64,
}

fn histograms(family: &Family, bounds: &[f64], rows: &[CounterRow]) -> Vec<proto::Metric> {
    let sum_name = sum_name(family);
    let mut stored: BTreeMap<Series, StoredHistogram> = BTreeMap::new();
    for row in rows {
        if row.family == sum_name {
            if let Some(series) = stored_series(family, row, false) {
                stored.entry(series).or_default().sum = row.value;
            }
        } else if row.family == family.name {
            let Some(mut series) = stored_series(family, row, true) else {
                continue;
            };
            let Some(at) = series.iter().position(|(name, _)| name == LE) else {
                continue;
            };
            let (_, le) = series.remove(at);
            // Counts are whole numbers stored as doubles.
            let count = row.value.round().max(0.0) as u64;
            let entry = stored.entry(series).or_default();
            if le == INF {
                entry.count = count;
            } else if let Ok(bound) = le.parse::<f64>() {
                entry.buckets.push((bound, count));
            }
        }
    }
    if family.labels.is_empty() && stored.is_empty() {
        stored.insert(Series::new(), StoredHistogram::default());
    }
    stored
        .into_iter()
        .map(|(series, histogram)| {
            // Every declared bound is shown: one an observation never reached has the
            // count of the bound below it.
            let mut buckets = Vec::new();
            let mut cumulative = 0;
            for bound in bounds {
                if let Some((_, count)) = histogram.buckets.iter().find(|(b, _)| b == bound) {
                    cumulative = *count;
                }
                let mut bucket = proto::Bucket::default();
                bucket.set_upper_bound(*bound);
                bucket.set_cumulative_count(cumulative);
                buckets.push(bucket);
            }
            let mut decoded = proto::Histogram::default();
            decoded.set_bucket(buckets);
            decoded.set_sample_count(histogram.count);
            decoded.set_sample_sum(histogram.sum);
            let mut metric = proto::Metric::from_label(label_pairs(series));
            metric.set_histogram(decoded);
            metric
        })
        .collect()
}
