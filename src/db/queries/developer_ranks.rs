//! Queries on `developer_ranks` and `developer_rank_run`: the follow rank's bulk read of
//! the stored graph and its bulk write of the ranks.
//!
//! diesel-async has no `COPY`, so the `developer_rank` job opens one tokio-postgres
//! connection of its own (the client diesel-async itself runs on) and moves the graph in
//! PostgreSQL's binary COPY format: the developers (id, login, synced) in id order, then
//! every follow edge, in one REPEATABLE READ snapshot; the ranks go back the same way, in
//! the transaction that also records the run. A run killed at any point before that
//! commit leaves the previous ranks in place.

use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::BytesMut;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::binary_copy::{BinaryCopyInWriter, BinaryCopyOutStream};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, IsolationLevel, NoTls};

use crate::db::DbError;
use crate::db::schema::developer_rank_run;
use crate::graph::rank::Logins;

/// The last committed run: when, and what it covered.
#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = developer_rank_run)]
pub struct RankRun {
    /// When the run's ranks were committed.
    pub computed_at: DateTime<Utc>,
    /// Developers ranked (every stored developer, frontier ones included).
    pub developers: i64,
    /// Of those, developers whose profile sync completed at least once.
    pub synced: i64,
    /// Follow edges the run read.
    pub follow_edges: i64,
    /// Developers following no one stored.
    pub dangling: i64,
    /// PageRank iterations made.
    pub iterations: i32,
    /// The L1 change of the last iteration.
    pub l1_change: f64,
    /// How long the run took, reading and writing included, in milliseconds.
    pub duration_ms: i64,
}

/// The last committed run, if the job ever ran (one row; cheap enough for every request).
pub async fn latest_run(conn: &mut AsyncPgConnection) -> Result<Option<RankRun>, DbError> {
    Ok(developer_rank_run::table
        .find(true)
        .select(RankRun::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// A developer id as its 16 bytes, read as a big-endian number: PostgreSQL orders `uuid`
/// by its bytes, so this orders the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawId(pub u128);

impl<'a> FromSql<'a> for RawId {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        let bytes: [u8; 16] = raw.try_into()?;
        Ok(RawId(u128::from_be_bytes(bytes)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }
}

impl ToSql for RawId {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.extend_from_slice(&self.0.to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }

    to_sql_checked!();
}

/// One connection for the job's COPY streams, closed when dropped.
pub struct CopyConnection {
    client: Client,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for CopyConnection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> Self {
        DbError::Copy(error)
    }
}

/// Opens the job's connection.
pub async fn connect(database_url: &str) -> Result<CopyConnection, DbError> {
    let (client, connection) = tokio_postgres::connect(database_url, NoTls).await?;
    let driver = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "developer_rank: the COPY connection ended with an error");
        }
    });
    Ok(CopyConnection { client, driver })
}

/// The stored follow graph, numbered: developer `n` is `ids[n]` (ascending ids).
#[derive(Debug, Default)]
pub struct StoredGraph {
    /// Every stored developer's id, ascending; a node's number is its index.
    pub ids: Vec<RawId>,
    /// Their logins, by node.
    pub logins: Logins,
    /// Developers synced at least once.
    pub synced: u64,
    /// The follow edges, `(follower, followee)` by node number.
    pub edges: Vec<(u32, u32)>,
}

/// Reads every developer (id, login, synced) in id order and every follow edge, in one
/// read-only REPEATABLE READ transaction (so every edge's ends are among the developers
/// read), through binary COPY.
pub async fn read_graph(conn: &mut CopyConnection) -> Result<StoredGraph, DbError> {
    let transaction = conn
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let mut graph = StoredGraph::default();
    let developers = transaction
        .copy_out(
            "COPY (SELECT id, login, last_synced_at IS NOT NULL FROM developers ORDER BY id) \
             TO STDOUT (FORMAT binary)",
        )
        .await?;
    let rows = BinaryCopyOutStream::new(developers, &[Type::UUID, Type::TEXT, Type::BOOL]);
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        graph.ids.push(row.try_get::<RawId>(0)?);
        graph.logins.push(row.try_get::<&str>(1)?);
        if row.try_get::<bool>(2)? {
            graph.synced += 1;
        }
    }
    if graph.ids.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(DbError::Inconsistent(
            "developers did not come in ascending id order".to_owned(),
        ));
    }
    let number: HashMap<RawId, u32> = graph
        .ids
        .iter()
        .enumerate()
        .map(|(n, id)| (*id, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect();
    let follows = transaction
        .copy_out("COPY follows (follower_id, followee_id) TO STDOUT (FORMAT binary)")
        .await?;
    let rows = BinaryCopyOutStream::new(follows, &[Type::UUID, Type::UUID]);
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        let (follower, followee) = (row.try_get::<RawId>(0)?, row.try_get::<RawId>(1)?);
        match (number.get(&follower), number.get(&followee)) {
            (Some(&from), Some(&to)) => graph.edges.push((from, to)),
            _ => {
                return Err(DbError::Inconsistent(format!(
                    "a follow edge names a developer the same snapshot does not hold: {:032x} -> {:032x}",
                    follower.0, followee.0
                )));
            }
        }
    }
    transaction.commit().await?;
    Ok(graph)
}

