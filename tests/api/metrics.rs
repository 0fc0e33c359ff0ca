//! `GET /metrics`: every family with live values after a crawl, and an answer without the broker.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use gitomatic::domain::GithubLogin;
use gitomatic::jobs::FullProfileSync;
use gitomatic::metrics::Metrics;

use crate::helpers::{Graph, TestApp, spawn_app, spawn_app_with, spawn_crawler_with};

const TOKEN: &str = "ghp_metricsTestSecretToken0123456789";

/// One scrape: the `# TYPE` of each family and the value of each sample.
struct Scrape {
    types: BTreeMap<String, String>,
    /// `name{label="value",...}` (labels sorted, as rendered) to value.
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    fn parse(text: &str) -> Self {
        let mut types = BTreeMap::new();
        let mut samples = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                types.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') && !line.is_empty() {
                let (series, value) = line.rsplit_once(' ').expect("series value");
                let value: f64 = value.parse().expect("a number");
                assert!(
                    samples.insert(series.to_owned(), value).is_none(),
                    "{series} appears once"
                );
            }
        }
        Self { types, samples }
    }

    /// The value of one series; panics naming it when it is missing.
    fn value(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("{series} missing in {:#?}", self.samples))
    }

    /// Every series of a family whose labels include `label="value"`.
    fn series_with(&self, family: &str, label: &str) -> Vec<(&str, f64)> {
        self.samples
            .iter()
            .filter(|(series, _)| {
                series.starts_with(&format!("{family}{{")) && series.contains(label)
            })
            .map(|(series, value)| (series.as_str(), *value))
            .collect()
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("content type")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(&response.text().await.expect("body"))
}

const FAMILIES: [(&str, &str); 10] = [
    ("gitomatic_github_requests_total", "counter"),
    ("gitomatic_github_not_modified_total", "counter"),
    ("gitomatic_github_quota_remaining", "gauge"),
    ("gitomatic_tasks_total", "counter"),
    ("gitomatic_task_duration_seconds", "histogram"),
    ("gitomatic_queue_messages", "gauge"),
    ("gitomatic_http_requests_total", "counter"),
    ("gitomatic_http_request_duration_seconds", "histogram"),
    ("gitomatic_graphql_fallbacks_total", "counter"),
    ("gitomatic_webhook_deliveries_total", "counter"),
];

fn assert_every_family_is_typed(scrape: &Scrape) {
    let expected: BTreeMap<String, String> = FAMILIES
        .iter()
        .map(|(name, kind)| (name.to_string(), kind.to_string()))
        .collect();
    assert_eq!(scrape.types, expected, "exactly the specified families");
}

