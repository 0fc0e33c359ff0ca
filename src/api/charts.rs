//! Server-rendered SVG charts of the event metrics, written with maud (every value escaped;
//! no script, no external style sheet). Marks carry classes a reader or a test can find:
//! `circle.gap` per gap, `line.average` for the mean, `rect.bar` per event type.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::db::queries::events::Selection;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 34.0;

/// The most events of each type the avg-time chart plots (the latest ones).
pub const CHART_EVENTS: i32 = 500;

/// The data of one avg-time chart.
pub struct AvgTimeChart {
    pub event_type: String,
    /// Matching events stored.
    pub count: i64,
    /// The metric over all of them.
    pub average_seconds: Option<f64>,
    /// The latest events' times, oldest first (what is plotted).
    pub times: Vec<DateTime<Utc>>,
}

/// Seconds, in words a reader takes in at a glance.
fn duration(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{seconds:.1} s")
    } else if seconds < 7200.0 {
        format!("{:.1} min", seconds / 60.0)
    } else if seconds < 172_800.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} d", seconds / 86_400.0)
    }
}

fn filters(selection: &Selection<'_>) -> Markup {
    html! {
        @if let Some(action) = selection.action { " · action " code { (action) } }
        @if let Some(repository) = selection.repository_name { " · repository " code { (repository) } }
    }
}

/// One section per event type: a scatter of the gaps and the average as a dotted line.
pub fn avg_time(charts: &[AvgTimeChart], selection: &Selection<'_>) -> Markup {
    html! {
        p {
            "Each dot is the time between two consecutive events of a type (the latest "
            (CHART_EVENTS) " events at most), in the order they happened; "
            "the dotted line is the average over every stored event of the type: "
            "(last − first) / (count − 1)." (filters(selection))
        }
        @for chart in charts {
            section.chart.empty[chart.times.len() < 2] data-event-type=(chart.event_type) {
                h2 { (chart.event_type) }
                @match chart.average_seconds {
                    Some(average) => p {
                        (chart.count) " events · average " (duration(average))
                        @if chart.times.len() < usize::try_from(chart.count).unwrap_or(usize::MAX) {
                            " · the latest " (chart.times.len()) " plotted"
                        }
                    },
                    None => p.empty { (chart.count) " event(s): fewer than 2, no gaps to show." },
                }
                @if chart.times.len() >= 2 {
                    (gap_svg(chart))
                }
            }
        }
    }
}

fn gap_svg(chart: &AvgTimeChart) -> Markup {
    let gaps: Vec<f64> = chart
        .times
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).num_milliseconds() as f64 / 1000.0)
        .collect();
    let average = chart.average_seconds.unwrap_or(0.0);
    let top_value = gaps.iter().copied().fold(average, f64::max);
    let top_value = if top_value > 0.0 {
        top_value * 1.1
    } else {
        1.0
    };
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y = |value: f64| TOP + plot_height - value / top_value * plot_height;
    let x = |i: usize| LEFT + (i as f64 + 0.5) * plot_width / gaps.len() as f64;
    let bottom = TOP + plot_height;
    html! {
        svg.gaps xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(HEIGHT)
            viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
            aria-label=(format!("time between consecutive {} events", chart.event_type)) {
            line.axis x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(bottom) {}
            line.axis x1=(LEFT) y1=(bottom) x2=(WIDTH - RIGHT) y2=(bottom) {}
            text.tick x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" { (duration(top_value)) }
            text.tick x=(LEFT - 6.0) y=(bottom) text-anchor="end" { "0" }
            text.tick x=(LEFT) y=(HEIGHT - 10.0) { "older" }
            text.tick x=(WIDTH - RIGHT) y=(HEIGHT - 10.0) text-anchor="end" { "newer" }
            @for (i, gap) in gaps.iter().enumerate() {
                circle.gap cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*gap))) r="4" {
                    title { "gap " (i + 1) ": " (duration(*gap)) }
                }
            }
            line.average x1=(LEFT) x2=(WIDTH - RIGHT)
                y1=(format!("{:.1}", y(average))) y2=(format!("{:.1}", y(average)))
                stroke-dasharray="0.1 5" stroke-linecap="round" {
                title { "average " (duration(average)) }
            }
            text.average-label x=(WIDTH - RIGHT - 4.0) y=(format!("{:.1}", y(average) - 9.0)) text-anchor="end" {
                "average " (duration(average))
            }
        }
    }
}

/// A horizontal bar per event type.
pub fn total_count(
    offset: i64,
    since: DateTime<Utc>,
    counts: &BTreeMap<String, i64>,
    total: i64,
    selection: &Selection<'_>,
) -> Markup {
    const ROW: f64 = 26.0;
    const LABEL: f64 = 250.0;
    const BAR: f64 = 420.0;
    let most = counts.values().copied().max().unwrap_or(0).max(1) as f64;
    let height = ROW * counts.len() as f64 + 10.0;
    html! {
        p {
            (total) " events created in the last " (offset) " minute(s), since "
            time datetime=(since.to_rfc3339()) { (since.format("%Y-%m-%d %H:%M:%S UTC")) }
            "." (filters(selection))
        }
        section.chart {
            svg.bars xmlns="http://www.w3.org/2000/svg" width=(LABEL + BAR + 80.0) height=(height)
                viewBox=(format!("0 0 {} {height}", LABEL + BAR + 80.0)) role="img"
                aria-label="events by type" {
                @for (i, (kind, count)) in counts.iter().enumerate() {
                    @let top = 5.0 + i as f64 * ROW;
                    @let width = *count as f64 / most * BAR;
                    text.label x=(LABEL - 8.0) y=(top + ROW / 2.0 + 1.0) text-anchor="end" { (kind) }
                    rect.bar data-event-type=(kind) x=(LABEL) y=(top + 3.0)
                        width=(format!("{width:.1}")) height=(ROW - 6.0) {
                        title { (kind) ": " (count) }
                    }
                    text.count x=(LABEL + width + 6.0) y=(top + ROW / 2.0 + 1.0) { (count) }
                }
            }
        }
    }
}