/// A run's results, by node, and what it covered.
pub struct NewRanks<'a> {
    pub ids: &'a [RawId],
    pub ranks: &'a [u32],
    pub scores: &'a [f64],
    pub synced: u64,
    pub follow_edges: u64,
    pub dangling: u64,
    pub iterations: u32,
    pub l1_change: f64,
    /// Milliseconds spent reading and computing (the write's own time is added to it).
    pub duration_ms: i64,
}

/// Replaces every stored rank with the run's, in one transaction: the previous ranks are
/// deleted, the new ones copied in (binary COPY, in rank order), the run recorded; then
/// `before_commit` (a test's injected failure: an error rolls everything back), then the
/// commit, then `ANALYZE`. Readers see the previous ranks until the commit, and all the new
/// ones after it. Returns when the run committed (`rank_computed_at`).
pub async fn store<E>(
    conn: &mut CopyConnection,
    ranks: &NewRanks<'_>,
    before_commit: impl FnOnce() -> Result<(), E>,
) -> Result<Result<DateTime<Utc>, E>, DbError> {
    let transaction = conn.client.transaction().await?;
    transaction
        .batch_execute("DELETE FROM developer_ranks")
        .await?;
    let sink = transaction
        .copy_in("COPY developer_ranks (developer_id, rank, rank_score) FROM STDIN (FORMAT binary)")
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::UUID, Type::INT4, Type::FLOAT8]);
    pin_mut!(writer);
    let mut by_rank: Vec<usize> = (0..ranks.ids.len()).collect();
    by_rank.sort_unstable_by_key(|&v| ranks.ranks[v]);
    for v in by_rank {
        let rank = i32::try_from(ranks.ranks[v])
            .map_err(|_| DbError::Inconsistent("a rank beyond 32 bits".to_owned()))?;
        writer
            .as_mut()
            .write(&[&ranks.ids[v], &rank, &ranks.scores[v]])
            .await?;
    }
    writer.finish().await?;
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let developers = count(ranks.ids.len() as u64);
    let row = transaction
        .query_one(
            "INSERT INTO developer_rank_run (id, computed_at, developers, synced, follow_edges,
                 dangling, iterations, l1_change, duration_ms)
             VALUES (true, clock_timestamp(), $1, $2, $3, $4, $5, $6,
                 $7 + (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)
             ON CONFLICT (id) DO UPDATE SET computed_at = EXCLUDED.computed_at,
                 developers = EXCLUDED.developers, synced = EXCLUDED.synced,
                 follow_edges = EXCLUDED.follow_edges, dangling = EXCLUDED.dangling,
                 iterations = EXCLUDED.iterations, l1_change = EXCLUDED.l1_change,
                 duration_ms = EXCLUDED.duration_ms
             RETURNING extract(epoch FROM computed_at)::float8",
            &[
                &developers,
                &count(ranks.synced),
                &count(ranks.follow_edges),
                &count(ranks.dangling),
                &i32::try_from(ranks.iterations).unwrap_or(i32::MAX),
                &ranks.l1_change,
                &ranks.duration_ms,
            ],
        )
        .await?;
    let epoch: f64 = row.try_get(0)?;
    if let Err(error) = before_commit() {
        transaction.rollback().await?;
        return Ok(Err(error));
    }
    transaction.commit().await?;
    // Every row was replaced: the planner's statistics must describe the new ranks (left
    // to autovacuum, `rank__lte=1000` is planned for a third of the table for a minute).
    // The ranks are committed whatever happens to it.
    if let Err(error) = conn.client.batch_execute("ANALYZE developer_ranks").await {
        tracing::warn!(%error, "developer_rank: ANALYZE developer_ranks failed");
    }
    let micros = (epoch * 1e6).round() as i64;
    let computed_at = DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| DbError::Inconsistent(format!("computed_at {epoch} out of range")))?;
    Ok(Ok(computed_at))
}
