//! Queries on `tasks`: the record of every triggered job and its state machine.

use std::io::Write;

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::query_builder::DecoratableTarget;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Interval, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page};
use crate::db::schema::tasks;
use crate::db::{DbError, pg_interval};

/// Where a task is in its life: `queued` → `running` → `succeeded` | `failed` | `deferred`
/// (→ `running` again at `not_before`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsExpression,
    FromSqlRow,
    utoipa::ToSchema,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker runs it.
    Running,
    /// Waiting until `not_before` (quota reset, a retry, or a poll interval).
    Deferred,
    /// Finished well.
    Succeeded,
    /// Finished with an error (see `error`).
    Failed,
}

impl TaskStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::Queued,
        TaskStatus::Running,
        TaskStatus::Deferred,
        TaskStatus::Succeeded,
        TaskStatus::Failed,
    ];

    /// The statuses of a task that still has work to do (the dedupe index covers these).
    pub const ACTIVE: [TaskStatus; 3] = [
        TaskStatus::Queued,
        TaskStatus::Running,
        TaskStatus::Deferred,
    ];

    /// The stored and serialized name.
    pub const fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Deferred => "deferred",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
        }
    }

    /// Whether the task finished, one way or the other.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Failed)
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for TaskStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::str::FromStr for TaskStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        TaskStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| format!("unknown task status {value:?}"))
    }
}

impl ToSql<Text, Pg> for TaskStatus {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.as_str().as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Text, Pg> for TaskStatus {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Ok(text.parse()?)
    }
}

/// A task run.
#[derive(
    Clone, Debug, PartialEq, Queryable, Selectable, QueryableByName, Serialize, Deserialize,
)]
#[diesel(table_name = tasks)]
pub struct TaskRow {
    pub id: Uuid,
    pub name: String,
    pub username: Option<String>,
    pub repo_name: Option<String>,
    pub status: TaskStatus,
    pub attempts: i32,
    pub not_before: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub github_requests: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// The job's arguments, a JSON object.
    pub args: serde_json::Value,
    /// Identical active tasks share (name, dedupe_key).
    pub dedupe_key: String,
}

impl TaskRow {
    /// Whether the task finished, one way or the other.
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }
}

/// A task to insert: what a job kind makes of its arguments.
#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = tasks)]
pub struct NewTask {
    /// The job kind's name.
    pub name: &'static str,
    /// The job's arguments, a JSON object.
    pub args: serde_json::Value,
    /// Identical active tasks share this key.
    pub dedupe_key: String,
    /// The login argument of the original jobs, kept as a column.
    pub username: Option<String>,
    /// The repository argument of the original jobs, kept as a column.
    pub repo_name: Option<String>,
}

/// The predicate of the dedupe index `tasks_one_active_idx`, exactly as the migration
/// writes it: PostgreSQL matches an `ON CONFLICT ... WHERE` to a partial index only when it
/// can prove the predicate, which it cannot for a bound parameter under a generic plan.
const ACTIVE_PREDICATE: &str = "status IN ('queued', 'running', 'deferred')";

/// Inserts a queued task, or returns the identical one already queued, running or
/// deferred (`created` false). The partial unique index makes this race-free; run it in
/// the caller's transaction to enqueue together with the write that triggered it.
pub async fn insert_or_existing(
    conn: &mut AsyncPgConnection,
    task: &NewTask,
) -> Result<(TaskRow, bool), DbError> {
    loop {
        let inserted = diesel::insert_into(tasks::table)
            .values(task)
            .on_conflict((tasks::name, tasks::dedupe_key))
            .filter_target(diesel::dsl::sql::<diesel::sql_types::Bool>(
                ACTIVE_PREDICATE,
            ))
            .do_nothing()
            .returning(TaskRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        if let Some(row) = inserted {
            return Ok((row, true));
        }
        let existing = tasks::table
            .filter(tasks::name.eq(task.name))
            .filter(tasks::dedupe_key.eq(&task.dedupe_key))
            .filter(tasks::status.eq_any(TaskStatus::ACTIVE))
            .select(TaskRow::as_select())
            .first(conn)
            .await
            .optional()?;
        // None: the active twin finished in between; insert again.
        if let Some(row) = existing {
            return Ok((row, false));
        }
    }
}

/// The name and arguments of every active task of these kinds. The predicate is the
/// dedupe index's own, so PostgreSQL reads only the index's (active) rows.
pub async fn active_args(
    conn: &mut AsyncPgConnection,
    names: &[&str],
) -> Result<Vec<(String, serde_json::Value)>, DbError> {
    Ok(tasks::table
        .filter(tasks::name.eq_any(names))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            ACTIVE_PREDICATE,
        ))
        .select((tasks::name, tasks::args))
        .load(conn)
        .await?)
}

