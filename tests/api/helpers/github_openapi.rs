//! GitHub's published REST description (`@octokit/openapi` 23.0.2,
//! `generated/api.github.com.json`, OpenAPI 3.0.3) as a judge of what the fake serves: finds
//! the operation of a request, picks the response schema of a status and validates a body
//! against it with the `jsonschema` crate, and hands out the published example responses.
//!
//! OpenAPI 3.0 schemas are not JSON Schema: each schema is converted first (`nullable: true`
//! admits `null`; OpenAPI-only keywords such as `discriminator`, `example`, `readOnly` are
//! dropped) and validated as draft 4, the dialect OpenAPI 3.0 extends, over a root document
//! that carries the `components` its `$ref`s point to. Formats (`date-time`, `uri`, `email`)
//! are asserted.
//!
//! `oneOf` is read as `anyOf`: GitHub's alternatives are shapes, not exclusive cases. The
//! `payload` of `event` is `oneOf` sixteen payloads one of which (`public-event`) requires
//! nothing, so every real event payload matches two of them and a strict `oneOf` would refuse
//! every event GitHub sends.
//!
//! The description is read once per process (13 MB); the file comes from
//! `./scripts/setup.sh` into `$GITHUB_SCHEMAS` (default `~/.cache/gitomatic/github-schemas`).

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::{Map, Value, json};

/// The pinned package and file under `$GITHUB_SCHEMAS`.
const DESCRIPTION: &str = "openapi-23.0.2/package/generated/api.github.com.json";
const SCHEMAS_PREFIX: &str = "#/components/schemas/";
const EXAMPLES_PREFIX: &str = "#/components/examples/";
const RESPONSES_PREFIX: &str = "#/components/responses/";
/// Keywords of OpenAPI's schema object that JSON Schema does not have (or that only annotate).
const OPENAPI_ONLY: &[&str] = &[
    "nullable",
    "discriminator",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "example",
    "deprecated",
];
/// Longest excerpt of an offending value quoted in a violation.
const EXCERPT_CHARS: usize = 160;
/// Reasons quoted for the closest alternative of an `anyOf`.
const MAX_REASONS: usize = 4;

/// The description, loaded on first use; panics naming `./scripts/setup.sh` when it is missing.
pub fn github_openapi() -> &'static GithubOpenApi {
    static DESCRIPTION_ONCE: OnceLock<GithubOpenApi> = OnceLock::new();
    DESCRIPTION_ONCE.get_or_init(|| {
        let path = super::github_graphql::schemas_dir().join(DESCRIPTION);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "GitHub's OpenAPI description is missing at {} ({error}): run ./scripts/setup.sh \
                 (it installs @octokit/openapi 23.0.2), or point GITHUB_SCHEMAS at its directory",
                path.display()
            )
        });
        let document: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()));
        GithubOpenApi::new(document)
    })
}

/// One operation of the description.
#[derive(Clone, Copy, Debug)]
pub struct Operation<'a> {
    /// `get`, `post`...
    pub method: &'a str,
    /// The path template, e.g. `/repos/{owner}/{repo}/issues/{issue_number}/timeline`.
    pub template: &'a str,
    /// The operation object.
    pub value: &'a Value,
}

impl Operation<'_> {
    /// `GET /repos/{owner}/{repo}`.
    pub fn name(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.template)
    }
}

/// What the description says of a status of an operation.
pub enum Documented {
    /// A JSON body with this (OpenAPI) schema.
    Json(Value),
    /// The status is documented without a JSON body (304, 204).
    NoBody,
    /// The status is not documented for this operation.
    No,
}

