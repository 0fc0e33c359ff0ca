//! What the database holds of the crawl, in GitHub ids, to compare with the fake's graph.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::{Graph, TestApp};

/// Developers, follow edges, repositories and stars, keyed by GitHub ids.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// github_id → login
    pub developers: BTreeMap<i64, String>,
    /// (follower, followee)
    pub follows: BTreeSet<(i64, i64)>,
    /// github_id → (owner github_id, full_name)
    pub repositories: BTreeMap<i64, (i64, String)>,
    /// (developer, repository)
    pub stars: BTreeSet<(i64, i64)>,
}

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    a: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    b: i64,
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    owner: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

impl Snapshot {
    /// What the database holds (gone rows excluded).
    pub async fn of_database(app: &TestApp) -> Snapshot {
        let mut conn = app.db.connect().await;
        let developers: Vec<Named> = diesel::sql_query(
            "SELECT github_id AS id, 0::bigint AS owner, login AS name FROM developers WHERE gone_at IS NULL",
        )
        .load(&mut conn)
        .await
        .expect("developers");
        let follows: Vec<Pair> = diesel::sql_query(
            "SELECT a.github_id AS a, b.github_id AS b FROM follows f
             JOIN developers a ON a.id = f.follower_id JOIN developers b ON b.id = f.followee_id",
        )
        .load(&mut conn)
        .await
        .expect("follows");
        let repositories: Vec<Named> = diesel::sql_query(
            "SELECT github_id AS id, owner_github_id AS owner, full_name AS name
             FROM repositories WHERE gone_at IS NULL",
        )
        .load(&mut conn)
        .await
        .expect("repositories");
        let stars: Vec<Pair> = diesel::sql_query(
            "SELECT d.github_id AS a, r.github_id AS b FROM stars s
             JOIN developers d ON d.id = s.developer_id JOIN repositories r ON r.id = s.repository_id",
        )
        .load(&mut conn)
        .await
        .expect("stars");
        Snapshot {
            developers: developers.into_iter().map(|d| (d.id, d.name)).collect(),
            follows: follows.into_iter().map(|p| (p.a, p.b)).collect(),
            repositories: repositories
                .into_iter()
                .map(|r| (r.id, (r.owner, r.name)))
                .collect(),
            stars: stars.into_iter().map(|p| (p.a, p.b)).collect(),
        }
    }

    /// The whole graph the fake serves.
    pub fn of_graph(graph: &Graph) -> Snapshot {
        Snapshot {
            developers: graph
                .users
                .values()
                .map(|u| (u.id, u.login.clone()))
                .collect(),
            follows: graph.follows.clone(),
            repositories: graph
                .repos
                .values()
                .map(|r| (r.id, (r.owner_id, graph.full_name(r.id))))
                .collect(),
            stars: graph.stars.clone(),
        }
    }
}