async fn sync(app: &TestApp, login: &str) {
    let job = FullProfileSync {
        username: GithubLogin::parse(login).expect("login"),
    };
    let task = app.enqueue(job).await;
    let done = app.wait_for_task(task.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
}

#[tokio::test]
async fn after_a_crawl_and_a_re_sync_every_family_has_live_values() {
    let mut graph = Graph::default();
    let center = graph.add_user("center");
    let other = graph.add_user("other");
    graph.follow(other, center);
    graph.follow(center, other);
    let repo = graph.add_repo(other, "tool");
    graph.star(center, repo);
    graph.add_repo(center, "own");
    // Reads of /github/ need a token: /metrics stays public, and refusals are counted too.
    let mut app = spawn_crawler_with(graph, |env| {
        env.insert("GITHUB_TOKEN".into(), TOKEN.into());
        env.insert("API_READ_AUTH".into(), "required".into());
    })
    .await;

    // Before anything happened: every family is announced, nothing counted yet.
    let empty = scrape(&app).await;
    assert_every_family_is_typed(&empty);
    assert_eq!(empty.value("gitomatic_github_not_modified_total"), 0.0);
    assert!(
        empty
            .series_with("gitomatic_http_requests_total", "")
            .is_empty()
    );

    app.start_worker();
    sync(&app, "center").await;
    sync(&app, "center").await;

    // Requests the HTTP family must count: two more scrapes' worth of kinds.
    assert_eq!(app.get("/github/").await.status(), 401);
    assert_eq!(app.get("/nowhere").await.status(), 308);
    assert_eq!(app.get("/nowhere/").await.status(), 404);
    let head = app
        .http
        .head(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("HEAD /metrics");
    assert_eq!(head.status(), 200);

    let scrape = scrape(&app).await;
    assert_every_family_is_typed(&scrape);
    let log = app.fake().requests();
    let answered = |status: u16| log.iter().filter(|r| r.status == status).count() as f64;

    // GitHub: every response by status; the fake labels every response `core`.
    assert!(
        log.iter().any(|r| r.path == "/rate_limit"),
        "the first job read /rate_limit"
    );
    // User, followers, following, starred, repositories, /rate_limit at least once.
    assert!(answered(200) >= 6.0, "{log:?}");
    assert_eq!(
        scrape.value(r#"gitomatic_github_requests_total{resource="core",status="200"}"#),
        answered(200)
    );
    // The re-sync of an unchanged developer: five 304s and nothing else.
    assert_eq!(answered(304), 5.0, "{log:?}");
    assert_eq!(
        scrape.value(r#"gitomatic_github_requests_total{resource="core",status="304"}"#),
        5.0
    );
    assert_eq!(scrape.value("gitomatic_github_not_modified_total"), 5.0);
    assert_eq!(
        scrape
            .series_with("gitomatic_github_requests_total", "")
            .len(),
        2,
        "only 200 and 304 were answered"
    );

    // The quota as the fake's headers (and its /rate_limit body) said, for this token's label.
    let identity = gitomatic::github::client::identity_label(Some(&TOKEN.into()));
    assert!(!identity.contains(TOKEN) && identity.starts_with("token:"));
    let quota = |resource: &str| {
        scrape.value(&format!(
            r#"gitomatic_github_quota_remaining{{identity="{identity}",resource="{resource}"}}"#
        ))
    };
    assert_eq!(quota("core"), f64::from(app.fake().quota().remaining));
    assert_eq!(quota("search"), 30.0);
    assert_eq!(quota("graphql"), 5000.0);

    // Tasks: two succeeded runs, each timed.
    assert_eq!(
        scrape.value(r#"gitomatic_tasks_total{name="full_profile_sync",outcome="succeeded"}"#),
        2.0
    );
    assert_eq!(
        scrape.series_with("gitomatic_tasks_total", "").len(),
        1,
        "nothing failed or was deferred"
    );
    assert_eq!(
        scrape.value(r#"gitomatic_task_duration_seconds_count{name="full_profile_sync"}"#),
        2.0
    );
    assert_eq!(
        scrape
            .value(r#"gitomatic_task_duration_seconds_bucket{name="full_profile_sync",le="+Inf"}"#),
        2.0
    );
    assert!(scrape.value(r#"gitomatic_task_duration_seconds_sum{name="full_profile_sync"}"#) > 0.0);

    // Queues: every queue of the topology, all empty once the work is done.
    let prefix = &app.env["QUEUE_PREFIX"];
    assert_eq!(
        scrape.value(&format!(
            r#"gitomatic_queue_messages{{queue="{prefix}.jobs"}}"#
        )),
        0.0
    );
    assert_eq!(
        scrape.value(&format!(
            r#"gitomatic_queue_messages{{queue="{prefix}.jobs.dead"}}"#
        )),
        0.0
    );
    assert_eq!(
        scrape
            .series_with("gitomatic_queue_messages", &format!("queue=\"{prefix}."))
            .len(),
        2 + gitomatic::queue::topology::DELAY_BUCKETS.len()
    );

    // HTTP: the requests before this scrape, by method and status (this one not yet).
    let http = |method: &str, status: u16| {
        scrape.value(&format!(
            r#"gitomatic_http_requests_total{{method="{method}",status="{status}"}}"#
        ))
    };
    assert_eq!(http("GET", 200), 1.0, "the first scrape");
    assert_eq!(http("GET", 401), 1.0);
    assert_eq!(http("GET", 308), 1.0);
    assert_eq!(http("GET", 404), 1.0);
    assert_eq!(http("HEAD", 200), 1.0);
    assert_eq!(
        scrape
            .series_with("gitomatic_http_requests_total", "")
            .len(),
        5
    );
    assert_eq!(
        scrape.value("gitomatic_http_request_duration_seconds_count"),
        5.0
    );
    let labels: BTreeSet<&str> = scrape
        .samples
        .keys()
        .filter(|series| series.starts_with("gitomatic_http_requests_total{"))
        .map(String::as_str)
        .collect();
    assert!(
        labels
            .iter()
            .all(|series| !series.contains("path") && !series.contains("nowhere")),
        "no path labels: {labels:?}"
    );

    // The next scrape counts the previous one.
    assert_eq!(
        scrape_value(
            &app,
            r#"gitomatic_http_requests_total{method="GET",status="200"}"#
        )
        .await,
        2.0
    );
}

async fn scrape_value(app: &TestApp, series: &str) -> f64 {
    scrape(app).await.value(series)
}

#[tokio::test]
async fn without_a_broker_the_scrape_answers_promptly_without_queue_depths() {
    // One broker refuses connections; the other accepts them and never says a word.
    let refusing = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let refused_port = refusing.local_addr().expect("address").port();
    drop(refusing);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("address").port();
    for port in [refused_port, silent_port] {
        let app = spawn_app_with(|env| {
            env.insert(
                "AMQP_URL".into(),
                format!("amqp://guest:guest@127.0.0.1:{port}/%2f"),
            );
        })
        .await;
        let started = Instant::now();
        let scrape = scrape(&app).await;
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "answered after {:?}",
            started.elapsed()
        );
        assert_every_family_is_typed(&scrape);
        assert!(
            scrape
                .series_with("gitomatic_queue_messages", "")
                .is_empty()
        );
        assert_eq!(scrape.value("gitomatic_github_not_modified_total"), 0.0);
    }
    drop(silent);
}

#[tokio::test]
async fn a_scrape_of_the_web_process_shows_the_work_of_a_separate_worker_process() {
    let mut graph = Graph::default();
    let center = graph.add_user("center");
    let fan = graph.add_user("fan");
    graph.follow(fan, center);
    let app = spawn_crawler_with(graph, |_| {}).await;
    // The worker is another process (as in the Procfile): nothing it counts is in this
    // process's memory.
    let mut worker = crate::helpers::binary_command(&app.env, &["worker"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("worker starts");
    for login in ["center", "fan"] {
        sync(&app, login).await;
    }
    let _ = worker.kill();
    let _ = worker.wait();

    let scrape = scrape(&app).await;
    assert_eq!(
        scrape.value(r#"gitomatic_tasks_total{name="full_profile_sync",outcome="succeeded"}"#),
        2.0
    );
    assert_eq!(
        scrape.value(r#"gitomatic_task_duration_seconds_count{name="full_profile_sync"}"#),
        2.0
    );
    let answered: usize = app
        .fake()
        .requests()
        .iter()
        .filter(|request| request.status == 200 && !request.path.starts_with("/rate_limit"))
        .count();
    assert_eq!(
        scrape.value(r#"gitomatic_github_requests_total{resource="core",status="200"}"#),
        answered as f64 + 1.0,
        "every response the worker read, the free GET /rate_limit included"
    );
    assert_eq!(
        scrape.value(r#"gitomatic_github_quota_remaining{identity="anonymous",resource="core"}"#),
        f64::from(app.fake().quota().remaining)
    );
}

/// Families declared only in this test: the generic storage serves any of them.
mod toy {
    use gitomatic::metrics::{Counter, Histogram};

    gitomatic::families! {
        pub static JOBS: Counter<2> = Counter::shared(
            "toy_jobs_total",
            "Toy jobs by queue and outcome.",
            &["queue", "outcome"],
        );
        pub static LATENCY: Histogram<1> = Histogram::shared(
            "toy_latency_seconds",
            "Toy latency by queue.",
            &["queue"],
            &[0.5, 5.0],
        );
    }
}

#[tokio::test]
async fn a_newly_declared_shared_family_adds_up_across_processes_through_postgres() {
    let app = spawn_app().await;
    let process = || Metrics::with_families(toy::FAMILIES).expect("the toy families register");
    // Two workers and the web process that is scraped, each with its own memory.
    let (one, other, web) = (process(), process(), process());
    one.count(&toy::JOBS, ["a", "ok"], 2.0);
    other.count(&toy::JOBS, ["a", "ok"], 1.0);
    other.count(&toy::JOBS, ["b", "failed"], 1.0);
    one.observe(&toy::LATENCY, ["a"], 0.1);
    other.observe(&toy::LATENCY, ["a"], 1.0);
    let mut conn = app.ctx.conn().await.expect("a connection");
    one.flush(&mut conn).await.expect("one flushes");
    other.flush(&mut conn).await.expect("the other flushes");
    // A later flush adds only what was counted since.
    one.count(&toy::JOBS, ["a", "ok"], 1.0);
    one.flush(&mut conn).await.expect("one flushes again");

    let toys = Scrape::parse(&web.render(Some(&mut conn)).await.expect("renders"));
    let types: Vec<(&str, &str)> = toys
        .types
        .iter()
        .map(|(name, kind)| (name.as_str(), kind.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("toy_jobs_total", "counter"),
            ("toy_latency_seconds", "histogram")
        ]
    );
    assert_eq!(toys.value(r#"toy_jobs_total{outcome="ok",queue="a"}"#), 4.0);
    assert_eq!(
        toys.value(r#"toy_jobs_total{outcome="failed",queue="b"}"#),
        1.0
    );
    assert_eq!(toys.series_with("toy_jobs_total", "").len(), 2);
    for (le, count) in [("0.5", 1.0), ("5", 2.0), ("+Inf", 2.0)] {
        assert_eq!(
            toys.value(&format!(
                r#"toy_latency_seconds_bucket{{queue="a",le="{le}"}}"#
            )),
            count,
            "le={le}"
        );
    }
    assert_eq!(toys.value(r#"toy_latency_seconds_count{queue="a"}"#), 2.0);
    assert_eq!(toys.value(r#"toy_latency_seconds_sum{queue="a"}"#), 1.1);

    // gitomatic's own scrape shows its declared families only, not these rows.
    let own = scrape(&app).await;
    assert_every_family_is_typed(&own);
    assert!(own.samples.keys().all(|series| !series.starts_with("toy_")));
}