/// The description, its converted schemas and the validators built so far.
pub struct GithubOpenApi {
    document: Value,
    /// Path templates split into segments, in the description's order.
    templates: Vec<(String, Vec<String>)>,
    /// `components.schemas`, converted to JSON Schema.
    schemas: Map<String, Value>,
    /// Validators by what they judge (`GET /users/{username} 200`, `schema event`).
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl GithubOpenApi {
    fn new(document: Value) -> GithubOpenApi {
        let templates = document["paths"]
            .as_object()
            .expect("the description has paths")
            .keys()
            .map(|template| (template.clone(), segments(template)))
            .collect();
        let schemas = document["components"]["schemas"]
            .as_object()
            .expect("the description has components.schemas")
            .iter()
            .map(|(name, schema)| (name.clone(), to_json_schema(schema)))
            .collect();
        GithubOpenApi {
            document,
            templates,
            schemas,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The operation answering `method` on a concrete `path` (no query string): the template
    /// whose segments match, literal segments preferred over templated ones from left to right
    /// (`/repos/o/r/issues/comments` is not `/repos/{owner}/{repo}/issues/{issue_number}`).
    ///
    /// Two forms GitHub serves without describing them are read as the described ones: its
    /// redirects point to `/repositories/{id}/...` (as `/repos/{owner}/{repo}/...`) and its
    /// `Link` headers page `/user/{id}/followers` and the like (as `/users/{username}/...`).
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let method = method.to_lowercase();
        let path = undescribed_alias(path).unwrap_or_else(|| path.to_owned());
        let concrete = segments(&path);
        let (template, _) = self
            .templates
            .iter()
            .filter(|(_, pattern)| matches(pattern, &concrete))
            .filter(|(template, _)| self.document["paths"][template].get(&method).is_some())
            .max_by(|(_, a), (_, b)| literal_rank(a).cmp(&literal_rank(b)))?;
        let (method, value) = self.document["paths"][template]
            .as_object()?
            .get_key_value(&method)?;
        Some(Operation {
            method,
            template,
            value,
        })
    }

    /// What the description documents for `status` of `operation`.
    pub fn documented(&self, operation: &Operation<'_>, status: u16) -> Documented {
        let Some(response) = operation.value["responses"].get(status.to_string()) else {
            return Documented::No;
        };
        let response = self.resolve(response, RESPONSES_PREFIX);
        match response
            .pointer("/content/application~1json/schema")
            .cloned()
        {
            Some(schema) => Documented::Json(schema),
            None => Documented::NoBody,
        }
    }

    /// Validates the JSON `body` of a `status` answer to `method path` against the response
    /// schema the description gives it. `Err` lists every violation, each naming the instance
    /// path and what is wrong, or says why nothing could be judged (no such operation, status
    /// not documented, no JSON body documented).
    pub fn validate(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        let operation = self.operation(method, path).ok_or_else(|| {
            vec![format!(
                "{} {path}: no operation of GitHub's description matches",
                method.to_uppercase()
            )]
        })?;
        let schema = match self.documented(&operation, status) {
            Documented::Json(schema) => schema,
            Documented::NoBody => {
                return Err(vec![format!(
                    "{}: the description gives {status} no JSON body",
                    operation.name()
                )]);
            }
            Documented::No => {
                return Err(vec![format!(
                    "{}: the description does not document status {status}",
                    operation.name()
                )]);
            }
        };
        let key = format!("{} {status}", operation.name());
        check(&self.validator(&key, &schema), body)
    }

    /// Validates `value` against the component schema `name` (`#/components/schemas/{name}`),
    /// e.g. one alternative of a loose `anyOf`.
    pub fn validate_component(&self, name: &str, value: &Value) -> Result<(), Vec<String>> {
        assert!(
            self.schemas.contains_key(name),
            "GitHub's description has no schema {name}"
        );
        let schema = json!({ "$ref": format!("{SCHEMAS_PREFIX}{name}") });
        check(&self.validator(&format!("schema {name}"), &schema), value)
    }

    /// The validator of an OpenAPI `schema`, built on first use and kept under `key`.
    fn validator(&self, key: &str, schema: &Value) -> Arc<Validator> {
        let mut validators = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(validator) = validators.get(key) {
            return Arc::clone(validator);
        }
        let root = self.root_document(&to_json_schema(schema));
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|error| panic!("the schema of {key} does not compile: {error}"));
        let validator = Arc::new(validator);
        validators.insert(key.to_owned(), Arc::clone(&validator));
        validator
    }

    /// A document validating `schema` that carries every component schema it reaches through
    /// `$ref`, at the place its pointers name (`#/components/schemas/...`).
    fn root_document(&self, schema: &Value) -> Value {
        let mut reached = BTreeSet::new();
        let mut pending: Vec<String> = schema_refs(schema);
        while let Some(name) = pending.pop() {
            if !reached.insert(name.clone()) {
                continue;
            }
            let component = self
                .schemas
                .get(&name)
                .unwrap_or_else(|| panic!("the description has no schema {name}"));
            pending.extend(schema_refs(component));
        }
        let components: Map<String, Value> = reached
            .into_iter()
            .map(|name| {
                let component = self.schemas[&name].clone();
                (name, component)
            })
            .collect();
        json!({
            "allOf": [schema],
            "components": {"schemas": components},
        })
    }

    /// The published examples of `status` of `operation` (`content.application/json.examples`),
    /// by name, with `#/components/examples/...` references resolved to their values.
    pub fn examples(&self, operation: &Operation<'_>, status: u16) -> Vec<(String, Value)> {
        let Some(response) = operation.value["responses"].get(status.to_string()) else {
            return Vec::new();
        };
        let response = self.resolve(response, RESPONSES_PREFIX);
        let Some(examples) = response
            .pointer("/content/application~1json/examples")
            .and_then(Value::as_object)
        else {
            return Vec::new();
        };
        examples
            .iter()
            .filter_map(|(name, example)| {
                let example = self.resolve(example, EXAMPLES_PREFIX);
                let value = example.get("value")?;
                // Some examples put the reference in `value` itself.
                let value = match value.get("$ref").and_then(Value::as_str) {
                    Some(_) => self.resolve(value, EXAMPLES_PREFIX).get("value")?.clone(),
                    None => value.clone(),
                };
                Some((name.clone(), value))
            })
            .collect()
    }

    /// `value`, or the component it references (`{"$ref": "<prefix>name"}`).
    fn resolve<'a>(&'a self, value: &'a Value, prefix: &str) -> &'a Value {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let name = reference
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("a reference outside {prefix}: {reference}"));
        let kind = prefix
            .trim_start_matches("#/components/")
            .trim_end_matches('/');
        self.document["components"][kind]
            .get(name)
            .unwrap_or_else(|| panic!("the description has no {kind} {name}"))
    }
}

