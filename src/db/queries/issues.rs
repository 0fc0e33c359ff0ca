//! Queries on `issues`: issues and pull requests of tracked repositories, upserted by
//! GitHub id, never deleted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::schema::issues;

/// An issue or pull request as GitHub lists it; ids resolved by the caller.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = issues)]
pub struct NewIssue<'a> {
    pub github_id: i64,
    pub repository_id: Uuid,
    pub full_name: &'a str,
    pub number: i32,
    pub is_pull_request: bool,
    pub title: &'a str,
    pub state: &'a str,
    pub state_reason: Option<&'a str>,
    pub author_id: Option<Uuid>,
    pub author_login: Option<&'a str>,
    pub author_type: Option<&'a str>,
    pub labels: Vec<&'a str>,
    pub assignees: Vec<&'a str>,
    pub comments: i32,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Only the single-issue payload names it; otherwise the timeline does.
    pub closed_by_login: Option<&'a str>,
    pub html_url: Option<&'a str>,
    pub draft: Option<bool>,
    pub merged: Option<bool>,
    pub merged_at: Option<DateTime<Utc>>,
}

/// What the jobs need of a stored issue.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = issues)]
pub struct StoredIssue {
    pub id: Uuid,
    pub github_id: i64,
    pub repository_id: Uuid,
    pub full_name: String,
    pub number: i32,
    pub is_pull_request: bool,
    pub updated_at: DateTime<Utc>,
}

