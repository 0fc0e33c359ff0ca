//! The `POST` form of a writable list's browsable page, as DRF's HTML form shows one: a
//! control per field of the body the list takes, with the API token typed in (writes need
//! `Authorization: Bearer`, which a plain HTML form cannot send). A resource declares it
//! with [`crate::api::resource::Resource::post_form`]: from the very request type that
//! documents its `POST` ([`PostForm::of`]), or from the job registry for tasks
//! ([`PostForm::trigger`]). One script serves every form: it shows the inputs the chosen
//! option of a select asks for, posts the filled-in fields as a JSON object, and goes to
//! the created resource (or shows the error).

use maud::{Markup, PreEscaped, html};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::jobs::Registry;

/// One input of a form: a body field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The body field it fills (and the control's name).
    pub name: String,
    /// What the field means (the control's title).
    pub description: String,
    /// An example value (the placeholder).
    pub example: String,
    /// Whether the body must have it.
    pub required: bool,
    /// A select of these instead of a text input, when not empty.
    pub choices: Vec<Choice>,
    /// Shown only when a select's chosen [`Choice::shows`] names it.
    pub conditional: bool,
}

/// One option of a select.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub description: String,
    /// The conditional inputs this choice asks for.
    pub shows: Vec<String>,
}

/// The `POST` form of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostForm {
    /// Its heading (`Track a repository`).
    pub title: String,
    pub inputs: Vec<Input>,
}

