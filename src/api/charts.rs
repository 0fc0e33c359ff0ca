//! Server-rendered SVG charts of the event metrics, written with maud (every value escaped;
//! no script, no external style sheet). Marks carry classes a reader or a test can find:
//! `circle.gap` per gap, `line.average` for the mean, `rect.bar` per event type.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::db::queries::events::Selection;

/// The size of a chart and the margins around its plot, in SVG units (its `viewBox`; the
/// page scales it to its box).
#[derive(Clone, Copy, Debug)]
struct Frame {
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    /// The frame of every time chart: room for counts on the left, times below.
    const STANDARD: Frame = Frame {
        width: 760.0,
        height: 246.0,
        left: 76.0,
        right: 20.0,
        top: 16.0,
        bottom: 40.0,
    };

    /// The plot's right edge.
    fn plot_right(&self) -> f64 {
        self.width - self.right
    }

    /// The plot's bottom edge (the x axis).
    fn plot_bottom(&self) -> f64 {
        self.height - self.bottom
    }

    fn plot_width(&self) -> f64 {
        self.plot_right() - self.left
    }

    fn plot_height(&self) -> f64 {
        self.plot_bottom() - self.top
    }

    /// The x of a fraction (0 to 1) of the plot's width.
    fn x(&self, fraction: f64) -> f64 {
        self.left + fraction * self.plot_width()
    }

    /// The y of a fraction (0 at the bottom, 1 at the top) of the plot's height.
    fn y(&self, fraction: f64) -> f64 {
        self.plot_bottom() - fraction * self.plot_height()
    }

    fn view_box(&self) -> String {
        format!("0 0 {} {}", self.width, self.height)
    }

    /// The two axes.
    fn axes(&self) -> Markup {
        html! {
            line.axis x1=(self.left) y1=(self.top) x2=(self.left) y2=(self.plot_bottom()) {}
            line.axis x1=(self.left) y1=(self.plot_bottom()) x2=(self.plot_right()) y2=(self.plot_bottom()) {}
        }
    }

    /// A label on the y axis at `fraction` of the plot's height, with a grid line across
    /// the plot when `grid`.
    fn y_tick(&self, fraction: f64, label: &str, grid: bool) -> Markup {
        let y = format!("{:.1}", self.y(fraction));
        html! {
            @if grid { line.grid x1=(self.left) x2=(self.plot_right()) y1=(y) y2=(y) {} }
            text.tick x=(self.left - 6.0) y=(y) text-anchor="end" { (label) }
        }
    }

    /// A label below the x axis at `fraction` of the plot's width, with a grid line when
    /// `grid`.
    fn x_tick(&self, fraction: f64, label: &str, anchor: &str, grid: bool) -> Markup {
        let x = format!("{:.1}", self.x(fraction));
        html! {
            @if grid { line.grid x1=(x) x2=(x) y1=(self.top) y2=(self.plot_bottom()) {} }
            text.tick x=(x) y=(self.plot_bottom() + 13.0) text-anchor=(anchor) { (label) }
        }
    }

    /// The y axis's title (its unit), written upwards along it.
    fn y_title(&self, title: &str) -> Markup {
        let middle = self.top + self.plot_height() / 2.0;
        html! {
            text.axis-title x="12" y=(format!("{middle:.1}")) text-anchor="middle"
                transform=(format!("rotate(-90 12 {middle:.1})")) { (title) }
        }
    }

    /// The x axis's title, below its labels.
    fn x_title(&self, title: &str) -> Markup {
        html! {
            text.axis-title x=(format!("{:.1}", self.x(0.5))) y=(self.height - 8.0) text-anchor="middle" { (title) }
        }
    }
}

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
    let frame = Frame::STANDARD;
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
    let y = |value: f64| frame.y(value / top_value);
    let x = |i: usize| frame.x((i as f64 + 0.5) / gaps.len() as f64);
    html! {
        div.plot {
            svg.gaps xmlns="http://www.w3.org/2000/svg" width=(frame.width) height=(frame.height)
                viewBox=(frame.view_box()) role="img"
                aria-label=(format!("time between consecutive {} events", chart.event_type)) {
                (frame.axes())
                (frame.y_tick(1.0, &duration(top_value), false))
                (frame.y_tick(0.0, "0", false))
                (frame.y_title("time between events"))
                (frame.x_tick(0.0, "older", "start", false))
                (frame.x_tick(1.0, "newer", "end", false))
                @for (i, gap) in gaps.iter().enumerate() {
                    circle.gap cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*gap))) r="4" {
                        title { "gap " (i + 1) ": " (duration(*gap)) }
                    }
                }
                line.average x1=(frame.left) x2=(frame.plot_right())
                    y1=(format!("{:.1}", y(average))) y2=(format!("{:.1}", y(average)))
                    stroke-dasharray="0.1 5" stroke-linecap="round" {
                    title { "average " (duration(average)) }
                }
                text.average-label x=(frame.plot_right() - 4.0) y=(format!("{:.1}", y(average) - 9.0)) text-anchor="end" {
                    "average " (duration(average))
                }
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
        section.chart { div.plot {
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
        } }
    }
}

