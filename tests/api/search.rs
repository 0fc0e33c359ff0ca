//! Full-text `?search=` on the developer and repository lists (SPEC-3 C, issue 24). Every
//! expected set is computed here, from the seeded data, by an independent implementation of
//! the word rule (split on anything but letters and digits, lower case, accents stripped by
//! a small table, prefix match), and compared with what the API lists.

use std::collections::BTreeSet;

use crate::helpers::seed::{self, Dev, Repo, column, error, get_json};
use crate::helpers::{TestApp, spawn_app};

/// A seeded developer: (login, name, bio, company, location).
type Person = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// The seeded developers.
const PEOPLE: &[Person] = &[
    (
        "ada-0024",
        Some("Ada Lovelace"),
        Some("Analytical engines & notes"),
        Some("Babbage Ltd"),
        Some("London, UK"),
    ),
    (
        "berliner",
        Some("Jürgen Groß"),
        Some("Rust/Go developer"),
        Some("Zalando SE"),
        Some("Berlin, Germany"),
    ),
    ("ada", Some("Ada Byron"), None, None, Some("Zürich")),
    (
        "octo-root",
        Some("Octo Root"),
        Some("tool-0-0 maintainer"),
        Some("@github"),
        Some("San Francisco"),
    ),
    (
        "bjorn",
        Some("Bjørn Ødegård"),
        Some("Écoles et café"),
        None,
        Some("Oslo, Norway"),
    ),
    (
        "jose",
        Some("José São"),
        Some("Desenvolvedor — São Paulo"),
        Some("Açaí Inc."),
        Some("São Paulo, Brasil"),
    ),
    (
        "germany-fan",
        None,
        Some("I love GERMANY"),
        None,
        Some("Munich"),
    ),
    (
        "adamant",
        Some("Adam Ant"),
        Some("adamantly ada-friendly"),
        None,
        Some("Bérlin"),
    ),
    ("nobody", None, None, None, None),
    (
        "x1",
        Some("Ströme"),
        Some("v1.5 release; foo@bar.com"),
        Some("Straße GmbH"),
        Some("Köln"),
    ),
    ("Ada-Lab", Some("ADA lab"), None, None, Some("Paris")),
    (
        "wordsmith",
        Some("Wolfeschlegelsteinhausen"),
        Some("Internationalization and supercalifragilisticexpialidocious things"),
        None,
        Some("Llanfairpwllgwyngyll"),
    ),
];

