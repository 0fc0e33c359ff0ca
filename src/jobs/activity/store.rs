//! Mapping activity payloads onto rows, resolving GitHub accounts to developers.

use std::collections::HashMap;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::DbError;
use crate::db::queries::commits::{self, NewCommit};
use crate::db::queries::developers;
use crate::db::queries::issues::{self, NewIssue};
use crate::db::queries::releases::{self, NewRelease};
use crate::db::queries::timeline::{self, NewTimelineItem};
use crate::github::activity::{Commit, Issue, Release, TimelineItem};
use crate::github::types::SimpleUser;
use crate::jobs::store::{count, listed_developer};

/// One fresh page of a walk, to store with its cache entry.
pub enum Fresh<'a> {
    /// Issues and pull requests of a repository.
    Issues(Home<'a>, &'a [Issue]),
    /// Commits of a repository.
    Commits(Home<'a>, &'a [Commit]),
    /// Releases of a repository.
    Releases(Home<'a>, &'a [Release]),
    /// A page of an issue's timeline; `first` is the position of its first item.
    Timeline {
        issue_id: Uuid,
        first: usize,
        items: &'a [TimelineItem],
    },
}

/// Stores a fresh page's items.
pub async fn fresh(conn: &mut AsyncPgConnection, page: Fresh<'_>) -> Result<(), DbError> {
    match page {
        Fresh::Issues(home, items) => issues(conn, home, items).await.map(drop),
        Fresh::Commits(home, items) => commits(conn, home, items).await,
        Fresh::Releases(home, items) => releases(conn, home, items).await,
        Fresh::Timeline {
            issue_id,
            first,
            items,
        } => timeline_page(conn, issue_id, first, items).await,
    }
}

/// Upserts the accounts as developers; returns `github_id → id`.
pub async fn accounts<'a>(
    conn: &mut AsyncPgConnection,
    users: impl Iterator<Item = &'a SimpleUser>,
) -> Result<HashMap<i64, Uuid>, DbError> {
    let rows: Vec<_> = users.map(listed_developer).collect();
    developers::upsert_listed(conn, &rows).await
}

/// The stored repository a payload belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Home<'a> {
    /// The stored repository.
    pub repository_id: Uuid,
    /// Its `owner/name` now.
    pub full_name: &'a str,
}

/// Upserts issues and pull requests of one repository with their authors; returns
/// `github_id → id`.
pub async fn issues(
    conn: &mut AsyncPgConnection,
    home: Home<'_>,
    items: &[Issue],
) -> Result<HashMap<i64, Uuid>, DbError> {
    let authors = accounts(conn, items.iter().filter_map(|i| i.user.as_ref())).await?;
    let rows: Vec<NewIssue<'_>> = items
        .iter()
        .map(|issue| NewIssue {
            github_id: issue.id,
            repository_id: home.repository_id,
            full_name: home.full_name,
            number: issue.number,
            is_pull_request: issue.is_pull_request(),
            title: &issue.title,
            state: if issue.state == "closed" {
                "closed"
            } else {
                "open"
            },
            state_reason: issue.state_reason.as_deref(),
            author_id: issue
                .user
                .as_ref()
                .and_then(|u| authors.get(&u.id).copied()),
            author_login: issue.user.as_ref().map(|u| u.login.as_str()),
            author_type: issue.user.as_ref().and_then(|u| u.kind.as_deref()),
            labels: issue
                .labels
                .iter()
                .map(|l| l.name.as_str())
                .filter(|name| !name.is_empty())
                .collect(),
            assignees: issue.assignees.iter().map(|a| a.login.as_str()).collect(),
            comments: count(Some(issue.comments)).unwrap_or(0),
            locked: issue.locked,
            created_at: issue.created_at,
            updated_at: issue.updated_at,
            closed_at: issue.closed_at,
            closed_by_login: issue.closed_by.as_ref().map(|u| u.login.as_str()),
            html_url: issue.html_url.as_deref(),
            draft: issue
                .is_pull_request()
                .then(|| issue.draft.unwrap_or(false)),
            merged: issue.merged(),
            merged_at: issue.merged_at(),
        })
        .collect();
    issues::upsert(conn, &rows).await
}

/// Upserts one page of an issue's timeline; `first` is the position of its first item.
pub async fn timeline_page(
    conn: &mut AsyncPgConnection,
    issue_id: Uuid,
    first: usize,
    items: &[TimelineItem],
) -> Result<(), DbError> {
    let rows: Vec<NewTimelineItem<'_>> = items
        .iter()
        .enumerate()
        .map(|(offset, item)| NewTimelineItem {
            issue_id,
            position: i32::try_from(first + offset).unwrap_or(i32::MAX),
            event: item.event(),
            item_key: item.key(),
            actor_login: item.actor_login(),
            actor_type: item.actor_type(),
            created_at: item.created_at(),
            details: item.details(),
            updated_at: item.updated_at(),
        })
        .collect();
    timeline::upsert(conn, &rows).await
}

/// Upserts commits of one repository with their linked authors.
pub async fn commits(
    conn: &mut AsyncPgConnection,
    home: Home<'_>,
    items: &[Commit],
) -> Result<(), DbError> {
    let authors = accounts(conn, items.iter().filter_map(|c| c.author.as_ref())).await?;
    let rows: Vec<NewCommit<'_>> = items
        .iter()
        .map(|commit| {
            let git_author = commit.commit.author.as_ref();
            NewCommit {
                repository_id: home.repository_id,
                full_name: home.full_name,
                sha: &commit.sha,
                author_id: commit
                    .author
                    .as_ref()
                    .and_then(|u| authors.get(&u.id).copied()),
                author_login: commit.author.as_ref().map(|u| u.login.as_str()),
                author_type: commit.author.as_ref().and_then(|u| u.kind.as_deref()),
                author_name: git_author.and_then(|a| a.name.as_deref()),
                authored_at: git_author.and_then(|a| a.date),
                committed_at: commit.commit.committer.as_ref().and_then(|c| c.date),
                message: &commit.commit.message,
            }
        })
        .collect();
    commits::upsert(conn, &rows).await
}

/// Upserts releases of one repository with their authors.
pub async fn releases(
    conn: &mut AsyncPgConnection,
    home: Home<'_>,
    items: &[Release],
) -> Result<(), DbError> {
    let authors = accounts(conn, items.iter().filter_map(|r| r.author.as_ref())).await?;
    let rows: Vec<NewRelease<'_>> = items
        .iter()
        .map(|release| NewRelease {
            github_id: release.id,
            repository_id: home.repository_id,
            full_name: home.full_name,
            tag_name: &release.tag_name,
            name: release.name.as_deref(),
            author_id: release
                .author
                .as_ref()
                .and_then(|u| authors.get(&u.id).copied()),
            author_login: release.author.as_ref().map(|u| u.login.as_str()),
            author_type: release.author.as_ref().and_then(|u| u.kind.as_deref()),
            draft: release.draft,
            prerelease: release.prerelease,
            created_at: release.created_at,
            published_at: release.published_at,
            html_url: release.html_url.as_deref(),
        })
        .collect();
    releases::upsert(conn, &rows).await
}
