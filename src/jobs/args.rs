//! A trigger's arguments, read by the job kind that parses them.
//!
//! A trigger names its arguments in an `args` object (`{"name": "...", "args": {...}}`) or,
//! as the original three jobs always did, as top-level fields (`username`, `repo_name`, or a
//! form's fields). Arguments in `args` must be ones the job takes; top-level fields a job
//! does not take are ignored, as they always were.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::jobs::TaskRequestError;

/// One argument a job kind takes, for the trigger form and the API documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    /// The argument's name.
    pub name: &'static str,
    /// What it means and what a valid value looks like.
    pub description: &'static str,
    /// An example value.
    pub example: &'static str,
    /// Whether the job needs it.
    pub required: bool,
}

/// A trigger's arguments, as the job kind reads them.
#[derive(Debug, Default)]
pub struct Args {
    values: Map<String, Value>,
    /// Names given in the explicit `args` object: these must all be used.
    explicit: BTreeSet<String>,
    used: BTreeSet<String>,
}

impl Args {
    /// Arguments from an explicit `args` object and loose top-level fields; a name given in
    /// both with different values is an error.
    pub fn new(
        explicit: Map<String, Value>,
        loose: Map<String, Value>,
    ) -> Result<Self, TaskRequestError> {
        let names = explicit.keys().cloned().collect();
        let mut values = explicit;
        for (name, value) in loose {
            match values.get(&name) {
                Some(given) if given != &value => {
                    return Err(TaskRequestError::Invalid(format!(
                        "argument {name} is given twice with different values (in args and as a field)"
                    )));
                }
                Some(_) => {}
                None => {
                    values.insert(name, value);
                }
            }
        }
        Ok(Self {
            values,
            explicit: names,
            used: BTreeSet::new(),
        })
    }

    /// A text argument, trimmed; blank or absent is `None`, anything but a string is an error.
    pub fn text(&mut self, name: &str) -> Result<Option<String>, TaskRequestError> {
        self.used.insert(name.to_owned());
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => {
                let text = text.trim();
                Ok((!text.is_empty()).then(|| text.to_owned()))
            }
            Some(other) => Err(TaskRequestError::Invalid(format!(
                "argument {name} must be a string, got {other}"
            ))),
        }
    }

    /// A text argument the job needs; `missing` is the error when it is blank or absent.
    pub fn required_text(&mut self, name: &str, missing: &str) -> Result<String, TaskRequestError> {
        self.text(name)?
            .ok_or_else(|| TaskRequestError::Invalid(missing.to_owned()))
    }

    /// A whole-number argument (a JSON number or a numeric string); absent is `None`.
    pub fn integer(&mut self, name: &str) -> Result<Option<i64>, TaskRequestError> {
        self.used.insert(name.to_owned());
        let invalid =
            || TaskRequestError::Invalid(format!("argument {name} must be a whole number"));
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| invalid()),
            Some(_) => Err(invalid()),
        }
    }

    /// A date argument, `YYYY-MM-DD`; absent or blank is `None`.
    pub fn date(&mut self, name: &str) -> Result<Option<chrono::NaiveDate>, TaskRequestError> {
        let Some(text) = self.text(name)? else {
            return Ok(None);
        };
        chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                TaskRequestError::Invalid(format!(
                    "argument {name} must be a date as YYYY-MM-DD, got {text:?}"
                ))
            })
    }

    /// Fails when the explicit `args` object held a name the job did not read.
    pub fn finish(self, task: &str) -> Result<(), TaskRequestError> {
        let unknown: Vec<&str> = self
            .explicit
            .iter()
            .filter(|name| !self.used.contains(*name))
            .map(String::as_str)
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(TaskRequestError::Invalid(format!(
                "task {task} takes no argument {}",
                unknown.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn explicit_arguments_must_be_used_and_loose_ones_may_not() {
        let mut args = Args::new(map(json!({"a": "1", "b": "2"})), map(json!({"c": "3"})))
            .expect("no conflict");
        assert_eq!(args.text("a"), Ok(Some("1".into())));
        assert_eq!(
            args.finish("t"),
            Err(TaskRequestError::Invalid(
                "task t takes no argument b".into()
            ))
        );
    }

    #[test]
    fn blank_is_absent_and_conflicts_are_refused() {
        let mut args = Args::new(Map::new(), map(json!({"a": "  ", "n": "42"}))).expect("ok");
        assert_eq!(args.text("a"), Ok(None));
        assert_eq!(args.integer("n"), Ok(Some(42)));
        assert!(args.required_text("a", "Missing a").is_err());
        assert!(Args::new(map(json!({"a": "1"})), map(json!({"a": "2"}))).is_err());
        assert!(Args::new(map(json!({"a": "1"})), map(json!({"a": "1"}))).is_ok());
    }

    #[test]
    fn a_non_string_text_argument_is_named() {
        let mut args = Args::new(map(json!({"a": 5})), Map::new()).expect("ok");
        let error = args.text("a").expect_err("a number");
        assert!(error.to_string().contains("argument a"), "{error}");
    }
}