/// A point of a time chart: a time and a value.
pub type Point = (DateTime<Utc>, f64);

/// One line of a time chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// What the line is, for the page and a test (`data-series`): `token:ab12cd34 core`.
    pub key: String,
    /// Its name in the legend, with what is worth reading there (the latest value).
    pub label: String,
    /// Its colour, an index into the palette (`c0`…`c7`, see the chart style).
    pub colour: usize,
    /// Its points, oldest first: a time and a value.
    pub points: Vec<Point>,
}

/// The colours of the palette (the chart style defines `c0`…`c7`).
pub const COLOURS: usize = 8;

/// A chart of values over time: one line per series, a legend below.
pub struct TimeChart<'a> {
    /// Its id on the page (`quota-chart`).
    pub id: &'a str,
    /// What it shows, in a sentence (its accessible name).
    pub description: &'a str,
    /// The time the x axis starts at, and the time it ends at.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The values' unit, the y axis's title (`requests left`).
    pub unit: &'a str,
    pub series: Vec<Series>,
    /// Points further apart than this are not joined: the line stops where the samples
    /// stopped.
    pub max_gap: chrono::Duration,
}

/// A time chart as SVG: the axes with their units, a grid at round values and times
/// (UTC), one polyline per run of points of a series (`polyline.line[data-series]`), and
/// the legend. The `svg` carries what maps a point back to its values: the times of the x
/// axis's ends (`data-t0`, `data-t1`, Unix seconds), the value at the top of the y axis
/// (`data-ymax`; the bottom is 0) and the plot's edges (`data-left`, `data-right`,
/// `data-top`, `data-bottom`).
pub fn time_series(chart: &TimeChart<'_>) -> Markup {
    let frame = Frame::STANDARD;
    let highest = chart
        .series
        .iter()
        .flat_map(|series| series.points.iter().map(|(_, value)| *value))
        .fold(0.0, f64::max);
    let (top, step) = round_scale(highest);
    let t0 = chart.from.timestamp() as f64;
    let span = (chart.to.timestamp() as f64 - t0).max(1.0);
    let x = |at: DateTime<Utc>| frame.x((at.timestamp_millis() as f64 / 1000.0 - t0) / span);
    let y = |value: f64| frame.y(value / top);
    let ticks = (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|value| *value <= top + step / 2.0);
    html! {
        div.plot {
            svg.timeseries #(chart.id) xmlns="http://www.w3.org/2000/svg"
                width=(frame.width) height=(frame.height) viewBox=(frame.view_box())
                role="img" aria-label=(chart.description)
                data-t0=(chart.from.timestamp()) data-t1=(chart.to.timestamp())
                data-ymax=(top) data-left=(frame.left) data-right=(frame.plot_right())
                data-top=(frame.top) data-bottom=(frame.plot_bottom()) {
                @for value in ticks {
                    (frame.y_tick(value / top, &thousands(value), value > 0.0))
                }
                @for (at, label) in time_ticks(chart.from, chart.to) {
                    (frame.x_tick((at.timestamp() as f64 - t0) / span, &label, "middle", true))
                }
                (frame.axes())
                (frame.y_title(chart.unit))
                (frame.x_title("time (UTC)"))
                @for series in &chart.series {
                    @for run in runs(&series.points, chart.max_gap) {
                        polyline.line.(format!("c{}", series.colour % COLOURS))
                            .dashed[series.colour >= COLOURS]
                            data-series=(series.key)
                            points=(run.iter().map(|(at, value)| format!("{:.1},{:.1}", x(*at), y(*value))).collect::<Vec<_>>().join(" ")) {
                            title { (series.label) }
                        }
                    }
                }
            }
        }
        ul.legend {
            @for series in &chart.series {
                li data-series=(series.key) {
                    span.swatch.(format!("c{}", series.colour % COLOURS)) .dashed[series.colour >= COLOURS] {}
                    (series.label)
                }
            }
        }
    }
}

