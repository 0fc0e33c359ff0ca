//! Queries on `members`: organization members, marked inactive when they leave, active
//! again when they return; never deleted.

use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbError;

/// What a members sync changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MembersChange {
    /// Members seen for the first time.
    pub joined: usize,
    /// Members listed again after being inactive.
    pub returned: usize,
    /// Members no longer listed, now inactive.
    pub left: usize,
}

/// Makes the organization's active members exactly these developers (id, login), in one
/// transaction.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    organization_login: &str,
    listed: &[(Uuid, String)],
) -> Result<MembersChange, DbError> {
    let ids: Vec<Uuid> = listed.iter().map(|(id, _)| *id).collect();
    let logins: Vec<&str> = listed.iter().map(|(_, login)| login.as_str()).collect();
    conn.transaction::<_, DbError, _>(async |conn| {
        let left = diesel::sql_query(
            "UPDATE members SET active = false, inactive_at = now()
             WHERE lower(organization_login) = lower($1) AND active
               AND NOT (developer_id = ANY($2))",
        )
        .bind::<Text, _>(organization_login)
        .bind::<Array<SqlUuid>, _>(&ids)
        .execute(conn)
        .await?;
        let returned = diesel::sql_query(
            "UPDATE members SET active = true, inactive_at = NULL
             WHERE lower(organization_login) = lower($1) AND NOT active
               AND developer_id = ANY($2)",
        )
        .bind::<Text, _>(organization_login)
        .bind::<Array<SqlUuid>, _>(&ids)
        .execute(conn)
        .await?;
        let joined = diesel::sql_query(
            "INSERT INTO members (organization_login, developer_id, login)
             SELECT $1, listed.id, listed.login FROM unnest($2, $3) AS listed (id, login)
             ON CONFLICT (lower(organization_login), developer_id) DO NOTHING",
        )
        .bind::<Text, _>(organization_login)
        .bind::<Array<SqlUuid>, _>(&ids)
        .bind::<Array<Text>, _>(&logins)
        .execute(conn)
        .await?;
        // A member renamed since: the login follows.
        diesel::sql_query(
            "UPDATE members SET login = listed.login
             FROM unnest($2, $3) AS listed (id, login)
             WHERE lower(members.organization_login) = lower($1)
               AND members.developer_id = listed.id AND members.login <> listed.login",
        )
        .bind::<Text, _>(organization_login)
        .bind::<Array<SqlUuid>, _>(&ids)
        .bind::<Array<Text>, _>(&logins)
        .execute(conn)
        .await?;
        Ok(MembersChange {
            joined,
            returned,
            left,
        })
    })
    .await
}

/// Makes one developer an active member of an organization (inserted, or active again),
/// or marks it inactive (`active` false; nothing when it was not a stored member): one
/// member added or removed, as a webhook delivery announces it.
pub async fn set_active(
    conn: &mut AsyncPgConnection,
    organization_login: &str,
    developer_id: Uuid,
    login: &str,
    active: bool,
) -> Result<(), DbError> {
    let sql = if active {
        "INSERT INTO members (organization_login, developer_id, login) VALUES ($1, $2, $3)
         ON CONFLICT (lower(organization_login), developer_id)
         DO UPDATE SET active = true, inactive_at = NULL, login = excluded.login"
    } else {
        "UPDATE members SET active = false, inactive_at = now(), login = $3
         WHERE lower(organization_login) = lower($1) AND developer_id = $2 AND active"
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(organization_login)
        .bind::<SqlUuid, _>(developer_id)
        .bind::<Text, _>(login)
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Read side: members as the API shows them
// ---------------------------------------------------------------------------

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate::{self, Page, Rows};
use crate::db::schema::members;

/// A member of a tracked organization, present or past.
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = members)]
pub struct MemberRecord {
    pub id: Uuid,
    pub organization_login: String,
    pub developer_id: Uuid,
    pub login: String,
    pub active: bool,
    pub inserted_at: DateTime<Utc>,
    pub inactive_at: Option<DateTime<Utc>>,
}

/// Filterable and orderable fields of member lists.
pub const FIELDS: &[Field] = &[
    Field::new("organization_login", Kind::Text),
    Field::new("login", Kind::Text),
    Field::new("active", Kind::Boolean),
    Field::new("inserted_at", Kind::Timestamp),
    Field::new("inactive_at", Kind::Timestamp),
];

/// One page of members.
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: &ListQuery,
) -> Result<Page<MemberRecord>, DbError> {
    paginate::load_rows(conn, "members", "t.*", Rows::All, query).await
}

/// One member by id.
pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<MemberRecord>, DbError> {
    Ok(members::table
        .find(id)
        .select(MemberRecord::as_select())
        .first(conn)
        .await
        .optional()?)
}
