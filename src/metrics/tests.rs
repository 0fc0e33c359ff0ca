use std::collections::BTreeSet;

use super::*;

fn metrics() -> Metrics {
    Metrics::new().expect("the families register")
}

fn pending(metrics: &Metrics) -> Pending {
    metrics.pending.lock().expect("lock").clone()
}

/// The pending increments as the rows a flush would leave in an empty `metric_counters`.
fn rows(pending: &Pending) -> Vec<CounterRow> {
    pending
        .iter()
        .map(|((family, labels), value)| CounterRow {
            family: family.clone(),
            labels: serde_json::from_str(labels).expect("labels are JSON"),
            value: *value,
        })
        .collect()
}

/// `family` decoded from `rows`, as the text format shows it.
fn exposition(family: &'static Family, rows: &[CounterRow]) -> String {
    let mut text = String::new();
    prometheus::TextEncoder::new()
        .encode_utf8(&[stored::decode(family, rows)], &mut text)
        .expect("encodes");
    text
}

fn assert_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            text.lines().any(|l| l == *line),
            "{line} missing in\n{text}"
        );
    }
}

#[tokio::test]
async fn every_family_is_rendered_even_before_it_has_samples() {
    let text = metrics().render(None).await.expect("renders");
    for family in FAMILIES {
        let (name, kind, help) = (family.name, family.kind.type_name(), family.help);
        assert!(text.contains(&format!("# HELP {name} {help}\n")), "{text}");
        assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{text}");
    }
}

#[test]
fn every_declared_family_can_be_kept_where_it_is_declared() {
    let valid_name = |name: &str| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mut names = BTreeSet::new();
    for family in FAMILIES {
        assert!(valid_name(family.name), "{}", family.name);
        assert!(names.insert(family.name), "{} declared twice", family.name);
        let labels: BTreeSet<&str> = family.labels.iter().copied().collect();
        assert_eq!(labels.len(), family.labels.len(), "{}", family.name);
        for label in family.labels {
            assert!(valid_name(label) && !label.starts_with("__"), "{label}");
        }
        match (family.kind, family.source) {
            (Kind::Gauge, Source::Shared)
            | (Kind::Counter | Kind::Histogram { .. }, Source::RateLimitLedger) => {
                panic!(
                    "{}: a {:?} cannot be kept in {:?}",
                    family.name, family.kind, family.source
                )
            }
            (Kind::Gauge, Source::RateLimitLedger) => {
                assert_eq!(family.labels, ["identity", "resource"], "{}", family.name);
            }
            (Kind::Histogram { buckets }, _) => {
                assert!(!family.labels.contains(&"le"), "{}", family.name);
                assert!(!buckets.is_empty(), "{}", family.name);
                assert!(
                    buckets.iter().all(|b| b.is_finite())
                        && buckets.windows(2).all(|pair| pair[0] < pair[1]),
                    "{}: buckets ascend",
                    family.name
                );
                // A shared histogram's sum is stored under `<name>_sum`: no family may
                // be named so.
                assert!(
                    !FAMILIES
                        .iter()
                        .any(|f| f.name == format!("{}_sum", family.name))
                );
            }
            _ => {}
        }
    }
}

