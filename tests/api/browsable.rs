//! The browsable lists in a real browser (headless Chromium over the DevTools protocol):
//! the filter form filters and orders by a plain GET, the page shows the answer's status
//! line and headers, and it fits a phone's screen.

use serde_json::json;

use crate::helpers::browser::Browser;
use crate::helpers::seed::{self, Dev, at};
use crate::helpers::{TestApp, spawn_app};

/// A stored developer: login, location, followers.
type Person = (&'static str, Option<&'static str>, Option<i32>);

/// Developers whose logins share letters, with distinct follower counts (no ties to break).
const PEOPLE: [Person; 8] = [
    ("dana", Some("Berlin"), Some(40)),
    ("ann", Some("Lisbon"), Some(7)),
    ("bob", Some("Berlin"), Some(100)),
    ("nancy", None, None),
    ("ian", Some("Paris"), Some(12)),
    ("zed", None, Some(3)),
    ("Anselm", Some("Rome"), Some(25)),
    ("joan", Some("Oslo"), Some(0)),
];

async fn seed_people(app: &TestApp) {
    for (i, (login, location, followers)) in PEOPLE.into_iter().enumerate() {
        let id = i64::try_from(i).expect("small") + 1;
        seed::developer(
            app,
            Dev {
                location: location.map(str::to_owned),
                followers_count: followers,
                created_at: Some(at(&format!("2020-01-{id:02}T00:00:00Z"))),
                ..Dev::new(id, login)
            },
        )
        .await;
    }
}

/// The JSON the page shows, below its status line and headers.
const SHOWN_BODY: &str = "JSON.parse(document.getElementById('response-body').textContent)";

