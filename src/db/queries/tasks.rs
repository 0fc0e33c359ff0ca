//! Queries on `tasks`: the record of every triggered job and its state machine.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Interval, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use uuid::Uuid;

use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page};
use crate::db::schema::tasks;
use crate::db::{DbError, Pool, pg_interval};

/// A task run.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, QueryableByName, Serialize)]
#[diesel(table_name = tasks)]
pub struct TaskRow {
    pub id: Uuid,
    pub name: String,
    pub username: Option<String>,
    pub repo_name: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub not_before: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub github_requests: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
}

/// Task statuses, as stored.
pub mod status {
    /// Waiting for a worker.
    pub const QUEUED: &str = "queued";
    /// A worker runs it.
    pub const RUNNING: &str = "running";
    /// Waiting for the GitHub quota to reset (`not_before`).
    pub const DEFERRED: &str = "deferred";
    /// Finished well.
    pub const SUCCEEDED: &str = "succeeded";
    /// Finished with an error (see `error`).
    pub const FAILED: &str = "failed";
}

impl TaskRow {
    /// Whether the task finished, one way or the other.
    pub fn is_terminal(&self) -> bool {
        self.status == status::SUCCEEDED || self.status == status::FAILED
    }
}

/// Inserts a queued task, or returns the identical one already queued, running or
/// deferred (`created` false). The partial unique index makes this race-free.
pub async fn insert_or_existing(
    pool: &Pool,
    name: &str,
    username: Option<&str>,
    repo_name: Option<&str>,
) -> Result<(TaskRow, bool), DbError> {
    let mut conn = pool.get().await?;
    loop {
        let inserted = diesel::sql_query(
            "INSERT INTO tasks (name, username, repo_name) VALUES ($1, $2, $3)
             ON CONFLICT (name, lower(coalesce(username, '')), lower(coalesce(repo_name, '')))
                 WHERE status IN ('queued', 'running', 'deferred')
             DO NOTHING
             RETURNING *",
        )
        .bind::<Text, _>(name)
        .bind::<Nullable<Text>, _>(username)
        .bind::<Nullable<Text>, _>(repo_name)
        .get_result::<TaskRow>(&mut conn)
        .await
        .optional()?;
        if let Some(row) = inserted {
            return Ok((row, true));
        }
        let existing = diesel::sql_query(
            "SELECT * FROM tasks WHERE name = $1
               AND lower(coalesce(username, '')) = lower(coalesce($2, ''))
               AND lower(coalesce(repo_name, '')) = lower(coalesce($3, ''))
               AND status IN ('queued', 'running', 'deferred')",
        )
        .bind::<Text, _>(name)
        .bind::<Nullable<Text>, _>(username)
        .bind::<Nullable<Text>, _>(repo_name)
        .get_result::<TaskRow>(&mut conn)
        .await
        .optional()?;
        // None: the active twin finished in between; insert again.
        if let Some(row) = existing {
            return Ok((row, false));
        }
    }
}

/// One task by id.
pub async fn find(pool: &Pool, id: Uuid) -> Result<Option<TaskRow>, DbError> {
    let mut conn = pool.get().await?;
    Ok(tasks::table
        .find(id)
        .select(TaskRow::as_select())
        .first(&mut conn)
        .await
        .optional()?)
}

