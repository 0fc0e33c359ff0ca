//! The fake GitHub's `POST /graphql`: GitHub's schema names for what gitomatic asks
//! (`user`, `repositoryOwner`, `organization`, `rateLimit`; users' and organizations'
//! profiles, `followers`, `following`, `starredRepositories`, `repositories`, `gists`;
//! repositories' fields), aliases, inline fragments, variables, cursors, and GitHub's cost
//! rule: every connection needs as many requests as its parents' `first` multiplied, and a
//! query costs max(1, round(requests / 100)) points of the token's `graphql` window.
//!
//! Every query is first validated against GitHub's published schema (`github_graphql.rs`):
//! an invalid one gets GitHub's answer, a 200 with `errors` and no `data`, so every test
//! that crawls over GraphQL also proves the documents gitomatic sends are valid. GitHub's
//! failure answers can be injected: `RATE_LIMITED`, and 502/504/timeouts for queries naming
//! more users than a limit (or a login made too heavy to answer even alone).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value, json};

use super::{FakeGithub, Reply, State, base64, github_graphql, node_id};

/// Connection fields of the schema served: each counts in a query's cost.
const CONNECTIONS: &[&str] = &[
    "followers",
    "following",
    "starredRepositories",
    "repositories",
    "gists",
];
/// GitHub's largest page of a connection.
const MAX_PAGE: u64 = 100;
const GRAPHQL_DOCS: &str = "https://docs.github.com/graphql";

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// An argument's value as written in the query.
#[derive(Clone, Debug)]
enum Arg {
    Literal(Value),
    Variable(String),
    List(Vec<Arg>),
}

#[derive(Clone, Debug)]
enum Selection {
    Field(Field),
    /// `... on Type { ... }`
    Fragment {
        on: String,
        selections: Vec<Selection>,
    },
}

#[derive(Clone, Debug)]
struct Field {
    alias: Option<String>,
    name: String,
    args: BTreeMap<String, Arg>,
    selections: Vec<Selection>,
}