/// Upserts issues in one statement; returns `github_id → id`.
///
/// What lists do not say is kept: a closed pull request's merged state when the payload
/// omits it, who closed or merged it. Reopening clears all three.
///
/// A pull request first stored from a webhook delivery carries a placeholder id (see
/// [`placeholder_id`]): a row of these that names it by repository and number gives it its
/// issue id first, so it is updated, not stored twice.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    rows: &[NewIssue<'_>],
) -> Result<HashMap<i64, Uuid>, DbError> {
    let rows = crate::db::upsert_rows(rows, |r| r.github_id);
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let known: Vec<(Uuid, i32, i64)> = rows
        .iter()
        .filter(|row| row.is_pull_request && row.github_id > 0)
        .map(|row| (row.repository_id, row.number, row.github_id))
        .collect();
    adopt_placeholders(conn, &known).await?;
    use issues::dsl as i;
    let kept = |column: &str| {
        diesel::dsl::sql::<Nullable<Text>>(&format!(
            "CASE WHEN excluded.state = 'open' THEN NULL \
             ELSE coalesce(excluded.{column}, issues.{column}) END"
        ))
    };
    let ids: Vec<(i64, Uuid)> = diesel::insert_into(issues::table)
        .values(rows)
        .on_conflict(i::github_id)
        .do_update()
        .set((
            i::repository_id.eq(excluded(i::repository_id)),
            i::full_name.eq(excluded(i::full_name)),
            i::number.eq(excluded(i::number)),
            i::is_pull_request.eq(excluded(i::is_pull_request)),
            i::title.eq(excluded(i::title)),
            i::state.eq(excluded(i::state)),
            i::state_reason.eq(excluded(i::state_reason)),
            i::author_id.eq(excluded(i::author_id)),
            i::author_login.eq(excluded(i::author_login)),
            i::author_type.eq(excluded(i::author_type)),
            i::labels.eq(excluded(i::labels)),
            i::assignees.eq(excluded(i::assignees)),
            i::comments.eq(excluded(i::comments)),
            i::locked.eq(excluded(i::locked)),
            i::created_at.eq(excluded(i::created_at)),
            i::updated_at.eq(excluded(i::updated_at)),
            i::closed_at.eq(excluded(i::closed_at)),
            i::closed_by_login.eq(kept("closed_by_login")),
            i::html_url.eq(excluded(i::html_url)),
            i::draft.eq(excluded(i::draft)),
            (
                i::merged.eq(diesel::dsl::sql::<Nullable<Bool>>(
                    "CASE WHEN excluded.state = 'open' THEN NULL \
                     ELSE coalesce(excluded.merged, issues.merged) END",
                )),
                i::merged_at.eq(diesel::dsl::sql::<Nullable<Timestamptz>>(
                    "CASE WHEN excluded.state = 'open' THEN NULL \
                     ELSE coalesce(excluded.merged_at, issues.merged_at) END",
                )),
                i::merged_by_login.eq(kept("merged_by_login")),
                i::row_updated_at.eq(diesel::dsl::now),
            ),
        ))
        .returning((i::github_id, i::id))
        .get_results(conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// The placeholder GitHub id of a pull request known only from a webhook delivery: its
/// pull-request id, negated. A `pull_request` payload does not carry the id of the issue
/// the pull request is (the key of `issues`), and real ids are positive, so the two never
/// meet; the issue id replaces it as soon as a walk or a delivery names the issue.
pub fn placeholder_id(pull_request_id: i64) -> i64 {
    -pull_request_id.abs()
}

/// Gives the pull requests stored under a placeholder id, by (repository, number), their
/// issue id; one already stored under that id (a walk that raced the delivery) keeps it.
pub async fn adopt_placeholders(
    conn: &mut AsyncPgConnection,
    known: &[(Uuid, i32, i64)],
) -> Result<(), DbError> {
    if known.is_empty() {
        return Ok(());
    }
    let repositories: Vec<Uuid> = known.iter().map(|k| k.0).collect();
    let numbers: Vec<i32> = known.iter().map(|k| k.1).collect();
    let github_ids: Vec<i64> = known.iter().map(|k| k.2).collect();
    diesel::sql_query(
        "UPDATE issues SET github_id = known.github_id, row_updated_at = now()
         FROM unnest($1::uuid[], $2::int[], $3::bigint[]) AS known (repository_id, number, github_id)
         WHERE issues.github_id < 0 AND issues.is_pull_request
           AND issues.repository_id = known.repository_id AND issues.number = known.number
           AND NOT EXISTS (SELECT 1 FROM issues taken WHERE taken.github_id = known.github_id)",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(&repositories)
    .bind::<diesel::sql_types::Array<Integer>, _>(&numbers)
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&github_ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored issue or pull request with this GitHub id.
pub async fn find_by_github_id(
    conn: &mut AsyncPgConnection,
    github_id: i64,
) -> Result<Option<StoredIssue>, DbError> {
    Ok(issues::table
        .filter(issues::github_id.eq(github_id))
        .select(StoredIssue::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The latest `updated_at` stored for a repository.
pub async fn latest_update(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(issues::table
        .filter(issues::repository_id.eq(repository_id))
        .select(diesel::dsl::max(issues::updated_at))
        .first(conn)
        .await?)
}

/// Issues and pull requests of a repository whose timeline is unread or older than
/// their last update, oldest update first.
pub async fn timeline_due(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
) -> Result<Vec<StoredIssue>, DbError> {
    Ok(issues::table
        .filter(issues::repository_id.eq(repository_id))
        .filter(issues::transferred_to_id.is_null())
        .filter(issues::vanished_at.is_null())
        .filter(issues::deleted_at.is_null())
        .filter(
            issues::timeline_read_at
                .is_null()
                .or(issues::timeline_read_at.lt(issues::updated_at.nullable())),
        )
        .order((issues::updated_at, issues::id))
        .select(StoredIssue::as_select())
        .load(conn)
        .await?)
}

/// Records a completely read timeline as of the issue's `updated_at` at the time, and
/// takes who closed and who merged it from the timeline's latest `closed` and `merged` items.
pub async fn mark_timeline_read(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    as_of: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE issues SET
             timeline_read_at = $2,
             closed_by_login = CASE WHEN state = 'closed' THEN coalesce(
                 (SELECT actor_login FROM timeline_items
                  WHERE issue_id = $1 AND event = 'closed' AND actor_login IS NOT NULL
                  ORDER BY position DESC LIMIT 1),
                 closed_by_login) END,
             merged_by_login = CASE WHEN merged THEN coalesce(
                 (SELECT actor_login FROM timeline_items
                  WHERE issue_id = $1 AND event = 'merged' AND actor_login IS NOT NULL
                  ORDER BY position DESC LIMIT 1),
                 merged_by_login) END,
             row_updated_at = now()
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Timestamptz, _>(as_of)
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored issues and pull requests of a repository that are still there as far as
/// gitomatic knows (not transferred, not vanished, not deleted).
pub async fn present(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
) -> Result<Vec<StoredIssue>, DbError> {
    Ok(issues::table
        .filter(issues::repository_id.eq(repository_id))
        .filter(issues::transferred_to_id.is_null())
        .filter(issues::vanished_at.is_null())
        .filter(issues::deleted_at.is_null())
        .order(issues::number)
        .select(StoredIssue::as_select())
        .load(conn)
        .await?)
}

/// Closed pull requests of a repository closed since `since` whose merged state is unknown.
pub async fn merge_unknown(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<StoredIssue>, DbError> {
    Ok(issues::table
        .filter(issues::repository_id.eq(repository_id))
        .filter(issues::is_pull_request)
        .filter(issues::state.eq("closed"))
        .filter(issues::merged.is_null())
        .filter(issues::closed_at.ge(since))
        .filter(issues::transferred_to_id.is_null())
        .filter(issues::deleted_at.is_null())
        .order(issues::number)
        .select(StoredIssue::as_select())
        .load(conn)
        .await?)
}

/// Records a pull request's merged state as `GET /pulls/{n}` tells it.
pub async fn set_merged(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    merged: bool,
    merged_at: Option<DateTime<Utc>>,
    merged_by_login: Option<&str>,
) -> Result<(), DbError> {
    diesel::update(issues::table.find(id))
        .set((
            issues::merged.eq(merged),
            issues::merged_at.eq(merged_at),
            issues::merged_by_login.eq(merged_by_login),
            issues::row_updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Links an issue to the one it became in another repository.
pub async fn mark_transferred(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    to: Uuid,
) -> Result<(), DbError> {
    diesel::update(issues::table.find(id))
        .set((
            issues::transferred_to_id.eq(to),
            issues::row_updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that GitHub no longer has an issue (404 when looked up); the row stays.
pub async fn mark_vanished(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), DbError> {
    diesel::update(issues::table.find(id))
        .filter(issues::vanished_at.is_null())
        .set((
            issues::vanished_at.eq(diesel::dsl::now),
            issues::row_updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that GitHub deleted an issue (410 Gone for it or its timeline); the row stays,
/// its timeline is not asked for again.
pub async fn mark_deleted(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), DbError> {
    diesel::update(issues::table.find(id))
        .filter(issues::deleted_at.is_null())
        .set((
            issues::deleted_at.eq(diesel::dsl::now),
            issues::row_updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The stored issue with this number in a repository, preferring one still present.
pub async fn find_by_number(
    conn: &mut AsyncPgConnection,
    repository_id: Uuid,
    number: i32,
) -> Result<Option<StoredIssue>, DbError> {
    Ok(diesel::sql_query(
        "SELECT * FROM issues WHERE repository_id = $1 AND number = $2
         ORDER BY transferred_to_id IS NOT NULL, vanished_at IS NOT NULL, updated_at DESC
         LIMIT 1",
    )
    .bind::<SqlUuid, _>(repository_id)
    .bind::<Integer, _>(number)
    .get_result(conn)
    .await
    .optional()?)
}

// ---------------------------------------------------------------------------
// Read side: the API's issues and pull requests
// ---------------------------------------------------------------------------

use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page, Rows};

/// An issue or pull request as the API shows it.
#[derive(Clone, Debug, QueryableByName)]
#[diesel(table_name = issues)]
pub struct IssueRecord {
    pub id: Uuid,
    pub github_id: i64,
    pub repository_id: Uuid,
    pub full_name: String,
    pub number: i32,
    pub is_pull_request: bool,
    pub title: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub author_id: Option<Uuid>,
    pub author_login: Option<String>,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub comments: i32,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by_login: Option<String>,
    pub html_url: Option<String>,
    pub draft: Option<bool>,
    pub merged: Option<bool>,
    pub merged_at: Option<DateTime<Utc>>,
    pub merged_by_login: Option<String>,
    pub transferred_to_id: Option<Uuid>,
    /// When GitHub answered 410 Gone for it.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Whether what it became is a pull request (null when not transferred).
    #[diesel(sql_type = Nullable<Bool>)]
    pub transferred_to_is_pull_request: Option<bool>,
}

/// The columns an [`IssueRecord`] is read from (`t` is the issue).
pub const ISSUE_COLUMNS: &str = "t.*, (SELECT i.is_pull_request FROM issues i \
     WHERE i.id = t.transferred_to_id) AS transferred_to_is_pull_request";

/// The states of an issue.
pub const STATES: &[&str] = &["open", "closed"];

/// Filterable and orderable fields of issue lists.
pub const ISSUE_FIELDS: &[Field] = &[
    Field::new("number", Kind::Integer),
    Field::new("state", Kind::Choice(STATES)),
    Field::new("author_login", Kind::Text),
    Field::new("labels", Kind::TextArray),
    Field::new("full_name", Kind::Text),
    Field::new("comments", Kind::Integer),
    Field::new("created_at", Kind::Timestamp),
    Field::new("updated_at", Kind::Timestamp),
    Field::new("closed_at", Kind::Timestamp),
    Field::new("deleted_at", Kind::Timestamp),
    Field::new("include_deleted", Kind::Include("deleted_at")),
];

/// Filterable and orderable fields of pull-request lists: an issue's, and the merge.
pub const PULL_REQUEST_FIELDS: &[Field] = &[
    Field::new("number", Kind::Integer),
    Field::new("state", Kind::Choice(STATES)),
    Field::new("author_login", Kind::Text),
    Field::new("labels", Kind::TextArray),
    Field::new("full_name", Kind::Text),
    Field::new("comments", Kind::Integer),
    Field::new("created_at", Kind::Timestamp),
    Field::new("updated_at", Kind::Timestamp),
    Field::new("closed_at", Kind::Timestamp),
    Field::new("merged", Kind::Boolean),
    Field::new("merged_at", Kind::Timestamp),
    Field::new("draft", Kind::Boolean),
    Field::new("deleted_at", Kind::Timestamp),
    Field::new("include_deleted", Kind::Include("deleted_at")),
];

/// Issues, or pull requests: GitHub lists them together, the API apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueKind {
    /// Issues that are not pull requests.
    Issue,
    /// Pull requests.
    PullRequest,
}

impl IssueKind {
    /// The kind of a row.
    pub fn of(is_pull_request: bool) -> Self {
        if is_pull_request {
            IssueKind::PullRequest
        } else {
            IssueKind::Issue
        }
    }

    /// Filterable and orderable fields of lists of this kind.
    pub fn fields(self) -> &'static [Field] {
        match self {
            IssueKind::Issue => ISSUE_FIELDS,
            IssueKind::PullRequest => PULL_REQUEST_FIELDS,
        }
    }
}

/// One page of issues or of pull requests, of every repository or of one.
pub async fn list(
    conn: &mut AsyncPgConnection,
    kind: IssueKind,
    repository_id: Option<Uuid>,
    query: &ListQuery,
) -> Result<Page<IssueRecord>, DbError> {
    let rows = match (kind, repository_id) {
        (IssueKind::Issue, None) => Rows::Where("NOT t.is_pull_request"),
        (IssueKind::PullRequest, None) => Rows::Where("t.is_pull_request"),
        (IssueKind::Issue, Some(id)) => {
            Rows::Of("NOT t.is_pull_request AND t.repository_id = $1", id)
        }
        (IssueKind::PullRequest, Some(id)) => {
            Rows::Of("t.is_pull_request AND t.repository_id = $1", id)
        }
    };
    paginate::load_rows(conn, "issues", ISSUE_COLUMNS, rows, query).await
}

/// One issue or pull request by id, of the kind asked for (`None` for the other kind).
pub async fn get(
    conn: &mut AsyncPgConnection,
    kind: IssueKind,
    id: Uuid,
) -> Result<Option<IssueRecord>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {ISSUE_COLUMNS} FROM issues t WHERE t.id = $1 AND t.is_pull_request = $2"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Bool, _>(kind == IssueKind::PullRequest)
    .get_result(conn)
    .await
    .optional()?)
}