/// Every violation of `value` under `validator`, described.
fn check(validator: &Validator, value: &Value) -> Result<(), Vec<String>> {
    let violations: Vec<String> = validator.iter_errors(value).map(|e| describe(&e)).collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// `/repositories/{id}/rest` as `/repos/_/_/rest`, `/user/{id}/list` as `/users/_/list`.
fn undescribed_alias(path: &str) -> Option<String> {
    let parts = segments(path);
    let numeric = |segment: &String| segment.bytes().all(|byte| byte.is_ascii_digit());
    match parts.as_slice() {
        [first, id, rest @ ..] if first == "repositories" && numeric(id) => {
            Some(format!("/repos/_/_{}", rest_of(rest)))
        }
        [first, id, rest @ ..] if first == "user" && numeric(id) && !rest.is_empty() => {
            Some(format!("/users/_{}", rest_of(rest)))
        }
        _ => None,
    }
}

fn rest_of(rest: &[String]) -> String {
    rest.iter().map(|segment| format!("/{segment}")).collect()
}

fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

fn matches(pattern: &[String], concrete: &[String]) -> bool {
    pattern.len() == concrete.len()
        && pattern
            .iter()
            .zip(concrete)
            .all(|(pattern, segment)| is_parameter(pattern) || pattern == segment)
}

/// Literal segments outrank parameters, the leftmost segment first.
fn literal_rank(pattern: &[String]) -> Vec<bool> {
    pattern
        .iter()
        .map(|segment| !is_parameter(segment))
        .collect()
}

/// Converts an OpenAPI 3.0 schema object to JSON Schema (draft 4): `nullable: true` admits
/// `null` (added to `type` and `enum`, or an `anyOf` with `{type: null}` around a composed or
/// referenced schema), `oneOf` becomes `anyOf` (see the module's documentation), and
/// OpenAPI-only keywords and `x-` extensions are dropped.
pub fn to_json_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let converted = match key.as_str() {
            "properties" | "patternProperties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, schema)| (name.clone(), to_json_schema(schema)))
                    .collect(),
            ),
            "additionalProperties" | "items" | "not" => to_json_schema(value),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(to_json_schema)
                    .collect(),
            ),
            other if OPENAPI_ONLY.contains(&other) || other.starts_with("x-") => continue,
            _ => value.clone(),
        };
        let key = if key == "oneOf" {
            "anyOf"
        } else {
            key.as_str()
        };
        out.insert(key.to_owned(), converted);
    }
    if map.get("nullable") != Some(&Value::Bool(true)) {
        return Value::Object(out);
    }
    let composed = ["allOf", "anyOf", "oneOf", "$ref"]
        .iter()
        .any(|keyword| out.contains_key(*keyword));
    if composed {
        return json!({"anyOf": [{"type": "null"}, Value::Object(out)]});
    }
    match out.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = std::mem::take(kind);
            out.insert("type".into(), json!([kind, "null"]));
        }
        Some(Value::Array(kinds)) if !kinds.contains(&json!("null")) => kinds.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(options)) = out.get_mut("enum")
        && !options.contains(&Value::Null)
    {
        options.push(Value::Null);
    }
    Value::Object(out)
}

