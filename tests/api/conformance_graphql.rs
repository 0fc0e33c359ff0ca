//! Every GraphQL document the crawler can build, validated against GitHub's published
//! schema (`@octokit/graphql-schema`, SPEC-3 section 0), through the crate's own builders;
//! and the shape GitHub refused, to show the check can fail.

use gitomatic::domain::GithubLogin;
use gitomatic::jobs::batch::{Continuation, List, batch_query, continuation_query};

use crate::helpers::github_graphql;

fn logins(names: &[&str]) -> Vec<GithubLogin> {
    names
        .iter()
        .map(|name| GithubLogin::parse(name).expect("a valid login"))
        .collect()
}

/// Panics with the document and GitHub's reasons when the schema refuses it.
fn assert_valid(document: &str) {
    let messages = github_graphql::messages(document);
    assert!(
        messages.is_empty(),
        "GitHub's schema refuses this document:\n{document}\n{messages:#?}"
    );
}

/// Cursors as GitHub makes them (base64 with `+`, `/`, `=`), and one needing escapes.
const CURSORS: [&str; 3] = [
    "Y3Vyc29yOnYyOpHOAAx8Qw==",
    "Y3Vyc29yOnYyOpK5MjAyNC0wMS0wMlQwMzowNDowNSswMDowMM4B+/==",
    "odd \"cursor\" \\ with\nescapes",
];

#[test]
fn the_first_query_of_a_batch_validates_for_one_and_for_many_developers() {
    let many: Vec<String> = (0..100).map(|n| format!("dev-{n}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    for batch in [
        logins(&["octocat"]),
        logins(&["octocat", "monalisa", "some-org"]),
        logins(&many),
    ] {
        let document = batch_query(&batch);
        assert_eq!(
            document.matches("repositoryOwner(login:").count(),
            batch.len(),
            "one aliased field per developer"
        );
        assert_valid(&document);
    }
}

#[test]
fn every_continuation_validates_alone_and_together_with_cursors() {
    for list in List::ALL {
        for after in CURSORS {
            let page = Continuation {
                login: "octocat",
                list,
                after,
            };
            assert_valid(&continuation_query(&[page]));
        }
    }
    // A full continuation query: every relation of several developers at once.
    let developers = ["octocat", "monalisa", "hubot"];
    let pages: Vec<Continuation<'_>> = developers
        .iter()
        .flat_map(|login| {
            List::ALL.into_iter().map(move |list| Continuation {
                login,
                list,
                after: CURSORS[0],
            })
        })
        .collect();
    let document = continuation_query(&pages);
    assert_eq!(document.matches(": user(login:").count(), pages.len());
    assert_valid(&document);
}

/// `ACCOUNT_FIELDS` as it was: GitHub refused every batch for it.
const OLD_ACCOUNT_FIELDS: &str =
    "__typename login avatarUrl url ... on User { databaseId } ... on Organization { databaseId }";

#[test]
fn a_fragment_on_organization_inside_a_user_connection_is_refused() {
    let document = format!(
        "query {{ u0: user(login: \"octocat\") {{ followers(first: 100) {{ totalCount \
         nodes {{ {OLD_ACCOUNT_FIELDS} }} }} }} }}"
    );
    let messages = github_graphql::messages(&document);
    assert!(
        messages.iter().any(|message| message
            == "inline fragment with type condition `Organization` cannot be applied to `User`"),
        "the validator names the fragment that cannot be spread: {messages:#?}"
    );
    // The same selection on a repository's owner (a `RepositoryOwner`) is right.
    let owner = format!(
        "query {{ r: repository(owner: \"octocat\", name: \"hello\") {{ owner {{ {OLD_ACCOUNT_FIELDS} }} }} }}"
    );
    assert_valid(&owner);
}

#[test]
fn a_field_or_argument_github_does_not_have_is_refused() {
    for (document, expected) in [
        (
            "query { user(login: \"octocat\") { followerCount } }",
            "followerCount",
        ),
        (
            "query { user(login: \"octocat\") { followers(frist: 100) { totalCount } } }",
            "frist",
        ),
        ("query { user(login: 42) { login } }", "String!"),
    ] {
        let messages = github_graphql::messages(document);
        assert!(
            messages.iter().any(|message| message.contains(expected)),
            "{document}: {messages:#?}"
        );
    }
}