/// The runs of `points` no two consecutive points of which are more than `max_gap` apart.
fn runs(points: &[Point], max_gap: chrono::Duration) -> Vec<&[Point]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].0 - points[i - 1].0 > max_gap {
            if start < i {
                runs.push(&points[start..i]);
            }
            start = i;
        }
    }
    runs
}

/// The top of a y axis from 0 that shows `highest`, and its step: the smallest step of 1,
/// 2, 2.5 or 5 times a power of ten that reaches it in at most 5 steps, at least 1 (the
/// values are counts).
fn round_scale(highest: f64) -> (f64, f64) {
    if highest <= 0.0 {
        return (1.0, 1.0);
    }
    let magnitude = 10f64.powf((highest / 5.0).log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0, 20.0]
        .into_iter()
        .map(|m| (m * magnitude).max(1.0))
        .find(|step| (highest / step).ceil() <= 5.0)
        .unwrap_or(20.0 * magnitude);
    ((highest / step).ceil() * step, step)
}

/// A value as a label: whole, with thousands separated (`5,000`).
pub fn thousands(value: f64) -> String {
    let whole = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < -0.5 {
        grouped.insert(0, '-');
    }
    grouped
}

/// The round times between `from` and `to` to mark on the x axis, at most 8, with their
/// labels: hours (`15:00`) on a chart of hours, days (`Tue 08`) on a chart of days.
fn time_ticks(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    const HOUR: i64 = 3600;
    let span = (to - from).num_seconds().max(1);
    let step = [1, 2, 3, 6, 12, 24, 48, 168]
        .into_iter()
        .map(|hours| hours * HOUR)
        .find(|step| span / step <= 8)
        .unwrap_or(span);
    let format = if step < 24 * HOUR { "%H:%M" } else { "%a %d" };
    let first = from.timestamp().div_euclid(step) * step + step;
    (0..)
        .map(|i| first + i * step)
        .take_while(|at| *at <= to.timestamp())
        .filter_map(|at| DateTime::from_timestamp(at, 0))
        .map(|at| (at, at.format(format).to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round_and_show_the_highest_value() {
        assert_eq!(round_scale(0.0), (1.0, 1.0));
        assert_eq!(round_scale(3.0), (3.0, 1.0));
        assert_eq!(round_scale(4.5), (5.0, 1.0));
        assert_eq!(round_scale(5000.0), (5000.0, 1000.0));
        assert_eq!(round_scale(4999.0), (5000.0, 1000.0));
        assert_eq!(round_scale(61.0), (80.0, 20.0));
        let (top, step) = round_scale(123_456.0);
        assert!(top >= 123_456.0 && top / step <= 5.0, "{top} {step}");
    }

    #[test]
    fn labels_group_thousands() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(5000.0), "5,000");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn a_day_is_marked_every_3_hours_and_a_week_every_day() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).expect("a time").to_utc();
        let day = time_ticks(at("2026-12-10T10:20:00Z"), at("2026-12-11T10:20:00Z"));
        assert_eq!(day.len(), 8);
        assert_eq!(day[0], (at("2026-12-10T12:00:00Z"), "12:00".to_owned()));
        let week = time_ticks(at("2026-12-03T10:20:00Z"), at("2026-12-10T10:20:00Z"));
        assert_eq!(week.len(), 7);
        assert_eq!(week[0], (at("2026-12-04T00:00:00Z"), "Fri 04".to_owned()));
    }

    #[test]
    fn a_line_stops_where_the_points_stop() {
        let at = |minute: i64| DateTime::from_timestamp(minute * 60, 0).expect("a time");
        let points: Vec<_> = [0, 1, 2, 10, 11, 30]
            .into_iter()
            .map(|m| (at(m), 1.0))
            .collect();
        let runs = runs(&points, chrono::Duration::minutes(5));
        assert_eq!(
            runs.iter().map(|run| run.len()).collect::<Vec<_>>(),
            [3, 2, 1]
        );
    }
}
