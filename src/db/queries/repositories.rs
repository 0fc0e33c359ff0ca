//! Queries on `repositories`: upserts by `github_id`, owners first.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;
use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page};
use crate::db::schema::repositories;

/// A repository as GitHub describes it; `owner_id` is resolved by the caller.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = repositories)]
pub struct NewRepository<'a> {
    pub github_id: i64,
    pub owner_id: Uuid,
    pub owner_github_id: i64,
    pub name: &'a str,
    pub full_name: &'a str,
    pub description: Option<&'a str>,
    pub homepage: Option<&'a str>,
    pub language: Option<&'a str>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub pushed_at: Option<DateTime<Utc>>,
    pub has_downloads: Option<bool>,
    pub has_issues: bool,
    pub has_pages: Option<bool>,
    pub has_projects: bool,
    pub has_wiki: bool,
    pub private: bool,
    pub archived: bool,
    pub disabled: bool,
    pub fork: bool,
    pub stargazers_count: i32,
    pub subscribers_count: Option<i32>,
    pub watchers_count: i32,
    pub forks_count: i32,
    pub open_issues_count: Option<i32>,
    pub etag: Option<&'a str>,
    /// Which of the [`Given`] fields the payload carried: the others keep their stored
    /// values (a new row gets the values above: null, false or 0).
    #[diesel(skip_insertion)]
    pub given: Given,
}

/// The fields of a repository payload that GitHub may leave out (`minimal-repository`
/// lists only a few as required); a field left out never erases a stored value, while a
/// `null` that is given (a cleared description) still clears it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Given(u32);

impl Given {
    /// The columns whose presence is tracked, in bit order.
    pub const COLUMNS: [&'static str; 16] = [
        "description",
        "homepage",
        "language",
        "created_at",
        "updated_at",
        "pushed_at",
        "has_issues",
        "has_projects",
        "has_wiki",
        "private",
        "archived",
        "disabled",
        "fork",
        "stargazers_count",
        "watchers_count",
        "forks_count",
    ];

    /// The set of the named columns that are `given`, in [`Given::COLUMNS`] order.
    pub fn of(given: [bool; 16]) -> Self {
        Self(
            given
                .iter()
                .enumerate()
                .filter(|(_, given)| **given)
                .fold(0, |bits, (bit, _)| bits | 1 << bit),
        )
    }

    /// Whether the payload carried `column` (a column not tracked counts as given).
    pub fn has(self, column: &str) -> bool {
        Self::COLUMNS
            .iter()
            .position(|name| *name == column)
            .is_none_or(|bit| self.0 & (1 << bit) != 0)
    }

    /// The value an upsert sets `column` to: the payload's if given, else the stored one.
    fn value(self, column: &str) -> String {
        if self.has(column) {
            format!("excluded.{column}")
        } else {
            format!("repositories.{column}")
        }
    }

    /// The value an upsert sets a column in [`Given::KEPT`] to: the payload's unless null.
    fn kept(self, column: &str) -> String {
        format!("coalesce(excluded.{column}, repositories.{column})")
    }

    /// The columns whose stored value a null in the payload never erases.
    const KEPT: [&'static str; 5] = [
        "has_downloads",
        "has_pages",
        "subscribers_count",
        "open_issues_count",
        "etag",
    ];

    /// Every payload column an upsert writes (all but `gone_at` and `row_updated_at`).
    const WRITTEN: [&'static str; 25] = [
        "owner_id",
        "owner_github_id",
        "name",
        "full_name",
        "description",
        "homepage",
        "language",
        "created_at",
        "updated_at",
        "pushed_at",
        "has_downloads",
        "has_issues",
        "has_pages",
        "has_projects",
        "has_wiki",
        "private",
        "archived",
        "disabled",
        "fork",
        "stargazers_count",
        "subscribers_count",
        "watchers_count",
        "forks_count",
        "open_issues_count",
        "etag",
    ];

