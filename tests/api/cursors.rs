//! Cursor pagination and estimated counts (SPEC-3 B, issue 22): `?cursor=` walks a list by
//! position, with no duplicate or gap while rows are inserted in between; a cursor of
//! another ordering or list, or an altered one, is a 400; counts above 10,000 are flagged
//! as estimates; deep pages link on by cursor.

use serde_json::Value;

use crate::helpers::seed::{self, Dev, at, column, error, get_json, get_url, results};
use crate::helpers::{TestApp, spawn_app};

/// Follows `next` links from `first` to the end; the ids of every page, in order, and the
/// URL of the last page. `between` runs after each page (to insert rows meanwhile).
async fn walk_forward(
    app: &TestApp,
    first: &str,
    mut between: impl AsyncFnMut(usize),
) -> (Vec<Vec<String>>, String) {
    let mut pages = Vec::new();
    let mut url = first.to_owned();
    loop {
        let (status, body) = get_url(app, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        assert!(body.get("count_is_estimate").is_none(), "exact: {body}");
        pages.push(column(&body, "id"));
        between(pages.len()).await;
        match body["next"].as_str() {
            Some(next) => {
                assert!(
                    next.contains("cursor=") && !next.contains("page="),
                    "{next}"
                );
                url = next.to_owned();
            }
            None => return (pages, url),
        }
        assert!(pages.len() < 100, "the walk does not end");
    }
}

/// Follows `previous` links from `last` to the start; the ids seen, in list order.
async fn walk_back(app: &TestApp, last: &str) -> Vec<String> {
    let mut pages = Vec::new();
    let mut url = last.to_owned();
    loop {
        let (status, body) = get_url(app, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        pages.push(column(&body, "id"));
        match body["previous"].as_str() {
            Some(previous) => url = previous.to_owned(),
            None => break,
        }
        assert!(pages.len() < 100, "the walk does not end");
    }
    pages.into_iter().rev().flatten().collect()
}

/// The whole list in one page by number: the order every walk must agree with.
async fn whole(app: &TestApp, path: &str, query: &[(&str, &str)]) -> Vec<String> {
    let mut query = query.to_vec();
    query.push(("page_size", "100"));
    let (status, body) = get_json(app, path, &query).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["next"].is_null(), "{body}");
    column(&body, "id")
}

fn day(n: i64) -> String {
    format!("2020-{:02}-{:02}T00:00:00Z", 1 + (n / 28) % 12, 1 + n % 28)
}

/// Developers `dev-<n>` for `n` in `range`, created on day `n` (none for every fifth, and
/// every seventh sharing its creation date with the one before), in companies that repeat.
async fn seed_range(app: &TestApp, range: std::ops::Range<i64>) {
    for n in range {
        let created = match n {
            n if n % 5 == 0 => None,
            n if n % 7 == 0 => Some(at(&day(n - 1))),
            n => Some(at(&day(n))),
        };
        let company = (n % 3 != 0).then(|| format!("company-{}", n % 4));
        seed::developer(
            app,
            Dev {
                created_at: created,
                company,
                ..Dev::new(n, &format!("dev-{n:03}"))
            },
        )
        .await;
    }
}

#[tokio::test]
async fn cursor_pages_walk_the_whole_list_with_no_duplicate_or_gap_while_rows_are_inserted() {
    let app = spawn_app().await;
    seed_range(&app, 100..130).await;

    // `cursor=` left empty starts a walk by cursor at the top (default order -created_at).
    let first = format!("{}/github/developers/?cursor=&page_size=4", app.address);
    let mut inserted = 0;
    let (pages, last) = walk_forward(&app, &first, async |page| {
        // Rows inserted mid-walk, while it is still among the first 24 rows (those with a
        // creation date): one ahead of it (older than everything), one without a creation
        // date (listed last), and one newer than everything (behind it, so not seen).
        if page % 2 == 1 && inserted < 3 {
            let n = 200 + inserted;
            let older = Dev {
                created_at: Some(at(&format!("2019-0{}-01T00:00:00Z", 1 + inserted))),
                ..Dev::new(n, &format!("late-old-{n}"))
            };
            seed::developer(&app, older).await;
            seed::developer(&app, Dev::new(n + 50, &format!("late-null-{n}"))).await;
            let newer = Dev {
                created_at: Some(at("2024-01-01T00:00:00Z")),
                ..Dev::new(n + 100, &format!("late-new-{n}"))
            };
            seed::developer(&app, newer).await;
            inserted += 1;
        }
    })
    .await;
    assert_eq!(inserted, 3, "rows were inserted during the walk");
    let seen: Vec<String> = pages.iter().flatten().cloned().collect();
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no row twice");
    assert!(pages.iter().all(|page| page.len() <= 4));

    // Everything but the rows inserted behind the walk, in the list's order.
    let everything = whole(&app, "/github/developers/", &[]).await;
    let (status, newer) = get_json(
        &app,
        "/github/developers/",
        &[("login__contains", "late-new"), ("page_size", "100")],
    )
    .await;
    assert_eq!(status, 200);
    let behind = column(&newer, "id");
    assert_eq!(behind.len() as i64, inserted);
    let expected: Vec<String> = everything
        .iter()
        .filter(|id| !behind.contains(id))
        .cloned()
        .collect();
    assert_eq!(seen, expected, "no gap, and the list's order");

    // Back from the last page, `previous` reaches the top: the whole list as it now is.
    assert_eq!(walk_back(&app, &last).await, everything);
}

#[tokio::test]
async fn a_cursor_walk_agrees_with_the_numbered_pages_in_every_direction_with_nulls_last() {
    let app = spawn_app().await;
    seed_range(&app, 1..24).await;
    for ordering in [
        "company",
        "-company",
        "created_at",
        "-created_at",
        "login",
        "-github_id",
    ] {
        let expected = whole(&app, "/github/developers/", &[("ordering", ordering)]).await;
        let first = format!(
            "{}/github/developers/?ordering={ordering}&page_size=5&cursor=",
            app.address
        );
        let (pages, last) = walk_forward(&app, &first, async |_| {}).await;
        let seen: Vec<String> = pages.into_iter().flatten().collect();
        assert_eq!(seen, expected, "ordering={ordering}");
        assert_eq!(
            walk_back(&app, &last).await,
            expected,
            "back, ordering={ordering}"
        );
    }
    // NULLS LAST either way, ties broken by id in the ordering's direction.
    for ordering in ["company", "-company"] {
        let (_, body) = get_json(
            &app,
            "/github/developers/",
            &[("ordering", ordering), ("page_size", "100")],
        )
        .await;
        let rows = results(&body);
        let first_null = rows
            .iter()
            .position(|row| row["company"].is_null())
            .expect("a null");
        assert!(
            rows[first_null..]
                .iter()
                .all(|row| row["company"].is_null())
        );
        let descending = ordering.starts_with('-');
        for pair in rows.windows(2) {
            if pair[0]["company"] == pair[1]["company"] {
                let ids = (pair[0]["id"].as_str(), pair[1]["id"].as_str());
                assert_eq!(ids.0 > ids.1, descending, "{ordering}: {ids:?}");
            }
        }
    }
}

#[tokio::test]
async fn followers_walk_by_cursor_over_their_edges_in_both_directions() {
    let app = spawn_app().await;
    seed_range(&app, 1..20).await;
    let hub = seed::developer(&app, Dev::new(500, "hub")).await;
    seed::execute(
        &app,
        "INSERT INTO follows (follower_id, followee_id)
         SELECT d.id, h.id FROM developers d, developers h
         WHERE h.login = 'hub' AND d.login <> 'hub'",
    )
    .await;
    let path = format!("/github/developers/{hub}/followers/");
    for ordering in ["-created_at", "created_at", "login"] {
        let expected = whole(&app, &path, &[("ordering", ordering)]).await;
        assert_eq!(expected.len(), 19);
        let first = format!(
            "{}{path}?ordering={ordering}&page_size=4&cursor=",
            app.address
        );
        let (pages, last) = walk_forward(&app, &first, async |_| {}).await;
        assert_eq!(pages.concat(), expected, "ordering={ordering}");
        assert_eq!(
            walk_back(&app, &last).await,
            expected,
            "back, ordering={ordering}"
        );
    }
}

#[tokio::test]
async fn a_cursor_of_another_ordering_or_list_or_an_altered_one_is_a_400_saying_which() {
    let app = spawn_app().await;
    seed_range(&app, 1..12).await;
    let hub = seed::developer(&app, Dev::new(500, "hub")).await;
    let (_, body) = get_json(
        &app,
        "/github/developers/",
        &[("cursor", ""), ("page_size", "3")],
    )
    .await;
    let next = body["next"].as_str().expect("a next link").to_owned();
    let cursor = next
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("cursor="))
        .expect("a cursor")
        .to_owned();

    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("cursor", &cursor), ("ordering", "login")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error(&body).contains("ordering=-created_at") && error(&body).contains("login"),
        "{body}"
    );

    let (status, body) = get_json(
        &app,
        &format!("/github/developers/{hub}/followers/"),
        &[("cursor", &cursor)],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(error(&body).contains("/github/developers/"), "{body}");

    let mut altered: Vec<char> = cursor.chars().collect();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == 'x' { 'y' } else { 'x' };
    let altered: String = altered.into_iter().collect();
    for bad in [altered.as_str(), "not-a-cursor", "cGFnZT0z"] {
        let (status, body) = get_json(&app, "/github/developers/", &[("cursor", bad)]).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(error(&body).starts_with("Invalid cursor"), "{body}");
    }

    // The cursor itself still works.
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("cursor", &cursor), ("page_size", "3")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(results(&body).len(), 3);
}

