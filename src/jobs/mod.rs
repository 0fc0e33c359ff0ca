//! Jobs: what a task asks for, how it is enqueued, and the code that runs each kind.

mod crawl;
mod discovery;
pub mod enqueue;
mod profile;
mod repository;
pub mod runner;
mod store;

pub use enqueue::enqueue;

use crate::db::DbError;
use crate::db::queries::tasks::TaskRow;
use crate::domain::{GithubLogin, RepoName};
use crate::github::GithubError;

/// Task names, as stored and as accepted by `POST /github/tasks/`.
pub mod names {
    /// Sync one developer and their relations.
    pub const FULL_PROFILE_SYNC: &str = "full_profile_sync";
    /// Sync one repository and its stargazers.
    pub const FULL_REPOSITORY_SYNC: &str = "full_repository_sync";
    /// Enqueue profile syncs of the developers most in need of one.
    pub const DISCOVERY_SCRAPER: &str = "discovery_scraper";
    /// Every task name.
    pub const ALL: [&str; 3] = [FULL_PROFILE_SYNC, FULL_REPOSITORY_SYNC, DISCOVERY_SCRAPER];
}

/// A job, parsed from a trigger or a task row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    /// `full_profile_sync(username)`.
    FullProfileSync {
        /// The developer's login.
        username: GithubLogin,
    },
    /// `full_repository_sync(username, repo_name)`.
    FullRepositorySync {
        /// The owner's login.
        username: GithubLogin,
        /// The repository's name.
        repo_name: RepoName,
    },
    /// `discovery_scraper`.
    DiscoveryScraper,
}

/// Why a trigger does not describe a job; the messages are part of the API contract.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaskRequestError {
    /// No task name was given.
    #[error(
        "Missing name. Provide a task name: full_profile_sync, full_repository_sync or discovery_scraper"
    )]
    MissingName,
    /// The task name is not one of the three.
    #[error("task name {0} not recognized")]
    UnknownName(String),
    /// A task that needs a username got none.
    #[error("Missing username. Provide a valid github username")]
    MissingUsername,
    /// A repository task got no repository name.
    #[error("Missing repo_name. Provide a valid repository name")]
    MissingRepoName,
    /// A username or repository name that GitHub would not accept.
    #[error("{0}")]
    Invalid(String),
}

impl Job {
    /// Parses a trigger's fields into a job (blank fields count as missing).
    pub fn parse(
        name: Option<&str>,
        username: Option<&str>,
        repo_name: Option<&str>,
    ) -> Result<Job, TaskRequestError> {
        fn present(value: Option<&str>) -> Option<&str> {
            value.map(str::trim).filter(|v| !v.is_empty())
        }
        let name = present(name).ok_or(TaskRequestError::MissingName)?;
        let username = || -> Result<GithubLogin, TaskRequestError> {
            let value = present(username).ok_or(TaskRequestError::MissingUsername)?;
            GithubLogin::parse(value).map_err(TaskRequestError::Invalid)
        };
        match name {
            names::FULL_PROFILE_SYNC => Ok(Job::FullProfileSync {
                username: username()?,
            }),
            names::FULL_REPOSITORY_SYNC => {
                let username = username()?;
                let repo_name = present(repo_name).ok_or(TaskRequestError::MissingRepoName)?;
                Ok(Job::FullRepositorySync {
                    username,
                    repo_name: RepoName::parse(repo_name).map_err(TaskRequestError::Invalid)?,
                })
            }
            names::DISCOVERY_SCRAPER => Ok(Job::DiscoveryScraper),
            other => Err(TaskRequestError::UnknownName(
                other.chars().take(100).collect(),
            )),
        }
    }

    /// The job a stored task row describes.
    pub fn from_row(row: &TaskRow) -> Result<Job, TaskRequestError> {
        Job::parse(
            Some(&row.name),
            row.username.as_deref(),
            row.repo_name.as_deref(),
        )
    }

    /// The task name.
    pub fn name(&self) -> &'static str {
        match self {
            Job::FullProfileSync { .. } => names::FULL_PROFILE_SYNC,
            Job::FullRepositorySync { .. } => names::FULL_REPOSITORY_SYNC,
            Job::DiscoveryScraper => names::DISCOVERY_SCRAPER,
        }
    }

    /// The username argument, if any.
    pub fn username(&self) -> Option<&str> {
        match self {
            Job::FullProfileSync { username } | Job::FullRepositorySync { username, .. } => {
                Some(username.as_str())
            }
            Job::DiscoveryScraper => None,
        }
    }

    /// The repo_name argument, if any.
    pub fn repo_name(&self) -> Option<&str> {
        match self {
            Job::FullRepositorySync { repo_name, .. } => Some(repo_name.as_str()),
            _ => None,
        }
    }
}

/// Why a job stopped before finishing.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// GitHub failed, refused, or the quota ran low.
    #[error(transparent)]
    Github(#[from] GithubError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The stored task does not describe a job (edited by hand, or from a newer version).
    #[error("invalid task: {0}")]
    InvalidTask(TaskRequestError),
}

impl From<diesel::result::Error> for JobError {
    fn from(error: diesel::result::Error) -> Self {
        JobError::Database(DbError::Query(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_parse_into_jobs_with_the_contract_messages() {
        assert_eq!(
            Job::parse(Some("discovery_scraper"), None, None),
            Ok(Job::DiscoveryScraper)
        );
        assert_eq!(
            Job::parse(Some("full_profile_sync"), None, None)
                .expect_err("missing")
                .to_string(),
            "Missing username. Provide a valid github username"
        );
        assert_eq!(
            Job::parse(Some("full_repository_sync"), Some("octocat"), Some(" "))
                .expect_err("missing")
                .to_string(),
            "Missing repo_name. Provide a valid repository name"
        );
        assert_eq!(
            Job::parse(Some("foo"), None, None)
                .expect_err("unknown")
                .to_string(),
            "task name foo not recognized"
        );
        assert!(matches!(
            Job::parse(Some("full_profile_sync"), Some("bad/name"), None),
            Err(TaskRequestError::Invalid(_))
        ));
    }
}