    /// The `DO UPDATE … WHERE` of an upsert: whether it changes a stored column (or
    /// brings back a repository marked gone).
    fn changed(self) -> String {
        let (stored, new): (Vec<String>, Vec<String>) = Self::WRITTEN
            .iter()
            .map(|column| {
                let new = if Self::KEPT.contains(column) {
                    self.kept(column)
                } else {
                    self.value(column)
                };
                (format!("repositories.{column}"), new)
            })
            .unzip();
        format!(
            "ROW({}) IS DISTINCT FROM ROW({}) OR repositories.gone_at IS NOT NULL",
            stored.join(", "),
            new.join(", ")
        )
    }
}

/// What a sync needs to know of a stored repository.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = repositories)]
pub struct StoredRepository {
    pub id: Uuid,
    pub github_id: i64,
    pub full_name: String,
    pub etag: Option<String>,
    pub stargazers_count: i32,
}

/// Upserts repositories, one statement per payload shape (in practice one); returns
/// `github_id → id`.
///
/// A field the payload left out keeps its stored value ([`Given`]). List payloads carry no
/// `subscribers_count` and no ETag of the repository itself, and GraphQL payloads no
/// `has_downloads`, `has_pages` or `open_issues_count`: a stored value is kept where the
/// new one is null.
///
/// A repository listed again as stored (a popular one is in many starred lists) is only
/// locked, not rewritten: no new row version, so none of the table's indexes is written.
/// Its id, which `RETURNING` leaves out, is read by a second statement.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    rows: &[NewRepository<'_>],
) -> Result<HashMap<i64, Uuid>, DbError> {
    let rows = crate::db::upsert_rows(rows, |r| r.github_id);
    let github_ids: Vec<i64> = rows.iter().map(|row| row.github_id).collect();
    let mut shapes: std::collections::BTreeMap<Given, Vec<&NewRepository<'_>>> =
        std::collections::BTreeMap::new();
    for row in rows {
        shapes.entry(row.given).or_default().push(row);
    }
    let mut ids = HashMap::new();
    for (given, rows) in shapes {
        ids.extend(upsert_shape(conn, given, &rows).await?);
    }
    let unchanged: Vec<i64> = github_ids
        .into_iter()
        .filter(|github_id| !ids.contains_key(github_id))
        .collect();
    if !unchanged.is_empty() {
        let stored: Vec<(i64, Uuid)> = repositories::table
            .filter(repositories::github_id.eq_any(&unchanged))
            .select((repositories::github_id, repositories::id))
            .load(conn)
            .await?;
        ids.extend(stored);
    }
    Ok(ids)
}

