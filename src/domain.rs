//! Parsed domain values: a `GithubLogin` or `RepoName` is valid by construction.

use std::fmt;

/// A GitHub login: 1-39 characters of `A-Z a-z 0-9 -`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GithubLogin(String);

impl GithubLogin {
    /// Parses a login, rejecting anything GitHub would not accept.
    pub fn parse(value: &str) -> Result<Self, String> {
        let valid = (1..=39).contains(&value.len())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "{value:?} is not a valid GitHub username (1-39 characters of A-Z, a-z, 0-9 and -)"
            ))
        }
    }

    /// The login as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A GitHub repository name: 1-100 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoName(String);

impl RepoName {
    /// Parses a repository name, rejecting anything GitHub would not accept.
    pub fn parse(value: &str) -> Result<Self, String> {
        let valid = (1..=100).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            && value != "."
            && value != "..";
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "{value:?} is not a valid repository name (1-100 characters of A-Z, a-z, 0-9, ., _ and -)"
            ))
        }
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GithubLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A repository's `owner/name`, both parts valid by GitHub's syntax.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName(String);

impl FullName {
    /// Parses `owner/name`, rejecting anything GitHub would not accept.
    pub fn parse(value: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "{value:?} is not a valid repository full name: expected owner/name, the owner \
                 1-39 characters of A-Z, a-z, 0-9 and -, the name 1-100 characters of A-Z, a-z, \
                 0-9, ., _ and -"
            )
        };
        let (owner, name) = value.split_once('/').ok_or_else(invalid)?;
        GithubLogin::parse(owner).map_err(|_| invalid())?;
        RepoName::parse(name).map_err(|_| invalid())?;
        Ok(Self(value.to_owned()))
    }

    /// `owner/name` as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owner's login.
    pub fn owner(&self) -> &str {
        self.0.split_once('/').map_or("", |(owner, _)| owner)
    }

    /// The repository's name.
    pub fn name(&self) -> &str {
        self.0.split_once('/').map_or("", |(_, name)| name)
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Conversions that let serde parse (and so validate) stored job arguments.
macro_rules! string_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    )*};
}

string_conversions!(GithubLogin, RepoName, FullName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_follow_githubs_syntax() {
        assert!(GithubLogin::parse("octocat").is_ok());
        assert!(GithubLogin::parse("a-b-9").is_ok());
        assert!(GithubLogin::parse(&"x".repeat(39)).is_ok());
        for bad in [
            "",
            "has space",
            "slash/es",
            "dot.ted",
            "ünï",
            &"x".repeat(40),
        ] {
            assert!(GithubLogin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn full_names_are_owner_slash_name() {
        let full = FullName::parse("octo-cat/hello.world").expect("valid");
        assert_eq!((full.owner(), full.name()), ("octo-cat", "hello.world"));
        for bad in [
            "",
            "owner",
            "/name",
            "owner/",
            "a/b/c",
            "bad owner/x",
            "o/..",
            "o/a b",
        ] {
            let error = FullName::parse(bad).expect_err(bad);
            assert!(error.contains("owner/name"), "{error}");
        }
    }

    #[test]
    fn repository_names_follow_githubs_syntax() {
        assert!(RepoName::parse("hello-world").is_ok());
        assert!(RepoName::parse("my.repo_v2").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "?x", &"x".repeat(101)] {
            assert!(RepoName::parse(bad).is_err(), "{bad}");
        }
    }
}
