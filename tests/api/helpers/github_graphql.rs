//! GitHub's published GraphQL schema (`@octokit/graphql-schema`, pinned and unpacked by
//! `./scripts/setup.sh`) and a strict validator of executable documents against it, with
//! `apollo-compiler`: what GitHub checks before it runs a query.
//!
//! The published SDL is not perfectly valid itself (15.26.1 defines two fields of
//! `EnterpriseOwnerInfo` twice), so the schema is built leniently: the schema apollo builds
//! beside those errors is kept, and only errors of that known kind are tolerated. Documents
//! are validated strictly. The schema is read once per test process.

use std::path::PathBuf;
use std::sync::OnceLock;

use apollo_compiler::validation::{Valid, WithErrors};
use apollo_compiler::{ExecutableDocument, Schema};

/// The pinned package, as unpacked under `$GITHUB_SCHEMAS`.
pub const PACKAGE: &str = "graphql-schema-15.26.1";

/// Where the setup script unpacks GitHub's descriptions: `$GITHUB_SCHEMAS`, by default
/// `$HOME/.cache/gitomatic/github-schemas`.
pub fn schemas_dir() -> PathBuf {
    std::env::var_os("GITHUB_SCHEMAS")
        .filter(|dir| !dir.is_empty())
        .map_or_else(
            || {
                let home = std::env::var_os("HOME").unwrap_or_default();
                PathBuf::from(home).join(".cache/gitomatic/github-schemas")
            },
            PathBuf::from,
        )
}

/// The path of the published `schema.graphql`.
pub fn schema_path() -> PathBuf {
    schemas_dir().join(PACKAGE).join("package/schema.graphql")
}

/// GitHub's schema, read and built on first use.
pub fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(load)
}

fn load() -> Valid<Schema> {
    let path = schema_path();
    let sdl = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "GitHub's GraphQL schema is not at {} ({error}): run ./scripts/setup.sh, which \
             installs the pinned @octokit/graphql-schema (or point GITHUB_SCHEMAS at where it is)",
            path.display()
        )
    });
    let schema = match Schema::parse(sdl, &path) {
        Ok(schema) => schema,
        Err(WithErrors { partial, errors }) => {
            // Tolerate only the published SDL's known defect; anything else means the file
            // is not the schema we pinned.
            let unexpected: Vec<String> = errors
                .iter()
                .map(|diagnostic| diagnostic.error.to_string())
                .filter(|message| !message.contains("EnterpriseOwnerInfo"))
                .collect();
            assert!(
                unexpected.is_empty(),
                "{} does not build as GitHub's schema: {unexpected:#?}",
                path.display()
            );
            partial
        }
    };
    assert!(
        schema.types.contains_key("User") && schema.schema_definition.query.is_some(),
        "{} has no `User` type or no query root",
        path.display()
    );
    Valid::assume_valid(schema)
}

/// One validation error, as GitHub reports it in `errors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The validator's message.
    pub message: String,
    /// Where in the document, 1-based `(line, column)`.
    pub locations: Vec<(usize, usize)>,
}

/// Validates an executable document (a query GitHub would receive) against GitHub's schema:
/// every error the validator finds, none when the document is valid.
pub fn validate(document: &str) -> Vec<Refusal> {
    match ExecutableDocument::parse_and_validate(schema(), document, "query.graphql") {
        Ok(_) => Vec::new(),
        Err(WithErrors { errors, .. }) => errors
            .iter()
            .map(|diagnostic| {
                let json = diagnostic.to_json();
                Refusal {
                    message: json.message,
                    locations: json
                        .locations
                        .iter()
                        .map(|location| (location.line, location.column))
                        .collect(),
                }
            })
            .collect(),
    }
}

/// The validator's messages for `document`, none when it is valid.
pub fn messages(document: &str) -> Vec<String> {
    validate(document)
        .into_iter()
        .map(|refusal| refusal.message)
        .collect()
}