/// Names of the component schemas `schema` references directly.
fn schema_refs(schema: &Value) -> Vec<String> {
    let mut names = Vec::new();
    collect_refs(schema, &mut names);
    names
}

fn collect_refs(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|reference| reference.strip_prefix(SCHEMAS_PREFIX))
            {
                names.push(name.replace("~1", "/").replace("~0", "~"));
            }
            map.values().for_each(|value| collect_refs(value, names));
        }
        Value::Array(items) => items.iter().for_each(|value| collect_refs(value, names)),
        _ => {}
    }
}

/// One violation: where in the body, and what is wrong. A value that matches none of the
/// alternatives of an `anyOf` (or `oneOf`) is explained by the alternative it came closest to
/// (the one with the fewest violations).
fn describe(error: &ValidationError<'_>) -> String {
    let at = match error.instance_path().as_str() {
        "" => "(root)".to_owned(),
        path => path.to_owned(),
    };
    let ValidationErrorKind::AnyOf {
        context: alternatives,
    } = error.kind()
    else {
        return format!("{at}: {}", excerpt(&error.to_string()));
    };
    let closest = alternatives
        .iter()
        .enumerate()
        .filter(|(_, errors)| !errors.is_empty())
        .min_by_key(|(_, errors)| errors.len());
    match closest {
        Some((index, errors)) => {
            let mut reasons: Vec<String> = errors.iter().map(describe).collect();
            reasons.dedup();
            let more = reasons.len().saturating_sub(MAX_REASONS);
            reasons.truncate(MAX_REASONS);
            if more > 0 {
                reasons.push(format!("and {more} more"));
            }
            format!(
                "{at}: matches none of the {} alternatives (oneOf/anyOf); the closest (#{index}) \
                 fails with: {}",
                alternatives.len(),
                reasons.join("; ")
            )
        }
        None => format!("{at}: {}", excerpt(&error.to_string())),
    }
}

fn excerpt(text: &str) -> String {
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_admits_null_in_every_form() {
        let plain = to_json_schema(&json!({"type": "string", "nullable": true, "example": "x"}));
        assert_eq!(plain, json!({"type": ["string", "null"]}));
        let choice = to_json_schema(&json!({"type": "string", "enum": ["a"], "nullable": true}));
        assert_eq!(
            choice,
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        let composed = to_json_schema(&json!({"allOf": [{"$ref": "#/x"}], "nullable": true}));
        assert_eq!(
            composed,
            json!({"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/x"}]}]})
        );
        let shapes = to_json_schema(&json!({"oneOf": [{"type": "object"}, {"type": "object"}]}));
        assert_eq!(
            shapes,
            json!({"anyOf": [{"type": "object"}, {"type": "object"}]})
        );
        let property_named_example =
            to_json_schema(&json!({"properties": {"example": {"type": "integer"}}}));
        assert_eq!(
            property_named_example,
            json!({"properties": {"example": {"type": "integer"}}})
        );
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let a = segments("/repos/{owner}/{repo}/issues/comments");
        let b = segments("/repos/{owner}/{repo}/issues/{issue_number}");
        assert!(literal_rank(&a) > literal_rank(&b));
        assert_eq!(
            undescribed_alias("/repositories/42/issues/7").as_deref(),
            Some("/repos/_/_/issues/7")
        );
        assert_eq!(
            undescribed_alias("/user/5/followers").as_deref(),
            Some("/users/_/followers")
        );
        assert_eq!(undescribed_alias("/user/5"), None);
    }
}