/// Upserts rows that carry the same fields.
async fn upsert_shape(
    conn: &mut AsyncPgConnection,
    given: Given,
    rows: &[&NewRepository<'_>],
) -> Result<Vec<(i64, Uuid)>, DbError> {
    Ok(
        upsert_statement(given, rows.iter().copied().cloned().collect())
            .get_results(conn)
            .await?,
    )
}

/// The upsert of rows that carry the same fields, returning `(github_id, id)` of the rows
/// it wrote.
fn upsert_statement<'a>(
    given: Given,
    rows: Vec<NewRepository<'a>>,
) -> impl diesel_async::methods::LoadQuery<'a, AsyncPgConnection, (i64, Uuid)>
+ diesel::query_builder::QueryFragment<diesel::pg::Pg>
+ Send
+ 'a {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Int4, Nullable, Text, Timestamptz};
    use repositories::dsl as r;
    let kept = |column: &str| -> String { given.kept(column) };
    let upsert = diesel::insert_into(repositories::table)
        .values(rows)
        .on_conflict(r::github_id)
        .do_update()
        .set((
            r::owner_id.eq(excluded(r::owner_id)),
            r::owner_github_id.eq(excluded(r::owner_github_id)),
            r::name.eq(excluded(r::name)),
            r::full_name.eq(excluded(r::full_name)),
            r::description.eq(sql::<Nullable<Text>>(&given.value("description"))),
            r::homepage.eq(sql::<Nullable<Text>>(&given.value("homepage"))),
            r::language.eq(sql::<Nullable<Text>>(&given.value("language"))),
            r::created_at.eq(sql::<Nullable<Timestamptz>>(&given.value("created_at"))),
            r::updated_at.eq(sql::<Nullable<Timestamptz>>(&given.value("updated_at"))),
            r::pushed_at.eq(sql::<Nullable<Timestamptz>>(&given.value("pushed_at"))),
            r::has_downloads.eq(sql::<Nullable<Bool>>(&kept("has_downloads"))),
            r::has_issues.eq(sql::<Bool>(&given.value("has_issues"))),
            r::has_pages.eq(sql::<Nullable<Bool>>(&kept("has_pages"))),
            r::has_projects.eq(sql::<Bool>(&given.value("has_projects"))),
            r::has_wiki.eq(sql::<Bool>(&given.value("has_wiki"))),
            r::private.eq(sql::<Bool>(&given.value("private"))),
            r::archived.eq(sql::<Bool>(&given.value("archived"))),
            r::disabled.eq(sql::<Bool>(&given.value("disabled"))),
            r::fork.eq(sql::<Bool>(&given.value("fork"))),
            (
                r::stargazers_count.eq(sql::<Int4>(&given.value("stargazers_count"))),
                r::subscribers_count.eq(sql::<Nullable<Int4>>(&kept("subscribers_count"))),
                r::watchers_count.eq(sql::<Int4>(&given.value("watchers_count"))),
                r::forks_count.eq(sql::<Int4>(&given.value("forks_count"))),
                r::open_issues_count.eq(sql::<Nullable<Int4>>(&kept("open_issues_count"))),
                r::etag.eq(sql::<Nullable<Text>>(&kept("etag"))),
                r::gone_at.eq(None::<DateTime<Utc>>),
                r::row_updated_at.eq(diesel::dsl::now),
            ),
        ));
    // `ON CONFLICT … DO UPDATE … WHERE`: diesel's upsert `filter`, not the query one.
    let changed = sql::<Bool>(&given.changed());
    diesel::query_dsl::methods::FilterDsl::filter(upsert, changed).returning((r::github_id, r::id))
}

