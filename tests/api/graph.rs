//! The graph questions (SPEC-2 D) against a generated graph, each answer checked against
//! an independent computation in the test: paths against a plain BFS (every step a real
//! edge), mutuals and suggestions against set arithmetic, statistics against counts, the
//! three export formats against the stored edges. Plus the stored edge counts the triggers
//! keep, the web role's statement timeout, and an export of a large relation in bounded
//! memory by the real binary.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::RunQueryDsl;
use gitomatic::jobs::GraphSnapshot;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::seed::{self, get_json, get_url};
use crate::helpers::{TestApp, TestDb, WebProcess, spawn_app, spawn_app_with, test_env};

/// A generated follow graph: developer `i` has login `dev-i` and GitHub id `i + 1`.
struct World {
    logins: Vec<String>,
    ids: Vec<Uuid>,
    edges: BTreeSet<(usize, usize)>,
    /// Repository index → full name, and (developer, repository) stars.
    repositories: Vec<String>,
    stars: BTreeSet<(usize, usize)>,
}

impl World {
    fn following(&self, a: usize) -> BTreeSet<usize> {
        self.edges
            .iter()
            .filter(|(from, _)| *from == a)
            .map(|(_, to)| *to)
            .collect()
    }

    fn followers(&self, a: usize) -> BTreeSet<usize> {
        self.edges
            .iter()
            .filter(|(_, to)| *to == a)
            .map(|(from, _)| *from)
            .collect()
    }

    /// Shortest distance by a one-directional BFS over the edge list.
    fn distance(&self, from: usize, to: usize) -> Option<usize> {
        let mut adjacency: HashMap<usize, Vec<usize>> = HashMap::new();
        for (a, b) in &self.edges {
            adjacency.entry(*a).or_default().push(*b);
        }
        let mut seen = HashMap::from([(from, 0)]);
        let mut queue = VecDeque::from([from]);
        while let Some(at) = queue.pop_front() {
            if at == to {
                return seen.get(&at).copied();
            }
            for next in adjacency.get(&at).into_iter().flatten() {
                if !seen.contains_key(next) {
                    seen.insert(*next, seen[&at] + 1);
                    queue.push_back(*next);
                }
            }
        }
        None
    }

    fn index_of_url(&self, url: &str) -> usize {
        let id = url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .and_then(|id| Uuid::parse_str(id).ok())
            .expect("a developer URL");
        self.ids
            .iter()
            .position(|known| *known == id)
            .expect("a known developer")
    }
}

/// A small deterministic generator (no crate needed for a test's pseudo-randomness).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// `n` developers; each follows a few others, hubs (low indexes) attract more follows; a
/// tail of developers follows nobody and is followed by nobody; chains give long paths.
async fn world(app: &TestApp, n: usize) -> World {
    let mut random = Lcg(42);
    let isolated = n - n / 10;
    let mut edges = BTreeSet::new();
    for a in 0..isolated {
        for _ in 0..random.below(6) {
            // Half of the follows go to the first tenth: hubs.
            let b = if random.below(2) == 0 {
                random.below(isolated / 10)
            } else {
                random.below(isolated)
            };
            if a != b {
                edges.insert((a, b));
            }
        }
    }
    // A chain through the isolated tail: long shortest paths, one way only.
    for a in isolated..n - 1 {
        edges.insert((a, a + 1));
    }
    edges.insert((0, isolated));
    let logins: Vec<String> = (0..n).map(|i| format!("dev-{i}")).collect();
    let mut conn = app.db.connect().await;
    // Every third developer synced; creation dates spread, some unknown.
    diesel::sql_query(
        "INSERT INTO developers (github_id, login, created_at, last_synced_at)
         SELECT g + 1, 'dev-' || g,
                CASE WHEN g % 7 = 3 THEN NULL
                     ELSE timestamptz '2012-01-01' + ((g * 37) % 500 || ' days')::interval END,
                CASE WHEN g % 3 = 0 THEN now() END
         FROM generate_series(0, $1 - 1) AS g",
    )
    .bind::<BigInt, _>(n as i64)
    .execute(&mut conn)
    .await
    .expect("seed developers");
    insert_pairs(
        &mut conn,
        "INSERT INTO follows (follower_id, followee_id)
         SELECT a.id, b.id FROM unnest($1::bigint[], $2::bigint[]) AS e(a, b)
         JOIN developers a ON a.github_id = e.a JOIN developers b ON b.github_id = e.b",
        edges.iter().map(|(a, b)| (*a as i64 + 1, *b as i64 + 1)),
    )
    .await;
    // Repositories owned by the first developers, starred by a spread of developers.
    let repositories: Vec<String> = (0..20).map(|r| format!("dev-{}/tool-{r}", r % 5)).collect();
    diesel::sql_query(
        "INSERT INTO repositories (github_id, owner_id, owner_github_id, name, full_name)
         SELECT 1000000 + r, d.id, d.github_id, 'tool-' || r, d.login || '/tool-' || r
         FROM generate_series(0, 19) AS r JOIN developers d ON d.github_id = r % 5 + 1",
    )
    .execute(&mut conn)
    .await
    .expect("seed repositories");
    let mut stars = BTreeSet::new();
    for d in 0..n / 2 {
        for _ in 0..random.below(3) {
            stars.insert((d, random.below(repositories.len())));
        }
    }
    insert_pairs(
        &mut conn,
        "INSERT INTO stars (developer_id, repository_id)
         SELECT d.id, r.id FROM unnest($1::bigint[], $2::bigint[]) AS s(d, r)
         JOIN developers d ON d.github_id = s.d JOIN repositories r ON r.github_id = s.r",
        stars
            .iter()
            .map(|(d, r)| (*d as i64 + 1, 1_000_000 + *r as i64)),
    )
    .await;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = Text)]
        login: String,
    }
    let rows: Vec<Row> = diesel::sql_query("SELECT id, login FROM developers")
        .load(&mut conn)
        .await
        .expect("ids");
    let by_login: HashMap<String, Uuid> = rows.into_iter().map(|r| (r.login, r.id)).collect();
    World {
        ids: logins.iter().map(|login| by_login[login]).collect(),
        logins,
        edges,
        repositories,
        stars,
    }
}