#[test]
fn shared_increments_are_stored_as_they_always_were() {
    // Rows already in `metric_counters` keep their meaning: the same family names, label
    // texts and bucket bounds as before families were declarative.
    let metrics = metrics();
    metrics.github_response("core", 200);
    metrics.github_response("core", 304);
    metrics.github_response("core", 304);
    metrics.task_finished("full_profile_sync", "succeeded", Duration::from_millis(300));
    metrics.count(&GRAPHQL_FALLBACKS, ["timeout"], 3.0);
    let pending = pending(&metrics);
    let get = |family: &str, labels: &str| {
        pending
            .get(&(family.to_owned(), labels.to_owned()))
            .copied()
    };
    let requests = "gitomatic_github_requests_total";
    assert_eq!(
        get(requests, r#"{"resource":"core","status":"200"}"#),
        Some(1.0)
    );
    assert_eq!(
        get(requests, r#"{"resource":"core","status":"304"}"#),
        Some(2.0)
    );
    assert_eq!(get("gitomatic_github_not_modified_total", "{}"), Some(2.0));
    assert_eq!(
        get(
            "gitomatic_tasks_total",
            r#"{"name":"full_profile_sync","outcome":"succeeded"}"#
        ),
        Some(1.0)
    );
    let duration = "gitomatic_task_duration_seconds";
    assert_eq!(
        get(duration, r#"{"le":"0.25","name":"full_profile_sync"}"#),
        None
    );
    assert_eq!(
        get(duration, r#"{"le":"0.5","name":"full_profile_sync"}"#),
        Some(1.0)
    );
    assert_eq!(
        get(duration, r#"{"le":"3600","name":"full_profile_sync"}"#),
        Some(1.0)
    );
    assert_eq!(
        get(duration, r#"{"le":"+Inf","name":"full_profile_sync"}"#),
        Some(1.0)
    );
    assert_eq!(
        get(
            "gitomatic_task_duration_seconds_sum",
            r#"{"name":"full_profile_sync"}"#
        ),
        Some(0.3)
    );
    assert_eq!(
        get(
            "gitomatic_graphql_fallbacks_total",
            r#"{"reason":"timeout"}"#
        ),
        Some(3.0)
    );
    // 2 + 1 + 1 + (11 buckets from 0.5 on, +Inf, the sum) + 1.
    assert_eq!(pending.len(), 18, "{pending:#?}");
}

// Families declared only here: any label set, any kind that can be shared.
mod toy {
    use super::super::{Counter, Gauge, Histogram};

    crate::families! {
        pub static SHARED_COUNTER: Counter<3> = Counter::shared(
            "toy_shared_total",
            "A shared counter with three labels.",
            &["zone", "app", "kind"],
        );
        pub static SHARED_PLAIN: Counter<0> =
            Counter::shared("toy_plain_total", "A shared counter without labels.", &[]);
        pub static SHARED_HISTOGRAM: Histogram<2> = Histogram::shared(
            "toy_seconds",
            "A shared histogram with two labels.",
            &["route", "method"],
            &[0.1, 1.0, 10.0],
        );
        pub static LOCAL_GAUGE: Gauge<2> =
            Gauge::process("toy_level", "A gauge of this process.", &["tank", "unit"]);
        pub static LOCAL_COUNTER: Counter<0> =
            Counter::process("toy_local_total", "A counter of this process.", &[]);
    }
}

#[test]
fn any_shared_family_is_decoded_from_the_rows_every_process_adds_to() {
    let (one, other) = (
        Metrics::with_families(toy::FAMILIES).expect("registers"),
        Metrics::with_families(toy::FAMILIES).expect("registers"),
    );
    one.count(&toy::SHARED_COUNTER, ["eu", "web", "a"], 2.0);
    other.count(&toy::SHARED_COUNTER, ["eu", "web", "a"], 3.0);
    other.count(&toy::SHARED_COUNTER, ["us", "web", "b"], 1.0);
    one.observe(&toy::SHARED_HISTOGRAM, ["/x", "GET"], 0.05);
    other.observe(&toy::SHARED_HISTOGRAM, ["/x", "GET"], 5.0);
    other.observe(&toy::SHARED_HISTOGRAM, ["/y", "POST"], 50.0);
    // What a flush of both leaves in `metric_counters`: their totals.
    let mut summed = pending(&one);
    for (key, amount) in pending(&other) {
        *summed.entry(key).or_insert(0.0) += amount;
    }
    let mut stored_rows = rows(&summed);
    // A row of a label set the family no longer declares is not shown.
    stored_rows.push(CounterRow {
        family: "toy_shared_total".into(),
        labels: serde_json::json!({"zone": "eu"}),
        value: 9.0,
    });

    let counter = exposition(toy::SHARED_COUNTER.family(), &stored_rows);
    assert_lines(
        &counter,
        &[
            "# HELP toy_shared_total A shared counter with three labels.",
            "# TYPE toy_shared_total counter",
            r#"toy_shared_total{app="web",kind="a",zone="eu"} 5"#,
            r#"toy_shared_total{app="web",kind="b",zone="us"} 1"#,
        ],
    );
    assert_eq!(counter.lines().count(), 4, "{counter}");

    let histogram = exposition(toy::SHARED_HISTOGRAM.family(), &stored_rows);
    assert_lines(
        &histogram,
        &[
            "# TYPE toy_seconds histogram",
            r#"toy_seconds_bucket{method="GET",route="/x",le="0.1"} 1"#,
            r#"toy_seconds_bucket{method="GET",route="/x",le="1"} 1"#,
            r#"toy_seconds_bucket{method="GET",route="/x",le="10"} 2"#,
            r#"toy_seconds_bucket{method="GET",route="/x",le="+Inf"} 2"#,
            r#"toy_seconds_sum{method="GET",route="/x"} 5.05"#,
            r#"toy_seconds_count{method="GET",route="/x"} 2"#,
            r#"toy_seconds_bucket{method="POST",route="/y",le="0.1"} 0"#,
            r#"toy_seconds_bucket{method="POST",route="/y",le="10"} 0"#,
            r#"toy_seconds_bucket{method="POST",route="/y",le="+Inf"} 1"#,
            r#"toy_seconds_sum{method="POST",route="/y"} 50"#,
            r#"toy_seconds_count{method="POST",route="/y"} 1"#,
        ],
    );

    // Without a row, a family without labels shows its one series at 0.
    assert_lines(
        &exposition(toy::SHARED_PLAIN.family(), &stored_rows),
        &["toy_plain_total 0"],
    );
    one.count(&toy::SHARED_PLAIN, [], 4.0);
    assert_lines(
        &exposition(toy::SHARED_PLAIN.family(), &rows(&pending(&one))),
        &["toy_plain_total 4"],
    );
}

#[tokio::test]
async fn a_family_is_one_declaration_fed_by_its_call_sites() {
    let metrics = Metrics::with_families(toy::FAMILIES).expect("registers");
    metrics.set(&toy::LOCAL_GAUGE, ["a", "litres"], 7.5);
    let text = metrics.render(None).await.expect("renders");
    assert_lines(
        &text,
        &[
            "# HELP toy_level A gauge of this process.",
            r#"toy_level{tank="a",unit="litres"} 7.5"#,
            // Registered at 0 before anything counted it.
            "toy_local_total 0",
            // Shared ones need the database, which is not there: announced, no samples.
            "# TYPE toy_shared_total counter",
            "# TYPE toy_seconds histogram",
        ],
    );
    assert!(
        !text.contains("gitomatic_"),
        "only its own families: {text}"
    );
    // A family this value does not declare is not counted (and the mistake is logged).
    metrics.count(&GRAPHQL_FALLBACKS, ["timeout"], 1.0);
    assert!(pending(&metrics).is_empty());
}

#[test]
fn a_counter_refuses_what_is_not_an_increment() {
    let metrics = metrics();
    metrics.count(&GRAPHQL_FALLBACKS, ["timeout"], -1.0);
    metrics.count(&GRAPHQL_FALLBACKS, ["timeout"], f64::NAN);
    metrics.observe(&TASK_DURATION, ["x"], f64::INFINITY);
    assert!(pending(&metrics).is_empty());
}

#[tokio::test]
async fn local_families_show_up_with_their_labels() {
    let metrics = metrics();
    metrics.replace(&QUEUE_MESSAGES, [(["p.jobs"], 3.0)]);
    metrics.count(&HTTP_REQUESTS, ["GET", "200"], 1.0);
    metrics.observe(&HTTP_DURATION, [], 0.002);
    metrics.observe(&HTTP_DURATION, [], 0.002);
    let text = metrics.render(None).await.expect("renders");
    assert_lines(
        &text,
        &[
            r#"gitomatic_queue_messages{queue="p.jobs"} 3"#,
            r#"gitomatic_http_requests_total{method="GET",status="200"} 1"#,
            "gitomatic_http_request_duration_seconds_count 2",
        ],
    );
}

#[tokio::test]
async fn queue_depths_are_replaced_not_kept_when_the_broker_is_down() {
    let metrics = metrics();
    metrics.replace(&QUEUE_MESSAGES, [(["p.jobs"], 3.0)]);
    metrics.replace(&QUEUE_MESSAGES, []);
    let text = metrics.render(None).await.expect("renders");
    assert!(!text.contains("p.jobs"), "{text}");
    assert!(text.contains("# TYPE gitomatic_queue_messages gauge\n"));
}

#[tokio::test]
async fn each_value_has_its_own_registry() {
    let (a, b) = (metrics(), metrics());
    a.count(&HTTP_REQUESTS, ["GET", "200"], 1.0);
    assert!(
        !b.render(None)
            .await
            .expect("renders")
            .contains("status=\"200\"")
    );
}