/// Lower case without accents, by a small table (the service uses PostgreSQL's unaccent).
fn fold(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'í' | 'ì' | 'î' | 'ï' => out.push('i'),
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => out.push('o'),
            'ú' | 'ù' | 'û' | 'ü' => out.push('u'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    out
}

/// The words of a text: maximal runs of letters and digits, folded.
fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether every word of `search` begins some word of `texts`.
fn matches(search: &str, texts: &[Option<&str>]) -> bool {
    let stored: Vec<String> = texts.iter().flatten().flat_map(|t| words(t)).collect();
    words(search)
        .iter()
        .all(|word| stored.iter().any(|s| s.starts_with(word.as_str())))
}

fn expected_people(search: &str) -> BTreeSet<String> {
    PEOPLE
        .iter()
        .filter(|(login, name, bio, company, location)| {
            matches(search, &[Some(login), *name, *bio, *company, *location])
        })
        .map(|(login, ..)| (*login).to_owned())
        .collect()
}

async fn seed_people(app: &TestApp) {
    for (n, (login, name, bio, company, location)) in PEOPLE.iter().enumerate() {
        let n = i64::try_from(n).expect("few");
        seed::developer(
            app,
            Dev {
                name: name.map(str::to_owned),
                bio: bio.map(str::to_owned),
                company: company.map(str::to_owned),
                location: location.map(str::to_owned),
                created_at: Some(seed::at(&format!("2020-01-{:02}T00:00:00Z", n + 1))),
                ..Dev::new(1000 + n, login)
            },
        )
        .await;
    }
}

/// The logins a search lists, in order, all in one page.
async fn listed(app: &TestApp, query: &[(&str, &str)]) -> Vec<String> {
    let mut query = query.to_vec();
    query.push(("page_size", "100"));
    let (status, body) = get_json(app, "/github/developers/", &query).await;
    assert_eq!(status, 200, "{query:?}: {body}");
    assert_eq!(
        body["count"].as_i64(),
        Some(i64::try_from(body["results"].as_array().expect("results").len()).expect("few")),
        "{body}"
    );
    column(&body, "login")
}

fn set(logins: &[String]) -> BTreeSet<String> {
    logins.iter().cloned().collect()
}

#[tokio::test]
async fn a_search_lists_exactly_the_rows_whose_words_begin_with_every_word_searched() {
    let app = spawn_app().await;
    seed_people(&app).await;
    let all: BTreeSet<String> = PEOPLE.iter().map(|p| p.0.to_owned()).collect();
    for search in [
        "ada",
        "ADA 0024",
        "BÉRLIN",
        "berlin",
        "ermany",
        "germ",
        "octo-root/tool-0-0",
        "tool 0",
        "sao paulo",
        "SÃO",
        "strasse",
        "straß",
        "v1 5",
        "1 5",
        "ecole",
        "ødegård",
        "odegard",
        "zur",
        "com foo",
        "a",
        "lab ada",
        "nothing-like-it",
        // Words longer than the 12 characters stored as prefixes, and prefixes of them.
        "internationa",
        "internationaliz",
        "internationalization",
        "internationalizations",
        "nationalization",
        "supercalifragilisticexpialidocious",
        "wolfeschlegel",
        "LLANFAIRPWLLGWYNGYLL things",
        "llanfairpwllgwyngyllgogery",
    ] {
        let got = listed(&app, &[("search", search)]).await;
        assert_eq!(
            got.len(),
            set(&got).len(),
            "{search}: no duplicate in {got:?}"
        );
        assert_eq!(set(&got), expected_people(search), "search={search}");
    }
    // The SPEC's examples, by name.
    assert_eq!(expected_people("ermany"), BTreeSet::new());
    assert!(expected_people("BÉRLIN").contains("berliner"));
    assert!(expected_people("BÉRLIN").contains("adamant"));
    assert!(expected_people("internationaliz").contains("wordsmith"));
    assert!(expected_people("internationalizations").is_empty());
    // Empty, blank or separators only: no filter (in the default order).
    let default = listed(&app, &[]).await;
    assert_eq!(set(&default), all);
    for search in ["", "  ", "--", " / . "] {
        assert_eq!(
            listed(&app, &[("search", search)]).await,
            default,
            "{search:?}"
        );
    }
}

#[tokio::test]
async fn relevance_puts_the_exact_login_first_and_an_ordering_replaces_it() {
    let app = spawn_app().await;
    seed_people(&app).await;
    // Relevance: the login equal to the whole search (case-insensitively) first.
    let ranked = listed(&app, &[("search", "ada")]).await;
    assert_eq!(
        ranked.first().map(String::as_str),
        Some("ada"),
        "{ranked:?}"
    );
    let ranked = listed(&app, &[("search", "ADA-0024")]).await;
    assert_eq!(ranked, ["ada-0024"]);
    let ranked = listed(&app, &[("search", "ada-lab")]).await;
    assert_eq!(
        ranked.first().map(String::as_str),
        Some("Ada-Lab"),
        "{ranked:?}"
    );
    // With an ordering, that order (and the same set).
    let by_login = listed(&app, &[("search", "ada"), ("ordering", "login")]).await;
    let mut sorted = by_login.clone();
    sorted.sort();
    assert_eq!(by_login, sorted);
    assert_eq!(set(&by_login), expected_people("ada"));
    let by_date = listed(&app, &[("search", "ada"), ("ordering", "-created_at")]).await;
    assert_eq!(by_date.first().map(String::as_str), Some("Ada-Lab"));
    assert_eq!(set(&by_date), expected_people("ada"));
    // Combined with a filter: both hold.
    let filtered = listed(&app, &[("search", "ada"), ("location__contains", "on")]).await;
    let expected: BTreeSet<String> = PEOPLE
        .iter()
        .filter(|p| p.4.is_some_and(|l| l.to_lowercase().contains("on")))
        .map(|p| p.0.to_owned())
        .filter(|login| expected_people("ada").contains(login))
        .collect();
    assert_eq!(set(&filtered), expected);
    assert!(!expected.is_empty());
}

#[tokio::test]
async fn relevance_pages_split_one_total_order_and_refuse_a_cursor() {
    let app = spawn_app().await;
    seed_people(&app).await;
    // Many equal ranks: the order must still be total (ties broken by login, then id).
    for n in 0..15 {
        seed::developer(
            &app,
            Dev {
                location: Some("Berlin".into()),
                ..Dev::new(5000 + n, &format!("dup-{}", n % 4))
            },
        )
        .await;
    }
    let whole = {
        let (status, body) = get_json(
            &app,
            "/github/developers/",
            &[("search", "berlin"), ("page_size", "100")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        column(&body, "id")
    };
    assert_eq!(whole.len(), 17);
    let mut paged = Vec::new();
    for page in 1..=9 {
        let page = page.to_string();
        let (status, body) = get_json(
            &app,
            "/github/developers/",
            &[("search", "berlin"), ("page_size", "2"), ("page", &page)],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["count"], 17, "{body}");
        if let Some(next) = body["next"].as_str() {
            assert!(
                next.contains("page=") && !next.contains("cursor="),
                "{next}"
            );
        }
        paged.extend(column(&body, "id"));
    }
    assert_eq!(paged, whole, "no duplicate, no gap");
    let (status, _) = get_json(
        &app,
        "/github/developers/",
        &[("search", "berlin"), ("page_size", "2"), ("page", "10")],
    )
    .await;
    assert_eq!(status, 404);
    // A cursor needs an ordering: relevance is paged by number only.
    for cursor in ["", "abc"] {
        let (status, body) = get_json(
            &app,
            "/github/developers/",
            &[("search", "berlin"), ("cursor", cursor)],
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            error(&body).contains("cursor") && error(&body).contains("relevance"),
            "{body}"
        );
    }
    // With an ordering a search walks by cursor like any filtered list.
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[
            ("search", "berlin"),
            ("ordering", "login"),
            ("cursor", ""),
            ("page_size", "5"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["next"].as_str().is_some_and(|n| n.contains("cursor=")),
        "{body}"
    );
}

#[tokio::test]
async fn repositories_are_searched_over_full_name_description_and_language() {
    let app = spawn_app().await;
    seed::developer(&app, Dev::new(1, "octo-root")).await;
    seed::developer(&app, Dev::new(2, "zoë")).await;
    let repos: &[(i64, &str, Option<&str>, Option<&str>)] = &[
        (1, "tool-0-0", Some("A tool for Zürich"), Some("Rust")),
        (1, "tool", Some("The other tool"), Some("Go")),
        (
            2,
            "café-app",
            Some("Crème brûlée recipes"),
            Some("TypeScript"),
        ),
        (2, "rusty", None, Some("C++")),
    ];
    let owners = ["", "octo-root", "zoë"];
    for (n, (owner, name, description, language)) in repos.iter().enumerate() {
        seed::repository(
            &app,
            *owner,
            Repo {
                description: description.map(str::to_owned),
                language: language.map(str::to_owned),
                ..Repo::new(100 + i64::try_from(n).expect("few"), name)
            },
        )
        .await;
    }
    let expected = |search: &str| -> BTreeSet<String> {
        repos
            .iter()
            .map(|(owner, name, description, language)| {
                let owner = owners[usize::try_from(*owner).expect("small")];
                (format!("{owner}/{name}"), *description, *language)
            })
            .filter(|(full_name, description, language)| {
                matches(search, &[Some(full_name), *description, *language])
            })
            .map(|(full_name, ..)| full_name)
            .collect()
    };
    for search in [
        "tool",
        "ZURICH",
        "octo root",
        "creme brulee",
        "cafe",
        "rust",
        "zoe",
        "c",
        "ermany",
    ] {
        let (status, body) = get_json(
            &app,
            "/github/repositories/",
            &[("search", search), ("page_size", "100")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let got = column(&body, "full_name");
        assert_eq!(set(&got), expected(search), "search={search}");
    }
    // The exact full_name first.
    let (_, body) = get_json(
        &app,
        "/github/repositories/",
        &[("search", "OCTO-ROOT/TOOL")],
    )
    .await;
    assert_eq!(column(&body, "full_name")[0], "octo-root/tool", "{body}");
    // Through a developer's sub-collection (the shared list machinery).
    let (status, body) = get_json(&app, "/github/developers/", &[("login", "octo-root")]).await;
    assert_eq!(status, 200);
    let owned = body["results"][0]["repositories"]
        .as_str()
        .expect("link")
        .to_owned();
    let (status, body) = seed::get_url(&app, &format!("{owned}?search=zurich")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(column(&body, "full_name"), ["octo-root/tool-0-0"]);
}

#[tokio::test]
async fn a_changed_profile_is_found_by_its_new_words_only() {
    let app = spawn_app().await;
    seed_people(&app).await;
    seed::execute(
        &app,
        "UPDATE developers SET location = 'Lisboa, Portugal' WHERE login = 'jose'",
    )
    .await;
    assert_eq!(listed(&app, &[("search", "lisb")]).await, ["jose"]);
    assert!(listed(&app, &[("search", "brasil")]).await.is_empty());
    // An update of another column keeps the vector (the trigger does not run).
    seed::execute(&app, "UPDATE developers SET followers_count = 7").await;
    assert_eq!(listed(&app, &[("search", "lisb")]).await, ["jose"]);
}

#[tokio::test]
async fn the_browsable_list_has_a_search_box_and_a_relevance_choice() {
    let app = spawn_app().await;
    seed_people(&app).await;
    let html = reqwest::get(format!(
        "{}/github/developers/?format=api&search=ada",
        app.address
    ))
    .await
    .expect("page")
    .text()
    .await
    .expect("html");
    assert!(
        html.contains(r#"type="search" name="search" value="ada""#),
        "a search box holding the search"
    );
    assert!(
        html.contains(r#"<option value="" selected>relevance"#),
        "relevance chosen when no ordering is given"
    );
    assert!(
        html.contains(r#"<legend title="rank">"#)
            && !html.contains(r#"<legend title="rank_score">"#),
        "a field that only orders has no filter fieldset"
    );
    // The issues list (no search field) has neither.
    let html = reqwest::get(format!("{}/github/tasks/?format=api", app.address))
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!html.contains(r#"name="search""#));
}

#[tokio::test]
async fn relevance_ranks_every_match_of_a_countable_search_not_only_the_first_found() {
    let app = spawn_app().await;
    // 1,200 developers in Berlin, stored before the one whose profile names Berlin three
    // times: a scan of the matches meets that one last, after more than the 1,000 that a
    // search matching far more would rank.
    seed::execute(
        &app,
        "INSERT INTO developers (github_id, login, location) \
         SELECT 20000 + n, 'bln-' || lpad(n::text, 4, '0'), 'Berlin' \
         FROM generate_series(1, 1200) AS n",
    )
    .await;
    seed::developer(
        &app,
        Dev {
            bio: Some("Berlin born, Berlin based".into()),
            location: Some("Berlin, Germany".into()),
            ..Dev::new(30000, "zz-most-berlin")
        },
    )
    .await;
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("search", "berlin"), ("page_size", "100")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["count"], 1201,
        "every match counted: {}",
        body["count"]
    );
    assert!(body.get("count_is_estimate").is_none(), "exact: {body}");
    let logins = column(&body, "login");
    // The most relevant (three mentions) first, then the rest, equally ranked, by login.
    let expected: Vec<String> = std::iter::once("zz-most-berlin".to_owned())
        .chain((1..=99).map(|n| format!("bln-{n:04}")))
        .collect();
    assert_eq!(logins, expected);
    // The last page by relevance holds the last logins: every match was ranked.
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("search", "berlin"), ("page_size", "100"), ("page", "13")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(column(&body, "login"), ["bln-1200"]);
}

#[tokio::test]
async fn a_search_matching_far_more_than_it_ranks_ranks_a_fixed_eighth_yet_misses_none_when_the_estimate_is_stale()
 {
    let app = spawn_app().await;
    // The planner's estimate comes from this test's own `ANALYZE` only.
    seed::execute(
        &app,
        "ALTER TABLE developers SET (autovacuum_enabled = false)",
    )
    .await;
    // One developer naming Berlin three times, whose id is in the search sample (the
    // eighth of the rows whose id hashes to 0 modulo 8), then 20,000 more in Berlin; the
    // rows of the sample are marked with `public_gists = 1`, which the search does not read.
    // The sample holds some 2,500 matches, of which the first 1,000 met are ranked.
    seed::execute(
        &app,
        "INSERT INTO developers (id, github_id, login, bio, location, public_gists) \
         SELECT id, 70000, 'zz-most-berlin', 'Berlin born, Berlin based', 'Berlin, Germany', 1 \
         FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 500)) AS ids \
         WHERE (uuid_hash(id) & 7) = 0 LIMIT 1",
    )
    .await;
    seed::execute(
        &app,
        "INSERT INTO developers (id, github_id, login, location, public_gists) \
         SELECT id, 40000 + n, 'bln-' || lpad(n::text, 5, '0'), 'Berlin', \
                CASE WHEN (uuid_hash(id) & 7) = 0 THEN 1 ELSE 0 END \
         FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, 20000) AS n) AS ids",
    )
    .await;
    seed::execute(&app, "ANALYZE developers").await;

    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("search", "berlin"), ("page_size", "100")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count_is_estimate"], true, "{body}");
    let count = body["count"].as_i64().expect("a count");
    assert!(
        (18_000..=22_000).contains(&count),
        "the planner's estimate of 20,001 matches: {count}"
    );
    assert_eq!(column(&body, "login")[0], "zz-most-berlin");
    let gists = column(&body, "public_gists");
    assert_eq!(gists.len(), 100);
    assert!(
        gists.iter().all(|gists| gists == "1"),
        "ranked from the sample only: {gists:?}"
    );

    // All but 300 of them leave; the statistics still say 20,000 (an ordered list shows that
    // estimate), so the search is still sampled first, finds too few there, and ranks and
    // counts every match instead.
    seed::execute(
        &app,
        "DELETE FROM developers WHERE login LIKE 'bln-%' AND github_id > 40300",
    )
    .await;
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("search", "berlin"), ("ordering", "login")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count_is_estimate"], true, "a stale estimate: {body}");
    let mut listed = Vec::new();
    for page in 1..=4 {
        let (status, body) = get_json(
            &app,
            "/github/developers/",
            &[
                ("search", "berlin"),
                ("page_size", "100"),
                ("page", &page.to_string()),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["count"], 301, "every match counted");
        assert!(body.get("count_is_estimate").is_none(), "exact: {body}");
        listed.extend(column(&body, "login"));
    }
    let expected: Vec<String> = std::iter::once("zz-most-berlin".to_owned())
        .chain((1..=300).map(|n| format!("bln-{n:05}")))
        .collect();
    assert_eq!(listed, expected);
}
