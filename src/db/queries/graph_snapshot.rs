//! Queries on `graph_snapshot`: the graph's statistics as the `graph_snapshot` job last
//! computed them. `GET /github/graph/` reads this one row and never passes over
//! `developers` (which takes seconds at a million developers).

use std::time::Instant;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::query_dsl::methods::FilterDsl;
use diesel::sql_types::Timestamptz;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::db::DbError;
use crate::db::queries::graph::{self, DEGREE_BUCKETS};
use crate::db::schema::graph_snapshot;

/// Developers listed as the most followed.
pub const MOST_FOLLOWED: i64 = 10;

/// One bucket of a degree histogram: its label (see [`DEGREE_BUCKETS`]) and how many
/// developers it held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub bucket: String,
    pub developers: i64,
}

/// A developer among the most followed, as it was when the snapshot was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranked {
    pub id: Uuid,
    pub login: String,
    pub followers: i64,
}

/// The graph's statistics at `computed_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// When the counting read the graph (the start of its transaction).
    pub computed_at: DateTime<Utc>,
    pub developers: i64,
    pub synced: i64,
    pub follow_edges: i64,
    pub stars: i64,
    pub repositories: i64,
    /// Developers by stored followers, in [`DEGREE_BUCKETS`] order.
    pub followers_histogram: Vec<Bucket>,
    /// Developers by stored following, in [`DEGREE_BUCKETS`] order.
    pub following_histogram: Vec<Bucket>,
    /// The [`MOST_FOLLOWED`] developers with the most stored followers, then by id.
    pub most_followed: Vec<Ranked>,
    /// How long the computation took, in milliseconds.
    pub duration_ms: i64,
}

/// The stored row; the histograms and the ranking are JSON arrays.
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = graph_snapshot)]
struct Row {
    computed_at: DateTime<Utc>,
    developers: i64,
    synced: i64,
    follow_edges: i64,
    stars: i64,
    repositories: i64,
    followers_histogram: Value,
    following_histogram: Value,
    most_followed: Value,
    duration_ms: i64,
}

impl Row {
    fn of(snapshot: &Snapshot) -> Result<Self, DbError> {
        Ok(Self {
            computed_at: snapshot.computed_at,
            developers: snapshot.developers,
            synced: snapshot.synced,
            follow_edges: snapshot.follow_edges,
            stars: snapshot.stars,
            repositories: snapshot.repositories,
            followers_histogram: to_json(&snapshot.followers_histogram)?,
            following_histogram: to_json(&snapshot.following_histogram)?,
            most_followed: to_json(&snapshot.most_followed)?,
            duration_ms: snapshot.duration_ms,
        })
    }

    fn into_snapshot(self) -> Result<Snapshot, DbError> {
        Ok(Snapshot {
            computed_at: self.computed_at,
            developers: self.developers,
            synced: self.synced,
            follow_edges: self.follow_edges,
            stars: self.stars,
            repositories: self.repositories,
            followers_histogram: from_json("followers_histogram", self.followers_histogram)?,
            following_histogram: from_json("following_histogram", self.following_histogram)?,
            most_followed: from_json("most_followed", self.most_followed)?,
            duration_ms: self.duration_ms,
        })
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Value, DbError> {
    serde_json::to_value(value)
        .map_err(|error| DbError::Query(diesel::result::Error::SerializationError(Box::new(error))))
}

/// A stored JSON column read back; a row that does not parse was written by hand or by
/// another version.
fn from_json<T: for<'de> Deserialize<'de>>(column: &str, value: Value) -> Result<T, DbError> {
    serde_json::from_value(value).map_err(|error| {
        DbError::Inconsistent(format!(
            "graph_snapshot.{column} is not what gitomatic stores: {error}"
        ))
    })
}

/// Computes the graph's statistics: the counts and histograms (one pass over `developers`,
/// whose stored edge counts the triggers keep, and the sizes of `repositories` and
/// `stars`) and the most followed (an index walk), in one REPEATABLE READ transaction so
/// that all of them describe the same moment, `computed_at`.
pub async fn compute(conn: &mut AsyncPgConnection) -> Result<Snapshot, DbError> {
    let started = Instant::now();
    let (computed_at, counts, top) = conn
        .build_transaction()
        .repeatable_read()
        .read_only()
        .run::<_, DbError, _>(async |conn| {
            let computed_at: DateTime<Utc> =
                diesel::select(diesel::dsl::sql::<Timestamptz>("now()"))
                    .get_result(conn)
                    .await?;
            let counts = graph::counts(conn).await?;
            let top = graph::most_followed(conn, MOST_FOLLOWED).await?;
            Ok((computed_at, counts, top))
        })
        .await?;
    let histogram = |counts: &[i64]| -> Vec<Bucket> {
        DEGREE_BUCKETS
            .iter()
            .zip(counts)
            .map(|((label, _, _), developers)| Bucket {
                bucket: (*label).to_owned(),
                developers: *developers,
            })
            .collect()
    };
    Ok(Snapshot {
        computed_at,
        developers: counts.developers,
        synced: counts.synced,
        follow_edges: counts.follow_edges,
        stars: counts.stars,
        repositories: counts.repositories,
        followers_histogram: histogram(&counts.followers_histogram),
        following_histogram: histogram(&counts.following_histogram),
        most_followed: top
            .into_iter()
            .map(|developer| Ranked {
                id: developer.id,
                login: developer.login,
                followers: developer.followers,
            })
            .collect(),
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    })
}

/// Stores a snapshot as the latest, unless the stored one was computed later (two
/// computations that overlapped: the newer reading wins whichever finishes last).
/// Returns whether it was stored.
pub async fn store(conn: &mut AsyncPgConnection, snapshot: &Snapshot) -> Result<bool, DbError> {
    let row = Row::of(snapshot)?;
    let stored = diesel::insert_into(graph_snapshot::table)
        .values(&row)
        .on_conflict(graph_snapshot::id)
        .do_update()
        .set(&row)
        .filter(graph_snapshot::computed_at.le(excluded(graph_snapshot::computed_at)))
        .execute(conn)
        .await?;
    Ok(stored > 0)
}

/// Computes the statistics and stores them as the latest snapshot (what the
/// `graph_snapshot` job runs).
pub async fn refresh(conn: &mut AsyncPgConnection) -> Result<Snapshot, DbError> {
    let snapshot = compute(conn).await?;
    store(conn, &snapshot).await?;
    Ok(snapshot)
}

/// The latest snapshot, if one was ever taken: one row by primary key.
pub async fn latest(conn: &mut AsyncPgConnection) -> Result<Option<Snapshot>, DbError> {
    graph_snapshot::table
        .find(true)
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Row::into_snapshot)
        .transpose()
}