/// Takes a task for running: queued or deferred, or running under a lease that expired
/// (its worker died). Returns `None` when another worker holds it or it finished.
pub async fn claim(
    pool: &Pool,
    id: Uuid,
    lease: std::time::Duration,
) -> Result<Option<TaskRow>, DbError> {
    let mut conn = pool.get().await?;
    Ok(diesel::sql_query(
        "UPDATE tasks SET status = 'running', attempts = attempts + 1, started_at = now(),
                heartbeat_at = now(), not_before = NULL, finished_at = NULL
         WHERE id = $1 AND (status IN ('queued', 'deferred')
               OR (status = 'running' AND heartbeat_at < now() - $2))
         RETURNING *",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Interval, _>(pg_interval(lease))
    .get_result::<TaskRow>(&mut conn)
    .await
    .optional()?)
}

/// Renews the lease of a running task.
pub async fn heartbeat(pool: &Pool, id: Uuid) -> Result<(), DbError> {
    let mut conn = pool.get().await?;
    diesel::update(
        tasks::table
            .find(id)
            .filter(tasks::status.eq(status::RUNNING)),
    )
    .set(tasks::heartbeat_at.eq(diesel::dsl::now))
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// Records the end of a run: succeeded or failed, with the GitHub requests it spent.
pub async fn finish(
    pool: &Pool,
    id: Uuid,
    final_status: &str,
    error: Option<&str>,
    github_requests: u32,
) -> Result<(), DbError> {
    let mut conn = pool.get().await?;
    diesel::update(tasks::table.find(id))
        .set((
            tasks::status.eq(final_status),
            tasks::error.eq(error),
            tasks::github_requests.eq(tasks::github_requests + to_i32(github_requests)),
            tasks::finished_at.eq(diesel::dsl::now),
            tasks::not_before.eq(None::<DateTime<Utc>>),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Defers a task to `not_before`, keeping what it spent so far.
pub async fn defer(
    pool: &Pool,
    id: Uuid,
    not_before: DateTime<Utc>,
    reason: &str,
    github_requests: u32,
) -> Result<(), DbError> {
    let mut conn = pool.get().await?;
    diesel::update(tasks::table.find(id))
        .set((
            tasks::status.eq(status::DEFERRED),
            tasks::not_before.eq(Some(not_before)),
            tasks::error.eq(Some(reason)),
            tasks::github_requests.eq(tasks::github_requests + to_i32(github_requests)),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Active tasks whose message may have been lost: queued or overdue deferred tasks not
/// (re)published for `quiet`, and running tasks whose lease expired. Marks them as
/// republished now and returns their ids.
pub async fn take_stranded(
    pool: &Pool,
    quiet: std::time::Duration,
    lease: std::time::Duration,
) -> Result<Vec<Uuid>, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let mut conn = pool.get().await?;
    let ids: Vec<Id> = diesel::sql_query(
        "UPDATE tasks SET heartbeat_at = now()
         WHERE (status = 'queued' AND coalesce(heartbeat_at, created_at) < now() - $1)
            OR (status = 'deferred' AND not_before < now() - $1
                AND coalesce(heartbeat_at, created_at) < now() - $1)
            OR (status = 'running' AND heartbeat_at < now() - $2)
         RETURNING id",
    )
    .bind::<Interval, _>(pg_interval(quiet))
    .bind::<Interval, _>(pg_interval(lease))
    .load(&mut conn)
    .await?;
    Ok(ids.into_iter().map(|row| row.id).collect())
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Filterable and orderable fields of the task list.
pub const FIELDS: &[Field] = &[
    Field::new("name", Kind::Text),
    Field::new("username", Kind::Text),
    Field::new("repo_name", Kind::Text),
    Field::new(
        "status",
        Kind::Choice(&[
            status::QUEUED,
            status::RUNNING,
            status::DEFERRED,
            status::SUCCEEDED,
            status::FAILED,
        ]),
    ),
    Field::new("error", Kind::Text),
    Field::new("attempts", Kind::Integer),
    Field::new("github_requests", Kind::Integer),
    Field::new("not_before", Kind::Timestamp),
    Field::new("created_at", Kind::Timestamp),
    Field::new("started_at", Kind::Timestamp),
    Field::new("finished_at", Kind::Timestamp),
];

/// One page of tasks.
pub async fn list(pool: &Pool, query: &ListQuery) -> Result<Page<TaskRow>, DbError> {
    paginate::load(pool, "tasks", None, query).await
}