/// The repository known under `owner/name` (case-insensitive), preferring one not gone.
pub async fn find_by_full_name(
    conn: &mut AsyncPgConnection,
    full_name: &str,
) -> Result<Option<StoredRepository>, DbError> {
    Ok(repositories::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(full_name) = lower(")
                .bind::<diesel::sql_types::Text, _>(full_name)
                .sql(")"),
        )
        .order((
            repositories::gone_at.is_not_null(),
            repositories::row_updated_at.desc(),
        ))
        .select(StoredRepository::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Marks the repository known under `owner/name` as gone from GitHub.
pub async fn mark_gone(conn: &mut AsyncPgConnection, full_name: &str) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE repositories SET gone_at = now(), etag = NULL
         WHERE lower(full_name) = lower($1) AND gone_at IS NULL",
    )
    .bind::<diesel::sql_types::Text, _>(full_name)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a completed sync.
pub async fn mark_synced(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), DbError> {
    diesel::update(repositories::table.find(id))
        .set(repositories::last_synced_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// A repository as the API shows it.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = repositories)]
pub struct RepositoryRecord {
    pub id: Uuid,
    pub github_id: i64,
    pub owner_id: Uuid,
    pub owner_github_id: i64,
    pub name: String,
    pub full_name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub pushed_at: Option<DateTime<Utc>>,
    pub has_downloads: Option<bool>,
    pub has_issues: bool,
    pub has_pages: Option<bool>,
    pub has_projects: bool,
    pub has_wiki: bool,
    pub private: bool,
    pub archived: bool,
    pub disabled: bool,
    pub fork: bool,
    pub stargazers_count: i32,
    pub subscribers_count: Option<i32>,
    pub watchers_count: i32,
    pub forks_count: i32,
    pub open_issues_count: Option<i32>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

/// Filterable and orderable fields of repository lists.
pub const FIELDS: &[Field] = &[
    Field::new("github_id", Kind::Integer),
    Field::new("owner_github_id", Kind::Integer),
    Field::new("name", Kind::Text),
    Field::new("full_name", Kind::Text),
    Field::new("description", Kind::Text),
    Field::new("homepage", Kind::Text),
    Field::new("language", Kind::Text),
    Field::new("created_at", Kind::Timestamp),
    Field::new("updated_at", Kind::Timestamp),
    Field::new("pushed_at", Kind::Timestamp),
    Field::new("last_synced_at", Kind::Timestamp),
    Field::new("has_downloads", Kind::Boolean),
    Field::new("has_issues", Kind::Boolean),
    Field::new("has_pages", Kind::Boolean),
    Field::new("has_projects", Kind::Boolean),
    Field::new("has_wiki", Kind::Boolean),
    Field::new("private", Kind::Boolean),
    Field::new("archived", Kind::Boolean),
    Field::new("disabled", Kind::Boolean),
    Field::new("fork", Kind::Boolean),
    Field::new("stargazers_count", Kind::Integer),
    Field::new("subscribers_count", Kind::Integer),
    Field::new("watchers_count", Kind::Integer),
    Field::new("forks_count", Kind::Integer),
    Field::new("open_issues_count", Kind::Integer),
    Field::new(
        "search",
        Kind::Search {
            over: "full_name, description, language",
            exact: "full_name",
        },
    ),
];

/// Which repositories a list shows.
#[derive(Clone, Copy, Debug)]
pub enum RepositorySet {
    /// Every repository.
    All,
    /// Repositories a developer starred.
    StarredBy(Uuid),
    /// Repositories a developer owns.
    OwnedBy(Uuid),
}

/// One page of repositories.
pub async fn list(
    conn: &mut AsyncPgConnection,
    set: RepositorySet,
    query: &ListQuery,
) -> Result<Page<RepositoryRecord>, DbError> {
    let scope = match set {
        RepositorySet::All => None,
        RepositorySet::StarredBy(id) => Some((
            "t.id IN (SELECT repository_id FROM stars WHERE developer_id = $1)",
            id,
        )),
        RepositorySet::OwnedBy(id) => Some(("t.owner_id = $1", id)),
    };
    paginate::load(conn, "repositories", scope, query).await
}

/// One repository by id.
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<RepositoryRecord>, DbError> {
    Ok(repositories::table
        .find(id)
        .select(RepositoryRecord::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The `owner/name` of the stored repositories with these GitHub ids.
pub async fn full_names_by_github_ids(
    conn: &mut AsyncPgConnection,
    github_ids: &[i64],
) -> Result<Vec<String>, DbError> {
    Ok(repositories::table
        .filter(repositories::github_id.eq_any(github_ids))
        .order(repositories::full_name)
        .select(repositories::full_name)
        .load(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns the upsert's `SET` assigns, in order.
    fn assigned(sql: &str) -> Vec<String> {
        let set = sql
            .split_once("DO UPDATE SET ")
            .and_then(|(_, rest)| rest.split_once(" WHERE "))
            .map(|(set, _)| set)
            .expect("an upsert with a WHERE");
        set.split(", \"")
            .filter_map(|assignment| assignment.trim_start_matches('"').split_once("\" = "))
            .map(|(column, _)| column.to_owned())
            .collect()
    }

    #[test]
    fn the_unchanged_check_compares_every_column_the_upsert_writes() {
        let row = NewRepository {
            github_id: 1,
            owner_id: Uuid::nil(),
            owner_github_id: 2,
            name: "hello",
            full_name: "octocat/hello",
            description: None,
            homepage: None,
            language: None,
            created_at: None,
            updated_at: None,
            pushed_at: None,
            has_downloads: None,
            has_issues: false,
            has_pages: None,
            has_projects: false,
            has_wiki: false,
            private: false,
            archived: false,
            disabled: false,
            fork: false,
            stargazers_count: 0,
            subscribers_count: None,
            watchers_count: 0,
            forks_count: 0,
            open_issues_count: None,
            etag: None,
            given: Given::default(),
        };
        let sql = diesel::debug_query::<diesel::pg::Pg, _>(&upsert_statement(
            Given::default(),
            vec![row],
        ))
        .to_string();
        let mut expected: Vec<String> = Given::WRITTEN.iter().map(|c| (*c).to_owned()).collect();
        expected.extend(["gone_at".to_owned(), "row_updated_at".to_owned()]);
        assert_eq!(assigned(&sql), expected, "{sql}");
        assert!(sql.contains(&Given::default().changed()), "{sql}");
    }
}