#[tokio::test]
async fn the_filter_form_filters_and_orders_the_list_by_a_plain_get() {
    let app = spawn_app().await;
    seed_people(&app).await;
    let list = format!("{}/github/developers/?format=api", app.address);
    let mut browser = Browser::open(&list).await;
    browser.wait_for_load(&list).await;

    // One control per lookup the list takes, named as its parameter; no ordering chosen
    // (relevance with a search, else the default); format=api kept.
    let names = browser
        .eval("[...document.querySelectorAll('#filters [name]')].map(e => e.name)")
        .await;
    let names: Vec<&str> = names
        .as_array()
        .expect("names")
        .iter()
        .map(|name| name.as_str().expect("a name"))
        .collect();
    for name in [
        "login",
        "login__contains",
        "login__isnull",
        "followers_count__gte",
        "followers_count__lte",
        "created_at__lte",
        "search",
        "ordering",
        "format",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert_eq!(
        browser
            .eval("document.querySelector('#filters select[name=ordering]').value")
            .await,
        json!("")
    );

    // Type into login__contains, choose an ordering, submit.
    browser
        .eval("document.querySelector('#filters [name=login__contains]').focus()")
        .await;
    browser
        .call("Input.insertText", json!({"text": "an"}))
        .await;
    browser
        .eval(
            "const order = document.querySelector('#filters select[name=ordering]');
             order.value = '-followers_count';
             order.dispatchEvent(new Event('change'));
             document.querySelector('#filters button[type=submit]').click()",
        )
        .await;
    browser
        .wait_for(
            "location.search.includes('login__contains=an') && document.readyState === 'complete' \
             && !!document.getElementById('response-body')",
            json!(true),
        )
        .await;

    // The rows shown are exactly the stored developers whose login contains "an" (any
    // case), most followed first, those without a count last.
    let mut expected: Vec<Person> = PEOPLE
        .into_iter()
        .filter(|(login, _, _)| login.to_lowercase().contains("an"))
        .collect();
    expected.sort_by_key(|(_, _, followers)| (followers.is_none(), followers.map(|f| -f)));
    let expected: Vec<&str> = expected.iter().map(|(login, _, _)| *login).collect();
    assert_eq!(
        expected,
        ["dana", "Anselm", "ian", "ann", "joan", "nancy"],
        "the test's own reading"
    );
    let shown = browser.eval(SHOWN_BODY).await;
    let logins: Vec<&str> = shown["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["login"].as_str().expect("a login"))
        .collect();
    assert_eq!(logins, expected, "{shown}");
    assert_eq!(shown["count"], json!(expected.len()));

    // The query was a plain GET of the form's fields, the empty ones too.
    let search = browser.eval("location.search").await;
    let search = search.as_str().expect("a query");
    for part in [
        "format=api",
        "ordering=-followers_count",
        "login=&",
        "followers_count__gte=",
    ] {
        assert!(search.contains(part), "{part} in {search}");
    }
    // The form shows what was asked.
    assert_eq!(
        browser
            .eval(
                "[document.querySelector('#filters [name=login__contains]').value,
                  document.querySelector('#filters select[name=ordering]').value]"
            )
            .await,
        json!(["an", "-followers_count"])
    );

    // Above the body: the status line and the headers the answer carries.
    let headers = browser
        .eval("document.getElementById('response-headers').innerText")
        .await;
    let lines: Vec<&str> = headers.as_str().expect("text").lines().collect();
    assert_eq!(
        lines,
        [
            "HTTP 200 OK",
            "Allow: GET, HEAD",
            "Content-Type: text/html; charset=utf-8"
        ],
        "{headers}"
    );
}

#[tokio::test]
async fn a_page_past_the_first_shows_its_link_header() {
    let app = spawn_app().await;
    seed_people(&app).await;
    let page = format!(
        "{}/github/developers/?format=api&page_size=3&page=2",
        app.address
    );
    let mut browser = Browser::open(&page).await;
    browser.wait_for_load(&page).await;
    let headers = browser
        .eval("document.getElementById('response-headers').innerText")
        .await;
    let headers = headers.as_str().expect("text");
    let shown = browser.eval(SHOWN_BODY).await;
    let link = format!(
        "Link: <{}>; rel=\"next\", <{}>; rel=\"prev\"",
        shown["next"].as_str().expect("next"),
        shown["previous"].as_str().expect("previous")
    );
    assert!(
        headers.lines().any(|line| line == link),
        "{link} in {headers}"
    );
    // The form keeps the page size and starts again from page 1.
    assert_eq!(
        browser
            .eval("[...new FormData(document.getElementById('filters')).keys()].filter(k => k.startsWith('page'))")
            .await,
        json!(["page_size"])
    );
}

#[tokio::test]
async fn list_pages_fit_a_390_pixel_screen_and_the_developers_list_is_pictured() {
    let app = spawn_app().await;
    seed_people(&app).await;
    // One long unbreakable value: the JSON scrolls inside its box, not the page.
    seed::developer(
        &app,
        Dev {
            bio: Some("x".repeat(400)),
            location: Some("A-very-long-location-without-any-space-at-all".into()),
            ..Dev::new(99, "a-developer-with-a-rather-long-login-name")
        },
    )
    .await;
    let developers = format!("{}/github/developers/?format=api", app.address);
    let mut browser = Browser::open("about:blank").await;

    // Desktop: the picture for the docs (written there when UPDATE_SCREENSHOTS is set).
    browser.emulate_width(1280, 900, false).await;
    browser
        .navigate(&format!(
            "{developers}&login__contains=an&ordering=-followers_count&page_size=3"
        ))
        .await;
    let png = browser.screenshot(true).await;
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    save_screenshot("developers-list.png", &png, true);

    browser.emulate_width(390, 844, true).await;
    for path in [
        "/github/developers/",
        "/github/tasks/",
        "/github/repositories/",
        "/github/tracked_repositories/",
    ] {
        let url = format!("{}{path}?format=api", app.address);
        browser.navigate(&url).await;
        let widths = browser
            .eval("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            .await;
        let scroll = widths[0].as_i64().expect("a width");
        assert!(scroll <= 390, "{path} is {widths} wide at 390 px");
        // Every control fits inside the page.
        let overflowing = browser
            .eval(
                "[...document.querySelectorAll('input, select, button, pre, fieldset')]
                   .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
                   .map(e => e.name || e.tagName)",
            )
            .await;
        assert_eq!(overflowing, json!([]), "{path}");
        // To look at: the top of the page, and the answer.
        let name = path.trim_matches('/').replace('/', "-");
        let shot = browser.screenshot(false).await;
        save_screenshot(&format!("{name}-390.png"), &shot, false);
        browser
            .eval("document.querySelector('pre.response').scrollIntoView()")
            .await;
        let shot = browser.screenshot(false).await;
        save_screenshot(&format!("{name}-390-answer.png"), &shot, false);
    }
}

/// Writes a screenshot into the temporary directory's `gitomatic-screenshots/`, to look at
/// after a run; one `for_docs` goes to docs/screenshots/ instead when `UPDATE_SCREENSHOTS`
/// is set.
fn save_screenshot(name: &str, png: &[u8], for_docs: bool) {
    let dir = match std::env::var_os("UPDATE_SCREENSHOTS") {
        Some(_) if for_docs => {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
        }
        _ => std::env::temp_dir().join("gitomatic-screenshots"),
    };
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    std::fs::write(dir.join(name), png).expect("screenshot written");
}

#[tokio::test]
async fn the_post_form_of_a_writable_list_is_its_body_and_creates_with_the_token() {
    let app = spawn_app().await;
    let token = seed::token(&app).await;

    // Tracked organizations: the form has the body's one field, documented.
    let list = format!("{}/github/tracked_organizations/?format=api", app.address);
    let mut browser = Browser::open(&list).await;
    browser.wait_for_load(&list).await;
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('#post .input')].map(p => [p.dataset.input, p.querySelector('input').placeholder, p.querySelector('input').required])")
            .await,
        json!([["login", "github", true]])
    );
    // A wrong token: the answer's status and error, and nothing tracked.
    browser
        .eval(
            "document.getElementById('post-login').value = 'rust-lang';
             document.getElementById('post-token').value = 'not-a-token';
             document.querySelector('#post button[type=submit]').click()",
        )
        .await;
    browser
        .wait_for(
            "document.getElementById('post-result').textContent.startsWith('403: ')",
            json!(true),
        )
        .await;
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM tracked_organizations")
            .await,
        0
    );
    // The token: created, and the page goes to the new organization.
    browser
        .eval(&format!(
            "document.getElementById('post-token').value = {};
             document.querySelector('#post button[type=submit]').click()",
            json!(token)
        ))
        .await;
    browser
        .wait_for(
            "/\\/github\\/tracked_organizations\\/[0-9a-f-]{36}\\/$/.test(location.pathname) \
             && document.readyState === 'complete' && !!document.getElementById('response-body')",
            json!(true),
        )
        .await;
    assert_eq!(
        browser
            .eval("JSON.parse(document.getElementById('response-body').textContent).login")
            .await,
        json!("rust-lang")
    );

    // Tasks: one option per job kind, and the arguments of the chosen one.
    let list = format!("{}/github/tasks/?format=api", app.address);
    browser.navigate(&list).await;
    let shown =
        "[...document.querySelectorAll('#post .input:not([hidden])')].map(p => p.dataset.input)";
    let choose = |kind: &str| {
        format!(
            "{{ const kind = document.getElementById('post-name');
               kind.value = {};
               kind.dispatchEvent(new Event('change', {{bubbles: true}})); }}",
            json!(kind)
        )
    };
    browser.eval(&choose("full_repository_sync")).await;
    assert_eq!(
        browser.eval(shown).await,
        json!(["name", "username", "repo_name"])
    );
    browser.eval(&choose("graph_snapshot")).await;
    assert_eq!(browser.eval(shown).await, json!(["name"]));
    browser.eval(&choose("full_profile_sync")).await;
    browser
        .eval(&format!(
            "document.getElementById('post-username').value = 'octocat';
             document.getElementById('post-token').value = {};
             document.querySelector('#post button[type=submit]').click()",
            json!(token)
        ))
        .await;
    browser
        .wait_for(
            "/\\/github\\/tasks\\/[0-9a-f-]{36}\\/$/.test(location.pathname) \
             && document.readyState === 'complete' && !!document.getElementById('response-body')",
            json!(true),
        )
        .await;
    assert_eq!(
        browser
            .eval("(b => [b.name, b.args.username])(JSON.parse(document.getElementById('response-body').textContent))")
            .await,
        json!(["full_profile_sync", "octocat"])
    );
}