/// Runs an `INSERT ... FROM unnest($1::bigint[], $2::bigint[])` over pairs, in one statement.
async fn insert_pairs(
    conn: &mut diesel_async::AsyncPgConnection,
    sql: &str,
    pairs: impl IntoIterator<Item = (i64, i64)>,
) {
    let (firsts, seconds): (Vec<i64>, Vec<i64>) = pairs.into_iter().unzip();
    diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(firsts)
        .bind::<Array<BigInt>, _>(seconds)
        .execute(conn)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// Every result of a list, walking its `next` links.
async fn all_results(app: &TestApp, first: &str) -> (i64, Vec<Value>) {
    let (status, body) = get_json(app, first, &[("page_size", "100")]).await;
    assert_eq!(status, 200, "{first}: {body}");
    let count = body["count"].as_i64().expect("a count");
    let mut results = seed::results(&body).clone();
    let mut next = body["next"].as_str().map(str::to_owned);
    while let Some(url) = next {
        let (status, body) = get_url(app, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        results.extend(seed::results(&body).iter().cloned());
        next = body["next"].as_str().map(str::to_owned);
    }
    (count, results)
}

#[tokio::test]
async fn paths_are_shortest_and_every_step_is_a_follow() {
    let app = spawn_app().await;
    let world = world(&app, 400).await;
    let n = world.logins.len();
    let mut random = Lcg(7);
    let mut pairs: Vec<(usize, usize)> = (0..60)
        .map(|_| (random.below(n), random.below(n)))
        .collect();
    // Along the chain: distances 5, 6 and 7 (one more than the deepest search).
    let tail = n - n / 10;
    pairs.extend([
        (0, tail + 4),
        (0, tail + 5),
        (0, tail + 6),
        (tail + 3, 0),
        (5, 5),
    ]);
    let mut lengths = BTreeSet::new();
    for (a, b) in pairs {
        let path = format!("/github/developers/{}/path/{}/", world.ids[a], world.ids[b]);
        let (status, body) = get_json(&app, &path, &[]).await;
        match world.distance(a, b).filter(|d| *d <= 6) {
            Some(distance) => {
                assert_eq!(status, 200, "{a} -> {b}: {body}");
                assert_eq!(body["length"], distance, "{a} -> {b}: {body}");
                let steps: Vec<usize> = body["path"]
                    .as_array()
                    .expect("a path")
                    .iter()
                    .map(|url| world.index_of_url(url.as_str().expect("a URL")))
                    .collect();
                assert_eq!(steps.len(), distance + 1, "{body}");
                assert_eq!((steps[0], steps[distance]), (a, b), "{body}");
                for pair in steps.windows(2) {
                    assert!(
                        world.edges.contains(&(pair[0], pair[1])),
                        "{} does not follow {}: {body}",
                        pair[0],
                        pair[1]
                    );
                }
                let logins: Vec<&str> = steps.iter().map(|i| world.logins[*i].as_str()).collect();
                assert_eq!(body["logins"], serde_json::json!(logins));
                lengths.insert(distance);
            }
            None => {
                assert_eq!(status, 404, "{a} -> {b}: {body}");
                assert_eq!(seed::error(&body), "no follow path within 6 steps");
            }
        }
    }
    // The sample reaches every interesting length, 0 to 6.
    assert!(lengths.len() >= 5 && lengths.contains(&6), "{lengths:?}");

    // A shallower search says how deep it looked.
    let (status, body) = get_json(
        &app,
        &format!(
            "/github/developers/{}/path/{}/",
            world.ids[0],
            world.ids[tail + 4]
        ),
        &[("max_depth", "4")],
    )
    .await;
    assert_eq!(
        (status, seed::error(&body)),
        (404, "no follow path within 4 steps")
    );
    let next = format!("/github/developers/{}/path/{}/", world.ids[0], world.ids[1]);
    for bad in ["0", "7", "two", "-1"] {
        let (status, body) = get_json(&app, &next, &[("max_depth", bad)]).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(seed::error(&body).contains("max_depth"), "{body}");
    }
    // An unknown parameter and a rendering that does not exist are 400s naming them; an
    // empty max_depth is no max_depth.
    for (key, value) in [("depth", "2"), ("format", "xml")] {
        let (status, body) = get_json(&app, &next, &[(key, value)]).await;
        assert_eq!(status, 400, "{key}={value}: {body}");
        assert!(seed::error(&body).contains(key), "{body}");
    }
    let (status, body) = get_json(&app, &next, &[("max_depth", ""), ("format", "json")]).await;
    assert_eq!(status, 200, "{body}");
    let unknown = Uuid::new_v4();
    let (status, body) = get_json(
        &app,
        &format!("/github/developers/{}/path/{unknown}/", world.ids[0]),
        &[],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(seed::error(&body).contains(&unknown.to_string()), "{body}");
}

#[tokio::test]
async fn mutuals_and_suggestions_match_set_arithmetic() {
    let app = spawn_app().await;
    let world = world(&app, 300).await;
    // Hubs, ordinary developers and an isolated one.
    for a in [0, 1, 3, 17, 40, 111, 290] {
        let following = world.following(a);
        let followers = world.followers(a);
        let expected: BTreeSet<&str> = following
            .intersection(&followers)
            .map(|i| world.logins[*i].as_str())
            .collect();
        let (count, results) = all_results(
            &app,
            &format!("/github/developers/{}/mutuals/", world.ids[a]),
        )
        .await;
        let got: BTreeSet<&str> = results
            .iter()
            .map(|r| r["login"].as_str().expect("a login"))
            .collect();
        assert_eq!(got, expected, "mutuals of dev-{a}");
        assert_eq!(count, expected.len() as i64);

        let mut scores: HashMap<usize, i64> = HashMap::new();
        for f in &following {
            for g in world.following(*f) {
                if g != a && !following.contains(&g) {
                    *scores.entry(g).or_default() += 1;
                }
            }
        }
        let mut expected: Vec<(i64, &str)> = scores
            .iter()
            .map(|(g, score)| (*score, world.logins[*g].as_str()))
            .collect();
        expected.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(y.1)));
        let (count, results) = all_results(
            &app,
            &format!("/github/developers/{}/suggestions/", world.ids[a]),
        )
        .await;
        let got: Vec<(i64, &str)> = results
            .iter()
            .map(|r| {
                (
                    r["score"].as_i64().expect("a score"),
                    r["login"].as_str().expect("a login"),
                )
            })
            .collect();
        assert_eq!(got, expected, "suggestions of dev-{a}");
        assert_eq!(count, expected.len() as i64);
        // A small graph is read whole: the answer says so.
        let (_, first_page) = get_json(
            &app,
            &format!("/github/developers/{}/suggestions/", world.ids[a]),
            &[],
        )
        .await;
        assert_eq!(
            (
                &first_page["partial"],
                &first_page["following"],
                &first_page["following_scored"]
            ),
            (
                &json!(false),
                &json!(following.len()),
                &json!(following.len())
            ),
            "dev-{a}: {first_page}"
        );
        if let Some(first) = <[Value]>::first(&results) {
            assert!(
                first["url"]
                    .as_str()
                    .expect("url")
                    .contains("/github/developers/")
            );
            assert!(
                first["followers"]
                    .as_str()
                    .expect("link")
                    .ends_with("/followers/")
            );
        }
    }
    // The developer resource links both; bad paging is a 400 naming it.
    let (_, developer) =
        get_json(&app, &format!("/github/developers/{}/", world.ids[0]), &[]).await;
    for link in ["mutuals", "suggestions"] {
        let (status, _) = get_url(&app, developer[link].as_str().expect("a link")).await;
        assert_eq!(status, 200, "{link}");
    }
    let suggestions = format!("/github/developers/{}/suggestions/", world.ids[0]);
    for (key, value) in [
        ("page", "0"),
        ("page_size", "101"),
        ("ordering", "login"),
        ("format", "xml"),
    ] {
        let (status, body) = get_json(&app, &suggestions, &[(key, value)]).await;
        assert_eq!(status, 400, "{key}={value}: {body}");
        assert!(seed::error(&body).contains(key), "{body}");
    }
    // Empty paging values count as absent: the first page of 10.
    let (status, body) = get_json(&app, &suggestions, &[("page", ""), ("page_size", " ")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["previous"].is_null(), "{body}");
    let (status, _) = get_json(&app, &suggestions, &[("page", "999")]).await;
    assert_eq!(status, 404);
}

/// Suggestions read at most 10,000 follow edges: those the asking developer follows are
/// taken fewest follows first while the edges stay within that budget, the answer says how
/// many were read, and everyone it follows is still left out of the suggestions.
#[tokio::test]
async fn suggestions_read_within_their_edge_budget_and_say_so() {
    let app = spawn_app().await;
    let mut conn = app.db.connect().await;
    // github_id 1 asks; 2..=4 follow three each; 5 and 6 follow 6,000 each; 100.. are targets.
    diesel::sql_query(
        "INSERT INTO developers (github_id, login)
         SELECT g, 'dev-' || g FROM generate_series(1, 6) AS g
         UNION ALL SELECT g, 'target-' || lpad(g::text, 5, '0') FROM generate_series(100, 8099) AS g",
    )
    .execute(&mut conn)
    .await
    .expect("seed developers");
    let mut edges: Vec<(i64, i64)> = (2..=6).map(|b| (1, b)).collect();
    for light in 2..=4 {
        edges.extend((100..103).map(|t| (light, t)));
    }
    edges.extend((100..6100).map(|t| (5, t)));
    edges.extend((2100..8100).map(|t| (6, t)));
    // The asker also follows one target, which is then never suggested.
    edges.push((1, 150));
    insert_pairs(
        &mut conn,
        "INSERT INTO follows (follower_id, followee_id)
         SELECT a.id, b.id FROM unnest($1::bigint[], $2::bigint[]) AS e(a, b)
         JOIN developers a ON a.github_id = e.a JOIN developers b ON b.github_id = e.b",
        edges.iter().copied(),
    )
    .await;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        github_id: i64,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let ids: HashMap<i64, Uuid> = diesel::sql_query("SELECT github_id, id FROM developers")
        .load::<Row>(&mut conn)
        .await
        .expect("ids")
        .into_iter()
        .map(|row| (row.github_id, row.id))
        .collect();
    // Fewest follows first, then by id: the three light ones (3 edges each) and target 150
    // (none), then whichever heavy one has the lower id (9 + 6,000 edges); the other would
    // bring the edges read to 12,009.
    let heavy = if ids[&5] < ids[&6] { 5 } else { 6 };
    let following: BTreeSet<i64> = edges.iter().filter(|e| e.0 == 1).map(|e| e.1).collect();
    let mut scores: BTreeMap<i64, i64> = BTreeMap::new();
    for (from, to) in &edges {
        if [2, 3, 4, heavy].contains(from) && following.contains(from) && !following.contains(to) {
            *scores.entry(*to).or_default() += 1;
        }
    }
    let mut expected: Vec<(i64, String)> = scores
        .iter()
        .map(|(to, score)| (*score, format!("target-{to:05}")))
        .collect();
    expected.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));

    let url = format!("/github/developers/{}/suggestions/", ids[&1]);
    let (status, body) = get_json(&app, &url, &[("page_size", "100")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            &body["partial"],
            &body["following"],
            &body["following_scored"]
        ),
        (&json!(true), &json!(6), &json!(5)),
        "{body}"
    );
    assert_eq!(body["count"], json!(expected.len()), "{body}");
    let (status, second) = get_json(&app, &url, &[("page_size", "100"), ("page", "2")]).await;
    assert_eq!(status, 200, "{second}");
    let got: Vec<(i64, String)> = seed::results(&body)
        .iter()
        .chain(seed::results(&second))
        .map(|r| {
            (
                r["score"].as_i64().expect("a score"),
                r["login"].as_str().expect("a login").to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected[..200].to_vec());
    assert!(
        got.iter().all(|(_, login)| login != "target-00150"),
        "a developer it follows was suggested"
    );

    // A light follower's suggestions read everything: not partial.
    let (status, body) = get_json(
        &app,
        &format!("/github/developers/{}/suggestions/", ids[&2]),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            &body["partial"],
            &body["following"],
            &body["following_scored"],
            &body["count"]
        ),
        (&json!(false), &json!(3), &json!(3), &json!(0)),
        "{body}"
    );
}

/// A developer's degrees counted in SQL from `follows` itself (not from the counts the
/// triggers keep on `developers`).
#[derive(diesel::QueryableByName)]
struct Degrees {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    login: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    synced: bool,
    #[diesel(sql_type = BigInt)]
    followers: i64,
    #[diesel(sql_type = BigInt)]
    following: i64,
}

/// The graph page's numbers computed independently from the tables, in the page's shape
/// (without its links and `computed_at`).
async fn exact_statistics(app: &TestApp) -> Value {
    let mut conn = app.db.connect().await;
    let degrees: Vec<Degrees> = diesel::sql_query(
        "SELECT d.id, d.login, d.last_synced_at IS NOT NULL AS synced,
                (SELECT count(*) FROM follows f WHERE f.followee_id = d.id) AS followers,
                (SELECT count(*) FROM follows f WHERE f.follower_id = d.id) AS following
         FROM developers d",
    )
    .load(&mut conn)
    .await
    .expect("degrees");
    drop(conn);
    let labels = ["0", "1", "2-4", "5-9", "10-99", "100-999", "1000+"];
    let bucket_of = |degree: i64| match degree {
        0 => 0,
        1 => 1,
        2..=4 => 2,
        5..=9 => 3,
        10..=99 => 4,
        100..=999 => 5,
        _ => 6,
    };
    let histogram = |degree: &dyn Fn(&Degrees) -> i64| -> Value {
        let mut counts = [0_i64; 7];
        for developer in &degrees {
            counts[bucket_of(degree(developer))] += 1;
        }
        labels
            .iter()
            .zip(counts)
            .map(|(bucket, developers)| json!({"bucket": bucket, "developers": developers}))
            .collect()
    };
    let mut ranked: Vec<&Degrees> = degrees.iter().filter(|d| d.followers > 0).collect();
    ranked.sort_by(|a, b| b.followers.cmp(&a.followers).then(a.id.cmp(&b.id)));
    let most_followed: Vec<Value> = ranked
        .iter()
        .take(10)
        .map(|d| json!({"id": d.id, "login": d.login, "followers": d.followers}))
        .collect();
    let developers = degrees.len() as i64;
    let synced = degrees.iter().filter(|d| d.synced).count() as i64;
    json!({
        "developers": developers,
        "synced": synced,
        "frontier": developers - synced,
        "follow_edges": app.count("SELECT count(*) AS n FROM follows").await,
        "stars": app.count("SELECT count(*) AS n FROM stars").await,
        "repositories": app.count("SELECT count(*) AS n FROM repositories").await,
        "followers_histogram": histogram(&|d| d.followers),
        "following_histogram": histogram(&|d| d.following),
        "most_followed": most_followed,
    })
}

/// The numbers of a graph page, in the shape of [`exact_statistics`].
fn statistics_of(body: &Value) -> Value {
    let mut numbers = body.clone();
    let object = numbers.as_object_mut().expect("an object");
    // The follow rank's fields are the rank run's, not the snapshot's (tests/api/rank.rs).
    for link in [
        "url",
        "export",
        "computed_at",
        "rank_computed_at",
        "rank_coverage",
    ] {
        object.remove(link);
    }
    for developer in object["most_followed"]
        .as_array_mut()
        .expect("most followed")
    {
        developer
            .as_object_mut()
            .expect("a developer")
            .remove("url");
    }
    numbers
}

/// `computed_at` of a graph page.
fn computed_at(body: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(body["computed_at"].as_str().expect("computed_at"))
        .expect("RFC 3339")
}

#[tokio::test]
async fn the_graph_snapshot_counts_exactly_and_the_page_reads_only_the_snapshot() {
    let mut app = spawn_app().await;
    let world = world(&app, 300).await;

    // No snapshot yet: the page says so (null counts, empty lists, computed_at null) and
    // asks for one; asking again while it is queued adds no second task.
    for _ in 0..2 {
        let (status, body) = get_json(&app, "/github/graph/", &[]).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["computed_at"].is_null(), "{body}");
        for count in [
            "developers",
            "synced",
            "frontier",
            "follow_edges",
            "stars",
            "repositories",
        ] {
            assert!(body[count].is_null(), "{count}: {body}");
        }
        for list in [
            "followers_histogram",
            "following_histogram",
            "most_followed",
        ] {
            assert_eq!(body[list], json!([]), "{list}");
        }
        assert!(
            body["export"]
                .as_str()
                .expect("export")
                .contains("/github/graph/export/")
        );
    }
    let queued = |status: &'static str| {
        format!(
            "SELECT count(*) AS n FROM tasks WHERE name = 'graph_snapshot' AND status = '{status}'"
        )
    };
    assert_eq!(app.count(&queued("queued")).await, 1);

    // The worker runs it: the page shows the exact counts, and when they were taken.
    app.start_worker();
    app.wait_until_idle(Duration::from_secs(60)).await;
    assert_eq!(app.count(&queued("succeeded")).await, 1);
    let (status, body) = get_json(&app, "/github/graph/", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(statistics_of(&body), exact_statistics(&app).await);
    let during_the_task = app
        .count(&format!(
            "SELECT count(*) AS n FROM tasks WHERE name = 'graph_snapshot'
               AND '{}'::timestamptz BETWEEN started_at AND finished_at",
            body["computed_at"].as_str().expect("computed_at")
        ))
        .await;
    assert_eq!(
        during_the_task, 1,
        "computed_at falls within the task's run: {body}"
    );

    // The same numbers against the generated world (an independent computation in Rust).
    let n = world.logins.len() as i64;
    let synced = (0..n).filter(|g| g % 3 == 0).count() as i64;
    assert_eq!(body["developers"], n);
    assert_eq!(body["synced"], synced);
    assert_eq!(body["frontier"], n - synced);
    assert_eq!(body["follow_edges"], world.edges.len() as i64);
    assert_eq!(body["stars"], world.stars.len() as i64);
    assert_eq!(body["repositories"], world.repositories.len() as i64);
    let buckets = |degree: &dyn Fn(usize) -> usize| {
        let mut counts = BTreeMap::new();
        for a in 0..world.logins.len() {
            let label = match degree(a) {
                0 => "0",
                1 => "1",
                2..=4 => "2-4",
                5..=9 => "5-9",
                10..=99 => "10-99",
                100..=999 => "100-999",
                _ => "1000+",
            };
            *counts.entry(label.to_owned()).or_insert(0_i64) += 1;
        }
        counts
    };
    let histogram = |value: &Value| -> BTreeMap<String, i64> {
        value
            .as_array()
            .expect("a histogram")
            .iter()
            .map(|b| {
                (
                    b["bucket"].as_str().expect("bucket").to_owned(),
                    b["developers"].as_i64().expect("n"),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    };
    assert_eq!(
        histogram(&body["followers_histogram"]),
        buckets(&|a| world.followers(a).len())
    );
    assert_eq!(
        histogram(&body["following_histogram"]),
        buckets(&|a| world.following(a).len())
    );
    let labels: Vec<&str> = body["followers_histogram"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["bucket"].as_str().expect("bucket"))
        .collect();
    assert_eq!(
        labels,
        ["0", "1", "2-4", "5-9", "10-99", "100-999", "1000+"]
    );
    // The ten most followed: the ten largest in-degrees, each as stored.
    let mut degrees: Vec<usize> = (0..world.logins.len())
        .map(|a| world.followers(a).len())
        .collect();
    degrees.sort_unstable_by(|a, b| b.cmp(a));
    let top = body["most_followed"].as_array().expect("most followed");
    let got: Vec<usize> = top
        .iter()
        .map(|d| d["followers"].as_u64().expect("n") as usize)
        .collect();
    assert_eq!(got, degrees[..10]);
    for developer in top {
        let a = world.index_of_url(developer["url"].as_str().expect("url"));
        assert_eq!(developer["login"], world.logins[a]);
        assert_eq!(developer["followers"], world.followers(a).len());
    }
    let (status, _) = get_json(&app, "/github/graph/", &[("page", "2")]).await;
    assert_eq!(status, 400);

    // The graph grows and changes: new developers following the hubs (a new most
    // followed), some unfollows, a new repository and stars.
    seed::execute(
        &app,
        "INSERT INTO developers (github_id, login, last_synced_at)
         SELECT 5000 + g, 'late-' || g, CASE WHEN g % 2 = 0 THEN now() END
         FROM generate_series(1, 60) g",
    )
    .await;
    seed::execute(
        &app,
        "INSERT INTO follows (follower_id, followee_id)
         SELECT a.id, b.id FROM developers a JOIN developers b
           ON b.login IN ('dev-299', 'dev-298', 'late-1')
         WHERE a.login LIKE 'late-%' AND a.id <> b.id",
    )
    .await;
    seed::execute(
        &app,
        "DELETE FROM follows WHERE follower_id IN (SELECT id FROM developers WHERE github_id % 5 = 0 AND github_id < 300)",
    )
    .await;
    seed::execute(
        &app,
        "INSERT INTO repositories (github_id, owner_id, owner_github_id, name, full_name)
         SELECT 2000000, id, github_id, 'late-tool', login || '/late-tool' FROM developers WHERE login = 'late-1'",
    )
    .await;
    seed::execute(
        &app,
        "INSERT INTO stars (developer_id, repository_id)
         SELECT d.id, r.id FROM developers d, repositories r
         WHERE d.login LIKE 'late-%' AND r.github_id = 2000000",
    )
    .await;
    let changed = exact_statistics(&app).await;
    assert_ne!(
        changed,
        statistics_of(&body),
        "the change shows in the counts"
    );

    // The page still shows the snapshot (it never counts by itself) until the job runs
    // again; then it shows the new numbers, taken later.
    let (_, unchanged) = get_json(&app, "/github/graph/", &[]).await;
    assert_eq!(unchanged, body);
    let token = seed::token(&app).await;
    let second = app.run_posted_job(&token, "graph_snapshot").await;
    let (status, refreshed) = get_json(&app, "/github/graph/", &[]).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(statistics_of(&refreshed), changed);
    assert!(computed_at(&refreshed) > computed_at(&body), "{refreshed}");
    assert!(
        second.started_at.expect("started") <= computed_at(&refreshed)
            && computed_at(&refreshed) <= second.finished_at.expect("finished"),
        "{refreshed} {second:?}"
    );
    assert_ne!(refreshed["most_followed"], body["most_followed"]);
}

#[tokio::test]
async fn stored_edge_counts_and_the_default_order_follow_every_change() {
    let app = spawn_app().await;
    let world = world(&app, 200).await;
    // Unfollow some, follow others, learn creation dates late: the triggers keep up.
    seed::execute(
        &app,
        "DELETE FROM follows WHERE follower_id IN (SELECT id FROM developers WHERE github_id % 4 = 0)",
    )
    .await;
    seed::execute(
        &app,
        "INSERT INTO follows (follower_id, followee_id)
         SELECT a.id, b.id FROM developers a JOIN developers b ON b.github_id = 1
         WHERE a.github_id % 4 = 0 AND a.github_id <> 1",
    )
    .await;
    seed::execute(
        &app,
        "UPDATE developers SET created_at = timestamptz '2020-05-05' + (github_id || ' minutes')::interval
         WHERE created_at IS NULL",
    )
    .await;
    let drift = app
        .count(
            "SELECT count(*) AS n FROM developers d WHERE
               stored_followers <> (SELECT count(*) FROM follows WHERE followee_id = d.id)
            OR stored_following <> (SELECT count(*) FROM follows WHERE follower_id = d.id)",
        )
        .await;
    assert_eq!(drift, 0, "stored counts drifted from the edges");
    let stale = app
        .count(
            "SELECT count(*) AS n FROM follows f JOIN developers a ON a.id = f.follower_id
             JOIN developers b ON b.id = f.followee_id
             WHERE f.follower_created_at IS DISTINCT FROM a.created_at
                OR f.followee_created_at IS DISTINCT FROM b.created_at",
        )
        .await;
    assert_eq!(stale, 0, "edges carry stale creation dates");
    // The followers of the most followed, in the default order, equal the same list
    // ordered by the generic path (a filter that keeps everyone forces it).
    let hub = world.ids[0];
    let followers = format!("/github/developers/{hub}/followers/");
    let (count, fast) = all_results(&app, &followers).await;
    let expected = app
        .count(&format!(
            "SELECT count(*) AS n FROM follows WHERE followee_id = '{hub}'"
        ))
        .await;
    assert_eq!(count, expected);
    assert_eq!(fast.len() as i64, expected);
    let (status, generic) = get_json(
        &app,
        &followers,
        &[("page_size", "100"), ("github_id__gte", "0")],
    )
    .await;
    assert_eq!(status, 200);
    let logins = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .map(|r| r["login"].as_str().expect("login").to_owned())
            .collect()
    };
    assert_eq!(
        logins(&fast)[..seed::results(&generic).len()],
        logins(seed::results(&generic))[..]
    );
    let dates: Vec<&str> = fast
        .iter()
        .filter_map(|r| r["created_at"].as_str())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest accounts first");
    // A deep page on its own is the same slice.
    let (status, page3) = get_json(&app, &followers, &[("page", "3"), ("page_size", "7")]).await;
    assert_eq!(status, 200);
    assert_eq!(
        logins(seed::results(&page3)),
        logins(&fast[14..21.min(fast.len())])
    );
}

/// Parses a GraphML document into (node id → name) and edges (source id, target id).
fn parse_graphml(text: &str) -> (HashMap<String, String>, Vec<(String, String)>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut names = HashMap::new();
    let mut edges = Vec::new();
    let mut node: Option<String> = None;
    let mut in_name = false;
    let attribute = |element: &quick_xml::events::BytesStart, name: &str| -> Option<String> {
        element
            .attributes()
            .filter_map(Result::ok)
            .find(|a| a.key.0 == name)
            .map(|a| a.value.into_owned())
    };
    loop {
        match reader.read_event().expect("well-formed GraphML") {
            Event::Start(element) if element.name().0 == "node" => {
                node = attribute(&element, "id");
            }
            Event::Start(element) if element.name().0 == "data" => {
                in_name = attribute(&element, "key").as_deref() == Some("name");
            }
            Event::Text(text) if in_name => {
                // Test names hold no entity references: the text is the whole name.
                let name = text.xml10_content().into_owned();
                names.insert(node.clone().expect("data inside a node"), name);
            }
            Event::End(element) if element.name().0 == "data" => in_name = false,
            Event::Empty(element) if element.name().0 == "edge" => {
                edges.push((
                    attribute(&element, "source").expect("source"),
                    attribute(&element, "target").expect("target"),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (names, edges)
}

#[tokio::test]
async fn the_three_export_formats_hold_exactly_the_stored_edges() {
    let app = spawn_app().await;
    let world = world(&app, 300).await;
    let follows: BTreeSet<(String, String)> = world
        .edges
        .iter()
        .map(|(a, b)| (world.logins[*a].clone(), world.logins[*b].clone()))
        .collect();
    let stars: BTreeSet<(String, String)> = world
        .stars
        .iter()
        .map(|(d, r)| (world.logins[*d].clone(), world.repositories[*r].clone()))
        .collect();
    for (relation, expected) in [("follows", &follows), ("stars", &stars)] {
        for format in ["jsonl", "csv", "graphml"] {
            let response = app
                .http
                .get(format!("{}/github/graph/export/", app.address))
                .query(&[("format", format), ("relation", relation)])
                .send()
                .await
                .expect("export");
            assert_eq!(response.status(), 200, "{format} {relation}");
            let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
                .to_str()
                .expect("ascii")
                .to_owned();
            let text = response.text().await.expect("a body");
            let got: Vec<(String, String)> = match format {
                "jsonl" => {
                    assert_eq!(content_type, "application/x-ndjson");
                    text.lines()
                        .map(|line| {
                            let edge: Value = serde_json::from_str(line).expect("a JSON line");
                            (
                                edge["source"].as_str().expect("source").to_owned(),
                                edge["target"].as_str().expect("target").to_owned(),
                            )
                        })
                        .collect()
                }
                "csv" => {
                    assert!(content_type.starts_with("text/csv"), "{content_type}");
                    let mut lines = text.lines();
                    assert_eq!(lines.next(), Some("source,target"));
                    lines
                        .map(|line| {
                            let (source, target) = line.split_once(',').expect("two columns");
                            (source.to_owned(), target.to_owned())
                        })
                        .collect()
                }
                _ => {
                    assert_eq!(content_type, "application/graphml+xml");
                    let (names, edges) = parse_graphml(&text);
                    // Every developer is a node; stars add the repositories.
                    let developers = names.keys().filter(|id| id.starts_with('d')).count();
                    assert_eq!(developers, world.logins.len());
                    if relation == "stars" {
                        let repositories = names.keys().filter(|id| id.starts_with('r')).count();
                        assert_eq!(repositories, world.repositories.len());
                    }
                    edges
                        .into_iter()
                        .map(|(s, t)| (names[&s].clone(), names[&t].clone()))
                        .collect()
                }
            };
            assert_eq!(
                got.len(),
                expected.len(),
                "{format} {relation}: no edge twice"
            );
            let got: BTreeSet<(String, String)> = got.into_iter().collect();
            assert_eq!(&got, expected, "{format} {relation}");
        }
    }
    for (key, value) in [("format", "xml"), ("relation", "likes"), ("page", "1")] {
        let (status, body) = get_json(&app, "/github/graph/export/", &[(key, value)]).await;
        assert_eq!(status, 400, "{key}={value}: {body}");
        assert!(seed::error(&body).contains(key), "{body}");
    }
}

#[tokio::test]
async fn a_request_past_the_statement_timeout_answers_503_and_the_workers_pool_is_unaffected() {
    let mut app = spawn_app_with(|env| {
        env.insert("WEB_STATEMENT_TIMEOUT_MS".into(), "1".into());
    })
    .await;
    // Enough rows that counting a broad filter takes well over a millisecond.
    seed::execute(
        &app,
        "INSERT INTO developers (github_id, login) SELECT g, 'dev-' || g FROM generate_series(1, 200000) g",
    )
    .await;
    let (status, body) = get_json(
        &app,
        "/github/developers/",
        &[("login__contains", "dev-1"), ("ordering", "-github_id")],
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(seed::error(&body).contains("statement timeout"), "{body}");
    // The graph's statistics, a known full pass over developers, are counted by the
    // graph_snapshot job on the process's other pool (workers, scheduler), which has no
    // statement timeout; the page only reads what the job stored.
    app.start_worker();
    let task = app.enqueue(GraphSnapshot::default()).await;
    let done = app.wait_for_task(task.id, Duration::from_secs(120)).await;
    assert_eq!(done.status, "succeeded", "{done:?}");
    let mut conn = app.ctx.conn().await.expect("a connection");
    let stored = gitomatic::db::queries::graph_snapshot::latest(&mut conn)
        .await
        .expect("the snapshot")
        .expect("stored");
    assert_eq!(stored.developers, 200_000);
}

/// The peak resident memory of a process, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn the_real_binary_exports_a_large_relation_in_bounded_memory() {
    let db = TestDb::new().await;
    let mut conn = db.connect().await;
    // 3,000 developers each following 200: 600,000 edges, ~25 MB of GraphML.
    diesel::sql_query(
        "INSERT INTO developers (github_id, login) SELECT g, 'developer-' || g FROM generate_series(1, 3000) g",
    )
    .execute(&mut conn)
    .await
    .expect("developers");
    diesel::sql_query(
        "INSERT INTO follows (follower_id, followee_id)
         SELECT a.id, b.id FROM developers a
         JOIN generate_series(1, 200) k ON true
         JOIN developers b ON b.github_id = 1 + (a.github_id + k * 13) % 3000
         WHERE a.id <> b.id ON CONFLICT DO NOTHING",
    )
    .execute(&mut conn)
    .await
    .expect("follows");
    let edges = db.count("SELECT count(*) AS n FROM follows").await;
    assert!(edges > 500_000, "{edges}");

    let web = WebProcess::start(test_env(&db)).await;
    let pid = web.child.id();
    let base = web.base.clone();
    let http = reqwest::Client::new();
    let export = format!("{base}/github/graph/export/?format=graphml");
    // Warm up: the pool, the first batches, the allocator's arenas.
    let warm = http
        .get(format!(
            "{base}/github/graph/export/?format=jsonl&relation=stars"
        ))
        .send()
        .await
        .expect("warm");
    assert_eq!(warm.status(), 200);
    warm.bytes().await.expect("warm body");
    let before = peak_rss_kib(pid);

    let mut response = http.get(&export).send().await.expect("export");
    assert_eq!(response.status(), 200);
    assert!(
        response.content_length().is_none(),
        "streamed, not sized up front"
    );
    let (mut bytes, mut edge_lines) = (0_usize, 0_usize);
    let mut carry = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        bytes += chunk.len();
        carry.extend_from_slice(&chunk);
        let end = carry.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        edge_lines += carry[..end]
            .split(|b| *b == b'\n')
            .filter(|line| line.starts_with(b"    <edge "))
            .count();
        carry.drain(..end);
        // A slow reader: the server must wait, not buffer.
        if bytes % (8 << 20) < chunk.len() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let growth_kib = peak_rss_kib(pid).saturating_sub(before);
    drop(web);
    assert_eq!(edge_lines as i64, edges, "every edge exported once");
    eprintln!("exported {bytes} bytes; peak memory grew by {growth_kib} KiB");
    assert!(bytes > 20 << 20, "a large export: {bytes} bytes");
    // Held whole, the body alone would grow the peak by its size.
    assert!(
        growth_kib < 8 * 1024,
        "exporting {bytes} bytes grew the server's peak memory by {growth_kib} KiB"
    );
    drop(conn);
}

#[tokio::test]
async fn a_page_of_listed_developers_and_an_edge_write_lock_shared_rows_in_one_order() {
    // The crawl's multi-row writers of `developers`: a page's upsert of listed developers
    // (in GitHub id order) and the stored edge counts' trigger of an edge write. P has the
    // lower GitHub id and the higher row id, Q the other way round.
    let app = spawn_app().await;
    let p = Uuid::parse_str("ffffffff-ffff-4fff-bfff-ffffffffffff").expect("a uuid");
    let q = Uuid::parse_str("00000000-0000-4000-8000-000000000001").expect("a uuid");
    seed::execute(
        &app,
        &format!(
            "INSERT INTO developers (id, github_id, login) VALUES ('{p}', 1, 'p'), ('{q}', 2, 'q')"
        ),
    )
    .await;

    // A third transaction holds Q while the edge write (Q follows P) and then the page
    // (listing P and Q) start: each waits for the row the other would need. Taken in two
    // orders, the edge write held Q and waited for P while the page held P and waited for
    // Q, and PostgreSQL killed one of them as a deadlock's victim.
    use diesel_async::{AnsiTransactionManager, TransactionManager};
    let mut holder = app.db.connect().await;
    AnsiTransactionManager::begin_transaction(&mut holder)
        .await
        .expect("begin");
    diesel::sql_query("SELECT 1 FROM developers WHERE id = $1 FOR NO KEY UPDATE")
        .bind::<diesel::sql_types::Uuid, _>(q)
        .execute(&mut holder)
        .await
        .expect("hold Q");
    let mut edge_conn = app.db.connect().await;
    let edge = tokio::spawn(async move {
        diesel::sql_query("INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)")
            .bind::<diesel::sql_types::Uuid, _>(q)
            .bind::<diesel::sql_types::Uuid, _>(p)
            .execute(&mut edge_conn)
            .await
    });
    app.wait_for_lock_wait("the edge write waiting for a row", "INSERT INTO follows%")
        .await;
    let mut page_conn = app.db.connect().await;
    let page = tokio::spawn(async move {
        use gitomatic::db::queries::developers::{NewListedDeveloper, upsert_listed};
        let listed = |github_id, login| NewListedDeveloper {
            github_id,
            login,
            avatar_url: None,
            html_url: None,
        };
        upsert_listed(&mut page_conn, &[listed(2, "q"), listed(1, "p")]).await
    });
    app.wait_for_lock_wait(
        "the page's upsert waiting for a row",
        "INSERT INTO \"developers\"%",
    )
    .await;
    AnsiTransactionManager::rollback_transaction(&mut holder)
        .await
        .expect("release Q");

    edge.await
        .expect("the edge task")
        .expect("the edge write is no deadlock's victim");
    let ids = page
        .await
        .expect("the page task")
        .expect("the page's upsert is no deadlock's victim");
    assert_eq!(ids, HashMap::from([(1, p), (2, q)]));
    assert_eq!(
        app.count(&format!(
            "SELECT (stored_followers * 10 + stored_following)::bigint AS n FROM developers WHERE id = '{p}'"
        ))
        .await,
        10,
        "P has one follower"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT (stored_followers * 10 + stored_following)::bigint AS n FROM developers WHERE id = '{q}'"
        ))
        .await,
        1,
        "Q follows one"
    );
}