/// One task by id.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<TaskRow>, DbError> {
    Ok(tasks::table
        .find(id)
        .select(TaskRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Takes a task for running: queued or deferred, or running under a lease that expired
/// (its worker died). Returns `None` when another worker holds it or it finished.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    lease: std::time::Duration,
) -> Result<Option<TaskRow>, DbError> {
    let lease_expired = tasks::status
        .eq(TaskStatus::Running)
        .and(tasks::heartbeat_at.lt(ago(lease).nullable()));
    Ok(diesel::update(tasks::table.find(id))
        .filter(
            tasks::status
                .eq_any([TaskStatus::Queued, TaskStatus::Deferred])
                .or(lease_expired),
        )
        .set((
            tasks::status.eq(TaskStatus::Running),
            tasks::attempts.eq(tasks::attempts + 1),
            tasks::started_at.eq(diesel::dsl::now),
            tasks::heartbeat_at.eq(diesel::dsl::now),
            tasks::not_before.eq(None::<DateTime<Utc>>),
            tasks::finished_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(TaskRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// Renews the lease of a running task.
pub async fn heartbeat(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), DbError> {
    diesel::update(
        tasks::table
            .find(id)
            .filter(tasks::status.eq(TaskStatus::Running)),
    )
    .set(tasks::heartbeat_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the end of a run: succeeded or failed, with the GitHub requests it spent.
/// Returns the task as it now is.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    final_status: TaskStatus,
    error: Option<&str>,
    github_requests: u32,
) -> Result<TaskRow, DbError> {
    Ok(diesel::update(tasks::table.find(id))
        .set((
            tasks::status.eq(final_status),
            tasks::error.eq(error),
            tasks::github_requests.eq(tasks::github_requests + to_i32(github_requests)),
            tasks::finished_at.eq(diesel::dsl::now),
            tasks::not_before.eq(None::<DateTime<Utc>>),
        ))
        .returning(TaskRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Defers a task to `not_before`, keeping what it spent so far; `reason` says why (none
/// when the job itself asked to run again then). Returns the task as it now is.
pub async fn defer(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    not_before: DateTime<Utc>,
    reason: Option<&str>,
    github_requests: u32,
) -> Result<TaskRow, DbError> {
    Ok(diesel::update(tasks::table.find(id))
        .set((
            tasks::status.eq(TaskStatus::Deferred),
            tasks::not_before.eq(Some(not_before)),
            tasks::error.eq(reason),
            tasks::github_requests.eq(tasks::github_requests + to_i32(github_requests)),
        ))
        .returning(TaskRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Active tasks whose message may have been lost: queued or overdue deferred tasks not
/// (re)published for `quiet`, and running tasks whose lease expired. Marks them as
/// republished now and returns their ids.
pub async fn take_stranded(
    conn: &mut AsyncPgConnection,
    quiet: std::time::Duration,
    lease: std::time::Duration,
) -> Result<Vec<Uuid>, DbError> {
    // A task never (re)published since it was created counts from its creation.
    let untouched = || {
        tasks::heartbeat_at
            .is_null()
            .or(tasks::heartbeat_at.lt(ago(quiet).nullable()))
    };
    let stranded = tasks::status
        .eq(TaskStatus::Queued)
        .and(tasks::created_at.lt(ago(quiet)))
        .and(untouched())
        .or(tasks::status
            .eq(TaskStatus::Deferred)
            .and(tasks::not_before.lt(ago(quiet).nullable()))
            .and(tasks::created_at.lt(ago(quiet)))
            .and(untouched()))
        .or(tasks::status
            .eq(TaskStatus::Running)
            .and(tasks::heartbeat_at.lt(ago(lease).nullable())));
    Ok(diesel::update(tasks::table.filter(stranded))
        .set(tasks::heartbeat_at.eq(diesel::dsl::now))
        .returning(tasks::id)
        .get_results(conn)
        .await?)
}

/// `now() - duration`, on the database's clock (the one heartbeats are written with).
fn ago(
    duration: std::time::Duration,
) -> diesel::dsl::Sub<
    diesel::dsl::AsExprOf<diesel::dsl::now, diesel::sql_types::Timestamptz>,
    diesel::dsl::AsExprOf<diesel::pg::data_types::PgInterval, Interval>,
> {
    diesel::dsl::now.into_sql::<diesel::sql_types::Timestamptz>()
        - pg_interval(duration).into_sql::<Interval>()
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The values the `status` filter accepts.
const STATUS_NAMES: &[&str] = &[
    TaskStatus::Queued.as_str(),
    TaskStatus::Running.as_str(),
    TaskStatus::Deferred.as_str(),
    TaskStatus::Succeeded.as_str(),
    TaskStatus::Failed.as_str(),
];

/// Filterable and orderable fields of the task list.
pub const FIELDS: &[Field] = &[
    Field::new("name", Kind::Text),
    Field::new("username", Kind::Text),
    Field::new("repo_name", Kind::Text),
    Field::new("status", Kind::Choice(STATUS_NAMES)),
    Field::new("error", Kind::Text),
    Field::new("attempts", Kind::Integer),
    Field::new("github_requests", Kind::Integer),
    Field::new("not_before", Kind::Timestamp),
    Field::new("created_at", Kind::Timestamp),
    Field::new("started_at", Kind::Timestamp),
    Field::new("finished_at", Kind::Timestamp),
];

/// One page of tasks.
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> Result<Page<TaskRow>, DbError> {
    paginate::load(conn, "tasks", None, query).await
}

/// The most recently created tasks, newest first.
pub async fn latest(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<TaskRow>, DbError> {
    Ok(tasks::table
        .order((tasks::created_at.desc(), tasks::id))
        .limit(limit)
        .select(TaskRow::as_select())
        .load(conn)
        .await?)
}

/// The tasks that ended in one period, by outcome.
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub struct Finished {
    /// The period's start (a multiple of its length since the Unix epoch).
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub period: DateTime<Utc>,
    /// `succeeded`, `failed` or `deferred`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub outcome: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub tasks: i64,
}

/// How many tasks ended in each `period` from `since` on, by outcome, from the tasks
/// themselves: succeeded and failed tasks by `finished_at`, tasks deferred now by the start
/// of the run that deferred them (a deferral keeps no time of its own; runs are short). A
/// task counts once, as it is now: one deferred and later finished counts as finished.
/// Periods without tasks are left out.
pub async fn finished_per_period(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
    period: std::time::Duration,
) -> Result<Vec<Finished>, DbError> {
    Ok(diesel::sql_query(
        "SELECT to_timestamp(floor(extract(epoch FROM at) / $2) * $2) AS period,
                status AS outcome, count(*) AS tasks
           FROM (SELECT status, finished_at AS at FROM tasks
                  WHERE finished_at >= $1 AND status IN ('succeeded', 'failed')
                 UNION ALL
                 SELECT status, started_at FROM tasks
                  WHERE status = 'deferred' AND started_at >= $1) ended
          GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(since)
    .bind::<diesel::sql_types::Double, _>(period.as_secs_f64())
    .load(conn)
    .await?)
}
