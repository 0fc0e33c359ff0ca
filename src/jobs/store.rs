//! Mapping GitHub payloads onto database rows.

use uuid::Uuid;

use crate::db::queries::developers::{NewListedDeveloper, NewProfile};
use crate::db::queries::repositories::{Given, NewRepository};
use crate::github::headers::clamp;
use crate::github::types::{Repository, SimpleUser, User};

/// A GitHub count as a database integer (saturating; negatives become 0).
pub fn count(value: Option<i64>) -> Option<i32> {
    value.map(clamp)
}

/// A listed user as a developer row.
pub fn listed_developer(user: &SimpleUser) -> NewListedDeveloper<'_> {
    NewListedDeveloper {
        github_id: user.id,
        login: &user.login,
        avatar_url: user.avatar_url.as_deref(),
        html_url: user.html_url.as_deref(),
    }
}

/// A full profile as a developer row.
pub fn profile<'a>(user: &'a User, etag: Option<&'a str>) -> NewProfile<'a> {
    NewProfile {
        github_id: user.id,
        login: &user.login,
        name: user.name.as_deref(),
        location: user.location.as_deref(),
        bio: user.bio.as_deref(),
        company: user.company.as_deref(),
        email: user.email.as_deref(),
        avatar_url: user.avatar_url.as_deref(),
        html_url: user.html_url.as_deref(),
        created_at: user.created_at,
        updated_at: user.updated_at,
        followers_count: count(user.followers),
        following_count: count(user.following),
        public_gists: count(user.public_gists),
        public_repos: count(user.public_repos),
        etag,
        gone_at: None,
    }
}

/// A repository payload as a repository row owned by `owner_id`.
pub fn repository<'a>(
    repo: &'a Repository,
    owner_id: Uuid,
    etag: Option<&'a str>,
) -> NewRepository<'a> {
    let flag = |value: Option<bool>| value.unwrap_or(false);
    NewRepository {
        github_id: repo.id,
        owner_id,
        owner_github_id: repo.owner.id,
        name: &repo.name,
        full_name: &repo.full_name,
        description: repo.description.as_ref().and_then(Option::as_deref),
        homepage: repo.homepage.as_ref().and_then(Option::as_deref),
        language: repo.language.as_ref().and_then(Option::as_deref),
        created_at: repo.created_at,
        updated_at: repo.updated_at,
        pushed_at: repo.pushed_at.flatten(),
        has_downloads: repo.has_downloads,
        has_issues: flag(repo.has_issues),
        has_pages: repo.has_pages,
        has_projects: flag(repo.has_projects),
        has_wiki: flag(repo.has_wiki),
        private: flag(repo.private),
        archived: flag(repo.archived),
        disabled: flag(repo.disabled),
        fork: flag(repo.fork),
        stargazers_count: count(repo.stargazers_count).unwrap_or(0),
        subscribers_count: count(repo.subscribers_count),
        watchers_count: count(repo.watchers_count).unwrap_or(0),
        forks_count: count(repo.forks_count).unwrap_or(0),
        open_issues_count: count(repo.open_issues_count),
        etag,
        given: Given::of([
            repo.description.is_some(),
            repo.homepage.is_some(),
            repo.language.is_some(),
            repo.created_at.is_some(),
            repo.updated_at.is_some(),
            repo.pushed_at.is_some(),
            repo.has_issues.is_some(),
            repo.has_projects.is_some(),
            repo.has_wiki.is_some(),
            repo.private.is_some(),
            repo.archived.is_some(),
            repo.disabled.is_some(),
            repo.fork.is_some(),
            repo.stargazers_count.is_some(),
            repo.watchers_count.is_some(),
            repo.forks_count.is_some(),
        ]),
    }
}