impl PostForm {
    /// The form of a body `B` (a `#[derive(ToSchema)]` struct): one text input per
    /// property, in the schema's order, with its description, example and whether it is
    /// required, as the OpenAPI document gives them.
    pub fn of<B: ToSchema>(title: &str) -> Self {
        let inputs = match B::schema() {
            RefOr::T(Schema::Object(object)) => object
                .properties
                .iter()
                .map(|(name, property)| {
                    let (description, example) = match property {
                        RefOr::T(Schema::Object(property)) => (
                            property.description.clone().unwrap_or_default(),
                            property
                                .example
                                .as_ref()
                                .or(property.examples.first())
                                .map(example_text)
                                .unwrap_or_default(),
                        ),
                        _ => (String::new(), String::new()),
                    };
                    Input {
                        name: name.clone(),
                        description,
                        example,
                        required: object.required.contains(name),
                        choices: Vec::new(),
                        conditional: false,
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            title: title.to_owned(),
            inputs,
        }
    }

    /// The task trigger: the job kind (one option per registered kind), then every
    /// argument any kind takes, shown for the kinds that take it. Arguments are sent as
    /// top-level fields, which `POST /github/tasks/` reads as the job's arguments.
    pub fn trigger(registry: &Registry) -> Self {
        let mut arguments: Vec<Input> = Vec::new();
        for arg in registry.kinds().flat_map(|kind| kind.args()) {
            if !arguments.iter().any(|input| input.name == arg.name) {
                arguments.push(Input {
                    name: arg.name.to_owned(),
                    description: arg.description.to_owned(),
                    example: arg.example.to_owned(),
                    required: false,
                    choices: Vec::new(),
                    conditional: true,
                });
            }
        }
        let kind = Input {
            name: "name".to_owned(),
            description: "The job kind".to_owned(),
            example: String::new(),
            required: true,
            choices: registry
                .kinds()
                .map(|kind| Choice {
                    value: kind.name().to_owned(),
                    description: kind.description().to_owned(),
                    shows: kind.args().iter().map(|arg| arg.name.to_owned()).collect(),
                })
                .collect(),
            conditional: false,
        };
        Self {
            title: "Trigger a task".to_owned(),
            inputs: std::iter::once(kind).chain(arguments).collect(),
        }
    }

    /// The form, and the script that posts it.
    pub fn render(&self) -> Markup {
        html! {
            form #post method="post" {
                h2 { (self.title) }
                div.fields {
                    @for input in &self.inputs {
                        @let id = format!("post-{}", input.name);
                        p.input data-input=(input.name) data-conditional[input.conditional] {
                            label for=(id) title=(input.description) {
                                (input.name)
                                @if input.required { " *" }
                            }
                            @if input.choices.is_empty() {
                                input #(id) name=(input.name) placeholder=(input.example)
                                    title=(input.description) required[input.required];
                            } @else {
                                select #(id) name=(input.name) title=(input.description) {
                                    @for choice in &input.choices {
                                        option value=(choice.value) title=(choice.description)
                                            data-shows=(choice.shows.join(" ")) { (choice.value) }
                                    }
                                }
                            }
                        }
                    }
                }
                p {
                    label for="post-token" { "API token" }
                    input #post-token type="password" autocomplete="off";
                }
                p { button type="submit" { "POST" } " " output #post-result {} }
            }
            script { (PreEscaped(SCRIPT)) }
        }
    }
}

/// An example as a placeholder shows it: a string without its quotes.
fn example_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// How the form looks (added to the page's style sheet).
pub const STYLE: &str = "\
form#post h2{font-size:1.05em;margin:.2em 0 .5em}\
form#post .fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,21em),1fr));gap:0 1em}\
form#post p{margin:.3em 0;display:flex;flex-wrap:wrap;align-items:center;gap:.2em .5em}\
form#post label{min-width:7em}form#post input,form#post select{flex:1 1 12em;min-width:0;max-width:100%}\
form#post [hidden]{display:none}#post-result{color:#b42318}";

/// Shows the conditional inputs the chosen options ask for; posts the shown, filled-in
/// fields as JSON with the typed-in token; goes to the answer's `url`.
const SCRIPT: &str = r#"
(() => {
  const form = document.getElementById('post');
  const shown = () => {
    const wanted = new Set();
    for (const select of form.querySelectorAll('.fields select')) {
      for (const name of (select.selectedOptions[0]?.dataset.shows || '').split(' ')) wanted.add(name);
    }
    for (const p of form.querySelectorAll('.input[data-conditional]')) p.hidden = !wanted.has(p.dataset.input);
  };
  form.addEventListener('change', shown);
  shown();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    for (const p of form.querySelectorAll('.input:not([hidden])')) {
      const control = p.querySelector('input, select');
      const value = control.value.trim();
      if (value) body[control.name] = value;
    }
    const result = document.getElementById('post-result');
    result.textContent = '';
    const response = await fetch(window.location.pathname, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                'Authorization': 'Bearer ' + document.getElementById('post-token').value},
      body: JSON.stringify(body)});
    const answer = await response.json().catch(() => ({}));
    if (response.ok && answer.url) { window.location = answer.url; }
    else { result.textContent = response.status + ': ' + (answer.error || response.statusText); }
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, ToSchema)]
    struct Body {
        /// The thing's name.
        #[schema(example = "octocat/hello-world")]
        #[allow(dead_code)]
        full_name: String,
        /// A note.
        #[allow(dead_code)]
        note: Option<String>,
    }

    #[test]
    fn a_body_type_gives_one_input_per_field_with_its_docs() {
        let form = PostForm::of::<Body>("Track");
        assert_eq!(form.inputs.len(), 2);
        let name = &form.inputs[0];
        assert_eq!(name.name, "full_name");
        assert_eq!(name.description, "The thing's name.");
        assert_eq!(name.example, "octocat/hello-world");
        assert!(name.required);
        assert!(!form.inputs[1].required);
        let html = form.render().into_string();
        assert!(html.contains(r#"<input id="post-full_name" name="full_name" placeholder="octocat/hello-world" title="The thing's name." required>"#), "{html}");
        assert!(
            html.contains(r#"<input id="post-note" name="note" placeholder="" title="A note.">"#),
            "{html}"
        );
    }

    #[test]
    fn the_trigger_offers_every_registered_kind_and_each_argument_once() {
        let registry = Registry::builtin();
        let form = PostForm::trigger(&registry);
        let html = form.render().into_string();
        for name in registry.names() {
            assert!(
                html.contains(&format!(r#"<option value="{name}""#)),
                "{name}"
            );
        }
        assert!(
            html.contains(r#"data-shows="username repo_name""#),
            "{html}"
        );
        assert_eq!(
            html.matches(r#"data-input="username""#).count(),
            1,
            "{html}"
        );
        assert!(
            html.contains(r#"data-input="repo_name" data-conditional"#),
            "{html}"
        );
    }
}
