//! GitHub's published webhook descriptions (`@octokit/openapi-webhooks` 12.1.0,
//! `generated/api.github.com.json`, OpenAPI 3.1) as a judge of the deliveries the tests
//! send: each `webhooks` entry (`issues-opened`, `push`...) names the schema of its request
//! body, which every delivery must validate against.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, so they are validated as they are (formats
//! asserted), over a root document carrying the component schemas they reach.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::Validator;
use serde_json::{Map, Value, json};

/// The pinned package and file under `$GITHUB_SCHEMAS`.
const DESCRIPTION: &str = "openapi-webhooks-12.1.0/package/generated/api.github.com.json";
const SCHEMAS_PREFIX: &str = "#/components/schemas/";

/// The description, loaded on first use; panics naming `./scripts/setup.sh` when missing.
pub fn github_webhooks() -> &'static GithubWebhooks {
    static ONCE: OnceLock<GithubWebhooks> = OnceLock::new();
    ONCE.get_or_init(|| {
        let path = super::github_graphql::schemas_dir().join(DESCRIPTION);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "GitHub's webhook descriptions are missing at {} ({error}): run \
                 ./scripts/setup.sh (it installs @octokit/openapi-webhooks 12.1.0), or point \
                 GITHUB_SCHEMAS at its directory",
                path.display()
            )
        });
        let document: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()));
        GithubWebhooks {
            document,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// The webhook descriptions and the validators built so far.
pub struct GithubWebhooks {
    document: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl GithubWebhooks {
    /// The name of the description of `event` with `action` (`issue_comment`, `created`:
    /// `issue-comment-created`; `push` has no action).
    pub fn name(event: &str, action: Option<&str>) -> String {
        let mut name = event.replace('_', "-");
        if let Some(action) = action {
            name.push('-');
            name.push_str(&action.replace('_', "-"));
        }
        name
    }

    /// Validates a delivery's body against the request-body schema of the webhook `name`;
    /// `Err` lists every violation (instance path and what is wrong).
    pub fn validate(&self, name: &str, body: &Value) -> Result<(), Vec<String>> {
        let validator = self.validator(name);
        let violations: Vec<String> = validator
            .iter_errors(body)
            .map(|error| {
                let at = match error.instance_path().as_str() {
                    "" => "(root)".to_owned(),
                    path => path.to_owned(),
                };
                let message = error.to_string();
                let short: String = message.chars().take(240).collect();
                format!("{at}: {short}")
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    fn validator(&self, name: &str) -> Arc<Validator> {
        let mut validators = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(validator) = validators.get(name) {
            return Arc::clone(validator);
        }
        let schema = self
            .document
            .pointer(&format!(
                "/webhooks/{name}/post/requestBody/content/application~1json/schema"
            ))
            .unwrap_or_else(|| panic!("GitHub describes no webhook {name}"))
            .clone();
        let root = self.root_document(&schema);
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|error| {
                panic!("the schema of webhook {name} does not compile: {error}")
            });
        let validator = Arc::new(validator);
        validators.insert(name.to_owned(), Arc::clone(&validator));
        validator
    }

    /// A document validating `schema` that carries every component schema it reaches.
    fn root_document(&self, schema: &Value) -> Value {
        let all = self.document["components"]["schemas"]
            .as_object()
            .expect("the description has components.schemas");
        let mut reached = BTreeSet::new();
        let mut pending = refs(schema);
        while let Some(name) = pending.pop() {
            if !reached.insert(name.clone()) {
                continue;
            }
            let component = all
                .get(&name)
                .unwrap_or_else(|| panic!("the description has no schema {name}"));
            pending.extend(refs(component));
        }
        let components: Map<String, Value> = reached
            .into_iter()
            .map(|name| {
                let component = all[&name].clone();
                (name, component)
            })
            .collect();
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": {"schemas": components},
        })
    }
}

/// Names of the component schemas `value` references.
fn refs(value: &Value) -> Vec<String> {
    let mut names = Vec::new();
    collect(value, &mut names);
    names
}

fn collect(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|reference| reference.strip_prefix(SCHEMAS_PREFIX))
            {
                names.push(name.replace("~1", "/").replace("~0", "~"));
            }
            map.values().for_each(|value| collect(value, names));
        }
        Value::Array(items) => items.iter().for_each(|value| collect(value, names)),
        _ => {}
    }
}