#[tokio::test]
async fn counts_above_ten_thousand_are_flagged_estimates_and_deep_pages_link_by_cursor() {
    let app = spawn_app().await;
    seed::execute(
        &app,
        "INSERT INTO developers (github_id, login, created_at)
         SELECT g, 'bulk-' || g, timestamptz '2015-01-01' + g * interval '1 hour'
         FROM generate_series(1, 12000) g",
    )
    .await;
    seed::execute(&app, "ANALYZE developers").await;

    let (status, body) = get_json(&app, "/github/developers/", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count_is_estimate"], true, "{}", body["count"]);
    assert!(
        body["count"].as_i64().expect("count") > 10_000,
        "{}",
        body["count"]
    );

    // A list of 10,000 rows or fewer is counted exactly, whatever the page.
    let (_, body) = get_json(
        &app,
        "/github/developers/",
        &[("github_id__lte", "9000"), ("page", "2")],
    )
    .await;
    assert_eq!(
        (&body["count"], body.get("count_is_estimate")),
        (&Value::from(9000), None)
    );
    let (_, body) = get_json(
        &app,
        "/github/developers/",
        &[("login__contains", "bulk-1199")],
    )
    .await;
    assert_eq!(
        (&body["count"], body.get("count_is_estimate")),
        (&Value::from(11), None)
    );

    // Past row 10,000 `next` is a cursor; `previous` stays a page number.
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("page", "1000"), ("page_size", "10")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let next = body["next"].as_str().expect("next");
    assert!(
        next.contains("cursor=") && !next.contains("page="),
        "{next}"
    );
    assert!(
        body["previous"]
            .as_str()
            .expect("previous")
            .contains("page=999")
    );
    let numbered = get_json(
        &app,
        "/github/developers/",
        &[("page", "1001"), ("page_size", "10")],
    )
    .await
    .1;
    let (status, by_cursor) = get_url(&app, next).await;
    assert_eq!(status, 200, "{by_cursor}");
    assert_eq!(column(&by_cursor, "id"), column(&numbered, "id"));
    assert_eq!(by_cursor["count_is_estimate"], true);
}