impl Field {
    fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Punct(char),
    Spread,
    Name(String),
    Str(String),
    Int(i64),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() || c == ',' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '{' | '}' | '(' | ')' | ':' | '[' | ']' | '$' | '!' | '=' | '@' => {
                tokens.push(Token::Punct(c));
                i += 1;
            }
            '.' if chars.get(i..i + 3) == Some(&['.', '.', '.']) => {
                tokens.push(Token::Spread);
                i += 3;
            }
            '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => {
                            let escaped = chars.get(i + 1).ok_or("unterminated escape")?;
                            match escaped {
                                'n' => value.push('\n'),
                                't' => value.push('\t'),
                                'u' => {
                                    let hex: String =
                                        chars.get(i + 2..i + 6).ok_or("bad \\u")?.iter().collect();
                                    let code =
                                        u32::from_str_radix(&hex, 16).map_err(|_| "bad \\u")?;
                                    value.push(char::from_u32(code).ok_or("bad \\u")?);
                                    i += 4;
                                }
                                other => value.push(*other),
                            }
                            i += 2;
                            continue;
                        }
                        Some(other) => value.push(*other),
                    }
                    i += 1;
                }
                i += 1;
                tokens.push(Token::Str(value));
            }
            _ if c == '-' || c.is_ascii_digit() => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let number: String = chars[start..i].iter().collect();
                tokens.push(Token::Int(
                    number.parse().map_err(|_| format!("bad number {number}"))?,
                ));
            }
            _ if c == '_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                tokens.push(Token::Name(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Result<Token, String> {
        let token = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or("unexpected end of query")?;
        self.at += 1;
        Ok(token)
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Token::Punct(found) if found == c => Ok(()),
            other => Err(format!("expected {c:?}, found {other:?}")),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.next()? {
            Token::Name(name) => Ok(name),
            other => Err(format!("expected a name, found {other:?}")),
        }
    }

    /// `query Name($a: T, ...)` (optional), then the selection set.
    fn document(&mut self) -> Result<Vec<Selection>, String> {
        if let Some(Token::Name(keyword)) = self.peek() {
            if keyword != "query" {
                return Err(format!("only queries are served, not {keyword}"));
            }
            self.at += 1;
            if let Some(Token::Name(_)) = self.peek() {
                self.at += 1;
            }
            if self.peek() == Some(&Token::Punct('(')) {
                // Variable definitions: their types are not checked.
                let mut depth = 0;
                loop {
                    match self.next()? {
                        Token::Punct('(') => depth += 1,
                        Token::Punct(')') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        let selections = self.selection_set()?;
        match self.peek() {
            None => Ok(selections),
            Some(token) => Err(format!("unexpected {token:?} after the query")),
        }
    }

    fn selection_set(&mut self) -> Result<Vec<Selection>, String> {
        self.expect('{')?;
        let mut selections = Vec::new();
        loop {
            match self.peek() {
                Some(Token::Punct('}')) => {
                    self.at += 1;
                    return Ok(selections);
                }
                Some(Token::Spread) => {
                    self.at += 1;
                    let on = self.name()?;
                    if on != "on" {
                        return Err("named fragments are not served; use `... on Type`".into());
                    }
                    let on = self.name()?;
                    selections.push(Selection::Fragment {
                        on,
                        selections: self.selection_set()?,
                    });
                }
                _ => selections.push(Selection::Field(self.field()?)),
            }
        }
    }

    fn field(&mut self) -> Result<Field, String> {
        let mut name = self.name()?;
        let mut alias = None;
        if self.peek() == Some(&Token::Punct(':')) {
            self.at += 1;
            alias = Some(name);
            name = self.name()?;
        }
        let mut args = BTreeMap::new();
        if self.peek() == Some(&Token::Punct('(')) {
            self.at += 1;
            while self.peek() != Some(&Token::Punct(')')) {
                let arg = self.name()?;
                self.expect(':')?;
                args.insert(arg, self.value()?);
            }
            self.at += 1;
        }
        let selections = if self.peek() == Some(&Token::Punct('{')) {
            self.selection_set()?
        } else {
            Vec::new()
        };
        Ok(Field {
            alias,
            name,
            args,
            selections,
        })
    }

    fn value(&mut self) -> Result<Arg, String> {
        Ok(match self.next()? {
            Token::Str(text) => Arg::Literal(Value::String(text)),
            Token::Int(n) => Arg::Literal(json!(n)),
            Token::Name(name) => Arg::Literal(match name.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => Value::String(name),
            }),
            Token::Punct('$') => Arg::Variable(self.name()?),
            Token::Punct('[') => {
                let mut items = Vec::new();
                while self.peek() != Some(&Token::Punct(']')) {
                    items.push(self.value()?);
                }
                self.at += 1;
                Arg::List(items)
            }
            other => return Err(format!("unexpected {other:?} as a value")),
        })
    }
}

// ---------------------------------------------------------------------------
// Cost (GitHub's rule)
// ---------------------------------------------------------------------------

/// Requests the selections need: each connection needs its parents' `first` multiplied.
fn requests(selections: &[Selection], multiplier: u64, variables: &Value) -> u64 {
    selections
        .iter()
        .map(|selection| match selection {
            Selection::Fragment { selections, .. } => requests(selections, multiplier, variables),
            Selection::Field(field) => {
                let (own, inner) = if CONNECTIONS.contains(&field.name.as_str()) {
                    let page = ["first", "last"]
                        .iter()
                        .find_map(|key| integer(field.args.get(*key), variables))
                        .map_or(1, |n| u64::try_from(n).unwrap_or(1));
                    (multiplier, multiplier.saturating_mul(page))
                } else {
                    (0, multiplier)
                };
                own + requests(&field.selections, inner, variables)
            }
        })
        .sum()
}

/// GitHub's points for a query: max(1, round(requests / 100)).
fn points(requests: u64) -> u32 {
    let points = (requests as f64 / 100.0).round() as u32;
    points.max(1)
}

fn resolve_arg(arg: &Arg, variables: &Value) -> Value {
    match arg {
        Arg::Literal(value) => value.clone(),
        Arg::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        Arg::List(items) => Value::Array(items.iter().map(|a| resolve_arg(a, variables)).collect()),
    }
}

fn integer(arg: Option<&Arg>, variables: &Value) -> Option<i64> {
    arg.map(|arg| resolve_arg(arg, variables))
        .and_then(|v| v.as_i64())
}

// ---------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------

/// What a field resolves to.
#[derive(Clone, Debug)]
enum Node {
    Query,
    /// A user or an organization (by `kind`).
    Account(i64),
    Repository(i64),
    Language(String),
    Connection(Connection),
    PageInfo {
        has_next: bool,
        end_cursor: Option<String>,
    },
    Edge {
        cursor: String,
        node: Box<Node>,
    },
    RateLimit,
}

#[derive(Clone, Debug)]
struct Connection {
    name: String,
    /// Every item of the relation, in order: accounts or repositories.
    items: Vec<Node>,
    total: usize,
    /// The page asked: `None` for a count-only connection.
    page: Option<(usize, usize)>,
}

/// A query that cannot run: GitHub answers such a query with `errors` and no `data`.
struct Invalid(String);

struct Exec<'a> {
    state: &'a State,
    variables: &'a Value,
    errors: Vec<Value>,
    cost: u32,
    remaining: u32,
    limit: u32,
    used: u32,
    reset_epoch: i64,
}

fn cursor(index: usize) -> String {
    base64(format!("cursor:v2:{index}").as_bytes())
}

fn index_of(cursor: &str) -> Option<usize> {
    let decoded = decode_base64(cursor)?;
    decoded.strip_prefix("cursor:v2:")?.parse().ok()
}

fn decode_base64(text: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.trim_end_matches('=').bytes() {
        let value = ALPHABET.iter().position(|&c| c == byte)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Exec<'_> {
    fn arg(&self, field: &Field, name: &str) -> Value {
        field
            .args
            .get(name)
            .map_or(Value::Null, |arg| resolve_arg(arg, self.variables))
    }

    fn type_name(&self, node: &Node) -> String {
        match node {
            Node::Query => "Query".into(),
            Node::Account(id) => self.state.graph.user(*id).kind.clone(),
            Node::Repository(_) => "Repository".into(),
            Node::Language(_) => "Language".into(),
            Node::Connection(connection) => format!("{}Connection", connection.name),
            Node::PageInfo { .. } => "PageInfo".into(),
            Node::Edge { .. } => "Edge".into(),
            Node::RateLimit => "RateLimit".into(),
        }
    }

    /// The object of `node` with the fields `selections` ask, under their aliases.
    fn object(
        &mut self,
        node: &Node,
        selections: &[Selection],
        path: &[String],
    ) -> Result<Value, Invalid> {
        let type_name = self.type_name(node);
        let mut object = Map::new();
        for selection in selections {
            match selection {
                Selection::Fragment { on, selections } => {
                    let interface = matches!(on.as_str(), "RepositoryOwner" | "Actor" | "Node");
                    if (*on == type_name || interface)
                        && let Value::Object(fields) = self.object(node, selections, path)?
                    {
                        object.extend(fields);
                    }
                }
                Selection::Field(field) => {
                    let mut path = path.to_vec();
                    path.push(field.key().to_owned());
                    let value = self.field(node, &type_name, field, &path)?;
                    object.insert(field.key().to_owned(), value);
                }
            }
        }
        Ok(Value::Object(object))
    }

    /// A child node rendered with the field's selections (`null` stays `null`).
    fn nested(
        &mut self,
        node: Option<Node>,
        field: &Field,
        path: &[String],
    ) -> Result<Value, Invalid> {
        match node {
            None => Ok(Value::Null),
            Some(node) if field.selections.is_empty() => Err(Invalid(format!(
                "Field '{}' of type '{}' must have a selection of subfields",
                field.name,
                self.type_name(&node)
            ))),
            Some(node) => self.object(&node, &field.selections, path),
        }
    }

    fn not_found(&mut self, path: &[String], what: &str, login: &str) {
        self.errors.push(json!({
            "type": "NOT_FOUND",
            "path": path,
            "locations": [{"line": 1, "column": 1}],
            "message": format!("Could not resolve to a {what} with the login of '{login}'."),
        }));
    }

    fn field(
        &mut self,
        node: &Node,
        type_name: &str,
        field: &Field,
        path: &[String],
    ) -> Result<Value, Invalid> {
        if field.name == "__typename" {
            return Ok(Value::String(type_name.to_owned()));
        }
        let state = self.state;
        let graph = &state.graph;
        let value = match node {
            Node::Query => match field.name.as_str() {
                "rateLimit" => return self.nested(Some(Node::RateLimit), field, path),
                "user" | "repositoryOwner" | "organization" => {
                    let login = self.arg(field, "login");
                    let login = login.as_str().unwrap_or_default().to_owned();
                    let wanted = match field.name.as_str() {
                        "user" => Some("User"),
                        "organization" => Some("Organization"),
                        _ => None,
                    };
                    let found = graph
                        .user_id(&login)
                        .filter(|id| wanted.is_none_or(|kind| graph.user(*id).kind == kind));
                    if found.is_none() {
                        let what = wanted.unwrap_or("RepositoryOwner");
                        self.not_found(path, what, &login);
                    }
                    return self.nested(found.map(Node::Account), field, path);
                }
                _ => None,
            },
            Node::Account(id) => self.account_field(*id, field)?,
            Node::Repository(id) => self.repository_field(*id, field),
            Node::Language(name) => match field.name.as_str() {
                "name" => Some(json!(name)),
                _ => None,
            },
            Node::RateLimit => match field.name.as_str() {
                "cost" => Some(json!(self.cost)),
                "limit" => Some(json!(self.limit)),
                "remaining" => Some(json!(self.remaining.saturating_sub(self.cost))),
                "used" => Some(json!(self.used + self.cost)),
                "resetAt" => Some(json!(super::rfc3339(self.reset_epoch))),
                "nodeCount" => Some(json!(0)),
                _ => None,
            },
            Node::PageInfo {
                has_next,
                end_cursor,
            } => match field.name.as_str() {
                "hasNextPage" => Some(json!(has_next)),
                "endCursor" => Some(json!(end_cursor)),
                _ => None,
            },
            Node::Edge { cursor, node } => match field.name.as_str() {
                "cursor" => Some(json!(cursor)),
                "node" => return self.nested(Some((**node).clone()), field, path),
                _ => None,
            },
            Node::Connection(connection) => {
                return self.connection_field(connection, field, path);
            }
        };
        match value {
            Some(value) => Ok(value),
            None => match self.child(node, field)? {
                Some(child) => self.nested(child, field, path),
                None => Err(Invalid(format!(
                    "Field '{}' doesn't exist on type '{type_name}'",
                    field.name
                ))),
            },
        }
    }

    /// Object-valued fields: `Some(None)` is a null object, `None` an unknown field.
    #[allow(clippy::option_option)]
    fn child(&self, node: &Node, field: &Field) -> Result<Option<Option<Node>>, Invalid> {
        let graph = &self.state.graph;
        Ok(match (node, field.name.as_str()) {
            (Node::Repository(id), "owner") => Some(Some(Node::Account(graph.repo(*id).owner_id))),
            (Node::Repository(id), "primaryLanguage") => {
                Some(graph.repo(*id).language.clone().map(Node::Language))
            }
            (Node::Account(id), name) if CONNECTIONS.contains(&name) => {
                let organization = graph.user(*id).kind == "Organization";
                let items: Option<Vec<Node>> = match name {
                    "followers" if !organization => Some(
                        graph
                            .followers(*id)
                            .into_iter()
                            .map(Node::Account)
                            .collect(),
                    ),
                    "following" if !organization => Some(
                        graph
                            .following(*id)
                            .into_iter()
                            .map(Node::Account)
                            .collect(),
                    ),
                    "starredRepositories" if !organization => Some(
                        graph
                            .starred(*id)
                            .into_iter()
                            .map(Node::Repository)
                            .collect(),
                    ),
                    "repositories" => Some(
                        graph
                            .owned_repos(*id)
                            .into_iter()
                            .map(Node::Repository)
                            .collect(),
                    ),
                    "gists" if !organization => Some(Vec::new()),
                    _ => None,
                };
                let Some(items) = items else {
                    return Ok(None);
                };
                let total = if name == "gists" {
                    usize::try_from(graph.user(*id).public_gists).unwrap_or(0)
                } else {
                    items.len()
                };
                Some(Some(Node::Connection(
                    self.page(name, items, total, field)?,
                )))
            }
            _ => None,
        })
    }

    /// The page of a connection that `first` / `after` ask for.
    fn page(
        &self,
        name: &str,
        items: Vec<Node>,
        total: usize,
        field: &Field,
    ) -> Result<Connection, Invalid> {
        let first = self.arg(field, "first").as_i64();
        let asks_items = field.selections.iter().any(
            |s| matches!(s, Selection::Field(f) if matches!(f.name.as_str(), "nodes" | "edges")),
        );
        if let Some(first) = first {
            if !(0..=MAX_PAGE as i64).contains(&first) {
                return Err(Invalid(format!(
                    "Requesting {first} records on the `{name}` connection exceeds the `first` limit of {MAX_PAGE} records."
                )));
            }
        } else if asks_items {
            return Err(Invalid(format!(
                "You must provide a `first` or `last` value to properly paginate the `{name}` connection."
            )));
        }
        let start = match self.arg(field, "after") {
            Value::String(after) => index_of(&after).map(|index| index + 1).ok_or_else(|| {
                Invalid(format!("`{after}` does not appear to be a valid cursor."))
            })?,
            _ => 0,
        };
        let page = first.map(|first| {
            let start = start.min(items.len());
            (
                start,
                (start + usize::try_from(first).unwrap_or(0)).min(items.len()),
            )
        });
        if name == "gists" && asks_items {
            return Err(Invalid(
                "the fake serves only `totalCount` of `gists`".into(),
            ));
        }
        Ok(Connection {
            name: capitalized(name),
            items,
            total,
            page,
        })
    }

    fn connection_field(
        &mut self,
        connection: &Connection,
        field: &Field,
        path: &[String],
    ) -> Result<Value, Invalid> {
        let (start, end) = connection.page.unwrap_or((0, 0));
        match field.name.as_str() {
            "totalCount" => Ok(json!(connection.total)),
            "pageInfo" => {
                let info = Node::PageInfo {
                    has_next: end < connection.items.len(),
                    end_cursor: (end > start).then(|| cursor(end - 1)),
                };
                self.nested(Some(info), field, path)
            }
            "nodes" | "edges" => {
                let mut values = Vec::new();
                for (index, node) in connection.items[start..end].iter().enumerate() {
                    let node = if field.name == "edges" {
                        Node::Edge {
                            cursor: cursor(start + index),
                            node: Box::new(node.clone()),
                        }
                    } else {
                        node.clone()
                    };
                    values.push(self.nested(Some(node), field, path)?);
                }
                Ok(Value::Array(values))
            }
            other => Err(Invalid(format!(
                "Field '{other}' doesn't exist on type '{}Connection'",
                connection.name
            ))),
        }
    }

    /// Scalar fields of a user or an organization.
    fn account_field(&self, id: i64, field: &Field) -> Result<Option<Value>, Invalid> {
        let user = self.state.graph.user(id);
        let organization = user.kind == "Organization";
        Ok(match field.name.as_str() {
            "id" => Some(json!(node_id(&user.kind, id))),
            "databaseId" => Some(json!(id)),
            "login" => Some(json!(user.login)),
            "name" => Some(json!(user.name)),
            "location" => Some(json!(user.location)),
            // GitHub's `email` is a non-null string: empty when not public.
            "email" => Some(json!(user.email.clone().unwrap_or_default())),
            "avatarUrl" => Some(json!(format!(
                "https://avatars.githubusercontent.com/u/{id}?v=4"
            ))),
            "url" => Some(json!(format!("https://github.com/{}", user.login))),
            "createdAt" => Some(json!(user.created_at)),
            "updatedAt" => Some(json!(user.updated_at)),
            "company" if !organization => Some(json!(user.company)),
            "bio" if !organization => Some(json!(user.bio)),
            "description" if organization => Some(json!(user.bio)),
            _ => None,
        })
    }

    /// Scalar fields of a repository.
    fn repository_field(&self, id: i64, field: &Field) -> Option<Value> {
        let graph = &self.state.graph;
        let repo = graph.repo(id);
        Some(match field.name.as_str() {
            "id" => json!(node_id("Repository", id)),
            "databaseId" => json!(id),
            "name" => json!(repo.name),
            "nameWithOwner" => json!(graph.full_name(id)),
            "url" => json!(format!("https://github.com/{}", graph.full_name(id))),
            "description" => json!(repo.description),
            "homepageUrl" => json!(repo.homepage),
            "createdAt" => json!(repo.created_at),
            "updatedAt" => json!(repo.updated_at),
            "pushedAt" => json!(repo.pushed_at),
            "hasIssuesEnabled" => json!(repo.has_issues),
            "hasProjectsEnabled" => json!(repo.has_projects),
            "hasWikiEnabled" => json!(repo.has_wiki),
            "isPrivate" => json!(false),
            "isArchived" => json!(repo.archived),
            "isDisabled" => json!(repo.disabled),
            "isFork" => json!(repo.fork),
            "stargazerCount" => json!(graph.stargazers(id).len()),
            "forkCount" => json!(repo.forks_count),
            _ => return None,
        })
    }
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn graphql_error(message: &str) -> Value {
    json!({"errors": [{"message": message, "locations": [{"line": 1, "column": 1}]}]})
}

// ---------------------------------------------------------------------------
// Injected answers and the queries received
// ---------------------------------------------------------------------------

/// How GitHub answers a query too heavy to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heavy {
    /// `502 Bad Gateway`.
    BadGateway,
    /// `504 Gateway Timeout`.
    GatewayTimeout,
    /// A 200 whose only error is GitHub's "Something went wrong while executing your query.
    /// This may be the result of a timeout...".
    SomethingWentWrong,
}

/// GitHub's words when a query runs out of time.
const SOMETHING_WENT_WRONG: &str = "Something went wrong while executing your query. This may be \
     the result of a timeout, or it could be a GitHub bug. Please include `FAKE:0001` when \
     reporting this issue.";
const GATEWAY_TIMEOUT: &str = "We couldn't respond to your request in time. Sorry about that. \
     Please try resubmitting your request and contact us if the problem persists.";

/// The GraphQL side's state beyond the graph.
#[derive(Debug, Default)]
pub(super) struct Side {
    /// Queries left to answer `RATE_LIMITED`.
    rate_limited: usize,
    /// Messages of validation errors the next queries are refused with.
    refusals: VecDeque<String>,
    /// Queries naming more users than this are too heavy, answered so.
    too_heavy: Option<(usize, Heavy)>,
    /// Logins (lower-cased) whose queries are too heavy even alone.
    heavy_logins: BTreeSet<String>,
    received: Vec<ReceivedQuery>,
}

/// One `POST /graphql` the fake answered (not those refused before: no token, 404).
#[derive(Clone, Debug)]
pub struct ReceivedQuery {
    /// The document as sent.
    pub query: String,
    /// The logins of its top-level `user`, `repositoryOwner` and `organization` fields.
    pub logins: Vec<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The messages of the answer's `errors`.
    pub errors: Vec<String>,
    /// Whether the answer had a `data` key.
    pub data: bool,
}

impl Side {
    /// The injected answer for a query naming `logins`, if any (consuming a `RATE_LIMITED`).
    fn injected(&mut self, logins: &[String]) -> Option<Reply> {
        if self.rate_limited > 0 {
            self.rate_limited -= 1;
            return Some(rate_limited());
        }
        if let Some(message) = self.refusals.pop_front() {
            let mut reply = Reply::json(200, &graphql_error(&message));
            reply.costs_quota = false;
            return Some(reply);
        }
        let (max_users, heavy) = self.too_heavy?;
        let too_heavy = logins.len() > max_users
            || logins
                .iter()
                .any(|login| self.heavy_logins.contains(&login.to_lowercase()));
        too_heavy.then(|| {
            let mut reply = match heavy {
                Heavy::BadGateway => Reply::json(502, &json!({"message": "Server Error"})),
                Heavy::GatewayTimeout => Reply::json(504, &json!({"message": GATEWAY_TIMEOUT})),
                Heavy::SomethingWentWrong => Reply::json(
                    200,
                    &json!({"data": null, "errors": [{"message": SOMETHING_WENT_WRONG}]}),
                ),
            };
            reply.costs_quota = false;
            reply
        })
    }
}

/// GitHub's answer when the token's GraphQL points (or its secondary limit) are spent.
fn rate_limited() -> Reply {
    let mut reply = Reply::json(
        200,
        &json!({"errors": [{
            "type": "RATE_LIMITED",
            "code": "graphql_rate_limit",
            "message": "API rate limit already exceeded for user ID 1.",
        }]}),
    );
    reply.costs_quota = false;
    reply
}

/// The logins of the top-level fields that look an account up.
fn logins_of(selections: &[Selection], variables: &Value) -> Vec<String> {
    selections
        .iter()
        .filter_map(|selection| match selection {
            Selection::Field(field)
                if matches!(
                    field.name.as_str(),
                    "user" | "repositoryOwner" | "organization"
                ) =>
            {
                let login = field.args.get("login")?;
                resolve_arg(login, variables).as_str().map(str::to_owned)
            }
            _ => None,
        })
        .collect()
}

impl FakeGithub {
    /// The next `n` GraphQL queries answer GitHub's `RATE_LIMITED` (a 200 with that error
    /// and no data), costing nothing; the quota headers show the window as it stands.
    pub fn graphql_rate_limited_next(&self, n: usize) {
        self.state().graphql_side.rate_limited += n;
    }

    /// The next GraphQL query is refused as an invalid document (a 200 with this error
    /// message and no data), whatever it asks: as GitHub refuses a query its schema no
    /// longer validates.
    pub fn graphql_refuse_next(&self, message: &str) {
        self.state()
            .graphql_side
            .refusals
            .push_back(message.to_owned());
    }

    /// From now on a GraphQL query naming more than `max_users` users (aliased `user` or
    /// `repositoryOwner` fields) is too heavy: answered as `heavy` says, costing nothing.
    pub fn graphql_too_heavy_over(&self, max_users: usize, heavy: Heavy) {
        self.state().graphql_side.too_heavy = Some((max_users, heavy));
    }

    /// A query naming `login` is too heavy even alone (with [`Self::graphql_too_heavy_over`]).
    pub fn graphql_heavy_login(&self, login: &str) {
        self.state()
            .graphql_side
            .heavy_logins
            .insert(login.to_lowercase());
    }

    /// Every GraphQL query answered so far, in order.
    pub fn graphql_queries(&self) -> Vec<ReceivedQuery> {
        self.state().graphql_side.received.clone()
    }
}

impl State {
    /// `POST /graphql` as the token with `remaining` points left in its window.
    pub(super) fn graphql(&mut self, req: &super::Incoming, remaining: u32) -> Reply {
        let (mut reply, query, logins) = self.run_graphql(req, remaining);
        reply.resource = "graphql";
        if let Some(query) = query {
            let answer: Value = reply
                .body
                .as_deref()
                .and_then(|body| serde_json::from_str(body).ok())
                .unwrap_or(Value::Null);
            let errors = answer["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|error| error["message"].as_str().map(str::to_owned))
                .collect();
            self.graphql_side.received.push(ReceivedQuery {
                query,
                logins,
                status: reply.status,
                errors,
                data: answer.get("data").is_some(),
            });
        }
        reply
    }

    /// The reply, the query (when there was one) and the logins it names.
    fn run_graphql(
        &mut self,
        req: &super::Incoming,
        remaining: u32,
    ) -> (Reply, Option<String>, Vec<String>) {
        if req.token().is_empty() {
            let mut reply = Reply::error(
                401,
                "This endpoint requires you to be authenticated.",
                GRAPHQL_DOCS,
            );
            reply.costs_quota = false;
            return (reply, None, Vec::new());
        }
        let free = |value: Value| {
            let mut reply = Reply::json(200, &value);
            reply.costs_quota = false;
            reply
        };
        let Ok(body) = serde_json::from_str::<Value>(&req.body) else {
            return (
                free(graphql_error("Problems parsing JSON")),
                None,
                Vec::new(),
            );
        };
        let Some(query) = body.get("query").and_then(Value::as_str) else {
            let message = "A query attribute must be specified and must be a string.";
            return (free(graphql_error(message)), None, Vec::new());
        };
        let received = Some(query.to_owned());
        // GitHub validates the document against its schema before anything else: an
        // invalid one is answered with the errors and no data at all.
        let refusals = github_graphql::validate(query);
        if !refusals.is_empty() {
            let errors: Vec<Value> = refusals
                .iter()
                .map(|refusal| {
                    let locations: Vec<Value> = refusal
                        .locations
                        .iter()
                        .map(|(line, column)| json!({"line": line, "column": column}))
                        .collect();
                    json!({"message": refusal.message, "locations": locations})
                })
                .collect();
            return (free(json!({ "errors": errors })), received, Vec::new());
        }
        let variables = body.get("variables").cloned().unwrap_or(Value::Null);
        let selections =
            match tokenize(query).and_then(|tokens| Parser { tokens, at: 0 }.document()) {
                Ok(selections) => selections,
                Err(message) => {
                    let reply = free(graphql_error(&format!("Parse error: {message}")));
                    return (reply, received, Vec::new());
                }
            };
        let logins = logins_of(&selections, &variables);
        if let Some(reply) = self.graphql_side.injected(&logins) {
            return (reply, received, logins);
        }
        let cost = points(requests(&selections, 1, &variables));
        let token = req.token().to_owned();
        let quota = self.quotas_of(&token).graphql;
        if remaining < cost {
            return (rate_limited(), received, logins);
        }
        let mut exec = Exec {
            state: self,
            variables: &variables,
            errors: Vec::new(),
            cost,
            remaining: quota.remaining,
            limit: quota.limit,
            used: quota.used,
            reset_epoch: quota.reset_epoch,
        };
        let reply = match exec.object(&Node::Query, &selections, &[]) {
            Ok(data) => {
                let mut answer = json!({ "data": data });
                if !exec.errors.is_empty() {
                    answer["errors"] = Value::Array(exec.errors);
                }
                let mut reply = Reply::json(200, &answer);
                reply.units = cost;
                reply
            }
            Err(Invalid(message)) => free(graphql_error(&message)),
        };
        (reply, received, logins)
    }
}
